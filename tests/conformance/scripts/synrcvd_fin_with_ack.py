"""RFC 9293 3.10.7.4 (SYN-RECEIVED): an ACK completing the handshake that also carries data and
FIN establishes the connection and moves it to CLOSE-WAIT: the DUT acknowledges data and FIN,
and the application reads the data and then end of data."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S")
    c.learn_synack(c.expect("SA", seq=None, ack=1))
    c.send("FPA", data=b"bye")
    c.expect("A", ack=5)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    assert c.read() == b"bye"
    assert c.read() == b""
