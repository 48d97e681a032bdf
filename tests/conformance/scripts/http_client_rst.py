"""HTTP server: a client that resets the connection mid-request leaves the server quiet (no
answer to the RST) and serving the next connection."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("PA", data=b"GET /index.html HTTP/1.1\r\nHo")
    c.send("R")
    c.expect_none(0.3, ignore=lambda p: not p.flags & 4 and not p.data)
    d = t.passive(port=80, listen=False)
    d.send("PA", data=b"GET /index.html HTTP/1.0\r\n\r\n")
    body, fin = d.collect(idle=1.0)
    assert body.split(b" ")[1] == b"200" and fin
