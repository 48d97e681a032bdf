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
    # Anything still running inside our own namespace was started by this test.
    if [ "$NS_MADE" = 1 ]; then
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    fi
    for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ "$NS_MADE" = 1 ] && ip netns del "$NS" 2>/dev/null
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

# bg OUTFILE CMD...: starts CMD in the namespace in the background; cleanup kills it.
bg() {
    local out=$1; shift
    ip netns exec "$NS" "$@" >"$out" 2>&1 &
    BG_PIDS+=($!)
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
