"""RFC 2018 2: without SACK-permitted in the peer's SYN, the DUT sends no SACK option: an
out-of-order segment draws a plain duplicate ACK."""


def run(t):
    c = t.passive(sack=False)
    c.send("PA", seq=101, data=100)
    c.expect("A", ack=1, sack=[])
