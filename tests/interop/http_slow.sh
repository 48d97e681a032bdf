#!/usr/bin/env bash
# ustack's HTTP server keeps serving under slow clients, and its limits answer clearly.
#  1. A slow-client generator (slowloris.py: 1000 connections, each sending one byte of a
#     never-ending request head a second, each closed one opened again) runs while ApacheBench
#     (`ab -n 2000 -c 20`, HTTP/1.0) and then wrk (`-c 50 -d 5s`, keep-alive; wrk_check.lua
#     checks every status is 200 and every body the file) fetch a file from the same server:
#     no failed request, no non-2xx, no socket error for them. The head deadline (2 s here)
#     closes the slow ones: each gets "408 Request Timeout" and a FIN (no RST), between 2 s and
#     5 s after its connect, and none is open longer than that when the generator stops;
#     netstat -s counts the 408s (HTTP_HEAD_TIMEOUTS).
#  2. The idle timeout (3 s here) closes a kept-alive connection after its response with a FIN:
#     the client reads end of stream, not a reset, 3 s (within a second or so) later.
#  3. With --http-max-conns 20 and 20 connections open, 5 more each get "503 Service
#     Unavailable" with Connection: close and a FIN; the 20 are still served; HTTP_REJECT_CONNS
#     counts 5.
. "$(dirname "$0")/lib.sh" "$@"
SLOW_N=${INTEROP_SLOW_N:-1000}
ulimit -n 8192 || die "cannot raise the descriptor limit for $SLOW_N slow clients"
WWW=$TMP/www
mkdir -p "$WWW"
head -c 4096 /dev/urandom >"$WWW/page.bin"
us_start --serve http="$WWW" --http-head-timeout 2 --http-idle-timeout 3

# 1. slow clients beside ab and wrk
bg "$TMP/slow.log" python3 "$ROOT/tests/interop/slowloris.py" "$US_IP" "$SLOW_N" 1 \
    "$TMP/slow.stop" "$TMP/slow.json"
SLOW_PID=$BG_LAST
sleep 3 # all connected, the first wave closed by the head deadline, the next one open
st=$(stats)
log "slow clients: $(counter HTTP_CONNS "$st") HTTP connections open in ustack, $(counter HTTP_MEMORY "$st") bytes"
nsx timeout 60 ab -n 2000 -c 20 -s 10 -r "http://$US_IP/page.bin" >"$TMP/ab.out" 2>&1; rc=$?
assert_eq 0 "$rc" "ab exit status"
ab=$(cat "$TMP/ab.out")
assert_contains "$ab" "^Complete requests: +2000$" "ab: complete requests"
assert_contains "$ab" "^Failed requests: +0$" "ab: failed requests"
assert_not_contains "$ab" "^Non-2xx responses" "ab: non-2xx responses"
assert_contains "$ab" "^Document Length: +4096 bytes$" "ab: document length"
log "ab: $(grep -E '^(Requests per second|Time taken for tests)' <<<"$ab" | tr -s ' ' | paste -sd';')"
nsx timeout 30 wrk -t2 -c50 -d5s --timeout 10s -s "$ROOT/tests/interop/wrk_check.lua" \
    "http://$US_IP/page.bin" -- "$WWW/page.bin" >"$TMP/wrk.out" 2>&1; rc=$?
assert_eq 0 "$rc" "wrk exit status"
wrk=$(cat "$TMP/wrk.out")
assert_contains "$wrk" "^good [1-9][0-9]* bad 0$" "wrk: every response 200 with the file's body"
assert_not_contains "$wrk" "Socket errors" "wrk: socket errors"
assert_not_contains "$wrk" "Non-2xx" "wrk: non-2xx responses"
log "wrk: $(grep -E '^(Requests/sec|good)' <<<"$wrk" | tr -s ' ' | paste -sd';')"
touch "$TMP/slow.stop"
for _ in $(seq 100); do [ -s "$TMP/slow.json" ] && break; sleep 0.1; done
wait "$SLOW_PID" 2>/dev/null
[ -s "$TMP/slow.json" ] || { cat "$TMP/slow.log"; die "the slow-client generator wrote no summary"; }
log "slow clients: $(cat "$TMP/slow.json")"
slow() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if isinstance(v, int) else int(v * 1000))' "$TMP/slow.json" "$1"; }
assert_ge "$SLOW_N" "$(slow fin_408)" "slow clients closed with a 408 and a FIN"
assert_eq 0 "$(slow fin_other)" "slow clients closed with a FIN but no 408"
assert_eq 0 "$(slow rst)" "slow clients reset"
assert_eq 0 "$(slow connect_failed)" "slow clients that could not connect"
assert_ge 1900 "$(slow min_life)" "shortest slow connection (ms; the head deadline is 2 s)"
max=$(slow max_life)
[ "$max" -le 5000 ] || fail "longest slow connection: ${max} ms, over the 2 s deadline plus 3 s"
old=$(slow oldest_at_stop)
[ "$old" -le 5000 ] || fail "a slow connection was open ${old} ms when the generator stopped"
assert_ge "$(slow fin_408)" "$(counter HTTP_HEAD_TIMEOUTS)" "netstat -s HTTP_HEAD_TIMEOUTS"

# 2. the idle timeout
nsx python3 - "$US_IP" >"$TMP/idle.out" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"GET /page.bin HTTP/1.1\r\nHost: ustack\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 4096:
    b = s.recv(65536)
    if not b:
        break
    got += b
t0 = time.monotonic()
s.settimeout(10)
try:
    how = "eof" if s.recv(1) == b"" else "data"
except ConnectionResetError:
    how = "reset"
except socket.timeout:
    how = "timeout"
print(got.split(b"\r\n", 1)[0].decode(), how, int((time.monotonic() - t0) * 1000))
PY
read -r _ code _ how ms <"$TMP/idle.out"
assert_eq 200 "$code" "idle: the response before the wait"
assert_eq eof "$how" "idle: how the kept-alive connection ended (a FIN from ustack)"
[ "${ms:-0}" -ge 2500 ] && [ "${ms:-0}" -le 4500 ] ||
    fail "idle: closed ${ms} ms after the response, want about 3000"
assert_ge 1 "$(counter HTTP_IDLE_TIMEOUTS)" "netstat -s HTTP_IDLE_TIMEOUTS"

# 3. the connection limit
us_restart --serve http="$WWW" --http-max-conns 20
nsx python3 - "$US_IP" >"$TMP/limit.out" <<'PY'
import socket, sys, time
host = sys.argv[1]
def read_all(s):
    got, how = b"", "timeout"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return got, "eof"
            got += b
    except ConnectionResetError:
        return got, "reset"
    except socket.timeout:
        return got, how
keep = [socket.create_connection((host, 80), timeout=5) for _ in range(20)]
time.sleep(0.5)
for i in range(5):
    s = socket.create_connection((host, 80), timeout=5)
    s.sendall(b"GET /page.bin HTTP/1.1\r\nHost: ustack\r\n\r\n")
    got, how = read_all(s)
    head = got.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    print("extra", head[0].replace(" ", "_"), "close" if "Connection: close" in head else "no-close", how)
    s.close()
for s in keep:
    s.sendall(b"GET /page.bin HTTP/1.1\r\nHost: ustack\r\nConnection: close\r\n\r\n")
    got, how = read_all(s)
    print("kept", got.split(b"\r\n", 1)[0].decode().replace(" ", "_"), len(got.split(b"\r\n\r\n", 1)[-1]), how)
PY
assert_eq 5 "$(grep -c '^extra HTTP/1.1_503_Service_Unavailable close eof$' "$TMP/limit.out")" \
    "limit: connections over it answered 503, Connection: close, then a FIN"
assert_eq 20 "$(grep -c '^kept HTTP/1.1_200_OK 4096 eof$' "$TMP/limit.out")" \
    "limit: connections within it still served"
[ "$FAILS" -eq 0 ] || cat "$TMP/limit.out"
assert_eq 5 "$(counter HTTP_REJECT_CONNS)" "netstat -s HTTP_REJECT_CONNS"
us netstat -s | sed -n '/^HTTP service/,$p' | sed "s/^/[$TEST] /"
finish
