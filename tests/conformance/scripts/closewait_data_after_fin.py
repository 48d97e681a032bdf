"""RFC 9293 3.10.7.4, seventh check (CLOSE-WAIT): text after the peer's FIN is ignored: it is
never delivered (Linux drops it without an answer)."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    c.send("PA", seq=2, data=b"late")
    c.expect_none(0.3)
    assert c.read() == b""
