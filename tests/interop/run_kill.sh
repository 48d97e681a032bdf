#!/usr/bin/env bash
# A program under `ustack run` killed with SIGKILL mid-transfer: it holds two TCP connections
# from a kernel server that keeps sending (received data left unread, so closing them resets
# them, as Linux does), a listener on 7199 and a UDP socket. After the kill:
#  - the kernel server sees both connections reset (ECONNRESET), within 5 s;
#  - a neighbour program's echo connection, running all along, keeps working (every round trip
#    checked, none lost);
#  - nothing leaks in the daemon: ustack netstat shows no socket of the dead program, the port
#    7199 can be bound again, the daemon's open descriptors return to their count before the
#    program started, and TCP_RST_OUT grew by at least 2 per killed program (netstat -s);
#  - while it ran, ustack netstat -anp named it as PID/python3 on each of its four sockets.
# This repeats three times. The same sequence first runs on the kernel in the test namespace.
. "$(dirname "$0")/lib.sh" "$@"
us_start

bg "$TMP/server.log" python3 -u -c '
import select, socket, sys, threading
lock = threading.Lock()
def feed(c, a):
    c.setblocking(False)
    chunk = b"x" * 65536
    why = "?"
    while True:
        r, w, _ = select.select([c], [c], [], 30)
        try:
            if r:
                if c.recv(65536) == b"":
                    why = "eof"
                    break
            if w:
                c.send(chunk)
        except (ConnectionResetError, BrokenPipeError):
            why = "reset"
            break
        except BlockingIOError:
            pass
        if not r and not w:
            why = "idle"
            break
    with lock:
        sys.stdout.write("end %s from %s:%d\n" % (why, a[0], a[1]))
        sys.stdout.flush()
    c.close()
def echo(c, a):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
for port, fn in ((7101, feed), (7102, echo)):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], port))
    s.listen(16)
    def loop(s=s, fn=fn):
        while True:
            c, a = s.accept()
            threading.Thread(target=fn, args=(c, a), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
' "$HOST_IP"
wait_for 10 grep -q ready "$TMP/server.log" || die "the kernel server did not start"

VICTIM='
import os, socket, sys, time
ss = []
for i in range(2):
    s = socket.create_connection((sys.argv[1], 7101))
    n = 0
    while n < 200000:
        n += len(s.recv(65536))
    ss.append(s)
l = socket.socket()
l.bind(("0.0.0.0", 7199))
l.listen(4)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 0))
print("ready", os.getpid(), flush=True)
time.sleep(60)
'
NEIGHBOUR='
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7102))
end = time.time() + float(sys.argv[2])
n = 0
while time.time() < end:
    m = b"round %d " % n * 50
    s.sendall(m)
    got = b""
    while len(got) < len(m):
        d = s.recv(65536)
        if not d:
            print("EOF after %d rounds" % n); sys.exit(1)
        got += d
    if got != m:
        print("round %d: wrong echo" % n); sys.exit(1)
    n += 1
    time.sleep(0.02)
print("rounds %d ok" % n, flush=True)
'

# daemon_fds: the daemon's open descriptors (0 for the dry run on the kernel).
daemon_fds() {
    if [ "$RUN_ON_KERNEL" = 1 ]; then echo 0; else ls "/proc/$US_PID/fd" | wc -l; fi
}

# kill_round WHAT N RUN...: one victim under RUN... (a background runner: bg or us_run_bg).
kill_round() {
    local what=$1 n=$2 runner=$3 ip fds0 before after resets vpid ends
    fds0=$(daemon_fds)
    before=$(stats)
    ends=$(grep -c "^end " "$TMP/server.log")
    rm -f "$TMP/victim.log"
    if [ "$runner" = kernel ]; then bg "$TMP/victim.log" python3 -u -c "$VICTIM" "$HOST_IP"
    else us_run_bg "$TMP/victim.log" python3 -u -c "$VICTIM" "$HOST_IP"; fi
    vpid=$BG_LAST
    wait_for 15 grep -qs ready "$TMP/victim.log" || { fail "$what $n: the victim did not get ready: $(cat "$TMP/victim.log")"; return; }
    # the program itself, by the pid it printed (whether or not ustack run execs into it)
    vpid=$(awk '/^ready/ {print $2}' "$TMP/victim.log")
    if [ "$runner" != kernel ]; then
        assert_netstat_owner python3 7199
        # each of its four sockets (two connections, the listener, the UDP socket) names it
        assert_ge 4 "$(us netstat -anp 2>&1 | grep -Ec "(^| )$vpid/python3([ :]|$)")" \
            "$what $n: netstat -anp lines naming $vpid/python3"
    fi
    kill -KILL "$vpid"; wait "$BG_LAST" 2>/dev/null
    log "$what $n: killed the victim (pid $vpid) with SIGKILL"
    wait_for 5 bash -c "[ \$(grep -c '^end ' '$TMP/server.log') -ge $((ends + 2)) ]" ||
        fail "$what $n: the kernel server did not see both connections end within 5 s: $(tail -3 "$TMP/server.log")"
    resets=$(grep "^end " "$TMP/server.log" | tail -n +$((ends + 1)) | grep -c "^end reset")
    assert_eq 2 "$resets" "$what $n: connections the kernel saw reset ($(grep "^end " "$TMP/server.log" | tail -n +$((ends + 1)) | xargs))"
    if [ "$runner" = kernel ]; then
        nsx python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 7199)); s.listen(1)' ||
            fail "$what $n: port 7199 cannot be bound again"
        return
    fi
    wait_for 10 bash -c "! '$USTACK' netstat -an | grep -Eq ':7101 |:7199 '" ||
        fail "$what $n: the daemon still lists the dead program's sockets: $(us netstat -an)"
    assert_not_contains "$(us netstat -anp 2>&1)" "(^| )$vpid/" "$what $n: netstat -p lines of the dead pid"
    us_run_t 10 python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 7199)); s.listen(1)' ||
        fail "$what $n: port 7199 cannot be bound again under ustack run"
    wait_for 10 bash -c "[ \$(ls /proc/$US_PID/fd | wc -l) -le $fds0 ]" ||
        fail "$what $n: the daemon has $(daemon_fds) descriptors open, $fds0 before the program"
    after=$(stats)
    # 2 resets, and maybe more for the kernel's segments still in flight to the closed connections
    assert_ge 2 "$(( $(counter TCP_RST_OUT "$after") - $(counter TCP_RST_OUT "$before") ))" "$what $n: TCP_RST_OUT growth"
}

# run_all WHAT kernel|ustack
run_all() {
    local what=$1 kind=$2 npid i rc
    if [ "$kind" = kernel ]; then bg "$TMP/neighbour.log" python3 -u -c "$NEIGHBOUR" "$HOST_IP" 12
    else us_run_bg "$TMP/neighbour.log" python3 -u -c "$NEIGHBOUR" "$HOST_IP" 12; fi
    npid=$BG_LAST
    # The neighbour's descriptors in the daemon are counted before the first round.
    [ "$kind" = kernel ] || wait_for 10 bash -c "'$USTACK' netstat -an | grep -q ':7102 .*ESTABLISHED'" ||
        fail "$what: the neighbour's connection did not come up"
    for i in 1 2 3; do kill_round "$what" "$i" "$kind"; done
    wait "$npid"; rc=$?
    assert_eq 0 "$rc" "$what: the neighbour's echo connection ran through the kills ($(cat "$TMP/neighbour.log"))"
    assert_contains "$(cat "$TMP/neighbour.log")" "^rounds [0-9]+ ok$" "$what: the neighbour's round trips"
    log "$what: neighbour: $(cat "$TMP/neighbour.log")"
}

run_all "kernel" kernel
kfails=$FAILS
make_appns
assert_appns_isolated 7101
require_us_run
if [ "$RUN_ON_KERNEL" = 1 ]; then run_all "dry run" kernel; else run_all "ustack run" ustack; fi
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
