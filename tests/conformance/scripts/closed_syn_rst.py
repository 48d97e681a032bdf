"""RFC 9293 3.10.7.1 (CLOSED): a SYN to a port nobody listens on draws
<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>."""


def run(t):
    c = t.conn(t.new_port())
    c.syn_opts()
    c.send("S")
    c.expect("RA", seq=None, ack=1, check=lambda p: p.seq == 0)
