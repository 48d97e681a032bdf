"""RFC 9293 3.10.7.4 (SYN-RECEIVED): the ACK completing the handshake may carry data; the
connection is established, the data acknowledged and readable after accept."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S")
    c.learn_synack(c.expect("SA", seq=None, ack=1))
    c.send("PA", data=b"first bytes")
    c.expect("A", ack=12)
    c.sock = t.agent_ok("accept", id=lsock)["id"]
    assert c.read() == b"first bytes"
