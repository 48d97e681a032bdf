"""RFC 1122 3.2.1.1: a datagram whose version number is not 4 is silently discarded."""


def run(t):
    t.echo(b"v6", ver=6)
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to a version-6 header")
    t.still_answers()
