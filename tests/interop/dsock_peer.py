#!/usr/bin/env python3
"""The kernel-side peer of dsock.c (run_dsock.sh), on ADDR:
  7001 TCP and UDP echo; 7002 TCP: accepts, reads one byte, resets (SO_LINGER 0);
  7003 TCP sink: reads to EOF, answers "COUNT CRC32\\n", closes;
  7004 TCP sender: reads "N\\n", sends N bytes (i % 251), waits for EOF;
  7005 TCP connect-back: reads "PORT\\n", connects to the client's address on PORT, sends
       "hello\\n", then echoes until EOF;
  7006 TCP: sends 1000 bytes, then reads until the client's FIN ("eof") or RST ("reset");
  7007 TCP: reads "PORT\\n", answers how the 7006 or 7010 connection from that client port
       ended ("eof", "reset", "N" bytes, or "open" while it has not);
  7008 TCP slow sink: as 7003, but with a small receive buffer and reading 4 KiB every 5 ms, so
       the client's data waits in its stack when the client shuts down;
  7010 TCP, receive buffer 4 KiB: reads "MS\\n", waits MS milliseconds without reading, then
       reads to EOF and records the bytes it read; MS -1: never reads, closes after 6 s.
Prints "ready" when all listen."""
import socket
import struct
import sys
import threading
import time
import zlib

ADDR = sys.argv[1]


def listener(port, rcvbuf=0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((ADDR, port))
    s.listen(64)
    return s


def serve(port, fn, rcvbuf=0):
    s = listener(port, rcvbuf)

    def loop():
        while True:
            c, a = s.accept()
            threading.Thread(target=guard, args=(fn, c, a), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def guard(fn, c, a):
    try:
        fn(c, a)
    except OSError as e:
        print("port %d: %s from %s" % (c.getsockname()[1], e, a), flush=True)
    finally:
        c.close()


def echo(c, a):
    while True:
        d = c.recv(65536)
        if not d:
            return
        c.sendall(d)


def reset(c, a):
    c.recv(1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def sink(c, a, chunk=65536, pause=0.0):
    n, crc = 0, 0
    while True:
        d = c.recv(chunk)
        if not d:
            break
        n += len(d)
        crc = zlib.crc32(d, crc)
        if pause:
            time.sleep(pause)
    c.sendall(b"%d %08x\n" % (n, crc))


def slow_sink(c, a):
    sink(c, a, 4096, 0.005)


def readline(c):
    line = b""
    while not line.endswith(b"\n"):
        d = c.recv(1)
        if not d:
            break
        line += d
    return line


def sender(c, a):
    n = int(readline(c))
    c.sendall(bytes(i % 251 for i in range(n)))
    while c.recv(65536):
        pass


def connect_back(c, a):
    port = int(readline(c))
    b = socket.create_connection((a[0], port), timeout=10)
    b.settimeout(None)
    try:
        b.sendall(b"hello\n")
        echo(b, a)
    finally:
        b.close()


ENDS = {}


def ending(c, a):
    ENDS[a[1]] = "open"
    c.sendall(bytes(1000))
    why = "eof"
    try:
        while c.recv(65536):
            pass
    except ConnectionResetError:
        why = "reset"
    ENDS[a[1]] = why


def slow(c, a):
    ENDS[a[1]] = "open"
    ms = int(readline(c))
    if ms < 0:
        time.sleep(6)
        ENDS[a[1]] = "unread"
        return
    time.sleep(ms / 1000)
    n = sum(len(d) for d in iter(lambda: c.recv(65536), b""))
    ENDS[a[1]] = "%d" % n


def ended(c, a):
    port = int(readline(c))
    c.sendall(b"%s\n" % ENDS.get(port, "unknown").encode())


def udp_echo():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((ADDR, 7001))
    while True:
        d, a = u.recvfrom(65535)
        u.sendto(d, a)


serve(7001, echo)
serve(7002, reset)
serve(7003, sink)
serve(7004, sender)
serve(7005, connect_back)
serve(7006, ending)
serve(7007, ended)
serve(7008, slow_sink, rcvbuf=8192)
serve(7010, slow, rcvbuf=4096)
threading.Thread(target=udp_echo, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
