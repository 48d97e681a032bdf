"""RFC 9293 3.5 figure 6, 3.10.7.3 (SYN-SENT): connect sends SYN; the peer's SYN-ACK is
answered with <SEQ=ISS+1><ACK=RCV.NXT><CTL=ACK>, connect succeeds, and data flows both ways
with timestamps and SACK as negotiated."""


def run(t):
    c = t.active(ts=True, sack=True, wscale=7)
    c.write(b"client says")
    c.expect("A", data=b"client says", ts=True)
    c.send("PA", data=b"server says")
    c.expect("A", ack=12, ts=True)
    assert c.read() == b"server says"
