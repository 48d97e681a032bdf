"""RFC 9293 3.10.7.4 (ESTABLISHED): a retransmission of data already received is not acceptable
(it lies before RCV.NXT); the DUT answers with an ACK of RCV.NXT and delivers nothing twice."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"abcdef")
    c.expect("A", ack=7)
    c.send("PA", seq=1, data=b"abcdef")
    c.expect("A", ack=7)
    c.send("PA", data=b"gh")
    c.expect("A", ack=9)
    got = c.read()
    if got == b"abcdef":
        got += c.read()
    assert got == b"abcdefgh", got
