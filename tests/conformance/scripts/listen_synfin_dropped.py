"""RFC 9293 3.10.7.2 (LISTEN): a SYN with FIN set draws no SYN-ACK (Linux discards SYN+FIN,
a scanner's probe); the listener still answers a plain SYN afterwards."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("SF", seq=0)
    c.expect_none(0.4)
    c2 = t.conn(port)
    c2.syn_opts()
    c2.send("S")
    c2.expect("SA", seq=None, ack=1)
