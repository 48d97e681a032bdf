"""RFC 1122 4.2.3.9, RFC 5461 4: ICMP unreachable for an established connection is a soft
error: the connection is not aborted; data still flows both ways afterwards."""
from bench import icmp_message


def run(t):
    c = t.passive()
    c.write(b"one")
    p = c.expect("A", data=b"one")
    c.send("A")
    t.send_ip(1, icmp_message(3, 3, b"\0\0\0\0", p.ip[:28]))
    t.send_ip(1, icmp_message(3, 1, b"\0\0\0\0", p.ip[:28]))
    c.expect_none(0.3)
    c.write(b"two")
    c.expect("A", data=b"two")
    c.send("PA", data=b"back")
    c.expect("A", ack=5)
