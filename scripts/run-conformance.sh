#!/usr/bin/env bash
# The differential conformance harness (doc/conformance.md): runs every script in
# tests/conformance/scripts against the Linux kernel and against ustack, with the same bench and
# the same socket agent, and prints one PASS / DEVIATION / FAULT / FAIL line per script.
#   scripts/run-conformance.sh [PATH/TO/ustack] [SCRIPT NAMES...]
# Linux: a namespace whose TAP (192.0.2.2) the bench holds by its file descriptor.
# ustack: `ustack up --tap` in a namespace where the kernel side of the TAP has no address; the
# bench uses AF_PACKET on it; the agent runs under `ustack run` in a namespace with only lo.
# Every namespace, device, process and file made here is removed on exit, even on failure.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bin=${1:-${USTACK:-build/asan/ustack}}
shift || true
if [ "$(id -u)" -ne 0 ]; then
    allow=" $(echo "${USTACK_ALLOW_SKIP:-}" | tr ',' ' ') "
    echo "SKIP conformance: needs root (network namespaces and TAP devices)"
    [[ "$allow" == *" all "* || "$allow" == *" conformance "* ]] && exit 0
    echo "  (USTACK_ALLOW_SKIP=conformance or =all allows it)"; exit 1
fi
[ -x "$bin" ] || { echo "conformance: no ustack binary at '$bin'"; exit 1; }
bin=$(realpath "$bin")
NSU="ust-conf$$-u"; NSA="ust-conf$$-a"; NSL="ust-conf$$-l"
TAPU="cu$$"; TAPL="cl$$"
TMP=$(mktemp -d "/tmp/ust-conf.$$.XXXXXX")
export ASAN_OPTIONS="detect_leaks=1:exitcode=66:log_path=$TMP/san"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$TMP/san"
US_PID=""; PIDS=()
cleanup() {
    local p ns
    [ -n "$US_PID" ] && kill -TERM "$US_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for ns in "$NSU" "$NSA" "$NSL"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    for p in "${PIDS[@]}" $US_PID; do wait "$p" 2>/dev/null; done
    # CONFORMANCE_KEEP=DIR keeps the results (each script's exchange, JSON) and logs there.
    [ -n "${CONFORMANCE_KEEP:-}" ] && mkdir -p "$CONFORMANCE_KEEP" && \
        cp "$TMP"/*.json "$TMP"/*.log "$TMP"/ustack.* "$CONFORMANCE_KEEP"/ 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP
die() { echo "conformance: $*"; [ -s "$TMP/ustack.err" ] && tail -20 "$TMP/ustack.err"; exit 1; }
# bg_wait CMD...: runs CMD in the background and waits for it, so a signal reaches the trap at
# once (bash runs a trap only after the foreground command ends).
bg_wait() {
    "$@" &
    local p=$!
    PIDS+=($p)
    wait "$p"
}

mkns() {
    ip netns add "$1" || die "cannot create namespace $1"
    ip netns exec "$1" ip link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
# The files the HTTP scripts fetch, served by both DUTs.
mkdir -p "$TMP/www"
printf 'conformance index\n' >"$TMP/www/index.html"
head -c 3000 /dev/zero | tr '\0' 'x' >"$TMP/www/small.txt"

# ---- Linux ----
mkns "$NSL"
ip netns exec "$NSL" ip tuntap add dev "$TAPL" mode tap || die "cannot create TAP $TAPL"
ip netns exec "$NSL" ip link set "$TAPL" address 02:00:00:00:00:02 up
ip netns exec "$NSL" ip addr add 192.0.2.2/24 brd + dev "$TAPL"
(cd "$TMP/www" && exec ip netns exec "$NSL" python3 -m http.server 80 --bind 192.0.2.2 \
    --protocol HTTP/1.1 >"$TMP/httpd.log" 2>&1) &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$NSL" ss -Htnl 'sport = :80' | grep -q . && break; sleep 0.1; done
t0=$(date +%s)
bg_wait ip netns exec "$NSL" python3 tests/conformance/bench.py run --dut linux --io tap --ifname "$TAPL" \
    --agent "python3 $ROOT/tests/conformance/agent.py" --out "$TMP/linux.json" "$@" \
    >"$TMP/linux.log" 2>&1 || { cat "$TMP/linux.log"; die "the bench failed on Linux"; }
echo "conformance: Linux run took $(( $(date +%s) - t0 )) s"

# ---- ustack ----
mkns "$NSU"
ip netns add "$NSA" && ip netns exec "$NSA" ip link set lo up
ip netns exec "$NSU" "$bin" up --tap "$TAPU" --addr 192.0.2.2/24 --mac 02:00:00:00:00:02 \
    --no-offload --ctl "$TMP/ctl" --serve "http=$TMP/www" >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
US_PID=$!
for _ in $(seq 100); do
    grep -q "ustack: up on" "$TMP/ustack.out" 2>/dev/null && break
    kill -0 "$US_PID" 2>/dev/null || die "ustack up exited"
    sleep 0.1
done
grep -q "ustack: up on" "$TMP/ustack.out" || die "ustack did not come up"
t0=$(date +%s)
bg_wait ip netns exec "$NSU" python3 tests/conformance/bench.py run --dut ustack --io packet \
    --ifname "$TAPU" --out "$TMP/ustack.json" \
    --agent "ip netns exec $NSA $bin run --ctl $TMP/ctl -- python3 $ROOT/tests/conformance/agent.py" \
    "$@" >"$TMP/ustack.log" 2>&1 || { cat "$TMP/ustack.log"; die "the bench failed on ustack"; }
echo "conformance: ustack run took $(( $(date +%s) - t0 )) s"
kill -0 "$US_PID" 2>/dev/null || die "ustack died during the run"
kill -TERM "$US_PID"; wait "$US_PID"; rc=$?; US_PID=""
fail=0
[ "$rc" -eq 0 ] || { echo "conformance: ustack exited $rc on SIGTERM"; tail -20 "$TMP/ustack.err"; fail=1; }
for f in "$TMP"/san.*; do
    [ -e "$f" ] || continue
    echo "conformance: sanitizer report $(basename "$f"):"; head -40 "$f"; fail=1
done
only=(); [ $# -gt 0 ] && only=(--only-run)
python3 tests/conformance/bench.py table "${only[@]}" "$TMP/linux.json" "$TMP/ustack.json" || fail=1
[ "$fail" -eq 0 ]
