"""RFC 9112 9.3.2 (HTTP server): two pipelined requests in one segment get two responses in
order; the second asks to close, so the server's FIN follows the second response."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("PA", data=b"GET /index.html HTTP/1.1\r\nHost: dut\r\n\r\n"
                      b"GET /small.txt HTTP/1.1\r\nHost: dut\r\nConnection: close\r\n\r\n")
    body, fin = c.collect(idle=1.0)
    assert body.count(b"HTTP/1.1 200") == 2, body[:200]
    assert body.index(b"conformance index\n") < body.index(b"x" * 3000)
    assert fin
