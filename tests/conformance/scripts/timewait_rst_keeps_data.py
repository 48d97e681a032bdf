"""RFC 9293 3.10.7.4 (TIME-WAIT): after a shutdown(SHUT_WR) the peer's answer comes with its
FIN, the FIN again, and a RST: the RST ends TIME-WAIT, but the answer was acknowledged and is
still read, then end-of-file (Linux: the RST reaches only the TIME-WAIT record). Under `ustack
run` the daemon has usually moved the answer on before the RST; tcp_state_test's
time_wait_rst_keeps_data holds the stack to it when the reader has not read."""


def run(t):
    c = t.passive()
    t.agent_ok("shutdown", id=c.sock)
    c.expect("FA", seq=1, ack=1)
    c.send("FPA", ack=2, data=b"answer")
    c.expect("A", seq=2, ack=8)
    c.send("FA", seq=7, ack=2)
    c.expect("A", seq=2, ack=8)
    c.send("R", seq=8)
    c.expect_none(0.3)
    assert c.read() == b"answer"
    assert c.read() == b""
