"""RFC 1122 3.2.2.1 and 4.1 of RFC 792: a datagram for a protocol the host does not implement
SHOULD draw ICMP Destination Unreachable, protocol unreachable (code 2), quoting the header."""


def run(t):
    t.send_ip(99, b"\0" * 20, ident=0x3131)
    p = t.expect_icmp(3, 2)
    assert p.data[4:6] == b"\x45\x00" and p.data[8:10] == b"\x31\x31", "quote: %s" % p.data[:28].hex()
