"""RFC 9112 9.3 (HTTP server): an HTTP/1.0 request without keep-alive gets its response and the
connection is closed by the server (FIN)."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("PA", data=b"GET /index.html HTTP/1.0\r\n\r\n")
    body, fin = c.collect(idle=1.0)
    assert body.split(b" ")[1] == b"200", body[:60]
    assert body.endswith(b"conformance index\n")
    assert fin, "no FIN after an HTTP/1.0 response"
