"""RFC 9293 3.10.7.4, RFC 5681 4.2: an out-of-order segment draws an immediate duplicate ACK;
the segment filling the hole draws an ACK covering both, and the bytes are read in order."""


def run(t):
    c = t.passive()
    c.send("PA", seq=6, data=b"world")
    c.expect("A", ack=1)
    c.send("PA", seq=1, data=b"hello")
    c.expect("A", ack=11)
    got = c.read()
    while len(got) < 10:
        more = c.read()
        assert isinstance(more, bytes) and more, got
        got += more
    assert got == b"helloworld", got
