#!/usr/bin/env bash
# readv/writev (and plain read/write) on a connected UDP socket under `ustack run`: each writev
# is one datagram whose pieces arrive joined, and readv scatters one datagram, as on Linux (the
# library adds and strips its header on the socket pair). The kernel echoes with socat. The same
# program first runs on the kernel in the test namespace.
. "$(dirname "$0")/lib.sh" "$@"
us_start
bg "$TMP/echo.log" socat UDP4-RECVFROM:7301,fork,reuseaddr EXEC:cat
sleep 0.5
PROG='
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((sys.argv[1], 7301))
n = os.writev(s.fileno(), [b"hello ", b"over ", b"writev"])
a, b = bytearray(8), bytearray(64)
import select
select.select([s], [], [], 5)
m = os.readv(s.fileno(), [a, b])
got = bytes(a) + bytes(b)[: max(0, m - 8)]
os.write(s.fileno(), b"plain write")
select.select([s], [], [], 5)
r = os.read(s.fileno(), 100)
print(n, m, got.decode(), r.decode())
'
want="17 17 hello over writev plain write"
out=$(nsx timeout 20 python3 -c "$PROG" "$HOST_IP" 2>&1)
assert_eq "$want" "$out" "kernel: writev/readv/write/read on UDP"
make_appns
require_us_run
out=$(us_run_t 20 python3 -c "$PROG" "$HOST_IP" 2>&1)
assert_eq "$want" "$out" "ustack run: writev/readv/write/read on UDP"
finish
