"""RFC 9293 3.1 (checksum), RFC 1122 4.2.2.7: a segment with a bad TCP checksum is discarded
without a word; the same data with a good checksum is then acknowledged and delivered once."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"check", bad_csum=True)
    c.expect_none(0.3)
    c.send("PA", seq=1, data=b"check")
    c.expect("A", ack=6)
    assert c.read() == b"check"
