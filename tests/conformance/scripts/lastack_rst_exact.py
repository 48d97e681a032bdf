"""RFC 9293 3.10.7.4 (LAST-ACK): an RST at RCV.NXT ends the connection; nothing is retransmitted
and a later segment draws an RST."""


def run(t):
    c = t.passive()
    c.send("FA")
    c.expect("A", ack=2)
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=2)
    c.send("R", seq=2)
    c.expect_none(0.4)
    c.send("A", seq=2, ack=2)
    c.expect("R", seq=2, ack=None)
