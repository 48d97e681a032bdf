"""RFC 7323 2.3: once both sides sent a window-scale option, the window field of every
non-SYN segment is scaled: a peer window of 4 with shift 8 (1024 bytes) lets the DUT send
1024 bytes but no more before the window moves."""


def run(t):
    c = t.passive(wscale=8, win=4)
    assert c.synack.opt("wscale"), "no window scale in the SYN-ACK"
    c.write(b"q" * 3000)
    sent = 0
    while True:
        p = t.next_pkt(c.mine, 0.5)
        if p is None:
            break
        if len(p.data) > 1:
            sent = max(sent, ((p.seq - c.irs) & 0xFFFFFFFF) - 1 + len(p.data))
    assert sent == 1024, "sent %d bytes into a 1024-byte scaled window" % sent
