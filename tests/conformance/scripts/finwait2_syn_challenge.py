"""RFC 5961 4.2 (FIN-WAIT-2): a SYN draws a challenge ACK; the half-closed connection survives."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock, how=1)
    c.expect("FA", seq=1, ack=1)
    c.send("A")
    c.send("S", seq=200)
    c.expect("A", seq=2, ack=1)
    c.send("PA", seq=1, data=b"ok")
    c.expect("A", ack=3)
