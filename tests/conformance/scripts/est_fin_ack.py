"""RFC 9293 3.10.7.4, eighth check: a FIN is acknowledged (RCV.NXT advances over it), the
application reads end of data, and the connection is in CLOSE-WAIT (the DUT sends nothing more)."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    assert c.read() == b""
    c.expect_none(0.3)
