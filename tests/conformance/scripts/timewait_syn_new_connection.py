"""RFC 9293 3.10.7.4 (TIME-WAIT) and RFC 1122 4.2.2.13: a new SYN whose sequence number is above
the old connection's final one may open a new incarnation: the listener answers with a SYN-ACK
(Linux accepts it from TIME-WAIT)."""


def run(t):
    port, lsock = t.listen()
    c = t.passive(port=port, listen=False)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("FA")
    c.expect("A", seq=2, ack=2)
    c.syn_opts()
    c.send("S", seq=100_000)
    c.expect("SA", seq=None, ack=100_001)
