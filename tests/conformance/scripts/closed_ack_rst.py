"""RFC 9293 3.10.7.1 (CLOSED): a segment with ACK to a closed port draws <SEQ=SEG.ACK><CTL=RST>."""


def run(t):
    c = t.conn(t.new_port())
    c.send("A", seq=1, ack=777777)
    c.expect("R", seq=None, ack=None, check=lambda p: p.seq == 777777)
