"""RFC 9293 3.10.4 / RFC 1122 4.2.2.13 (SHUT_RD has no wire form): after shutdown(SHUT_RD) data
from the peer is still acknowledged, and the connection is not reset."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock, how=0)
    c.send("PA", data=b"ignored")
    c.expect("A", ack=8)
    c.write(b"still")
    c.expect("A", data=b"still", ack=8)
