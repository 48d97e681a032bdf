"""RFC 9293 3.10.4 CLOSE (ESTABLISHED): close sends FIN (FIN-WAIT-1); the peer's ACK moves to
FIN-WAIT-2 (silence); the peer's FIN is acknowledged (TIME-WAIT)."""


def run(t):
    c = t.passive()
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("A")
    c.expect_none(0.3)
    c.send("FA")
    c.expect("A", seq=2, ack=2)
