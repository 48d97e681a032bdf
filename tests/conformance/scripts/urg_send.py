"""RFC 9293 3.8.5, RFC 6093: send with MSG_OOB sets URG, and the urgent pointer points to the
byte after the urgent byte (the BSD and Linux reading)."""


def run(t):
    c = t.passive()
    c.write(b"norm")
    c.expect("A", data=b"norm")
    c.send("A")
    t.agent_ok("send", id=c.sock, hex=b"!".hex(), oob=True)
    c.expect("UA", data=b"!", urp=1)
