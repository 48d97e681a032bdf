"""RFC 9293 3.10.7.2 (LISTEN): a SYN carrying data is answered with a SYN-ACK; the data is not
acknowledged before the handshake completes (Linux drops it without Fast Open), and the same
bytes sent again after the handshake are delivered once."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S", data=b"early")
    sa = c.expect("SA", seq=None, ack=None)
    c.learn_synack(sa)
    if t.deviates:  # ustack queues the SYN's data (RFC 9293 3.10.7.2) and acknowledges it
        assert (sa.ack - c.iss) & 0xFFFFFFFF == 6, "SYN-ACK should ack the SYN's 5 bytes"
        c.snd_nxt = 6
        c.send("A")
        c.sock = t.agent_ok("accept", id=lsock)["id"]
        assert c.read() == b"early"
        return
    assert (sa.ack - c.iss) & 0xFFFFFFFF == 1, "SYN-ACK acks the SYN only"
    c.snd_nxt = 1
    c.send("A")
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    c.send("PA", seq=1, data=b"early")
    c.expect("A", ack=6)
    assert c.read() == b"early"
