#!/usr/bin/env bash
# `ustack run` keeps the kernel's descriptor semantics (doc/run.md): tests/interop/dsock.c, one
# process per subtest, against kernel peers (dsock_peer.py on 192.0.2.1): non-blocking connect
# with poll and SO_ERROR, connect refused, connect timeout (a black hole) with EALREADY and
# EINTR, peer reset (SO_ERROR ECONNRESET, EOF, EPIPE; without SO_ERROR: POLLERR, then
# ECONNRESET once from read, recv, readv, recvmsg, recvfrom, send or write, then EOF and
# EPIPE; epoll level and edge: EPOLLERR until taken, write ECONNRESET without SIGPIPE, then
# EPIPE with it), shutdown(SHUT_WR) (also with data still waiting for a slow peer), FIONREAD (TCP and
# UDP), sendfile, accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and accept, epoll with a pipe and an
# eventfd mixed with sockets (level, edge, oneshot, EPOLLOUT, EPOLLRDHUP) and select, dup2 onto
# fd 0 and stdio, fork (the child uses the socket, then the parent), exec (TCP and UDP sockets
# kept, a SOCK_CLOEXEC one gone), UDP (addresses, boundaries, MSG_TRUNC, MSG_PEEK,
# sendmmsg/recvmmsg, connected read/write), UDP ECONNREFUSED, UDP ports shared with
# SO_REUSEADDR, UDP send errors from sendto itself (EACCES for a broadcast without
# SO_BROADCAST, EMSGSIZE; ENETUNREACH in step 3), AF_INET6 with IPv4-mapped addresses, 16 MiB
# both ways non-blocking, how close ends a connection (FIN; RST with unread data or SO_LINGER
# 0), and SO_LINGER with a time (close waits for the slow peer's acknowledgement, or 1 s for one
# that never reads, sleeping once rather than polling; a signal ends it; closing a duplicate
# does not wait).
# 1. Kernel pass: dsock runs in the test namespace on the kernel's own stack. This proves every
#    check right on Linux; a failure here is a test bug.
# 2. ustack pass: the same binary under `ustack run` in a namespace with only `lo`.
# Then: nothing is left established in the daemon.
# 3. No route: sendto, UDP and TCP connect get ENETUNREACH, on the kernel (its namespace has no
#    default route) and under ustack run with the daemon restarted without --gateway.
. "$(dirname "$0")/lib.sh" "$@"
BLACKHOLE=198.51.100.1
build_plain dsock
DSOCK=$TMP/dsock
# ustack routes everything off-link via the kernel, which does not forward (ip_forward 0) and so
# drops SYNs to the black hole silently.
us_start --gateway "$HOST_IP"
# The kernel's own route to the black hole: a neighbour that never answers (a MAC nobody has).
nsx ip neigh add 192.0.2.99 lladdr 02:00:00:00:00:99 dev "$TAP" nud permanent
nsx ip route add 198.51.100.0/24 via 192.0.2.99 dev "$TAP"

bg "$TMP/peer.log" python3 -u "$ROOT/tests/interop/dsock_peer.py" "$HOST_IP"
wait_for 10 grep -q ready "$TMP/peer.log" || die "dsock_peer.py did not start: $(cat "$TMP/peer.log")"
# DSOCK_ONLY="a b" runs only those subtests (for chasing one).
SUBTESTS=${DSOCK_ONLY:-$("$DSOCK" list)}

# run_pass NAME RUNNER...: runs every subtest with RUNNER, prints its lines, counts failures.
run_pass() {
    local pass=$1 t rc; shift
    for t in $SUBTESTS; do
        "$@" "$DSOCK" "$HOST_IP" "$BLACKHOLE" "$t" >"$TMP/dsock.out" 2>&1
        rc=$?
        sed "s/^/    [$pass] /" "$TMP/dsock.out"
        [ "$rc" -eq 0 ] || fail "$pass pass: dsock $t exit status $rc"
        grep -q "^PASS $t$" "$TMP/dsock.out" || fail "$pass pass: dsock $t did not print PASS"
    done
}

# ---- 1. the kernel: proves the checks ----
log "kernel pass: dsock on the kernel's stack in $NS"
run_pass kernel timeout -k 5 30 ip netns exec "$NS"
kfails=$FAILS
[ "$kfails" -eq 0 ] && log "kernel pass: every subtest passed"

# ---- 2. ustack run ----
make_appns
assert_appns_isolated 7001
# The same program on the kernel's stack in $APPNS must fail: a fallback cannot pass.
appx timeout 20 "$DSOCK" "$HOST_IP" "$BLACKHOLE" connect_nb >"$TMP/dsock.out" 2>&1 &&
    fail "dsock connect_nb passed on the kernel's stack in $APPNS: $(cat "$TMP/dsock.out")"
require_us_run
log "ustack pass: dsock under ustack run in $APPNS"
run_pass ustack us_run_t 30
wait_for 10 bash -c "! '$USTACK' netstat -an | grep -E '^(tcp|udp) ' | grep -vq TIME-WAIT" ||
    fail "sockets left in the daemon after every dsock process exited: $(us netstat -an)"

# ---- 3. no route: the kernel's namespace has no default route; a daemon without --gateway ----
log "no route: dsock noroute on the kernel, then under ustack run with a daemon without a gateway"
timeout -k 5 30 ip netns exec "$NS" "$DSOCK" "$HOST_IP" "$BLACKHOLE" noroute >"$TMP/dsock.out" 2>&1 ||
    { kfails=$((kfails + 1)); fail "kernel pass: dsock noroute: $(cat "$TMP/dsock.out")"; }
sed "s/^/    [kernel] /" "$TMP/dsock.out"
us_restart
us_run_t 30 "$DSOCK" "$HOST_IP" "$BLACKHOLE" noroute >"$TMP/dsock.out" 2>&1 ||
    fail "ustack pass: dsock noroute: exit status $?"
sed "s/^/    [ustack] /" "$TMP/dsock.out"
grep -q "^PASS noroute$" "$TMP/dsock.out" || fail "ustack pass: dsock noroute did not print PASS"
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
