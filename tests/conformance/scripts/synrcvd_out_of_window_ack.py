"""RFC 9293 3.10.7.4 (SYN-RECEIVED), first check: a segment with a sequence number outside the
window draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and does not complete the handshake; a good
ACK then does."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S")
    c.learn_synack(c.expect("SA", seq=None, ack=1))
    c.send("A", seq=1 + 10_000_000, ack=1)
    c.expect("A", seq=1, ack=1)
    c.send("A", seq=1, ack=1)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
