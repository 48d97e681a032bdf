"""RFC 9293 3.8.6, RFC 1122 4.2.2.17 and 4.2.3.3: the bench fills the DUT's receive buffer (the
application does not read) until the DUT advertises a zero window; a zero-window probe (one
byte past the window) is answered with an ACK that keeps the window at 0 and does not take the
byte; when the application reads, the DUT sends a window update by itself."""
import socket


def run(t):
    port, lsock = t.listen(opts=[[socket.SOL_SOCKET, socket.SO_RCVBUF, 4096]])
    c = t.passive(port=port, listen=False)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    win = c.synack.win
    for _ in range(400):  # a window's worth of segments, then the ACKs they draw
        sent = 0
        while sent < win:
            n = min(1460, win - sent)
            c.send("PA", data=n)
            sent += n
        last = None
        while True:
            p = t.next_pkt(c.mine, 0.5)
            if p is None:
                break
            assert not p.flags & 7, "unexpected %s" % p
            last = p
            if (p.ack - c.iss) & 0xFFFFFFFF == c.snd_nxt:
                break
        assert last is not None, "no ACK for the data sent"
        c.snd_nxt = (last.ack - c.iss) & 0xFFFFFFFF  # what it did not take is sent again
        win = last.win
        if win == 0:
            # Under `ustack run` the daemon moves what arrived on into the program's socket
            # pair while the pair has room, which frees the receive buffer as a read would: a
            # window update may follow the zero window. Filling goes on until none comes.
            p = t.next_pkt(c.mine, 1.0)
            if p is None:
                break
            assert not p.flags & 7, "unexpected %s" % p
            win = p.win
        t.note("zero window after %d bytes" % c.snd_nxt)
    assert win == 0, "the DUT never advertised a zero window"
    edge = c.snd_nxt
    c.send("PA", seq=edge, data=b"Z")
    c.expect("A", ack=edge, win=0)
    total = 0
    while total < edge - 1:
        d = c.read(timeout=2.0)
        assert isinstance(d, bytes) and d, "read stopped at %d of %d" % (total, edge - 1)
        total += len(d)
    c.expect("A", ack=edge, win=lambda w: w > 0)
