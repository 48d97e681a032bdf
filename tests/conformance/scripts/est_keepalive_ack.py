"""RFC 9293 3.8.4 and RFC 1122 4.2.3.6: a keep-alive (SEG.SEQ = RCV.NXT-1, one garbage byte or
none) is answered with an ACK of RCV.NXT."""


def run(t):
    c = t.passive()
    c.send("A", seq=0)
    c.expect("A", ack=1)
    c.send("A", seq=0, data=b"\0")
    c.expect("A", ack=1)
