"""RFC 5961 4.2, RFC 9293 3.10.7.4: a SYN in a synchronized state (here in the window) draws a
challenge ACK; the connection is not reset."""


def run(t):
    c = t.passive()
    c.send("S", seq=100)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"alive")
    c.expect("A", ack=6)
    assert c.read() == b"alive"
