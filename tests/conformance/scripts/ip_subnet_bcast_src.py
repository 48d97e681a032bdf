"""RFC 1122 3.2.1.3: a host MUST silently discard a datagram whose source is a directed
broadcast ({<Network-number>, -1}). Linux accepts it when reverse-path filtering is off (the
namespace default) and answers an echo to 192.0.2.255 as the destination."""

DEVIATION = ("ustack follows RFC 1122 3.2.1.3 and drops a subnet-broadcast source "
             "(IP_BAD_SRC); Linux without rp_filter answers it")


def run(t):
    t.echo(b"src", src="192.0.2.255")
    if t.deviates:
        t.expect_no_ip(lambda p: p.proto == 1, 0.4, "answer to a broadcast source")
        t.still_answers()
    else:
        p = t.expect_icmp(0, 0)
        assert p.dst == "192.0.2.255"
