"""RFC 9293 3.10.7.4 (TIME-WAIT), RFC 1337: an RST in TIME-WAIT draws no answer (Linux, with
rfc1337 off, ends TIME-WAIT; the RFC 1337 choice is to ignore it: neither answers)."""


def run(t):
    c = t.passive()
    t.agent_ok("close", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("FA")
    c.expect("A", seq=2, ack=2)
    c.send("R", seq=2)
    c.expect_none(0.4)
