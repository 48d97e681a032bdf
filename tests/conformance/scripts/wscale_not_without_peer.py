"""RFC 7323 2.2/2.3: without a window-scale option in the peer's SYN neither side scales: a
window of 1000 means 1000 bytes, and the DUT sends no more than that before it moves."""


def run(t):
    c = t.passive(win=1000)
    c.write(b"r" * 3000)
    sent = 0
    while True:
        p = t.next_pkt(c.mine, 0.5)
        if p is None:
            break
        if len(p.data) > 1:
            sent = max(sent, ((p.seq - c.irs) & 0xFFFFFFFF) - 1 + len(p.data))
    assert sent == 1000, "sent %d bytes into a 1000-byte window" % sent
