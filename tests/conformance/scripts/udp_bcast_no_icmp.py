"""RFC 1122 3.2.2: no ICMP error is sent about a datagram sent to a broadcast address (a UDP
datagram to a closed port at 192.0.2.255 draws nothing)."""


def run(t):
    t.udp(41000, 4445, b"bcast", dst="192.0.2.255", l2dst=b"\xff" * 6)
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "ICMP error about a broadcast")
    t.still_answers()
