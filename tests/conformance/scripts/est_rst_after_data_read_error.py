"""RFC 9293 3.10.7.4: after an acceptable RST the DUT drops the connection: data the
application writes afterwards is never sent."""


def run(t):
    c = t.passive()
    c.send("R", seq=1)
    c.expect_none(0.2)
    r = t.agent("send", id=c.sock, hex=b"after".hex())
    c.expect_none(0.4)
