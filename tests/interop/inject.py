#!/usr/bin/env python3
"""Crafts malformed frames for the interop tests and writes them into a TAP link through an
AF_PACKET socket bound to the kernel's side of the device.
    inject.py IFNAME KERNEL_MAC USTACK_MAC KERNEL_IP USTACK_IP CASE
Prints nothing on success; exit 3 if the kernel refuses to send the frame (errno printed)."""
import socket
import struct
import sys

ifname, kmac, umac, kip, uip, case = sys.argv[1:7]
kmac = bytes.fromhex(kmac.replace(":", ""))
umac = bytes.fromhex(umac.replace(":", ""))
kip = socket.inet_aton(kip)
uip = socket.inet_aton(uip)
BCAST_MAC = b"\xff" * 6


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, etype=0x0800, dst=umac, src=kmac):
    return dst + src + struct.pack("!H", etype) + payload


def ip(payload, proto=1, src=kip, dst=uip, ident=0x4242, frag=0, ver=4, ihl=None, total=None,
       options=b"", bad_csum=False, ttl=64):
    if ihl is None:
        ihl = 5 + len(options) // 4
    if total is None:
        total = 20 + len(options) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, total, ident, frag, ttl, proto, 0,
                    src, dst) + options
    c = csum(h)
    if bad_csum:
        c ^= 0x5555
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload


def icmp_echo(data=b"interop-test-data", bad_csum=False, ident=0x1234, seq=1):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    c = csum(m)
    if bad_csum:
        c ^= 0x5555
    return m[:2] + struct.pack("!H", c) + m[4:]


def udp(data, sport=40000, dport=7, src=kip, dst=uip, ulen=None, bad_csum=False):
    if ulen is None:
        ulen = 8 + len(data)
    h = struct.pack("!HHHH", sport, dport, ulen, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(data))
    c = csum(pseudo + h + data) or 0xFFFF
    if bad_csum:
        c ^= 0x5555
    return h[:6] + struct.pack("!H", c) + data


def arp(htype=1, ptype=0x0800, hlen=6, plen=4, op=1, sha=kmac, spa=kip, tha=b"\0" * 6, tpa=uip):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + spa + tha + tpa


def frags_of(payload, ident, pieces, proto=1):
    """pieces: list of (offset_bytes, length, more_fragments)."""
    out = []
    for off, ln, mf in pieces:
        out.append(eth(ip(payload[off:off + ln], proto=proto, ident=ident,
                          frag=(0x2000 if mf else 0) | (off // 8))))
    return out


echo = icmp_echo(bytes(range(48)))
CASES = {
    "eth_truncated": [eth(b"")[:10]],
    "eth_unknown_type": [eth(b"\0" * 46, etype=0x88B5)],
    "eth_8023_length": [eth(b"\0" * 46, etype=46)],
    "eth_not_for_us": [eth(ip(icmp_echo()), dst=b"\x02\0\0\0\0\x63")],
    "eth_bcast_src": [eth(ip(icmp_echo()), src=BCAST_MAC)],
    "arp_truncated": [eth(arp()[:10], etype=0x0806)],
    "arp_bad_hw": [eth(arp(htype=6), etype=0x0806)],
    "arp_bad_proto": [eth(arp(ptype=0x86DD), etype=0x0806)],
    "arp_bad_op": [eth(arp(op=9), etype=0x0806)],
    "ip_truncated": [eth(ip(b"")[:12])],
    "ip_bad_version": [eth(ip(icmp_echo(), ver=6))],
    "ip_bad_hdr_len": [eth(ip(icmp_echo(), ihl=4))],
    "ip_bad_total_len": [eth(ip(icmp_echo(), total=200))],
    "ip_bad_csum": [eth(ip(icmp_echo(), bad_csum=True))],
    # option type 0x44 (timestamp) claiming 10 bytes in a 4-byte option area
    "ip_bad_options": [eth(ip(icmp_echo(), options=b"\x44\x0a\x05\x00"))],
    "ip_bcast_src": [eth(ip(icmp_echo(), src=socket.inet_aton("192.0.2.255")))],
    "ip_limited_bcast_src": [eth(ip(icmp_echo(), src=socket.inet_aton("255.255.255.255")))],
    "ip_not_for_us": [eth(ip(icmp_echo(), dst=socket.inet_aton("192.0.2.99")))],
    "ip_unknown_proto": [eth(ip(b"\0" * 20, proto=99))],
    # [0,24) then [16,40) with different bytes: an overlap, the datagram is discarded
    "frag_overlap": frags_of(echo, 0x5001, [(0, 24, True)]) +
                    [eth(ip(b"\xee" * 24, ident=0x5001, frag=0x2000 | 2))],
    # ping of death: a fragment whose data would end past 65535
    "frag_past_65535": [eth(ip(b"\0" * 72, ident=0x5002, frag=65472 // 8))],
    # a last fragment ending at 65528: in range for the header, but the datagram would be >65535
    "frag_too_big": frags_of(echo, 0x5003, [(0, 24, True)]) +
                    [eth(ip(b"\0" * 32, ident=0x5003, frag=65496 // 8))],
    "icmp_truncated": [eth(ip(b"\x08\x00\x00"))],
    "icmp_bad_csum": [eth(ip(icmp_echo(bad_csum=True)))],
    "icmp_bcast_echo": [eth(ip(icmp_echo(), dst=socket.inet_aton("192.0.2.255")), dst=BCAST_MAC)],
    "udp_truncated": [eth(ip(b"\0" * 4, proto=17))],
    "udp_bad_csum": [eth(ip(udp(b"hello", bad_csum=True), proto=17))],
    "udp_bad_len_long": [eth(ip(udp(b"hello", ulen=200), proto=17))],
    "udp_bad_len_short": [eth(ip(udp(b"hello", ulen=4), proto=17))],
    "udp_closed_port": [eth(ip(udp(b"hello", dport=4444), proto=17))],
    "udp_zero_csum_echo": [eth(ip(udp(b"hello", dport=9)[:6] + b"\0\0" + b"hello", proto=17))],
}

frames = CASES[case]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for f in frames:
    try:
        s.send(f)
    except OSError as e:
        print("kernel refused a %d-byte frame: %s" % (len(f), e))
        sys.exit(3)
