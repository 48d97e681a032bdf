#!/usr/bin/env bash
# Per-client limits of `ustack run` (doc/run.md): with `--client-sockets 4` a program gets four
# sockets and then EMFILE, as from a full descriptor table; the daemon keeps serving, a second
# program gets its own four, and the first program's sockets are all freed when it exits (the
# daemon lists none of them). --client-memory bounds a program's pair buffers (ENOBUFS). The
# control socket is created owner-only (mode 0600, or what --ctl-mode says).
. "$(dirname "$0")/lib.sh" "$@"
us_start --client-sockets 4
make_appns
require_us_run

assert_eq "600" "$(stat -c %a "$CTL")" "the control socket is owner-only by default"

PROG='
import errno, socket, sys
socks = []
try:
    while len(socks) < 10:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if len(socks) % 2 else socket.SOCK_STREAM)
        s.bind(("0.0.0.0", 7400 + len(socks)))
        socks.append(s)
    print("no limit after", len(socks))
except OSError as e:
    print("made", len(socks), "then", errno.errorcode.get(e.errno, e.errno))
sys.stdout.flush()
if len(sys.argv) > 1:
    sys.stdin.readline()  # hold the sockets until told
'
# The first program holds its sockets while a second one asks for its own.
coproc FIRST { ip netns exec "$APPNS" "$USTACK" run --ctl "$CTL" -- python3 -u -c "$PROG" hold 2>&1; }
read -r -t 20 line <&"${FIRST[0]}"
assert_eq "made 4 then EMFILE" "$line" "the first program: four sockets, then EMFILE"
out=$(us_run_t 20 python3 -u -c "$(echo "$PROG" | sed 's/7400/7500/')" 2>&1)
assert_eq "made 4 then EMFILE" "$out" "a second program at the same time gets its own four"
echo go >&"${FIRST[1]}"
wait "$FIRST_PID" 2>/dev/null
wait_for 10 bash -c "! '$USTACK' netstat -an | grep -Eq ':740[0-9] |:750[0-9] '" ||
    fail "sockets of the programs are still listed: $(us netstat -an)"
# The daemon's own counters agree: nothing of the programs is left open.
assert_eq 0 "$(counter RUN_SOCKETS)" "netstat -s: RUN_SOCKETS back to 0 after both programs exited"
assert_eq 0 "$(counter RUN_LISTENERS)" "netstat -s: RUN_LISTENERS back to 0"

# Memory: a TCP socket's pair counts 512 KiB; with 1.2 MiB a program gets two, then ENOBUFS.
us_restart --ctl-mode 660 --client-memory 1258291
assert_eq "660" "$(stat -c %a "$CTL")" "--ctl-mode 660 sets the control socket's mode"
out=$(us_run_t 20 python3 -u -c '
import errno, socket
socks = []
try:
    while len(socks) < 10:
        socks.append(socket.socket())
    print("no limit")
except OSError as e:
    print("made", len(socks), "then", errno.errorcode.get(e.errno, e.errno))
' 2>&1)
assert_eq "made 2 then ENOBUFS" "$out" "--client-memory: two TCP sockets' buffers, then ENOBUFS"
finish
