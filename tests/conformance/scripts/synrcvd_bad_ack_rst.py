"""RFC 9293 3.10.7.4 (SYN-RECEIVED), fifth check: an ACK that does not acknowledge the SYN-ACK
(SND.UNA < SEG.ACK =< SND.NXT fails) draws <SEQ=SEG.ACK><CTL=RST>; a good ACK then completes
the handshake."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S")
    c.learn_synack(c.expect("SA", seq=None, ack=1))
    c.send("A", ack=100)
    c.expect("R", seq=100, ack=None)
    c.send("A", ack=1)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    c.send("PA", data=b"in")
    c.expect("A", ack=3)
