#!/usr/bin/env python3
"""Traffic checks for scripts/soak.sh that no Debian tool does with a byte-exact verdict.
    soak_tool.py tcp-echo HOST PORT BYTES CONNS
        CONNS connections one after another to an echo service; each sends BYTES random bytes
        (while reading), half-closes, reads to EOF and compares with what it sent.
    soak_tool.py udp-echo HOST PORT COUNT
        COUNT datagrams (random sizes, some over the MTU so IP fragments them), each carrying its
        sequence number and a hash of its payload, to a UDP echo service; counts the replies that
        come back intact, lost, duplicated (the link duplicates frames) or damaged (a failure:
        the checksums must catch every damaged frame).
Prints one line "ok BYTES" or "lost N of M" (udp) with exit 0, or "FAIL reason" with exit 1."""
import hashlib
import os
import random
import select
import socket
import struct
import sys
import time


def tcp_echo(host, port, nbytes, conns):
    total = 0
    for i in range(conns):
        data = os.urandom(nbytes)
        s = socket.create_connection((host, port), timeout=60)
        s.setblocking(False)
        sent, got = 0, bytearray()
        deadline = time.monotonic() + 120
        wr_done = False
        while True:
            if time.monotonic() > deadline:
                return "FAIL connection %d: timed out after %d of %d bytes back" % (i, len(got), nbytes)
            r, w, _ = select.select([s], [] if wr_done else [s], [], 1.0)
            if w:
                try:
                    sent += s.send(data[sent:sent + 65536])
                except BlockingIOError:
                    pass
                if sent == nbytes:
                    s.shutdown(socket.SHUT_WR)
                    wr_done = True
            if r:
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    return "FAIL connection %d: reset after %d of %d bytes back" % (i, len(got), nbytes)
                if not b:
                    break
                got += b
        s.close()
        if bytes(got) != data:
            return "FAIL connection %d: echoed %d bytes, sent %d, contents %s" % (
                i, len(got), nbytes, "differ" if len(got) == nbytes else "short")
        total += nbytes
    return "ok %d" % total


def udp_echo(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.setblocking(False)
    rng = random.Random()
    sent = {}
    back, damaged, dups = 0, 0, 0
    seen = set()
    nbytes = 0

    def take():
        nonlocal back, damaged, dups, nbytes
        while True:
            try:
                b = s.recv(70000)
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                continue
            if len(b) < 36:
                damaged += 1
                continue
            seq, = struct.unpack("!I", b[:4])
            if hashlib.sha256(b[36:]).digest() != b[4:36]:
                damaged += 1
                continue
            if seq in seen:  # the link duplicates frames
                dups += 1
                continue
            if sent.get(seq) != len(b):
                damaged += 1
                continue
            del sent[seq]
            seen.add(seq)
            back += 1
            nbytes += len(b)

    for seq in range(count):
        size = rng.choice([rng.randint(1, 1400), rng.randint(1, 1400), rng.randint(1500, 8000)])
        payload = os.urandom(size)
        d = struct.pack("!I", seq) + hashlib.sha256(payload).digest() + payload
        sent[seq] = len(d)
        try:
            s.send(d)
        except (BlockingIOError, ConnectionRefusedError):
            pass
        if seq % 20 == 19:
            time.sleep(0.01)
        take()
    end = time.monotonic() + 3
    while sent and time.monotonic() < end:
        select.select([s], [], [], 0.2)
        take()
    if damaged:
        return "FAIL %d of %d echoed datagrams damaged or unknown (%d back intact)" % (damaged, count, back)
    return "ok %d lost %d of %d dup %d" % (nbytes, len(sent), count, dups)


def main():
    cmd = sys.argv[1]
    if cmd == "tcp-echo":
        res = tcp_echo(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "udp-echo":
        res = udp_echo(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        res = "FAIL unknown command %s" % cmd
    print(res)
    return 1 if res.startswith("FAIL") else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        print("FAIL %s" % e)
        sys.exit(1)
