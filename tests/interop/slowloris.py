#!/usr/bin/env python3
"""Slow-client generator for http_slow.sh: keeps N connections open to HOST:80, each sending one
byte of a request head that never ends every INTERVAL seconds (a "slowloris"); a connection the
server closes is opened again. Runs until the file STOP exists, then writes a JSON summary to
OUT: how many were opened, how each the server closed ended (a FIN after a 408, a FIN alone, an
RST), the shortest and longest time from connect to that close, and how many were still open,
and for how long, when it stopped.

usage: slowloris.py HOST N INTERVAL STOP OUT
"""
import errno
import json
import os
import selectors
import socket
import sys
import time

host, n, interval, stop, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
HEAD = b"GET /never HTTP/1.1\r\nHost: ustack\r\nX-Slow: " + b"s" * 100000

sel = selectors.DefaultSelector()
conns = {}  # fd -> state
st = {"opened": 0, "connect_failed": 0, "fin_408": 0, "fin_other": 0, "rst": 0,
      "min_life": None, "max_life": 0.0, "bytes_sent": 0}


def open_one(now):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    e = s.connect_ex((host, 80))
    if e not in (0, errno.EINPROGRESS):
        s.close()
        st["connect_failed"] += 1
        return
    st["opened"] += 1
    c = {"s": s, "t0": now, "pos": 0, "next": now, "got": b"", "up": False}
    conns[s.fileno()] = c
    sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, c)


def ended(c, how, now):
    life = now - c["t0"]
    if how == "fin":
        how = "fin_408" if c["got"].startswith(b"HTTP/1.1 408 ") else "fin_other"
    st[how] += 1
    st["min_life"] = life if st["min_life"] is None else min(st["min_life"], life)
    st["max_life"] = max(st["max_life"], life)
    sel.unregister(c["s"])
    del conns[c["s"].fileno()]
    c["s"].close()


now = time.monotonic()
for _ in range(n):
    open_one(now)
while not os.path.exists(stop):
    now = time.monotonic()
    for key, ev in sel.select(timeout=0.05):
        c = key.data
        if ev & selectors.EVENT_WRITE and not c["up"]:
            err = c["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                st["connect_failed"] += 1
                sel.unregister(c["s"])
                del conns[c["s"].fileno()]
                c["s"].close()
                continue
            c["up"] = True
            sel.modify(c["s"], selectors.EVENT_READ, c)
        if ev & selectors.EVENT_READ:
            try:
                b = c["s"].recv(4096)
            except ConnectionResetError:
                ended(c, "rst", now)
                continue
            except BlockingIOError:
                continue
            if not b:
                ended(c, "fin", now)
                continue
            c["got"] += b
    for c in list(conns.values()):
        if c["up"] and c["next"] <= now and c["pos"] < len(HEAD):
            try:
                c["s"].send(HEAD[c["pos"]:c["pos"] + 1])
                c["pos"] += 1
                st["bytes_sent"] += 1
            except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                pass
            c["next"] = now + interval
    for _ in range(n - len(conns)):
        open_one(now)

now = time.monotonic()
ages = [now - c["t0"] for c in conns.values()]
st["open_at_stop"] = len(ages)
st["oldest_at_stop"] = max(ages) if ages else 0.0
json.dump(st, open(out, "w"))
