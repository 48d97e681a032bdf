"""RFC 9293 3.10.7.4 (ESTABLISHED), fifth check: "if the ACK bit is off, drop the segment": data
without ACK is neither acknowledged nor delivered; the same data with ACK then is."""


def run(t):
    c = t.passive()
    c.send("P", data=b"noack")
    c.expect_none(0.3)
    c.send("PA", seq=1, data=b"noack")
    c.expect("A", ack=6)
    assert c.read() == b"noack"
