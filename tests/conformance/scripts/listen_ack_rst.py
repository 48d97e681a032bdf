"""RFC 9293 3.10.7.2 (LISTEN): an ACK to a listener draws <SEQ=SEG.ACK><CTL=RST>."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.send("A", seq=1, ack=12345)
    c.expect("R", seq=None, ack=None, check=lambda p: p.seq == 12345)
