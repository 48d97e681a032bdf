"""RFC 9293 3.10.7.4: data and FIN in one segment: both are acknowledged at once, the data read,
then end of data."""


def run(t):
    c = t.passive()
    c.send("FPA", data=b"last words")
    c.expect("A", ack=12)
    assert c.read() == b"last words"
    assert c.read() == b""
