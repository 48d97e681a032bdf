"""RFC 9293 3.10.7.4 (FIN-WAIT-1): after the DUT's FIN, data from the peer is still accepted,
acknowledged and readable (the connection is half-closed)."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock, how=1)
    c.expect("FA", seq=1, ack=1)
    c.send("PA", data=b"more", ack=1)
    c.expect("A", seq=2, ack=5)
    assert c.read() == b"more"
