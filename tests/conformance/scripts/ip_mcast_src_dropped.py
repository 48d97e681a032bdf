"""RFC 1122 3.2.1.3: a datagram with a multicast (class D) source address is discarded."""


def run(t):
    t.echo(b"mcast", src="224.0.0.5")
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to a multicast source")
    t.still_answers()
