"""RFC 9293 3.10.7.2 (LISTEN): a SYN-ACK to a listener (an ACK, so "any acknowledgment is bad")
draws <SEQ=SEG.ACK><CTL=RST>."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("SA", seq=0, ack=4242)
    c.expect("R", seq=None, ack=None, check=lambda p: p.seq == 4242)
