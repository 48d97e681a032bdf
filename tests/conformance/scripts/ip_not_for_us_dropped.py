"""RFC 1122 3.3.1.1 / 3.2.1.3: a host that does not forward silently discards a datagram for
another address on its link (no answer, no ICMP redirect)."""


def run(t):
    t.echo(b"other", dst="192.0.2.99")
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer for another address")
    t.still_answers()
