"""RFC 9293 3.10.7.4 (TIME-WAIT): a retransmission of the peer's FIN is acknowledged again."""


def run(t):
    c = t.passive()
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("FA")
    c.expect("A", seq=2, ack=2)
    c.send("FA", seq=1, ack=2)
    c.expect("A", seq=2, ack=2)
