# Shared helpers for the interop tests. Source it first thing:
#     . "$(dirname "$0")/lib.sh" "$@"
# A test gets its own network namespace (ust-<run>-<test>), a temp dir, and an EXIT trap that
# stops ustack and everything else the test started, deletes the namespace and the temp dir, even
# on failure or timeout. The kernel side of the TAP is 192.0.2.1/24, ustack is 192.0.2.2/24
# (RFC 5737 TEST-NET-1) with MAC 02:00:00:00:00:02. End a test with `finish`.
set -u

USTACK=${1:-${USTACK:-}}
[ -n "$USTACK" ] || { echo "usage: $0 PATH/TO/ustack (or set USTACK)" >&2; exit 2; }
USTACK=$(realpath "$USTACK")
[ -x "$USTACK" ] || { echo "no ustack binary at $USTACK" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(dirname "$USTACK") # the libraries (libustack.a, libustack-client.a) live next to it
TEST=$(basename "$0" .sh)
RUN=${UST_RUN:-$$}
NS="ust-$RUN-${TEST:0:12}"
TAP="ut$$"
HOST_IP=192.0.2.1
US_IP=192.0.2.2
US_MAC=02:00:00:00:00:02
TMP=$(mktemp -d "/tmp/ust-interop.$RUN.XXXXXX")
CTL=$TMP/ctl
export USTACK_CTL=$CTL
# Sanitizer reports (daemon and every client command) go to $TMP/san.<pid>; finish fails on any.
export ASAN_OPTIONS="detect_leaks=1:exitcode=66:log_path=$TMP/san"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$TMP/san"

US_PID=""
BG_PIDS=()
FAILS=0
NS_MADE=0
APPNS="$NS-app" # the `ustack run` programs' namespace (make_appns)
APPNS_MADE=0
CLEANUP_PATHS=() # files and directories outside $TMP that the test made; cleanup removes them
FINISHED=0

log() { echo "[$TEST] $*"; }
fail() {
    FAILS=$((FAILS + 1))
    echo "[$TEST] FAIL: $*"
}
# die MSG: a failure the test cannot continue after; the trap still cleans up.
die() {
    fail "$*"
    exit 1
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$US_PID" ] && kill -0 "$US_PID" 2>/dev/null; then
        kill -TERM "$US_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$US_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$US_PID" 2>/dev/null
        wait "$US_PID" 2>/dev/null
    fi
    local p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    # Anything still running inside our own namespaces was started by this test.
    if [ "$NS_MADE" = 1 ]; then
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    fi
    if [ "$APPNS_MADE" = 1 ]; then
        for p in $(ip netns pids "$APPNS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    fi
    for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ "$NS_MADE" = 1 ] && ip netns del "$NS" 2>/dev/null
    [ "$APPNS_MADE" = 1 ] && ip netns del "$APPNS" 2>/dev/null
    rm -rf "/etc/netns/$NS" "/etc/netns/$APPNS"
    for p in "${CLEANUP_PATHS[@]}"; do rm -rf "$p"; done
    if [ "$FINISHED" != 1 ] && [ -d "$TMP" ]; then
        dump_logs
    fi
    rm -rf "$TMP"
    if [ "$FINISHED" != 1 ] && [ "$rc" -eq 0 ]; then rc=1; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted by a signal"; exit 143' INT TERM HUP

dump_logs() {
    local f
    for f in "$TMP"/ustack.out "$TMP"/ustack.err "$TMP"/san.*; do
        [ -s "$f" ] || continue
        echo "---- $(basename "$f") (last 40 lines) ----"
        tail -40 "$f"
    done
}

# nsx CMD...: runs CMD inside the test namespace.
nsx() { ip netns exec "$NS" "$@"; }

# make_ns: creates the namespace with loopback up and IPv6 off (so the kernel sends no IPv6
# frames into the TAP that would muddle ustack's counters).
make_ns() {
    ip netns add "$NS" || die "cannot create namespace $NS"
    NS_MADE=1
    nsx ip link set lo up
    nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
    nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
}

# us_start [EXTRA up OPTIONS...]: runs `ustack up` in the namespace and waits (bounded) for its
# "up" line. stdout goes to $TMP/ustack.out, stderr to $TMP/ustack.err.
us_start() {
    [ "$NS_MADE" = 1 ] || make_ns
    ip netns exec "$NS" "$USTACK" up --tap "$TAP" --addr "$US_IP/24" --host-addr "$HOST_IP/24" \
        --mac "$US_MAC" --ctl "$CTL" "$@" >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
    US_PID=$!
    local i
    for i in $(seq 100); do
        grep -q "ustack: up on" "$TMP/ustack.out" 2>/dev/null && break
        kill -0 "$US_PID" 2>/dev/null || die "ustack up exited before it was up"
        sleep 0.1
    done
    grep -q "ustack: up on" "$TMP/ustack.out" || die "ustack did not print its up line in 10 s"
    [ -S "$CTL" ] || die "no control socket at $CTL"
    log "ustack up (pid $US_PID) on $TAP in $NS: $*"
}

# us_stop: SIGTERM, bounded wait; fails unless ustack exits 0 and removed its control socket.
us_stop() {
    [ -n "$US_PID" ] || return 0
    kill -TERM "$US_PID" 2>/dev/null
    local i
    for i in $(seq 100); do kill -0 "$US_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$US_PID" 2>/dev/null; then
        fail "ustack did not exit within 10 s of SIGTERM"
        kill -KILL "$US_PID" 2>/dev/null
    fi
    wait "$US_PID"
    local rc=$?
    US_PID=""
    [ "$rc" -eq 0 ] || fail "ustack exited with status $rc on SIGTERM (expected 0)"
    grep -q "ustack: shutting down" "$TMP/ustack.out" || fail "ustack printed no shutdown line"
    [ -e "$CTL" ] && fail "ustack left its control socket $CTL behind"
    return 0
}

# us_restart [EXTRA up OPTIONS...]: us_stop, keep the old logs as ustack.{out,err}.N (finish still
# checks them for sanitizer reports), then us_start with the new options.
US_GEN=0
us_restart() {
    us_stop
    US_GEN=$((US_GEN + 1))
    mv "$TMP/ustack.out" "$TMP/ustack.out.$US_GEN" 2>/dev/null
    mv "$TMP/ustack.err" "$TMP/ustack.err.$US_GEN" 2>/dev/null
    # The TAP of the old daemon goes away with it; wait (bounded) so the new one can take the name.
    local i
    for i in $(seq 50); do nsx ip link show "$TAP" >/dev/null 2>&1 || break; sleep 0.1; done
    us_start "$@"
}

# us CMD ARGS...: a ustack client command (talks to the daemon over $USTACK_CTL).
us() { "$USTACK" "$@"; }

# bg OUTFILE CMD...: starts CMD in the namespace in the background; cleanup kills it. Sets
# BG_LAST to its pid.
BG_LAST=""
bg() {
    local out=$1; shift
    ip netns exec "$NS" "$@" >"$out" 2>&1 &
    BG_LAST=$!
    BG_PIDS+=($!)
}

# bg_echo_server OUTFILE PORT: a python3 TCP echo server on $HOST_IP:PORT in the namespace, one
# thread per connection; it logs "from ADDR:PORT N bytes" for each connection that ends.
bg_echo_server() {
    bg "$1" python3 -u -c '
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
def serve(c, a):
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
        c.sendall(d)
    print("from %s:%d %d bytes" % (a[0], a[1], n), flush=True)
    c.close()
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c, a), daemon=True).start()
' "$HOST_IP" "$2"
}

# stats: the `ustack netstat -s` text. counter NAME [TEXT]: one counter's value from it.
stats() { us netstat -s; }
counter() {
    local text=${2:-$(stats)}
    local v
    v=$(awk -v n="$1" '$1 == n { print $2; exit }' <<<"$text")
    [ -n "$v" ] || { echo "[$TEST] no counter named $1 in netstat -s" >&2; echo -1; return; }
    echo "$v"
}

# ---- assertions: each prints what failed and counts it; the test goes on ----------------------
assert_eq() { # EXPECTED ACTUAL WHAT
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}
assert_ge() { # MIN ACTUAL WHAT
    [ "$2" -ge "$1" ] 2>/dev/null || fail "$3: expected >= $1, got '$2'"
}
assert_gt() { # MIN ACTUAL WHAT
    [ "$2" -gt "$1" ] 2>/dev/null || fail "$3: expected > $1, got '$2'"
}
assert_contains() { # TEXT PATTERN WHAT (grep -E pattern)
    grep -Eq -- "$2" <<<"$1" || { fail "$3: no line matching /$2/ in:"; sed 's/^/    | /' <<<"$1"; }
}
assert_not_contains() { # TEXT PATTERN WHAT
    if grep -Eq -- "$2" <<<"$1"; then
        fail "$3: unexpected line matching /$2/ in:"; sed 's/^/    | /' <<<"$1"
    fi
}
# assert_counter_delta NAME EXPECTED BEFORE_TEXT AFTER_TEXT
assert_counter_delta() {
    local b a
    b=$(counter "$1" "$3"); a=$(counter "$1" "$4")
    if [ "$((a - b))" -ne "$2" ]; then
        fail "counter $1 went $b -> $a (delta $((a - b))), expected delta $2"
        return 1
    fi
    return 0
}

# finish: stops ustack (must exit 0), fails on any sanitizer report, prints the verdict.
finish() {
    us_stop
    local f
    for f in "$TMP"/san.*; do
        [ -e "$f" ] || continue
        fail "sanitizer report in $(basename "$f"):"
        head -60 "$f"
    done
    for f in "$TMP"/ustack.err "$TMP"/ustack.err.*; do
        [ -e "$f" ] || continue
        if grep -Eq "AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:" "$f"; then
            fail "sanitizer output on ustack's stderr ($(basename "$f")):"
            head -60 "$f"
        fi
    done
    if [ "$FAILS" -gt 0 ]; then
        dump_logs
        FINISHED=1
        echo "[$TEST] $FAILS failure(s)"
        exit 1
    fi
    FINISHED=1
    echo "[$TEST] ok"
    exit 0
}

# build_prog NAME: compiles tests/interop/NAME.c, a client of the daemon, against the
# libustack-client.a next to $USTACK (with the sanitizers when that build has them) into $TMP/NAME.
# libustack.a follows for the few core calls a client may make (the names of what us_tcp_info
# carries): the linker takes only the objects a program uses.
build_prog() {
    local san=()
    nm "$BUILD/libustack-client.a" 2>/dev/null | grep -q __asan_ && san=(-fsanitize=address,undefined)
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -I"$ROOT/include" "${san[@]}" \
        "$ROOT/tests/interop/$1.c" "$BUILD/libustack-client.a" "$BUILD/libustack.a" \
        -o "$TMP/$1" || die "cannot build $1"
}
# build_udpclient: build_prog udpclient; sets UDPCLIENT.
build_udpclient() {
    build_prog udpclient
    UDPCLIENT=$TMP/udpclient
}

# sha FILE: the file's sha256 (hex only).
sha() { sha256sum "$1" | cut -d' ' -f1; }
# fsize FILE: its size in bytes (0 when missing).
fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }

# wait_tcp_port PORT [ADDR]: waits (bounded, 5 s) until something in the namespace listens on TCP
# PORT.
wait_tcp_port() {
    local i
    for i in $(seq 50); do
        nsx ss -Htnl "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    fail "nothing listens on TCP port $1 in the namespace after 5 s"
    return 1
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds; returns 1 after SECONDS.
wait_for() {
    local n=$(($1 * 10)); shift
    local i
    for i in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

# wait_udp_port PORT: waits (bounded, 5 s) until something in the namespace listens on UDP PORT.
wait_udp_port() {
    local i
    for i in $(seq 50); do
        nsx ss -Hunl "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    fail "nothing listens on UDP port $1 in the namespace after 5 s"
    return 1
}

# ---- `ustack run` (doc/run.md) ---------------------------------------------------------------
# The programs run in a second namespace, $APPNS, that has no interface but `lo`: a socket that
# fell back to the kernel there cannot reach 192.0.2.1 and fails instead of passing silently.
# The daemon's control socket is a path in $TMP, reachable from any namespace.

# make_appns: creates $APPNS with only loopback up (cleanup deletes it, and /etc/netns/$APPNS).
make_appns() {
    ip netns add "$APPNS" || die "cannot create namespace $APPNS"
    APPNS_MADE=1
    ip netns exec "$APPNS" ip link set lo up
}

# appx CMD...: runs CMD in $APPNS on the kernel's stack (no ustack).
appx() { ip netns exec "$APPNS" "$@"; }

# INTEROP_RUN_ON_KERNEL=1 is a dry run of the `ustack run` tests themselves: us_run* run the
# program in $NS on the kernel's stack instead (so servers are at $HOST_IP), proving the
# scripts' checks on Linux; the checks that need the daemon (netstat -p, counters) then fail.
# RUN_IP: the address where a server started with us_run is reached.
RUN_ON_KERNEL=${INTEROP_RUN_ON_KERNEL:-0}
if [ "$RUN_ON_KERNEL" = 1 ]; then RUN_IP=$HOST_IP; else RUN_IP=$US_IP; fi
_runner() {
    if [ "$RUN_ON_KERNEL" = 1 ]; then
        RUNNER=(ip netns exec "$NS")
    else
        RUNNER=(ip netns exec "$APPNS" "$USTACK" run --ctl "$CTL" --)
    fi
}

# us_run CMD...: runs CMD in $APPNS under `ustack run` (its IPv4 sockets live in the daemon).
us_run() { _runner; "${RUNNER[@]}" "$@"; }

# us_run_t SECONDS CMD...: us_run bounded by timeout(1) (SIGKILL 5 s after SIGTERM).
us_run_t() {
    local secs=$1; shift
    _runner
    timeout -k 5 "$secs" "${RUNNER[@]}" "$@"
}

# us_run_bg OUTFILE CMD...: us_run in the background (stdout and stderr to OUTFILE); cleanup
# kills it. Sets BG_LAST to its pid.
us_run_bg() {
    local out=$1; shift
    _runner
    "${RUNNER[@]}" "$@" >"$out" 2>&1 &
    BG_LAST=$!
    BG_PIDS+=($!)
}

# ns_resolv NAMESPACE NAMESERVER: gives NAMESPACE its own /etc/resolv.conf (ip netns exec
# bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf); cleanup removes it.
ns_resolv() {
    mkdir -p "/etc/netns/$1"
    printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$2" >"/etc/netns/$1/resolv.conf"
}

# assert_appns_isolated [PORT]: proves that $APPNS has no way to the kernel peer without ustack:
# no IPv4 route but loopback's, and a plain kernel connect to $HOST_IP:PORT fails at once (while
# the same connect from $NS works when something listens on PORT there).
assert_appns_isolated() {
    local port=${1:-9} routes out
    routes=$(appx ip -4 route show table all 2>/dev/null | grep -v ' dev lo ' || true)
    assert_eq "" "$routes" "IPv4 routes in $APPNS other than loopback's"
    assert_eq "lo" "$(appx ls /sys/class/net | xargs)" "interfaces in $APPNS"
    # No time limit: a connect that is not refused at once times out and says so, which the
    # pattern below rejects (a 3 s bound failed on a loaded host with python's start-up alone).
    out=$(appx timeout 10 python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("connected")
except OSError as e:
    print("failed: %s" % e)
' "$HOST_IP" "$port" 2>&1)
    assert_contains "$out" "^failed: .*(unreachable|Network)" \
        "a kernel socket in $APPNS cannot reach $HOST_IP:$port"
    log "$APPNS is isolated: a kernel socket there gets '$out'"
}

# require_us_run: fails the test (die) unless `ustack run` starts a program with the preload
# library in LD_PRELOAD; everything after it needs the daemon side and the library.
require_us_run() {
    local out
    if [ "$RUN_ON_KERNEL" = 1 ]; then
        log "INTEROP_RUN_ON_KERNEL=1: the programs run on the kernel's stack in $NS (dry run)"
        return 0
    fi
    out=$(us_run_t 20 sh -c 'echo "LD_PRELOAD=$LD_PRELOAD"' 2>&1)
    local rc=$?
    [ "$rc" -eq 0 ] || die "ustack run does not work (exit $rc): $(head -5 <<<"$out")"
    assert_contains "$out" "^LD_PRELOAD=.*libustack-preload\.so" "ustack run sets LD_PRELOAD"
    [ "$FAILS" -eq 0 ] || die "ustack run does not set up the preload library"
    log "ustack run works: $out"
}

# app_pids COMM: the pids of processes in $APPNS whose command name is COMM.
app_pids() {
    local p ns=$APPNS
    [ "$RUN_ON_KERNEL" = 1 ] && ns=$NS
    for p in $(ip netns pids "$ns" 2>/dev/null); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
    done
}

# assert_netstat_owner COMM [PORT]: `ustack netstat -anp` shows a socket (on PORT when given)
# owned by PID/COMM, netstat -p style ("1234/curl"), for a process named COMM running in $APPNS.
assert_netstat_owner() {
    local comm=$1 port=${2:-} out pids p re
    out=$(us netstat -anp 2>&1)
    pids=$(app_pids "$comm" | xargs)
    [ -n "$pids" ] || { fail "netstat -p: no process named $comm in $APPNS"; return 1; }
    # the name as /proc/PID/comm has it (15 characters at most), then a blank, a colon or the end
    re="(${pids// /|})/${comm:0:15}([ :]|$)"
    [ -n "$port" ] && re=":$port .*$re"
    assert_contains "$out" "$re" "ustack netstat -anp names the owner $comm (pids $pids)"
}

# build_plain NAME: compiles tests/interop/NAME.c into $TMP/NAME without the sanitizers and
# without ustack (a program for `ustack run`: LD_PRELOAD must come before any ASan runtime).
build_plain() {
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g "$ROOT/tests/interop/$1.c" \
        -o "$TMP/$1" || die "cannot build $1"
}

# run_port_open PROTO PORT: true when a program under us_run listens on TCP PORT, or has a UDP
# socket bound to PORT (ustack netstat -an; ss in $NS for INTEROP_RUN_ON_KERNEL=1).
run_port_open() {
    if [ "$RUN_ON_KERNEL" = 1 ]; then
        if [ "$1" = tcp ]; then nsx ss -Htnl "sport = :$2" | grep -q .; else nsx ss -Hunl "sport = :$2" | grep -q .; fi
    elif [ "$1" = tcp ]; then
        "$USTACK" netstat -an 2>/dev/null | grep -Eq "^tcp .*:$2 .*LISTEN"
    else
        "$USTACK" netstat -an 2>/dev/null | grep -Eq "^udp +[0-9]+ +[0-9]+ +[0-9.]+:$2 "
    fi
}
# wait_run_port PROTO PORT: waits (bounded, 10 s) for run_port_open.
wait_run_port() {
    wait_for 10 run_port_open "$1" "$2" && return 0
    fail "no $1 socket on port $2 from the program under ustack run after 10 s"
    return 1
}
