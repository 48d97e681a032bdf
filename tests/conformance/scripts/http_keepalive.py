"""RFC 9112 9.3 (HTTP server): an HTTP/1.1 request without "Connection: close" leaves the
connection open after the response (no FIN); a second request on it is answered too."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("PA", data=b"GET /index.html HTTP/1.1\r\nHost: dut\r\n\r\n")
    body, fin = c.collect(idle=1.5)
    assert body.startswith(b"HTTP/1.1 200") and body.endswith(b"conformance index\n"), body
    assert not fin, "FIN after a keep-alive response"
    c.send("PA", data=b"GET /small.txt HTTP/1.1\r\nHost: dut\r\nConnection: close\r\n\r\n")
    body, fin = c.collect(idle=1.0)
    assert body.startswith(b"HTTP/1.1 200") and body.endswith(b"x" * 3000), body[:80]
    assert fin
