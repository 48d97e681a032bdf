"""RFC 9293 3.10.7.4 (SYN-RECEIVED, passive open): an acceptable RST returns the connection to
LISTEN: nothing is answered, accept finds no connection, and the listener answers a new SYN."""


def run(t):
    port, lsock = t.listen()
    c = t.conn(port)
    c.syn_opts()
    c.send("S")
    c.learn_synack(c.expect("SA", seq=None, ack=1))
    c.send("R", seq=1)
    c.expect_none(0.3)
    assert t.agent("accept", id=lsock, timeout=0.3).get("err") == "ETIMEDOUT", \
        "accept returned a reset connection"
    c.send("A", seq=1, ack=1)
    c.expect("R", seq=1, ack=None)
    d = t.conn(port)
    d.syn_opts()
    d.send("S")
    d.expect("SA", seq=None, ack=1)
