"""RFC 9293 3.10.7.4 (ESTABLISHED): in-order data is delivered and acknowledged."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"hello")
    c.expect("A", ack=6)
    assert c.read() == b"hello"
