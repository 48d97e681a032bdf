"""RFC 9293 3.10.7.4: a FIN beyond a hole is not processed yet (the ACK stays at the hole); the
segment filling the hole draws an ACK covering data and FIN."""


FAULT = ("an out-of-order FIN is neither kept nor answered with the duplicate ACK of RFC 5681 "
         "4.2: ustack stays silent and acknowledges the FIN only when the peer sends it again "
         "(doc/status.md)")


def run(t):
    c = t.passive()
    c.send("FA", seq=6)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"hello")
    c.expect("A", ack=7)
    assert c.read() == b"hello"
    assert c.read() == b""
