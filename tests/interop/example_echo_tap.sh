#!/usr/bin/env bash
# examples/echo_tap.c, the embedding example, against the Linux kernel: it runs on a TAP device
# in the test's namespace and echoes what socat and nc send it over TCP (1 byte to 1 MB, sha256
# compared), then exits 0 on SIGTERM. The program is $ECHO_TAP when set (scripts/check-install.sh
# builds it against the installed library); otherwise it is built here from examples/echo_tap.c
# against the libustack.a next to the ustack binary (with the sanitizers when that build has
# them).
. "$(dirname "$0")/lib.sh" "$@"

prog=${ECHO_TAP:-}
if [ -z "$prog" ]; then
    san=()
    nm "$BUILD/libustack.a" 2>/dev/null | grep -q __asan_ && san=(-fsanitize=address,undefined)
    ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -g -I"$ROOT/include" "${san[@]}" \
        "$ROOT/examples/echo_tap.c" "$BUILD/libustack.a" -lpcap -lz -lm -o "$TMP/echo_tap" ||
        die "cannot build examples/echo_tap.c"
    prog=$TMP/echo_tap
fi
make_ns
ip netns exec "$NS" "$prog" "$TAP" "$US_IP/24" >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
US_PID=$!   # lib.sh stops it (SIGTERM, then KILL) whatever happens
for _ in $(seq 100); do
    grep -q "listening on port 7" "$TMP/ustack.out" 2>/dev/null && break
    kill -0 "$US_PID" 2>/dev/null || die "echo_tap exited: $(cat "$TMP/ustack.err")"
    sleep 0.1
done
grep -q "listening on port 7" "$TMP/ustack.out" || die "echo_tap printed no listening line in 10 s"
nsx ip addr add "$HOST_IP/24" dev "$TAP" || die "cannot address $TAP"
nsx ip link set "$TAP" up || die "cannot bring $TAP up"
log "echo_tap (pid $US_PID) on $TAP in $NS"

for size in 1 1448 100000 1000000; do
    head -c "$size" /dev/urandom >"$TMP/req"
    nsx timeout -k 5 60 socat -b 65536 -t 30 - "TCP:$US_IP:7" <"$TMP/req" >"$TMP/rep" 2>"$TMP/socat.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "socat -> echo_tap, $size bytes: exit status $rc: $(cat "$TMP/socat.err")"
    if [ "$(sha "$TMP/req")" = "$(sha "$TMP/rep")" ]; then
        log "echoed $size bytes (socat)"
    else
        fail "socat -> echo_tap, $size bytes: sha256 differs (got $(fsize "$TMP/rep") bytes)"
    fi
done
head -c 300000 /dev/urandom >"$TMP/req"
nsx timeout -k 5 60 nc -N "$US_IP" 7 <"$TMP/req" >"$TMP/rep" 2>"$TMP/nc.err"
if [ "$(sha "$TMP/req")" = "$(sha "$TMP/rep")" ]; then
    log "echoed 300000 bytes (nc)"
else
    fail "nc -> echo_tap, 300000 bytes: sha256 differs (got $(fsize "$TMP/rep") bytes)"
fi

# SIGTERM: the example frees its stack and exits 0 (under ASan: no leak).
kill -TERM "$US_PID"
for _ in $(seq 50); do kill -0 "$US_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$US_PID" 2>/dev/null && fail "echo_tap still running 5 s after SIGTERM"
wait "$US_PID"
rc=$?
US_PID=""
assert_eq 0 "$rc" "echo_tap's exit status after SIGTERM"
finish
