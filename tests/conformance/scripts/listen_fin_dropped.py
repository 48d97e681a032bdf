"""RFC 9293 3.10.7.2 (LISTEN): a segment without SYN, ACK or RST (a bare FIN, or data) is
dropped without an answer; the listener still answers a SYN afterwards."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.send("F", seq=1)
    c.send("P", seq=1, data=5)
    c.expect_none(0.4)
    c.syn_opts()
    c.send("S", seq=0)
    c.expect("SA", seq=None, ack=1)
