"""RFC 9293 3.10.7.1 (CLOSED): data without ACK to a closed port draws
<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>."""


def run(t):
    c = t.conn(t.new_port())
    c.send("P", seq=1, data=10)
    c.expect("RA", seq=None, ack=11, check=lambda p: p.seq == 0)
