"""RFC 9293 3.7.1, RFC 7323, RFC 2018: the DUT's own SYN offers MSS 1460 (1500-byte MTU),
SACK-permitted, timestamps (TSecr 0) and window scaling."""


def run(t):
    port = t.new_port()
    t.agent_ok("connect", ip="192.0.2.1", port=port)
    p = t.next_pkt(lambda p: p.proto == 6 and p.dport == port, 2.0)
    assert p is not None and p.flags & 0x3F == 2, "expected a SYN, got %s" % p
    assert p.opt("mss") and p.opt("mss")[1] == 1460, "SYN MSS: %s" % p
    assert p.opt("sackOK"), "SYN lacks SACK-permitted: %s" % p
    assert p.opt("ts") and p.opt("ts")[2] == 0, "SYN lacks TS with TSecr 0: %s" % p
    assert p.opt("wscale"), "SYN lacks window scale: %s" % p
