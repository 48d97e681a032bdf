"""RFC 1122 4.1.3.1, 3.2.2.1: a UDP datagram to a port with no socket draws ICMP port
unreachable (3/3) quoting the IP header and at least the first 8 bytes of the datagram."""


def run(t):
    t.udp(41000, 4444, b"anyone?", ident=0x4141)
    p = t.expect_icmp(3, 3)
    q = p.data[4:]
    assert q[0] == 0x45 and q[4:6] == b"\x41\x41", "quoted header: %s" % q[:20].hex()
    assert q[20:24] == bytes.fromhex("a028115c"), "quoted ports: %s" % q[20:28].hex()
