"""RFC 9293 3.7.1, RFC 6691: the DUT's segments are no larger than the MSS the peer announced
(here 536), whatever the application writes at once."""


def run(t):
    c = t.passive(mss=536)
    c.write(b"m" * 2000)
    got = 0
    while got < 2000:
        p = c.expect("A", length=None)
        assert 0 < len(p.data) <= 536, "segment of %d bytes for MSS 536" % len(p.data)
        got += len(p.data)
        c.send("A")
