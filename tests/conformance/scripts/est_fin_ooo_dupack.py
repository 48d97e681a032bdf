"""RFC 5681 4.2, RFC 9293 3.10.7.4: a bare FIN beyond a hole is an out-of-order segment: it
draws an immediate duplicate ACK (ACK still at the hole), and the connection stays open."""


def run(t):
    c = t.passive()
    c.send("FA", seq=50)
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"abc")
    c.expect("A", ack=4)
    assert c.read() == b"abc"
