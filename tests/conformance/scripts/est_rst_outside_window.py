"""RFC 5961 3.2, RFC 9293 3.10.7.4: an RST outside the receive window is silently dropped."""


def run(t):
    c = t.passive()
    c.send("R", seq=1 + 50_000_000)
    c.send("R", seq=-1000)
    c.expect_none(0.4)
    c.send("PA", seq=1, data=b"alive")
    c.expect("A", ack=6)
