"""RFC 1122 3.2.1.7: a host must not send a datagram with TTL 0, but TTL only matters when
forwarding: Linux delivers a TTL-0 datagram addressed to it, answering the echo."""


def run(t):
    t.echo(b"ttl0", ttl=0)
    p = t.expect_icmp(0, 0)
    assert p.ttl > 0
