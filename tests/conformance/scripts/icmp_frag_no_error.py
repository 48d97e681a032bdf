"""RFC 1122 3.2.2: no ICMP error is sent about a non-initial fragment: a UDP fragment (offset
not 0) to a closed port draws nothing (it cannot be reassembled either)."""
from bench import udp_datagram


def run(t):
    d = udp_datagram(41000, 4447, b"f" * 32)
    t.send_ip(17, d[16:], ident=0x5151, frag=2)
    t.expect_no_ip(lambda p: p.proto == 1 and p.type == 3, 0.4, "ICMP error about a fragment")
    t.still_answers()
