"""RFC 1122 3.3.2, RFC 791: a datagram in two fragments (out of order) is reassembled and
answered: the echo reply carries all 2000 bytes."""
import struct
from bench import icmp_message


def run(t):
    data = bytes(i % 253 for i in range(2000))
    m = icmp_message(8, 0, struct.pack("!HH", 0x2222, 3), data)
    t.send_ip(1, m[1480:], ident=0x7777, frag=1480 // 8)
    t.send_ip(1, m[:1480], ident=0x7777, frag=0x2000)
    got, total = b"", None
    deadline = 30
    while deadline and (total is None or len(got) < total):
        deadline -= 1
        p = t.next_pkt(lambda p: p.proto == 1, 1.0)
        assert p is not None, "reply incomplete: %d bytes" % len(got)
        off = (p.frag & 0x1FFF) * 8
        if not p.frag & 0x2000:
            total = off + len(p.l4)
        got = got[:off] + p.l4 + got[off + len(p.l4):] if off <= len(got) else got
    assert got[0] == 0 and got[4:8] == struct.pack("!HH", 0x2222, 3)
    assert got[8:] == data, "reply data differs"
