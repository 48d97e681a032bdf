"""RFC 1122 3.2.2.6: an echo request to a broadcast address MAY be silently discarded; Linux
discards it (icmp_echo_ignore_broadcasts), and so must the DUT."""


def run(t):
    t.echo(b"bcast", dst="192.0.2.255", l2dst=b"\xff" * 6)
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "echo reply to a broadcast")
    t.still_answers()
