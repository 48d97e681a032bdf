"""RFC 9293 3.10.7.4: a FIN beyond a hole is not processed yet (the ACK stays at the hole); the
segment filling the hole draws an ACK covering data and FIN."""


FAULT = ("an out-of-order FIN is not kept (no room in the control block): ustack sends the "
         "duplicate ACK, but acknowledges the FIN only when the peer retransmits it "
         "(doc/status.md)")


def run(t):
    c = t.passive()
    c.send("FA", seq=6)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"hello")
    c.expect("A", ack=7)
    assert c.read() == b"hello"
    assert c.read() == b""
