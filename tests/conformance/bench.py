#!/usr/bin/env python3
"""The differential conformance bench (doc/conformance.md).

The bench is the peer: it writes Ethernet frames to the device under test (DUT) and reads what
the DUT sends back, through one of two frame backends with the same interface:
  packet  an AF_PACKET socket on the kernel side of ustack's TAP (that side has no address,
          so the kernel stays silent);
  tap     the TAP file descriptor itself, whose network device is the Linux DUT's interface.
The socket side of a script (listen, connect, send, close, ...) is the agent (agent.py), the
same program on both DUTs. A script is a Python file in scripts/ with a docstring, a `run(t)`
function and optionally DEVIATION = "reason" (a deliberate difference of ustack from Linux) or
FAULT = "reason" (a known fault of ustack, listed in doc/status.md).

    bench.py run --dut linux|ustack --io tap|packet --ifname IF --agent CMD --out FILE [NAMES]
    bench.py table LINUX.json USTACK.json
"""
import argparse
import fcntl
import glob
import importlib.util
import json
import os
import random
import select
import shlex
import socket
import struct
import subprocess
import sys
import time
import traceback

BENCH_MAC = bytes.fromhex("020000000001")
DUT_MAC = bytes.fromhex("020000000002")
BENCH_IP = "192.0.2.1"
DUT_IP = "192.0.2.2"
BCAST_IP = "192.0.2.255"
HERE = os.path.dirname(os.path.abspath(__file__))

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128
FLAG_CHARS = {"F": FIN, "S": SYN, "R": RST, "P": PSH, "A": ACK, ".": ACK, "U": URG, "E": ECE,
              "C": CWR}
COMPARED = FIN | SYN | RST | ACK | URG  # PSH, ECE and CWR are not compared unless asked


class Mismatch(Exception):
    pass


def flags_of(s):
    v = 0
    for ch in s:
        v |= FLAG_CHARS[ch]
    return v


def flags_str(v):
    return "".join(ch for ch, b in (("S", SYN), ("F", FIN), ("R", RST), ("P", PSH), ("U", URG),
                                    ("A", ACK), ("E", ECE), ("C", CWR)) if v & b) or "-"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_aton(a):
    return socket.inet_aton(a)


# ---- frame backends ------------------------------------------------------------------------
class PacketIO:
    """AF_PACKET on a device whose other end is the DUT (ustack's TAP, kernel side)."""

    def __init__(self, ifname):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.s.bind((ifname, 0))
        self.fd = self.s.fileno()

    def send(self, frame):
        self.s.send(frame)

    def recv(self):
        data, addr = self.s.recvfrom(65536)
        if addr[2] == socket.PACKET_OUTGOING:
            return None
        return data


class TapIO:
    """The TAP's own file descriptor; its device is the Linux DUT's interface."""
    TUNSETIFF = 0x400454CA
    IFF_TAP, IFF_NO_PI = 0x0002, 0x1000

    def __init__(self, ifname):
        self.fd = os.open("/dev/net/tun", os.O_RDWR)
        ifr = struct.pack("16sH", ifname.encode(), self.IFF_TAP | self.IFF_NO_PI)
        fcntl.ioctl(self.fd, self.TUNSETIFF, ifr)

    def send(self, frame):
        os.write(self.fd, frame)

    def recv(self):
        return os.read(self.fd, 65536)


# ---- packets -------------------------------------------------------------------------------
class Pkt:
    """A parsed IPv4 packet (and its TCP, UDP or ICMP header)."""

    def __init__(self, frame):
        self.frame = frame
        self.etype = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        self.ver_ihl, self.tos, self.tot, self.ident, self.frag, self.ttl, self.proto, _, \
            s, d = struct.unpack("!BBHHHBBH4s4s", ip[:20])
        self.src, self.dst = socket.inet_ntoa(s), socket.inet_ntoa(d)
        hl = (self.ver_ihl & 15) * 4
        self.l4 = ip[hl:self.tot]
        self.ip = ip[:self.tot]
        self.df = bool(self.frag & 0x4000)
        if self.proto == 6:
            (self.sport, self.dport, self.seq, self.ack, off, self.flags, self.win, _,
             self.urp) = struct.unpack("!HHIIBBHHH", self.l4[:20])
            doff = (off >> 4) * 4
            self.opts = parse_opts(self.l4[20:doff])
            self.data = self.l4[doff:]
        elif self.proto == 17:
            self.sport, self.dport, ulen, _ = struct.unpack("!HHHH", self.l4[:8])
            self.data = self.l4[8:ulen]
        elif self.proto == 1:
            self.type, self.code = self.l4[0], self.l4[1]
            self.data = self.l4[4:]

    def opt(self, name):
        for o in self.opts:
            if o[0] == name:
                return o
        return None

    def __str__(self):
        if self.proto == 6:
            o = " ".join(fmt_opt(x) for x in self.opts)
            return "TCP %d>%d %s seq %u ack %u win %u len %d%s%s" % (
                self.sport, self.dport, flags_str(self.flags), self.seq, self.ack, self.win,
                len(self.data), " urp %d" % self.urp if self.flags & URG else "",
                " <%s>" % o if o else "")
        if self.proto == 1:
            return "ICMP %s>%s type %d code %d len %d" % (self.src, self.dst, self.type,
                                                          self.code, len(self.data))
        if self.proto == 17:
            return "UDP %s:%d>%s:%d len %d" % (self.src, self.sport, self.dst, self.dport,
                                               len(self.data))
        return "IP proto %d %s>%s" % (self.proto, self.src, self.dst)


def parse_opts(b):
    out, i = [], 0
    while i < len(b):
        k = b[i]
        if k == 0:
            out.append(("eol",))
            break
        if k == 1:
            out.append(("nop",))
            i += 1
            continue
        if i + 1 >= len(b) or b[i + 1] < 2:
            out.append(("bad",))
            break
        ln, v = b[i + 1], b[i + 2:i + b[i + 1]]
        if k == 2 and ln == 4:
            out.append(("mss", struct.unpack("!H", v)[0]))
        elif k == 3 and ln == 3:
            out.append(("wscale", v[0]))
        elif k == 4 and ln == 2:
            out.append(("sackOK",))
        elif k == 5 and (ln - 2) % 8 == 0:
            out.append(("sack", [struct.unpack("!II", v[j:j + 8]) for j in range(0, len(v), 8)]))
        elif k == 8 and ln == 10:
            out.append(("ts",) + struct.unpack("!II", v))
        else:
            out.append(("opt%d" % k, v))
        i += ln
    return out


def fmt_opt(o):
    if o[0] == "ts":
        return "TS val %u ecr %u" % (o[1], o[2])
    if o[0] == "sack":
        return "sack " + " ".join("%u:%u" % b for b in o[1])
    return " ".join(str(x) for x in o)


def build_opts(opts):
    b = b""
    for o in opts:
        k = o[0]
        if k == "nop":
            b += b"\x01"
        elif k == "eol":
            b += b"\x00"
        elif k == "mss":
            b += struct.pack("!BBH", 2, 4, o[1])
        elif k == "wscale":
            b += struct.pack("!BBB", 3, 3, o[1])
        elif k == "sackOK":
            b += b"\x04\x02"
        elif k == "sack":
            b += struct.pack("!BB", 5, 2 + 8 * len(o[1])) + b"".join(
                struct.pack("!II", l, r) for l, r in o[1])
        elif k == "ts":
            b += struct.pack("!BBII", 8, 10, o[1], o[2])
        elif k == "raw":
            b += o[1]
    while len(b) % 4:
        b += b"\x01" if len(b) % 4 != 3 else b"\x00"
    return b


def ip_packet(proto, payload, src=BENCH_IP, dst=DUT_IP, ttl=64, ident=None, frag=0x4000, ver=4,
              ihl=None, total=None, bad_csum=False, tos=0, options=b""):
    if ident is None:
        ident = random.randrange(65536)
    if ihl is None:
        ihl = 5 + len(options) // 4
    if total is None:
        total = 20 + len(options) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, tos, total, ident, frag, ttl, proto, 0,
                    ip_aton(src), ip_aton(dst)) + options
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def tcp_segment(sport, dport, seq, ack, flags, win, data=b"", opts=(), urp=0, src=BENCH_IP,
                dst=DUT_IP, bad_csum=False):
    ob = build_opts(opts)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    ((20 + len(ob)) // 4) << 4, flags, win, 0, urp) + ob
    pseudo = ip_aton(src) + ip_aton(dst) + struct.pack("!BBH", 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data) ^ (0x5555 if bad_csum else 0)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp_datagram(sport, dport, data, src=BENCH_IP, dst=DUT_IP):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    pseudo = ip_aton(src) + ip_aton(dst) + struct.pack("!BBH", 0, 17, 8 + len(data))
    c = csum(pseudo + h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data


def icmp_message(typ, code, rest, data):
    m = struct.pack("!BB", typ, code) + b"\0\0" + rest + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def eth(payload, dst=DUT_MAC, src=BENCH_MAC, etype=0x0800):
    return dst + src + struct.pack("!H", etype) + payload


def sdiff(a, b):
    """a - b in sequence space, as a signed 32-bit number."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


# ---- the agent -----------------------------------------------------------------------------
class Agent:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def call(self, op, **kw):
        kw["op"] = op
        wait = kw.get("timeout", 2.0) + 8  # the agent's own waits are bounded by "timeout"
        self.p.stdin.write(json.dumps(kw) + "\n")
        self.p.stdin.flush()
        r, _, _ = select.select([self.p.stdout], [], [], wait)
        if not r:
            raise Mismatch("agent: no answer to %s in %d s" % (op, wait))
        line = self.p.stdout.readline()
        if not line:
            raise Mismatch("agent: exited (on %s)" % op)
        return json.loads(line)

    def stop(self):
        try:
            self.p.stdin.close()
            self.p.wait(5)
        except Exception:
            self.p.kill()


# ---- the bench -----------------------------------------------------------------------------
class Bench:
    def __init__(self, io, agent, dut, port_base):
        self.io, self.agent_, self.dut = io, agent, dut
        self.port = port_base
        self.stash = []
        self.deviation = None  # the script's DEVIATION text, for `deviates`
        self.deviates_read = False
        self.log = []
        self.shapes = []  # what each segment the script took looked like (Bench.record)

    # A script that branches on t.deviates checks ustack's own behaviour where it differs.
    @property
    def deviates(self):
        self.deviates_read = True
        return self.dut == "ustack" and self.deviation is not None

    def note(self, msg):
        self.log.append(msg)

    def record(self, p, c):
        """Notes the options (their order, NOPs included) and the window of a segment the
        script took from the DUT, for the comparison with Linux (cmd_table, shape_diffs)."""
        if p.flags & RST:
            return
        if p.flags & SYN:
            kind = "SYN-ACK" if p.flags & ACK else "SYN"
        else:
            kind = "DATA" if p.data or p.flags & FIN else "ACK"
        r = {"kind": kind, "opts": ",".join(o[0] for o in p.opts), "win": p.win}
        if p.flags & SYN:
            ws, mss = p.opt("wscale"), p.opt("mss")
            r["wscale"] = ws[1] if ws else None
            r["mss"] = mss[1] if mss else None
        else:
            r["wnd"] = p.win << c.dut_wscale  # in bytes
        self.shapes.append(r)

    def new_port(self):
        self.port += 1
        return self.port

    def agent(self, op, **kw):
        r = self.agent_.call(op, **kw)
        self.note("agent %s %s -> %s" % (op, kw, r))
        return r

    def agent_ok(self, op, **kw):
        r = self.agent(op, **kw)
        if r.get("err"):
            raise Mismatch("agent %s: %s" % (op, r["err"]))
        return r

    # frames
    def send_frame(self, frame):
        self.io.send(frame)

    def send_ip(self, proto, payload, l2dst=DUT_MAC, **kw):
        p = ip_packet(proto, payload, **kw)
        if (p[0] >> 4) == 4 and (p[0] & 15) >= 5:
            self.note("> " + str(Pkt(eth(p))))
        self.send_frame(eth(p, dst=l2dst))

    def _read(self, timeout):
        """The next IPv4 frame from the DUT within timeout (ARP answered here), or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.io.fd], [], [], left)
            if not r:
                return None
            f = self.io.recv()
            if not f or len(f) < 14:
                continue
            et = struct.unpack("!H", f[12:14])[0]
            if et == 0x0806:
                self._arp(f)
                continue
            if et != 0x0800 or len(f) < 34:
                continue
            p = Pkt(f)
            if p.src != DUT_IP:
                continue
            return p

    def _arp(self, f):
        a = f[14:42]
        op = struct.unpack("!H", a[6:8])[0]
        tpa = a[24:28]
        if op == 1 and tpa[:3] == ip_aton(BENCH_IP)[:3] and tpa not in (
                ip_aton(DUT_IP), ip_aton(BCAST_IP)):  # the bench is every other host there
            rep = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + BENCH_MAC + tpa + a[8:14] + a[14:18]
            self.send_frame(eth(rep, dst=a[8:14], etype=0x0806))

    def announce(self):
        """An ARP request from the bench, so the DUT learns its address before any test."""
        req = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + BENCH_MAC + ip_aton(BENCH_IP) + \
            b"\0" * 6 + ip_aton(DUT_IP)
        self.send_frame(eth(req, dst=b"\xff" * 6, etype=0x0806))
        self._read(0.3)

    def next_pkt(self, match, timeout):
        """The first packet for which match(p) holds; others are stashed."""
        for i, p in enumerate(self.stash):
            if match(p):
                del self.stash[i]
                return p
        deadline = time.monotonic() + timeout
        while True:
            p = self._read(max(0.0, deadline - time.monotonic()))
            if p is None:
                return None
            if match(p):
                self.note("< " + str(p))
                return p
            self.stash.append(p)

    def drain(self, secs=0.05):
        self.stash = []
        while self._read(secs):
            pass

    # ICMP, UDP and plain IP
    def expect_icmp(self, typ=None, code=None, timeout=1.0):
        p = self.next_pkt(lambda p: p.proto == 1 and (typ is None or p.type == typ), timeout)
        if p is None:
            raise Mismatch("expected ICMP type %s, got nothing in %.1f s" % (typ, timeout))
        if code is not None and p.code != code:
            raise Mismatch("expected ICMP code %d, got %s" % (code, p))
        return p

    def expect_no_ip(self, match=lambda p: True, timeout=0.5, what="packet"):
        p = self.next_pkt(match, timeout)
        if p is not None:
            raise Mismatch("expected no %s, got %s" % (what, p))

    def still_answers(self):
        """A positive control after a drop: a plain echo request is still answered."""
        self.echo(b"alive", ident=0x5A5A, seq=99)
        p = self.next_pkt(lambda p: p.proto == 1 and p.type == 0 and
                          p.l4[4:8] == struct.pack("!HH", 0x5A5A, 99), 1.0)
        if p is None:
            raise Mismatch("the DUT no longer answers a plain echo request")

    def echo(self, data=b"conformance", ident=0x4321, seq=1, **ipkw):
        self.send_ip(1, icmp_message(8, 0, struct.pack("!HH", ident, seq), data), **ipkw)

    def udp(self, sport, dport, data, **ipkw):
        self.send_ip(17, udp_datagram(sport, dport, data, src=ipkw.get("src", BENCH_IP),
                                      dst=ipkw.get("dst", DUT_IP)), **ipkw)

    # TCP connections
    def conn(self, dport, sport=None, iss=None, src=BENCH_IP):
        return Conn(self, sport or self.new_port(), dport, iss, src)

    def listen(self, port=None, **kw):
        port = port or self.new_port()
        sock = self.agent_ok("listen", port=port, **kw)["id"]
        return port, sock

    def passive(self, port=None, ts=False, sack=False, wscale=None, mss=1460, win=65535,
                accept=True, listen=True, src=BENCH_IP):
        """listen in the agent, the three-way handshake from the bench, accept: ESTABLISHED.
        src: the bench's address (another one keeps what the DUT learns, say a path MTU,
        away from the other scripts)."""
        if listen:
            port, lsock = self.listen(port)
        c = self.conn(port, src=src)
        if listen:
            c.lsock = lsock
        c.syn_opts(ts=ts, sack=sack, wscale=wscale, mss=mss)
        c.send("S", win=win)
        sa = c.expect("SA", seq=None, ack=1)
        c.learn_synack(sa)
        c.send("A", win=win)
        if accept and listen:
            c.sock = self.agent_ok("accept", id=c.lsock)["id"]
        return c

    def active(self, ts=False, sack=False, wscale=None, mss=1460, win=65535, port=None):
        """connect in the agent; SYN, SYN-ACK from the bench, ACK: ESTABLISHED."""
        port = port or self.new_port()
        r = self.agent_ok("connect", ip=BENCH_IP, port=port)
        syn = self.next_pkt(lambda p: p.proto == 6 and p.dport == port, 2.0)
        if syn is None or syn.flags & (SYN | ACK) != SYN:
            raise Mismatch("expected the DUT's SYN to port %d, got %s" % (port, syn))
        c = Conn(self, port, syn.sport, None)
        c.sock = r["id"]
        c.learn_syn(syn)
        self.record(syn, c)
        c.syn_opts(ts=ts and syn.opt("ts") is not None, sack=sack and syn.opt("sackOK"),
                   wscale=wscale if syn.opt("wscale") else None, mss=mss)
        w = syn.opt("wscale")
        c.dut_wscale = w[1] if w and wscale is not None else 0  # scaling needs both
        c.send("SA", win=win)
        c.ts = c.want_ts
        c.expect("A")
        self.agent_ok("connected", id=c.sock)
        return c


class Conn:
    """One TCP connection as the bench sees it. Sequence numbers in a script are relative: the
    bench's own from its ISN (its SYN is 0, its first byte 1), the DUT's from the DUT's ISN."""

    def __init__(self, t, sport, dport, iss, src=BENCH_IP):
        self.t = t
        self.src = src
        self.sport, self.dport = sport, dport
        self.iss = random.randrange(1 << 32) if iss is None else iss
        self.irs = None
        self.snd_nxt = 0     # relative, the bench's next sequence number
        self.rcv_nxt = 0     # relative, the next sequence number expected from the DUT
        self.opts = []
        self.ts = False
        self.ts_val = random.randrange(1 << 31)
        self.ts_recent = 0
        self.sock = None
        self.lsock = None
        self.dut_wscale = 0

    def syn_opts(self, ts=False, sack=False, wscale=None, mss=1460):
        o = [("mss", mss)]
        if sack:
            o += [("sackOK",)] if ts else [("nop",), ("nop",), ("sackOK",)]
        if ts:
            o += [("ts", 0, 0)]
        if wscale is not None:
            o += [("nop",), ("wscale", wscale)]
        self.syn_opt_list = o
        self.want_ts = ts

    def learn_synack(self, p):
        self.irs = p.seq
        self.rcv_nxt = 1
        self.ts = self.want_ts and p.opt("ts") is not None
        if p.opt("ts"):
            self.ts_recent = p.opt("ts")[1]
        w = p.opt("wscale")
        self.dut_wscale = w[1] if w and any(o[0] == "wscale" for o in self.syn_opt_list) else 0
        self.synack = p

    def learn_syn(self, p):
        self.irs = p.seq
        self.rcv_nxt = 1
        if p.opt("ts"):
            self.ts_recent = p.opt("ts")[1]
        self.syn = p

    def ts_opt(self, val=None, ecr=None):
        if val is None:
            self.ts_val += 1
            val = self.ts_val
        return [("nop",), ("nop",), ("ts", val, self.ts_recent if ecr is None else ecr)]

    def send(self, flags, seq=None, ack=None, win=65535, data=b"", opts=None, urp=0, ts=None,
             tsecr=None, bad_csum=False, ttl=64):
        """Sends one segment. seq and ack default to the bench's next number and to everything
        received; data may be bytes or a length. ts= sets the TS value (TS option automatic
        on a connection that negotiated it)."""
        f = flags_of(flags)
        if isinstance(data, int):
            data = bytes((0x41 + i % 26) for i in range(data))
        if seq is None:
            seq = self.snd_nxt
        if ack is None:
            ack = self.rcv_nxt if f & ACK else 0
        if opts is None:
            if f & SYN:
                opts = self.syn_opt_list
                if self.want_ts and f & ACK:  # our SYN-ACK echoes the DUT's value
                    opts = [("ts", self.ts_val, self.ts_recent) if o[0] == "ts" else o
                            for o in opts]
                elif self.want_ts:
                    opts = [("ts", self.ts_val, 0) if o[0] == "ts" else o for o in opts]
            elif self.ts:
                opts = self.ts_opt(ts, tsecr)
            else:
                opts = []
        if f & SYN and seq == self.snd_nxt:
            self.snd_nxt += 1
        elif sdiff(seq + len(data) + (1 if f & FIN else 0), self.snd_nxt) > 0 and \
                sdiff(seq, self.snd_nxt) <= 0:
            self.snd_nxt = seq + len(data) + (1 if f & FIN else 0)
        a = (self.irs + ack) if self.irs is not None else ack
        seg = tcp_segment(self.sport, self.dport, self.iss + seq, a if f & ACK else 0, f, win,
                          data, opts, urp, src=self.src, bad_csum=bad_csum)
        self.t.send_ip(6, seg, ttl=ttl, src=self.src)

    def mine(self, p):
        return p.proto == 6 and p.sport == self.dport and p.dport == self.sport and \
            p.dst == self.src

    def expect(self, flags, seq="nxt", ack="nxt", win=None, data=None, length=0, timeout=2.0,
               ts=None, tsecr=None, sack=None, urp=None, check=None):
        """The DUT's next segment on this connection must have these flags (FSRAU compared)
        and fields; seq and ack are relative ("nxt": in order; None: any). length=None
        accepts any payload length. sack: the expected SACK blocks, relative, in order."""
        p = self.t.next_pkt(self.mine, timeout)
        if p is None:
            raise Mismatch("expected [%s], got nothing in %.1f s" % (flags, timeout))
        want = flags_of(flags)
        cmp = COMPARED | (want & (PSH | ECE | CWR))
        rel_seq = sdiff(p.seq, self.irs) if self.irs is not None else None
        rel_ack = sdiff(p.ack, self.iss) if p.flags & ACK else None

        def bad(what):
            raise Mismatch("expected [%s] %s; got %s (rel seq %s ack %s)" % (
                flags, what, p, rel_seq, rel_ack))
        if p.flags & cmp != want & cmp:
            bad("flags")
        if seq == "nxt":
            seq = self.rcv_nxt
        if seq is not None and rel_seq != seq:
            bad("seq %d" % seq)
        if ack == "nxt":
            ack = self.snd_nxt if want & ACK else None
        if ack is not None and rel_ack != ack:
            bad("ack %d" % ack)
        if data is not None:
            if isinstance(data, str):
                data = data.encode()
            if p.data != data:
                bad("data %r" % data[:40])
        elif length is not None and len(p.data) != length:
            bad("length %d" % length)
        if win is not None and not (win(p.win) if callable(win) else p.win == win):
            bad("win %s" % win)
        o = p.opt("ts")
        if (ts if ts is not None else self.ts and not p.flags & RST) and o is None:
            bad("a TS option")
        if ts is False and o is not None:
            bad("no TS option")
        if o is not None and tsecr is not None and o[2] != tsecr:
            bad("TS ecr %d" % tsecr)
        if o is not None and not p.flags & RST:
            self.ts_recent = o[1]
        if sack is not None:
            s = p.opt("sack")
            got = [(sdiff(l, self.iss), sdiff(r, self.iss)) for l, r in s[1]] if s else []
            if got != sack:
                bad("SACK %s (got %s)" % (sack, got))
        if urp is not None and p.urp != urp:
            bad("urgent pointer %d" % urp)
        if check is not None and not check(p):
            bad("check %s" % getattr(check, "__doc__", "") or "")
        if rel_seq is not None:
            end = rel_seq + len(p.data) + (1 if p.flags & (SYN | FIN) else 0)
            if sdiff(end, self.rcv_nxt) > 0 and rel_seq <= self.rcv_nxt:
                self.rcv_nxt = end
        self.t.record(p, self)
        return p

    def expect_none(self, timeout=0.5, ignore=None):
        """No segment on this connection for timeout seconds (but those ignore(p) accepts)."""
        deadline = time.monotonic() + timeout
        while True:
            p = self.t.next_pkt(self.mine, max(0.0, deadline - time.monotonic()))
            if p is None:
                return
            if ignore is None or not ignore(p):
                raise Mismatch("expected no segment, got %s" % p)

    @staticmethod
    def syn_rexmit(p):
        """A retransmitted SYN (Linux resends its SYN at once after an unacceptable ACK)."""
        return p.flags & (SYN | ACK | RST | FIN) == SYN

    def collect(self, idle=0.6, limit=10.0):
        """Reads the DUT's data (ACKing it) until it goes idle; returns (bytes, fin seen)."""
        out, fin = b"", False
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            p = self.t.next_pkt(self.mine, idle)
            if p is None:
                break
            if p.flags & RST:
                raise Mismatch("RST while reading: %s" % p)
            self.t.record(p, self)
            rel = sdiff(p.seq, self.irs)
            if rel == self.rcv_nxt:
                out += p.data
                self.rcv_nxt += len(p.data) + (1 if p.flags & FIN else 0)
                fin = fin or bool(p.flags & FIN)
            if p.data or p.flags & FIN:
                self.send("A")
            if fin:
                break
        return out, fin

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        r = self.t.agent_ok("send", id=self.sock, hex=data.hex())
        return r["n"]

    def read(self, n=65536, timeout=2.0):
        r = self.t.agent("recv", id=self.sock, n=n, timeout=timeout)
        if r.get("err"):
            return r["err"]
        return bytes.fromhex(r["hex"])


# ---- running scripts -----------------------------------------------------------------------
def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def scripts(names):
    files = sorted(glob.glob(os.path.join(HERE, "scripts", "*.py")))
    if names:
        files = [f for f in files if os.path.basename(f)[:-3] in names]
    return files


def cmd_run(a):
    io = TapIO(a.ifname) if a.io == "tap" else PacketIO(a.ifname)
    agent = Agent(a.agent)
    results = {}
    base = 20000
    t0 = Bench(io, agent, a.dut, base)
    t0.announce()
    for i, f in enumerate(scripts(a.names)):
        name = os.path.basename(f)[:-3]
        m = load(f)
        t = Bench(io, agent, a.dut, base + 100 * (i + 1))
        t.deviation = getattr(m, "DEVIATION", None)
        t.drain()
        start = time.monotonic()
        try:
            m.run(t)
            res = {"ok": True}
        except Mismatch as e:
            res = {"ok": False, "why": str(e)}
        except AssertionError as e:  # a script's own check
            where = traceback.extract_tb(e.__traceback__)[-1]
            res = {"ok": False, "why": "line %d: %s" % (where.lineno, e or where.line)}
        except Exception as e:
            res = {"ok": False, "why": "bench error: %s" % traceback.format_exc(limit=3)}
        try:
            agent.call("closeall")
        except Mismatch as e:
            res = {"ok": False, "why": "agent: %s" % e}
            agent.stop()
            agent = Agent(a.agent)
        res["branches"] = t.deviates_read
        res["shapes"] = t.shapes
        res["secs"] = round(time.monotonic() - start, 2)
        res["log"] = t.log[-25:] if not res["ok"] else t.log[:3] + t.log[-3:]
        results[name] = res
        print("%-4s %s %s (%.1fs)%s" % ("ok" if res["ok"] else "FAIL", a.dut, name, res["secs"],
                                        "" if res["ok"] else ": " + res["why"]), flush=True)
    agent.stop()
    with open(a.out, "w") as fh:
        json.dump(results, fh, indent=1)


# ---- options and windows -----------------------------------------------------------------
# Every segment a script takes from the DUT is recorded (Bench.record) and compared with the
# one Linux sent at the same place (the k-th SYN, SYN-ACK, pure ACK or data segment of the
# script): the options in order, NOPs included; on a SYN or SYN-ACK the window field, the
# window scale and the MSS; on other segments the window in bytes, and whether it is zero.
# A difference fails the run unless it is declared here, or for one script in its
# SHAPE_DEVIATION dict (same keys), with the reason (doc/conformance.md, "Options and windows").
SHAPE_DIFFS = {
    ("SYN", "wscale"): "each scales for its own largest receive buffer: ustack's tcp_rcvbuf_max "
                       "(4 MiB: 7), Linux's tcp_rmem[2] (32 MiB on this host: 10; 6 MiB: 7)",
    ("SYN-ACK", "wscale"): "each scales for its own largest receive buffer: ustack's "
                           "tcp_rcvbuf_max (4 MiB: 7), Linux's tcp_rmem[2] (32 MiB here: 10)",
    ("ACK", "wnd"): "an open window's size: ustack opens it to the whole free buffer once it "
                    "can grow by an MSS (RFC 1122 4.2.3.3), Linux step by step with the data "
                    "received (rcv_ssthresh) and less the out-of-order data it holds; whether "
                    "it is zero is compared",
    ("DATA", "wnd"): "an open window's size, as for ACK; whether it is zero is compared",
}
SHAPE_FIELDS = {"SYN": ("opts", "win", "wscale", "mss"), "SYN-ACK": ("opts", "win", "wscale", "mss"),
                "ACK": ("opts", "zero", "wnd"), "DATA": ("opts", "zero", "wnd")}


def shape_diffs(lin, ust):
    """The differences between Linux's and ustack's recorded segments of one script: a list of
    (kind, field, linux value, ustack value), one per difference (k-th of a kind against k-th)."""
    by = ({}, {})
    for side, shapes in enumerate((lin, ust)):
        for r in shapes:
            r = dict(r)
            if "wnd" in r:
                r["zero"] = r["wnd"] == 0
            by[side].setdefault(r["kind"], []).append(r)
    out = []
    for kind, fields in SHAPE_FIELDS.items():
        for a, b in zip(by[0].get(kind, []), by[1].get(kind, [])):
            for f in fields:
                if a.get(f) != b.get(f):
                    out.append((kind, f, a.get(f), b.get(f)))
    return out


def shape_report(diffs, declared):
    """(text, undeclared): the differences grouped by kind and field, Linux's value / ustack's."""
    groups, undeclared = {}, []
    for kind, f, lv, uv in diffs:
        g = groups.setdefault((kind, f), [])
        g.append((lv, uv))
        if (kind, f) not in declared and (kind, f) not in undeclared:
            undeclared.append((kind, f))
    parts = []
    for (kind, f), vals in groups.items():
        lv, uv = vals[0]
        parts.append("%s %s %s/%s%s%s" % (kind, f, lv, uv, " (x%d)" % len(vals) if len(vals) > 1
                                          else "", "" if (kind, f) in declared else " UNDECLARED"))
    return "; ".join(parts), undeclared


def cmd_table(a):
    lin = json.load(open(a.linux))
    ust = json.load(open(a.ustack))
    counts = {}
    bad = 0
    rows = []
    shape_counts, shape_scripts = {}, 0
    for f in scripts(None):
        name = os.path.basename(f)[:-3]
        if a.only_run and name not in lin and name not in ust:
            continue
        m = load(f)
        dev, fault = getattr(m, "DEVIATION", None), getattr(m, "FAULT", None)
        lr, ur = lin.get(name), ust.get(name)
        if lr is None or ur is None:
            verdict, why = "FAIL", "not run on %s" % ("linux" if lr is None else "ustack")
        elif not lr["ok"]:
            verdict, why = "FAIL", "linux: " + lr["why"]
        elif ur["ok"] and not (dev or fault):
            verdict, why = "PASS", ""
        elif ur["ok"] and dev and ur.get("branches"):
            verdict, why = "DEVIATION", dev
        elif ur["ok"]:
            verdict, why = "FAIL", "passes on ustack: remove its %s line" % (
                "DEVIATION" if dev else "FAULT")
        elif fault:
            verdict, why = "FAULT", fault + " [ustack: " + ur["why"] + "]"
        elif dev and not ur.get("branches"):
            verdict, why = "DEVIATION", dev + " [ustack: " + ur["why"] + "]"
        else:
            verdict, why = "FAIL", "ustack: " + ur["why"]
        shape = ""
        if lr and ur and lr["ok"] and (ur["ok"] or not (dev or fault)):
            declared = {**SHAPE_DIFFS, **getattr(m, "SHAPE_DEVIATION", {})}
            diffs = shape_diffs(lr.get("shapes", []), ur.get("shapes", []))
            shape, undeclared = shape_report(diffs, declared)
            if diffs:
                shape_scripts += 1
                for kind, f, _, _ in diffs:
                    shape_counts[(kind, f)] = shape_counts.get((kind, f), 0) + 1
            if undeclared and verdict != "FAIL":
                verdict, why = "FAIL", "options or window differ from Linux: " + ", ".join(
                    "%s %s" % u for u in undeclared)
        counts[verdict] = counts.get(verdict, 0) + 1
        rows.append((verdict, name, why, shape))
        if verdict == "FAIL":
            bad += 1
    for verdict, name, why, shape in rows:
        print("%-9s %s%s" % (verdict, name, ("  " + why.splitlines()[0][:200]) if why else ""))
        if shape:  # Linux's value / ustack's
            print("          ~ " + shape)
        if verdict == "FAIL":
            for r in (lin.get(name), ust.get(name)):
                if r and not r["ok"]:
                    for l in r.get("log", []):
                        print("    | " + l)
    print("conformance: options and windows (Linux/ustack after ~): %d scripts differ: %s" % (
        shape_scripts, ", ".join("%s %s %d" % (k[0], k[1], n) for k, n in sorted(
            shape_counts.items())) or "none"))
    print("conformance: %d scripts: %s" % (len(rows), ", ".join(
        "%d %s" % (n, v) for v, n in sorted(counts.items()))))
    if not a.only_run and len(rows) < 60:
        print("conformance: only %d scripts; the harness is meant to hold at least 60" % len(rows))
        return 1
    return 1 if bad or not rows else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--dut", required=True, choices=("linux", "ustack"))
    r.add_argument("--io", required=True, choices=("tap", "packet"))
    r.add_argument("--ifname", required=True)
    r.add_argument("--agent", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("names", nargs="*")
    tb = sub.add_parser("table")
    tb.add_argument("linux")
    tb.add_argument("ustack")
    tb.add_argument("--only-run", action="store_true", help="list only the scripts that ran")
    a = ap.parse_args()
    if a.cmd == "run":
        cmd_run(a)
        return 0
    return cmd_table(a)


if __name__ == "__main__":
    sys.exit(main())
