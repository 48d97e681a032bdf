"""RFC 1122 3.2.1.2: a datagram with a bad header checksum is silently discarded."""


def run(t):
    t.echo(b"csum", bad_csum=True)
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to a bad header checksum")
    t.still_answers()
