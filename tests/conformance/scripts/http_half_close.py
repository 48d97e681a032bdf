"""RFC 9112 9.6 (HTTP server): a client that sends its request and FIN (half-close) still gets
the whole response, and then the server's FIN."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("FPA", data=b"GET /small.txt HTTP/1.1\r\nHost: dut\r\n\r\n")
    body, fin = c.collect(idle=1.0)
    assert body.startswith(b"HTTP/1.1 200") and body.endswith(b"x" * 3000), body[:80]
    assert fin, "no FIN after the response to a half-closed client"
