"""RFC 9293 3.10.7.4 (TIME-WAIT): an old duplicate data segment is not acceptable and draws an
ACK of RCV.NXT (the FIN)."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"abc")
    c.expect("A", ack=4)
    assert c.read() == b"abc"
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=4)
    c.send("FA")
    c.expect("A", seq=2, ack=5)
    c.send("PA", seq=1, data=b"abc", ack=2)
    c.expect("A", seq=2, ack=5)
