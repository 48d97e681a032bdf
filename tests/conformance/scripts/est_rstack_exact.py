"""RFC 9293 3.10.7.4: an RST with ACK at RCV.NXT resets the connection just as a bare RST does;
the socket then reports ECONNRESET (or end of data) and a later segment draws an RST."""


def run(t):
    c = t.passive()
    c.send("RA", seq=1)
    c.expect_none(0.3)
    r = c.read(timeout=1.0)
    assert r in ("ECONNRESET", b""), r
    c.send("A", seq=1)
    c.expect("R", seq=1, ack=None)
