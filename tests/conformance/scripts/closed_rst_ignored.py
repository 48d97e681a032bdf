"""RFC 9293 3.10.7.1 (CLOSED): an incoming RST to a closed port is discarded, never answered."""


def run(t):
    c = t.conn(t.new_port())
    c.send("R", seq=1)
    c.send("RA", seq=1, ack=5)
    c.expect_none(0.4)
