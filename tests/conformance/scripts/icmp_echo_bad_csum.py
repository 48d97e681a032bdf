"""RFC 1122 3.2.2: an ICMP message with a bad checksum is silently discarded."""
from bench import icmp_message
import struct


def run(t):
    m = bytearray(icmp_message(8, 0, struct.pack("!HH", 1, 1), b"bad"))
    m[2] ^= 0x55
    t.send_ip(1, bytes(m))
    t.expect_no_ip(lambda p: p.proto == 1, 0.4, "ICMP answer")
    t.still_answers()
