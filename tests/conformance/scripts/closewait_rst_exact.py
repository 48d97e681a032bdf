"""RFC 9293 3.10.7.4 (CLOSE-WAIT): an RST at RCV.NXT closes the connection silently."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    c.send("R", seq=2)
    c.expect_none(0.3)
    c.send("A", seq=2)
    c.expect("R", seq=1, ack=None)
