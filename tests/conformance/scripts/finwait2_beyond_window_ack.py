"""RFC 9293 3.10.7.4 (FIN-WAIT-2): an unacceptable segment draws an ACK of RCV.NXT."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock, how=1)
    c.expect("FA", seq=1, ack=1)
    c.send("A")
    c.send("PA", seq=1 + 20_000_000, data=4)
    c.expect("A", seq=2, ack=1)
