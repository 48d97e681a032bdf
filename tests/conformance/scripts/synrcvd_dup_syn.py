"""RFC 9293 3.10.7.4 (SYN-RECEIVED): a retransmission of the peer's SYN (same ISN) is answered
with the SYN-ACK again (Linux resends it; the connection is not reset)."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S")
    c.learn_synack(c.expect("SA", seq=None, ack=1))
    c.send("S", seq=0)
    c.expect("SA", seq=0, ack=1)
    c.send("A", seq=1, ack=1)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
