"""RFC 9293 3.10.7.4 (FIN-WAIT-2): the peer may go on sending; the data is acknowledged and
delivered; the peer's FIN then gets its ACK."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock, how=1)
    c.expect("FA", seq=1, ack=1)
    c.send("A")
    c.expect_none(0.2)
    c.send("PA", data=b"half-closed")
    c.expect("A", ack=12)
    assert c.read() == b"half-closed"
    c.send("FA")
    c.expect("A", ack=13)
    assert c.read() == b""
