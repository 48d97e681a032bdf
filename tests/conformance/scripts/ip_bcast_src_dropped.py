"""RFC 1122 3.2.1.3: a datagram whose source is the limited broadcast address is discarded
(no answer)."""


def run(t):
    t.echo(b"src", src="255.255.255.255")
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to a limited-broadcast source")
    t.still_answers()
