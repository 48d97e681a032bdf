"""HTTP server: a request for a missing file gets a 404 status; with "Connection: close" the
server then closes (FIN)."""


def run(t):
    c = t.passive(port=80, listen=False)
    c.send("PA", data=b"GET /missing HTTP/1.1\r\nHost: dut\r\nConnection: close\r\n\r\n")
    body, fin = c.collect(idle=1.0)
    assert body.startswith(b"HTTP/1.1 404"), body[:60]
    assert fin
