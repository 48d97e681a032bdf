"""RFC 1122 3.2.2: an ICMP error message is never sent about an ICMP error message: a bogus
destination unreachable quoting a UDP datagram to a closed port, and an unknown ICMP type,
both draw nothing."""
import struct
from bench import icmp_message, ip_packet, udp_datagram


def run(t):
    inner = ip_packet(17, udp_datagram(1, 4446, b"x", src="192.0.2.2", dst="192.0.2.1"),
                      src="192.0.2.2", dst="192.0.2.1")
    t.send_ip(1, icmp_message(3, 3, b"\0\0\0\0", inner[:28]))
    t.send_ip(1, icmp_message(42, 0, b"\0\0\0\0", b"unknown"))
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "ICMP answer to an ICMP error")
    t.still_answers()
