#!/usr/bin/env bash
# The daemon's control socket against misbehaving clients (tests/interop/ctlabuse.c): garbage,
# truncated, wrongly sized and oversized messages, another protocol version (-EPROTO, then
# closed), no HELLO, unknown ops, a bad magic, junk descriptors in SCM_RIGHTS, pairs handed over
# without credit (US_CTL_DS_NEW, refused and closed); each gets an error
# or the end of its connection within 2 s. Then clients that stall (connected and silent; a
# HELLO whose answer is never read; a flood of requests whose answers are never read, so the
# daemon's answers back up) and 200 idle clients at once. Throughout, the daemon keeps serving:
# `ustack netstat` answers within 5 s, `ustack ping` reaches the kernel, and a program under
# `ustack run` talks to a kernel echo server; afterwards the daemon's descriptor count is back
# where it started (nothing leaked) and it exits cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh" "$@"
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -I"$ROOT/src" -I"$ROOT/include" \
    "$ROOT/tests/interop/ctlabuse.c" -o "$TMP/ctlabuse" || die "cannot build ctlabuse"
us_start
bg "$TMP/echo.log" socat "TCP-LISTEN:7001,bind=$HOST_IP,reuseaddr,fork" EXEC:cat
wait_tcp_port 7001
fds0=$(ls "/proc/$US_PID/fd" | wc -l)
log "the daemon has $fds0 descriptors open"

# serving WHAT: the daemon still answers its own clients and moves packets.
serving() {
    kill -0 "$US_PID" 2>/dev/null || die "$1: the daemon is gone"
    local out
    out=$(timeout 5 "$USTACK" netstat -an 2>&1) || fail "$1: ustack netstat did not answer within 5 s ($out)"
    out=$(timeout 10 "$USTACK" ping -c 1 -W 3 "$HOST_IP" 2>&1) || fail "$1: ustack ping $HOST_IP failed: $out"
}

for sc in garbage truncated badlen oversized badversion nohello badop fds dsnew hints; do
    timeout 60 "$TMP/ctlabuse" "$CTL" "$sc" >"$TMP/abuse.out" 2>&1; rc=$?
    grep -c '^ok' "$TMP/abuse.out" | xargs printf "[$TEST] %s: %s checks ok\n" "$sc"
    grep '^FAIL' "$TMP/abuse.out" | head -20 | sed "s/^/    /"
    assert_eq 0 "$rc" "ctlabuse $sc: exit status"
    serving "after $sc"
done

# stalling clients, all at once, held 12 s
for sc in stall hellostall flood many; do
    "$TMP/ctlabuse" "$CTL" "$sc" 12 >"$TMP/hold.$sc" 2>&1 &
    BG_PIDS+=($!)
done
for sc in stall hellostall flood many; do
    wait_for 10 grep -q holding "$TMP/hold.$sc" || fail "ctlabuse $sc did not get to hold: $(cat "$TMP/hold.$sc")"
done
log "$(grep flood: "$TMP/hold.flood")"
log "holding: $(( $(ls "/proc/$US_PID/fd" | wc -l) - fds0 )) more descriptors in the daemon"
serving "while clients stall"
make_appns
if [ "$RUN_ON_KERNEL" = 1 ] || us_run_t 10 true >/dev/null 2>&1; then
    out=$(us_run_t 10 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7001), timeout=5)
s.sendall(b"still serving")
print(s.recv(100).decode())' "$HOST_IP" 2>&1)
    assert_eq "still serving" "$out" "a ustack run program's echo while clients stall"
else
    fail "ustack run does not work: $(us_run_t 10 true 2>&1 | head -3)"
fi
for p in "${BG_PIDS[@]:1}"; do wait "$p"; done
wait_for 10 bash -c "[ \$(ls /proc/$US_PID/fd | wc -l) -le $fds0 ]" ||
    fail "the daemon has $(ls "/proc/$US_PID/fd" | wc -l) descriptors open after the clients left, $fds0 before"
serving "after the stalled clients left"
finish
