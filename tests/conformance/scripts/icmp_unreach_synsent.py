"""RFC 1122 4.2.3.9, RFC 5461: ICMP port unreachable (a hard error) for a connection in
SYN-SENT aborts it: connect fails (ECONNREFUSED on Linux) and the SYN is not sent again."""
import struct
from bench import icmp_message


def run(t):
    port = t.new_port()
    r = t.agent_ok("connect", ip="192.0.2.1", port=port)
    syn = t.next_pkt(lambda p: p.proto == 6 and p.dport == port, 2.0)
    assert syn is not None, "no SYN"
    t.send_ip(1, icmp_message(3, 3, b"\0\0\0\0", syn.ip[:28]))
    err = t.agent("connected", id=r["id"], timeout=2.0).get("err")
    assert err == "ECONNREFUSED", "connect: %r" % err
    p = t.next_pkt(lambda p: p.proto == 6 and p.dport == port and p.sport == syn.sport, 1.5)
    assert p is None, "sent after the hard error: %s" % p
