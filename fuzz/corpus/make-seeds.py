#!/usr/bin/env python3
"""Writes the seed corpora for the wire fuzz targets (a few valid packets each).
Run from the repository root: python3 fuzz/corpus/make-seeds.py"""
import os
import struct


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(payload, proto=17, src=b"\xc0\x00\x02\x01", dst=b"\xc0\x00\x02\x02", opts=b"", ff=0x4000):
    ihl = 5 + len(opts) // 4
    h = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), 0x1234, ff, 64, proto, 0,
                    src, dst) + opts
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    return h + payload


def icmp(t, code, rest, data):
    m = struct.pack(">BBH", t, code, 0) + rest + data
    return m[:2] + struct.pack(">H", csum(m)) + m[4:]


def udp(sp, dp, payload, src=b"\xc0\x00\x02\x01", dst=b"\xc0\x00\x02\x02"):
    ln = 8 + len(payload)
    u = struct.pack(">HHHH", sp, dp, ln, 0) + payload
    c = csum(src + dst + struct.pack(">BBH", 0, 17, ln) + u) or 0xFFFF
    return u[:6] + struct.pack(">H", c) + u[8:]


def tcp(sp, dp, seq, ack, flags, wnd, opts=b"", payload=b"", src=b"\xc0\x00\x02\x01",
        dst=b"\xc0\x00\x02\x02"):
    doff = (20 + len(opts)) // 4
    seg = struct.pack(">HHIIBBHHH", sp, dp, seq, ack, doff << 4, flags, wnd, 0, 0) + opts + payload
    c = csum(src + dst + struct.pack(">BBH", 0, 6, len(seg)) + seg)
    return seg[:16] + struct.pack(">H", c) + seg[18:]


def arp(op, sha, spa, tha, tpa):
    return struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa)


MAC1, MAC2 = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
IPA, IPB = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
echo = icmp(8, 0, struct.pack(">HH", 1, 1), b"abcdefghijklmnopqrstuvwabcdefghi")
unreach = icmp(3, 4, struct.pack(">HH", 0, 1400), ip4(b"\0" * 8)[:28])
d1 = udp(12345, 53, b"hello")
req = arp(1, MAC1, IPA, b"\0" * 6, IPB)
TS = lambda v, e: b"\x08\x0a" + struct.pack(">II", v, e)
SACK = lambda blocks: b"\x05" + bytes([2 + 8 * len(blocks)]) + b"".join(struct.pack(">II", *x) for x in blocks)
SYN_OPTS = bytes.fromhex("020405b40402") + TS(0x01020304, 0) + bytes.fromhex("01030307")
seeds = {
    "fuzz_wire_eth": {
        "arp_bcast": b"\xff" * 6 + MAC1 + b"\x08\x06" + req + b"\0" * 18,
        "ip_udp": MAC2 + MAC1 + b"\x08\x00" + ip4(d1),
        "vlan": MAC2 + MAC1 + b"\x81\x00\x00\x05\x08\x00" + ip4(d1),
    },
    "fuzz_wire_arp": {
        "request": req,
        "reply_padded": arp(2, MAC2, IPB, MAC1, IPA) + b"\0" * 18,
    },
    "fuzz_wire_ip4": {
        "udp": ip4(d1),
        "icmp_echo": ip4(echo, proto=1),
        "options": ip4(b"xyz", opts=b"\x94\x04\x00\x00\x01\x07\x07\x04" + b"\0" * 4 + b"\x01\x00\x00\x00"),
        "fragment": ip4(b"A" * 16, ff=0x2000 | 185),
        "padded": ip4(b"ab") + b"\0" * 24,
    },
    "fuzz_wire_icmp": {
        "echo": echo,
        "unreach_needfrag": unreach,
        "param_problem": icmp(12, 0, b"\x14\0\0\0", ip4(b"")),
    },
    "fuzz_wire_tcp": {
        "syn_linux": IPA + IPB + tcp(40000, 80, 0x12345678, 0, 0x02, 64240, SYN_OPTS),
        "synack": IPB + IPA + tcp(80, 40000, 0x9ABCDEF0, 0x12345679, 0x12, 65160, SYN_OPTS),
        "data_ts": IPA + IPB + tcp(80, 40000, 1, 2, 0x18, 501, b"\x01\x01" + TS(5, 6), b"hello, tcp!"),
        "ack_ts_sack3": IPA + IPB + tcp(1, 2, 3, 4, 0x10, 100, b"\x01\x01" + TS(7, 8) + b"\x01\x01" +
                                        SACK([(100, 200), (300, 400), (500, 600)])),
        "ack_sack4": IPA + IPB + tcp(1, 2, 3, 4, 0x10, 100, b"\x01\x01" +
                                     SACK([(1, 2), (3, 4), (5, 6), (7, 8)])),
        "rst": IPA + IPB + tcp(5, 6, 7, 0, 0x04, 0),
        "fin_ack": IPA + IPB + tcp(5, 6, 7, 8, 0x11, 1000, payload=b"bye"),
        "odd_opts": IPA + IPB + tcp(1, 2, 3, 4, 0x02, 5, b"\xfe\x06abcd\x02\x03\x05\x03\x03\x0f\x00\x02\x00\x00"),
    },
    "fuzz_wire_udp": {
        "dns": IPA + IPB + d1,
        "nocsum": IPA + IPB + struct.pack(">HHHH", 68, 67, 12, 0) + b"dhcp",
        "empty": IPA + IPB + udp(1, 2, b""),
    },
}
# fuzz_stack records: 2-byte time delta (ms), 2-byte length with 0x8000 = fix checksums and
# 0x4000 = put TCP numbers in step with what the stack sent to that port (and fix checksums).
FIX, SYNC = 0x8000, 0x4000
rec = lambda dt, flags, frame: struct.pack(">HH", dt, flags | len(frame)) + frame
eth_ip = lambda payload: MAC2 + MAC1 + b"\x08\x00" + ip4(payload, proto=6)
seg = lambda flags, payload=b"", seq=0, ack=0: eth_ip(tcp(40000, 80, seq, ack, flags, 65535,
                                                         payload=payload))
seeds["fuzz_stack"] = {
    # ARP, handshake, data, a 'q' that makes the stack close first, the peer's FIN: TIME-WAIT
    # (a compact record); then a retransmitted FIN and a new SYN meet the record.
    "tcp_time_wait": rec(0, 0, MAC2 + MAC1 + b"\x08\x06" + arp(1, MAC1, IPA, b"\0" * 6, IPB))
    + rec(1, FIX, seg(0x02, seq=1000)) + rec(1, SYNC, seg(0x10)) + rec(1, SYNC, seg(0x18, b"hello"))
    + rec(50, SYNC, seg(0x18, b"q")) + rec(50, SYNC, seg(0x11)) + rec(1000, SYNC, seg(0x11))
    + rec(2000, FIX, seg(0x02, seq=900000)),
}
for target, files in seeds.items():
    os.makedirs(os.path.join("fuzz/corpus", target), exist_ok=True)
    for name, data in files.items():
        with open(os.path.join("fuzz/corpus", target, name), "wb") as f:
            f.write(data)
