"""RFC 5961 3.2 (LAST-ACK): an RST in the window but not exact draws a challenge ACK; the
connection then ends normally on the ACK of its FIN."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=2)
    c.send("R", seq=700)
    c.expect("A", seq=2, ack=2)
    c.send("A")
    c.expect_none(0.3)
