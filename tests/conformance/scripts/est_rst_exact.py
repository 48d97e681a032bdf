"""RFC 9293 3.10.7.4, RFC 5961 3.2: an RST with SEG.SEQ = RCV.NXT resets the connection, with no
answer; a later segment of the connection draws an RST (it no longer exists)."""


def run(t):
    c = t.passive()
    c.send("R", seq=1)
    c.expect_none(0.3)
    c.send("PA", seq=1, data=5)
    c.expect("R", seq=1, ack=None)
