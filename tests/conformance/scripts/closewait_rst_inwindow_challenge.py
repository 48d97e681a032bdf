"""RFC 5961 3.2 (CLOSE-WAIT): an RST in the window but not at RCV.NXT draws a challenge ACK."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    c.send("R", seq=300)
    c.expect("A", ack=2)
