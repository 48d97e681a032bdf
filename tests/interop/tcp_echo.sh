#!/usr/bin/env bash
# TCP round trips both ways. Kernel -> ustack's echo service (port 7) through socat and nc, sizes
# 1 byte .. 4 MB, sha256 of what comes back; ustack -> kernel echo servers (socat EXEC:cat and a
# python3 server) through `ustack connect`; discard (port 9: the bytes vanish, both sides close
# cleanly with FINs, no RST); chargen (port 19: the kernel reads N bytes of the RFC 864 pattern,
# then closes; ustack drops the connection).
. "$(dirname "$0")/lib.sh" "$@"
us_start --serve echo,discard,chargen

# ---- kernel -> ustack echo ----
for size in 1 1000 1448 65536 1000000 4194304; do
    head -c "$size" /dev/urandom >"$TMP/req"
    nsx timeout -k 5 60 socat -b 65536 -t 30 - "TCP:$US_IP:7" <"$TMP/req" >"$TMP/rep" 2>"$TMP/socat.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "socat -> echo, $size bytes: exit status $rc: $(cat "$TMP/socat.err")"
    assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep")" "socat -> ustack echo, $size bytes (got $(fsize "$TMP/rep"))"
done
for size in 1 100000 2000000; do
    head -c "$size" /dev/urandom >"$TMP/req"
    nsx timeout -k 5 60 nc -N "$US_IP" 7 <"$TMP/req" >"$TMP/rep" 2>"$TMP/nc.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "nc -> echo, $size bytes: exit status $rc: $(cat "$TMP/nc.err")"
    assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep")" "nc -> ustack echo, $size bytes (got $(fsize "$TMP/rep"))"
done
out=$(echo hi | nsx timeout 10 nc -q1 "$US_IP" 7)
assert_eq hi "$out" "echo hi | nc -q1 $US_IP 7"

# ---- ustack -> kernel echo servers ----
# -t 30: after the client's FIN socat waits that long for cat's last output (the default 0.5 s
# cut a 1 MB echo short on a loaded machine)
bg "$TMP/socatecho.log" socat -t 30 "TCP-LISTEN:6001,bind=$HOST_IP,reuseaddr,fork" EXEC:cat
bg_echo_server "$TMP/pyecho.log" 6002
wait_tcp_port 6001
wait_tcp_port 6002
for port in 6001 6002; do
    for size in 1 1448 100000 1000000; do
        head -c "$size" /dev/urandom >"$TMP/req"
        timeout -k 5 60 "$USTACK" connect "$HOST_IP" "$port" <"$TMP/req" >"$TMP/rep" 2>"$TMP/connect.err"
        rc=$?
        [ "$rc" -eq 0 ] || fail "ustack connect -> kernel:$port, $size bytes: exit status $rc: $(cat "$TMP/connect.err")"
        assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep")" \
            "ustack connect -> kernel:$port echo, $size bytes (got $(fsize "$TMP/rep"))"
    done
done
assert_contains "$(cat "$TMP/pyecho.log")" "^from $US_IP:[0-9]+ 1000000 bytes$" "python server saw ustack's 1000000 bytes"

# ---- discard: the bytes vanish, both sides close with FINs (no RST) ----
before=$(stats)
head -c 2000000 /dev/urandom >"$TMP/req"
nsx timeout -k 5 60 socat -b 65536 -t 30 - "TCP:$US_IP:9" <"$TMP/req" >"$TMP/rep" 2>"$TMP/socat.err"
rc=$?
assert_eq 0 "$rc" "socat -> discard exit status ($(cat "$TMP/socat.err"))"
assert_eq 0 "$(fsize "$TMP/rep")" "bytes that came back from discard"
after=$(stats)
assert_counter_delta TCP_RST_OUT 0 "$before" "$after"
assert_counter_delta TCP_RST_IN 0 "$before" "$after"
# The kernel closed first, so its side of the discard connection is in TIME-WAIT now.
assert_contains "$(nsx ss -Htan state time-wait "dport = :9")" "$US_IP:9" "kernel TIME-WAIT after discard"
wait_for 5 bash -c "! '$USTACK' netstat -an | grep -q '$US_IP:9 .*ESTAB'" ||
    fail "ustack still has an established discard connection: $(us netstat -an)"

# ---- chargen: read N bytes of the RFC 864 pattern, then close ----
python3 -c '
import sys
n = int(sys.argv[1]); out = bytearray(); i = 0
while len(out) < n:
    out += bytes(32 + (i + j) % 95 for j in range(72)) + b"\r\n"; i += 1
sys.stdout.buffer.write(out[:n])
' 300000 >"$TMP/chargen.want"
before=$(stats)
nsx timeout -k 5 30 python3 -c '
import socket, sys
n = int(sys.argv[1])
s = socket.create_connection(("'"$US_IP"'", 19), timeout=20)
buf = bytearray()
while len(buf) < n:
    d = s.recv(min(65536, n - len(buf)))
    if not d:
        break
    buf += d
s.close()
sys.stdout.buffer.write(buf)
' 300000 >"$TMP/chargen.got" 2>"$TMP/chargen.err"
rc=$?
assert_eq 0 "$rc" "chargen reader exit status ($(cat "$TMP/chargen.err"))"
assert_eq "$(sha "$TMP/chargen.want")" "$(sha "$TMP/chargen.got")" \
    "first 300000 chargen bytes follow the RFC 864 pattern (got $(fsize "$TMP/chargen.got"))"
# The kernel closed with unread data: an RST. ustack must drop the connection.
wait_for 5 bash -c "! '$USTACK' netstat -an | grep -q '$US_IP:19 '" ||
    fail "ustack still lists the chargen connection 5 s after the kernel closed: $(us netstat -an)"
after=$(stats)
assert_gt "$(counter TCP_RST_IN "$before")" "$(counter TCP_RST_IN "$after")" "TCP_RST_IN after the chargen reader closed"
# nc reads a bit of chargen too (socat -u, head closes the pipe).
out=$(nsx timeout 10 socat -u "TCP:$US_IP:19" - 2>/dev/null | head -c 74)
assert_eq "$(head -c 74 "$TMP/chargen.want")" "$out" "first chargen line via socat"
finish
