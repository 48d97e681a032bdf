"""RFC 9112 9.6 (HTTP server): a request with "Connection: close" gets its response and then the
server's FIN, with nothing after it."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("PA", data=b"GET /index.html HTTP/1.1\r\nHost: dut\r\nConnection: close\r\n\r\n")
    body, fin = c.collect(idle=1.0)
    assert body.startswith(b"HTTP/1.1 200"), body[:60]
    assert body.endswith(b"conformance index\n"), body[-60:]
    assert fin, "no FIN after a Connection: close response"
