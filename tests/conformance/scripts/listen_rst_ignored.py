"""RFC 9293 3.10.7.2 (LISTEN): an incoming RST is ignored; the listener still answers a SYN."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.send("R", seq=0)
    c.expect_none(0.3)
    c.syn_opts()
    c.send("S", seq=0)
    c.expect("SA", seq=None, ack=1)
