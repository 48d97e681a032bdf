"""RFC 1122 3.2.1.7: TTL is for forwarding; a datagram addressed to the host arriving with
TTL 1 is delivered (echo answered), and the reply's TTL is not 0 or 1-derived."""


def run(t):
    t.echo(b"ttl", ttl=1)
    p = t.expect_icmp(0, 0)
    assert p.ttl > 1, "reply TTL %d" % p.ttl
