"""RFC 9293 3.8.6: the DUT honours the peer's advertised window: with 100 bytes open it sends
at most 100 bytes past SND.UNA; the peer's window update then lets the rest go, in order."""


def run(t):
    c = t.passive(win=100)
    c.write(b"s" * 1000)
    p = c.expect("A", length=None)
    assert 0 < len(p.data) <= 100, "%d bytes in a 100-byte window" % len(p.data)
    extra = t.next_pkt(c.mine, 0.3)
    assert extra is None or (extra.seq - c.irs) & 0xFFFFFFFF >= 1 and \
        ((extra.seq - c.irs) & 0xFFFFFFFF) - 1 + len(extra.data) <= 100, \
        "beyond the window: %s" % extra
    c.send("A", win=65535)
    data, _ = c.collect(idle=1.0)
    assert len(p.data) + len(data) == 1000, "got %d of 1000" % (len(p.data) + len(data))
