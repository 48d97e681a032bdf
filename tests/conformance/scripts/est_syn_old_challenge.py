"""RFC 5961 4.2: a SYN with the connection's original sequence number (a stale retransmission
of the peer's SYN) in ESTABLISHED draws an ACK, not a reset."""


def run(t):
    c = t.passive()
    c.syn_opts()
    c.send("S", seq=0)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"x")
    c.expect("A", ack=2)
