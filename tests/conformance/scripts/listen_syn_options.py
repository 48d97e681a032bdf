"""RFC 9293 3.7.1, RFC 7323 2.2/3.2, RFC 2018 2: a SYN offering MSS, SACK-permitted, timestamps
and window scaling gets a SYN-ACK with MSS, SACK-permitted, a TS option echoing the SYN's TSval,
and a window-scale option."""


def run(t):
    port, _ = t.listen()
    c = t.conn(port)
    c.syn_opts(ts=True, sack=True, wscale=7)
    c.send("S")
    sa = c.expect("SA", seq=None, ack=1, ts=True, tsecr=c.ts_val)
    for o in ("mss", "sackOK", "wscale"):
        assert sa.opt(o) is not None, "SYN-ACK lacks %s: %s" % (o, sa)
    assert sa.opt("mss")[1] == 1460, "MSS for a 1500-byte MTU is 1460"
