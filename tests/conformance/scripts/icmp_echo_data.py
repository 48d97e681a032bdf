"""RFC 1122 3.2.2.6, RFC 792: an echo request is answered with an echo reply carrying the same
identifier, sequence number and data (here 1000 bytes)."""
import struct


def run(t):
    data = bytes(i % 251 for i in range(1000))
    t.echo(data, ident=0x1111, seq=7)
    p = t.expect_icmp(0, 0)
    assert p.l4[4:8] == struct.pack("!HH", 0x1111, 7), "id/seq not echoed"
    assert p.data[4:] == data, "data not echoed"
    assert p.dst == "192.0.2.1"
