"""RFC 7323 1.3/2.2, RFC 2018 2: a SYN with no options gets a SYN-ACK with no timestamps, no
SACK-permitted and no window scale (each is sent only when the peer offered it)."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.syn_opt_list = []
    c.send("S")
    sa = c.expect("SA", seq=None, ack=1, ts=False)
    for o in ("sackOK", "wscale", "ts"):
        assert sa.opt(o) is None, "SYN-ACK has %s though the SYN offered none: %s" % (o, sa)
