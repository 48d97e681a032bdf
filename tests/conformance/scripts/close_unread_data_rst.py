"""RFC 2525 2.17, RFC 1122 4.2.2.13: closing with received data unread sends RST instead of FIN
(data was lost to the application)."""


def run(t):
    c = t.passive()
    c.send("PA", data=b"never read")
    c.expect("A", ack=11)
    t.agent_ok("close", id=c.sock)
    c.expect("RA", seq=1, ack=11)
