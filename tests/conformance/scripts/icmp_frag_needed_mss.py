"""RFC 1191 and RFC 1122 4.2.3.9: ICMP fragmentation needed with a next-hop MTU of 1280 for an
established connection lowers the segment size: the 1460 bytes in flight are sent again in
segments that fit 1280 bytes (at most 1240 bytes of data), and the connection goes on. (The
bench uses its own address here, so the lowered path MTU stays out of the other scripts.)"""
import struct
from bench import icmp_message


def run(t):
    c = t.passive(src="192.0.2.3")
    c.write(b"p" * 1460)
    p = c.expect("A", length=1460)
    t.send_ip(1, icmp_message(3, 4, struct.pack("!HH", 0, 1280), p.ip[:28]), src="192.0.2.3")
    got = 0
    while got < 1460:
        q = c.expect("A", seq=1 + got, ack=1, length=None, timeout=3.0)
        assert 0 < len(q.data) <= 1240, "%d bytes after the MTU fell to 1280" % len(q.data)
        got += len(q.data)
        c.send("A", ack=1 + got)  # the 1460-byte segment "was dropped": ACK what came again
    c.write(b"after")
    c.expect("A", data=b"after")
