"""RFC 9293 3.10.4 CLOSE (CLOSE-WAIT) and 3.10.7.4 (LAST-ACK): after the peer's FIN, close sends
FIN; the peer's ACK of it ends the connection, after which a segment draws an RST."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=2)
    c.send("A")
    c.expect_none(0.3)
    c.send("PA", seq=2, data=3)
    c.expect("R", seq=2, ack=None)
