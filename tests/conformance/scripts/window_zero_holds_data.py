"""RFC 9293 3.8.6, RFC 1122 4.2.2.17: with a zero window from the peer the DUT sends no data
(at most a one-byte or empty window probe); when the peer opens the window the data follows
from SND.UNA, in order."""


def run(t):
    c = t.passive(win=0)
    c.write(b"w" * 300)
    got = b""
    # while the window is shut: nothing, or probes of at most one byte
    while True:
        p = t.next_pkt(c.mine, 0.4)
        if p is None:
            break
        assert len(p.data) <= 1, "%d bytes sent into a zero window" % len(p.data)
        rel = (p.seq - c.irs) & 0xFFFFFFFF
        if p.data and rel == 1 + len(got):
            got += p.data
    c.rcv_nxt = 1 + len(got)
    c.send("A", win=65535)
    data, _ = c.collect(idle=1.0)
    assert got + data == b"w" * 300, "got %d bytes after the window opened" % len(got + data)
