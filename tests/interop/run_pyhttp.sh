#!/usr/bin/env bash
# `ustack run -- python3 -m http.server --bind ::` (an AF_INET6 dual-stack socket that takes
# IPv4-mapped connections: python's default where the host has IPv6; with only `lo` it picks
# 0.0.0.0, so `::` is asked for explicitly) serves a 100 MB file that Linux curl downloads
# byte-exact (sha256), a small file, a directory listing and a 404; the server logs the client
# as ::ffff:192.0.2.1 (accept gave a mapped AF_INET6 address); `ustack netstat -anp` shows
# PID/python3 on the listener. The same server on its default address serves the small file.
# Everything first runs on the kernel in the test namespace.
# INTEROP_RUN_MB sets the big file's size (default 100).
. "$(dirname "$0")/lib.sh" "$@"
MB=${INTEROP_RUN_MB:-100}
us_start
WWW=$TMP/www
mkdir -p "$WWW"
head -c $((MB * 1024 * 1024)) /dev/urandom >"$WWW/big"
printf 'hello from python over ustack\n' >"$WWW/small.txt"

# fetch IP WHAT: Linux curl in $NS downloads big and small.txt from IP:8000 and checks them.
fetch() {
    local ip=$1 what=$2 rc t0 t1 code
    rm -f "$TMP/out"
    t0=$(date +%s%N)
    nsx curl -sS --max-time 50 -o "$TMP/out" "http://$ip:8000/big" 2>"$TMP/curl.err"; rc=$?
    t1=$(date +%s%N)
    log "$what: curl exit $rc, $(fsize "$TMP/out") bytes in $(( (t1 - t0) / 1000000 )) ms"
    [ "$rc" -eq 0 ] || fail "$what: curl exit status $rc: $(head -c 300 "$TMP/curl.err")"
    assert_eq "$(sha "$WWW/big")" "$(sha "$TMP/out")" "$what: sha256 of the $MB MB file"
    out=$(nsx curl -sS --max-time 10 "http://$ip:8000/small.txt" 2>&1)
    assert_eq "hello from python over ustack" "$out" "$what: small file"
    out=$(nsx curl -sS --max-time 10 "http://$ip:8000/" 2>&1)
    assert_contains "$out" 'href="small.txt"' "$what: directory listing"
    code=$(nsx curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$ip:8000/nope" 2>&1)
    assert_eq 404 "$code" "$what: status of a missing file"
}

# check_log LOG WHAT: the server said it serves on :: and logged a mapped client address.
check_log() {
    assert_contains "$(cat "$1")" "^Serving HTTP on :: port 8000" "$2: bound to ::"
    assert_contains "$(cat "$1")" "^::ffff:$HOST_IP - - .*\"GET /big HTTP/1.1\" 200" "$2: logged the mapped client address"
}

# ---- the kernel ----
bg "$TMP/khttp.log" bash -c "cd '$WWW' && exec python3 -u -m http.server --bind :: 8000"
wait_tcp_port 8000
assert_contains "$(nsx ss -Htln 'sport = :8000')" '\[::\]:8000|\*:8000' "python3 -m http.server --bind :: listens on ::"
fetch "$HOST_IP" "kernel python3 http.server"
check_log "$TMP/khttp.log" "kernel python3 http.server"
kill "${BG_PIDS[-1]}"; wait "${BG_PIDS[-1]}" 2>/dev/null

# ---- ustack run ----
make_appns
assert_appns_isolated
require_us_run
us_run_bg "$TMP/http.log" bash -c "cd '$WWW' && exec python3 -u -m http.server --bind :: 8000"
if ! wait_for 10 bash -c "ip netns exec '$NS' curl -s -o /dev/null --max-time 1 http://$RUN_IP:8000/small.txt"; then
    fail "the python3 server under ustack run does not answer on $RUN_IP:8000: $(cat "$TMP/http.log")"
fi
assert_netstat_owner python3 8000
fetch "$RUN_IP" "ustack run python3 http.server"
check_log "$TMP/http.log" "ustack run python3 http.server"
kill "$BG_LAST"; wait "$BG_LAST" 2>/dev/null

# python's default address
us_run_bg "$TMP/http2.log" bash -c "cd '$WWW' && exec python3 -u -m http.server 8001"
wait_for 10 bash -c "ip netns exec '$NS' curl -s -o /dev/null --max-time 1 http://$RUN_IP:8001/small.txt" ||
    fail "python3 http.server on its default address under ustack run does not answer: $(cat "$TMP/http2.log")"
out=$(nsx curl -sS --max-time 10 "http://$RUN_IP:8001/small.txt" 2>&1)
assert_eq "hello from python over ustack" "$out" "python3 http.server on its default address: small file"
finish
