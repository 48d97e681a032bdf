"""RFC 9293 3.10.7.2 (LISTEN): a SYN carrying data is answered with a SYN-ACK that acknowledges
the SYN only. Linux (without Fast Open) drops the SYN's data: after the handshake it sends
nothing until the bytes come again, then acknowledges and delivers them once."""

DEVIATION = ("ustack queues a SYN's text as RFC 9293 3.10.7.2 says and processes it when the "
             "handshake completes: its ACK of the handshake covers the SYN's data, which the "
             "peer need not send again")


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S", data=b"early")
    sa = c.expect("SA", seq=None, ack=None)
    c.learn_synack(sa)
    assert (sa.ack - c.iss) & 0xFFFFFFFF == 1, "SYN-ACK acks the SYN only"
    c.snd_nxt = 1
    c.send("A")
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    if t.deviates:
        c.expect("A", ack=6)
    else:
        c.expect_none(0.3)
        c.send("PA", seq=1, data=b"early")
        c.expect("A", ack=6)
    assert c.read() == b"early"
