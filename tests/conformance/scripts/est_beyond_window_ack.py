"""RFC 9293 3.10.7.4 (ESTABLISHED), first check: a segment wholly beyond the receive window is
not acceptable; the DUT sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and drops it."""


def run(t):
    c = t.passive()
    c.send("PA", seq=1 + 10_000_000, data=10)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"ok")
    c.expect("A", ack=3)
    assert c.read() == b"ok"
