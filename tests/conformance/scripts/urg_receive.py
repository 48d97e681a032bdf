"""RFC 9293 3.8.5 / RFC 6093, RFC 1122 4.2.2.4: urgent data from the peer is acknowledged like
any data; with SO_OOBINLINE off Linux takes the byte the urgent pointer marks (the last one, as
the pointer points past it) out of the stream, so a normal read returns the bytes before it."""

DEVIATION = ("urgent data is delivered inline only (RFC 6093 recommends it; doc/status.md): "
             "ustack's read returns the urgent byte in the stream")


def run(t):
    c = t.passive()
    c.send("PAU", data=b"abc", urp=3)
    c.expect("A", ack=4)
    assert c.read() == (b"abc" if t.deviates else b"ab")
