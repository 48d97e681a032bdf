"""RFC 9293 3.10.7.4 eighth, RFC 5681 4.2: a FIN beyond a hole is not processed yet but kept: it
draws an immediate duplicate ACK (the ACK stays at the hole), and the segment filling the hole
draws an ACK covering data and FIN, without the FIN being sent again."""


def run(t):
    c = t.passive()
    c.send("FA", seq=6)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"hello")
    c.expect("A", ack=7)
    assert c.read() == b"hello"
    assert c.read() == b""
