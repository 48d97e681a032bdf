"""RFC 9293 3.6 figure 13 (CLOSING): both sides close at once. The DUT in FIN-WAIT-1 acknowledges
the peer's FIN (CLOSING), and the peer's ACK of the DUT's FIN takes it to TIME-WAIT, where a
retransmitted FIN is acknowledged again."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock, how=1)
    c.expect("FA", seq=1, ack=1)
    c.send("FA", ack=1)
    c.expect("A", seq=2, ack=2)
    c.send("A", seq=2, ack=2)
    c.expect_none(0.3)
    c.send("FA", seq=1, ack=2)
    c.expect("A", seq=2, ack=2)
