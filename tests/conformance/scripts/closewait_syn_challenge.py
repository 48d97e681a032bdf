"""RFC 5961 4.2 (CLOSE-WAIT): a SYN draws a challenge ACK and the connection survives."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    c.send("S", seq=500)
    c.expect("A", ack=2)
    c.write(b"still here")
    c.expect("A", data=b"still here", ack=2)
