#!/usr/bin/env python3
"""Where a bulk sender's time goes in a capture: the stalls (nothing sent for at least --gap ms
while data is outstanding, the wait for a retransmission timeout) and, for each, what ended it.

    bench/rto_profile.py CAPTURE.pcap SENDER_IP [--gap MS]

The capture is taken at the sender (`ustack up --pcap FILE`, or tcpdump on the sender's
interface); pcap with micro- or nanosecond timestamps, Ethernet, IPv4, TCP. For the one
connection that carries the most data from SENDER_IP it prints the transfer time, the stalls
and their total, and classifies the segment sent after each stall:
  - "lost retransmission": its sequence range had been retransmitted before (the earlier
    retransmission was lost and nothing but the timer found it; RACK, RFC 8985, would);
  - "first retransmission": never retransmitted before (the loss was not found by duplicate
    ACKs or SACK: too few segments after it, or their ACKs lost too);
  - "new data": not a retransmission at all (e.g. the window was closed)."""
import argparse
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        gh = f.read(24)
        magic = struct.unpack("<I", gh[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        else:
            magic = struct.unpack(">I", gh[:4])[0]
            end = ">"
        scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _ = struct.unpack(end + "IIII", h)
            yield sec + frac * scale, f.read(incl)


def tcp_segments(path):
    for t, fr in frames(path):
        if len(fr) < 34 or fr[12:14] != b"\x08\x00":
            continue
        ip = fr[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6 or len(ip) < ihl + 20:
            continue
        tot = struct.unpack(">H", ip[2:4])[0]
        src, dst = ip[12:16], ip[16:20]
        tcp = ip[ihl:]
        sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        plen = tot - ihl - doff
        yield t, src, dst, sport, dport, seq, ack, flags, plen


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcap")
    ap.add_argument("sender")
    ap.add_argument("--gap", type=float, default=100.0, help="stall threshold, ms (100)")
    a = ap.parse_args()
    me = bytes(int(x) for x in a.sender.split("."))
    segs = list(tcp_segments(a.pcap))
    by_conn = {}
    for s in segs:
        if s[1] == me and s[8] > 0:
            k = (s[3], s[2], s[4])
            by_conn[k] = by_conn.get(k, 0) + s[8]
    if not by_conn:
        sys.exit("no data segments from %s" % a.sender)
    conn = max(by_conn, key=by_conn.get)
    sport, peer, dport = conn
    out = [s for s in segs if s[1] == me and (s[3], s[2], s[4]) == conn]
    acks = [s for s in segs if s[2] == me and (s[4], s[1], s[3]) == conn]
    isn = out[0][5]
    rel = lambda q: (q - isn) & 0xFFFFFFFF
    high = 0            # highest byte sent + 1 (relative)
    retx = {}           # relative seq -> times retransmitted
    last_t = None
    stalls = []
    first_data = None
    last_data = None
    for t, _, _, _, _, seq, _, flags, plen in out:
        if plen == 0:
            continue
        q = rel(seq)
        first_data = first_data if first_data is not None else t
        last_data = t
        kind = "new data"
        if q < high:
            kind = "lost retransmission" if retx.get(q, 0) > 0 else "first retransmission"
            retx[q] = retx.get(q, 0) + 1
        if last_t is not None and (t - last_t) * 1000 >= a.gap:
            stalls.append((last_t - first_data, t - last_t, kind, q))
        high = max(high, q + plen)
        last_t = t
    total = (last_data - first_data) if first_data is not None else 0
    stall_s = sum(s[1] for s in stalls)
    print("connection %d -> %s:%d: %.1f MB of new data in %.2f s (first to last data segment)"
          % (sport, ".".join(map(str, peer)), dport, high / 1e6, total))
    print("segments: %d sent with data, %d retransmitted, %d ACKs received"
          % (sum(1 for s in out if s[8] > 0), sum(retx.values()), len(acks)))
    print("stalls of >= %.0f ms: %d, %.2f s in all (%.0f%% of the transfer)"
          % (a.gap, len(stalls), stall_s, 100 * stall_s / total if total else 0))
    kinds = {}
    for s in stalls:
        k = kinds.setdefault(s[2], [0, 0.0])
        k[0] += 1
        k[1] += s[1]
    for k, (n, d) in sorted(kinds.items(), key=lambda x: -x[1][1]):
        print("  ended by %-21s %4d stalls, %.2f s" % (k + ":", n, d))
    lens = sorted(s[1] for s in stalls)
    if lens:
        print("  stall length: min %.0f ms, median %.0f ms, max %.0f ms"
              % (lens[0] * 1000, lens[len(lens) // 2] * 1000, lens[-1] * 1000))


if __name__ == "__main__":
    main()
