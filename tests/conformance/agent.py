#!/usr/bin/env python3
"""The socket side of a conformance script (doc/conformance.md). It reads one JSON command a
line on stdin and answers one JSON line on stdout. The same program runs on Linux (in the DUT's
namespace) and under `ustack run` (in a namespace with only `lo`), so both DUTs are driven by the
same calls. Every call is non-blocking or bounded by a timeout: the bench never waits on it."""
import errno
import json
import select
import socket
import struct
import sys

socks = {}
next_id = 1


def add(s):
    global next_id
    socks[next_id] = s
    next_id += 1
    return next_id - 1


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)


def do(cmd):
    op = cmd["op"]
    s = socks.get(cmd.get("id"))
    if op == "listen":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for lvl, opt, val in cmd.get("opts", []):
            s.setsockopt(lvl, opt, val)
        s.bind((cmd.get("ip", "0.0.0.0"), cmd["port"]))
        s.listen(cmd.get("backlog", 8))
        s.setblocking(False)
        return {"id": add(s)}
    if op == "accept":
        r, _, _ = select.select([s], [], [], cmd.get("timeout", 2.0))
        if not r:
            return {"err": "ETIMEDOUT"}
        c, peer = s.accept()
        c.setblocking(False)
        return {"id": add(c), "peer": list(peer)}
    if op == "connect":
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        for lvl, opt, val in cmd.get("opts", []):
            c.setsockopt(lvl, opt, val)
        if "bind" in cmd:
            c.bind(("0.0.0.0", cmd["bind"]))
        c.setblocking(False)
        rc = c.connect_ex((cmd["ip"], cmd["port"]))
        return {"id": add(c), "rc": errno.errorcode.get(rc, rc)}
    if op == "connected":  # waits for the outcome of a connect: "" or the error's name
        _, w, _ = select.select([], [s], [], cmd.get("timeout", 2.0))
        if not w:
            return {"err": "ETIMEDOUT"}
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return {"err": errno.errorcode.get(e, str(e)) if e else ""}
    if op == "send":
        data = bytes.fromhex(cmd["hex"])
        flags = socket.MSG_OOB if cmd.get("oob") else 0
        try:
            return {"n": s.send(data, flags)}
        except OSError as e:
            return {"err": err_name(e)}
    if op == "recv":
        r, _, _ = select.select([s], [], [], cmd.get("timeout", 2.0))
        if not r:
            return {"err": "ETIMEDOUT"}
        try:
            return {"hex": s.recv(cmd.get("n", 65536)).hex()}
        except OSError as e:
            return {"err": err_name(e)}
    if op == "shutdown":
        s.shutdown(cmd.get("how", socket.SHUT_WR))
        return {}
    if op == "linger":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, cmd["secs"]))
        return {}
    if op == "setsockopt":
        s.setsockopt(cmd["level"], cmd["opt"], cmd["val"])
        return {}
    if op == "error":
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return {"err": errno.errorcode.get(e, str(e)) if e else ""}
    if op == "close":
        socks.pop(cmd["id"]).close()
        return {}
    if op == "closeall":
        for k in list(socks):
            socks.pop(k).close()
        return {}
    if op == "udp":  # a UDP socket bound to a port (to show a port that is open)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", cmd["port"]))
        return {"id": add(u)}
    return {"err": "unknown op " + op}


for line in sys.stdin:
    try:
        out = do(json.loads(line))
    except OSError as e:
        out = {"err": err_name(e)}
    except Exception as e:  # a script error: reported, the agent goes on
        out = {"err": "agent: %r" % e}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
