#!/usr/bin/env bash
# TCP urgent data (RFC 9293 3.8.5, RFC 6093) against Linux, both ways:
#  - a Linux client sends "abc", then "!" with MSG_OOB, then "def" to a ustack service (tcpurg
#    serve on the daemon): ustack reports urgent data (US_POLLPRI), delivers every byte inline,
#    stops the first read before the mark ("abc"), reports US_SO_ATMARK there, and the next read
#    starts with "!"; recv(US_MSG_OOB) fails (no out-of-band delivery); urgent mode ends once
#    "!" is read;
#  - ustack (tcpurg send) sends the same to a Linux receiver: Linux sees the urgent mark (select
#    reports an exceptional condition, recv(1, MSG_OOB) returns "!") and, without SO_OOBINLINE,
#    the normal stream "abcdef".
. "$(dirname "$0")/lib.sh" "$@"
build_prog tcpurg
TCPURG=$TMP/tcpurg
us_start

# finished FILE FIRST_WORD WHAT: waits (10 s) for FILE's line starting with FIRST_WORD, shows FILE.
finished() {
    wait_for 10 grep -q "^$2" "$1" || fail "$3 did not finish: $(cat "$1")"
    log "$3:"; sed 's/^/    | /' "$1"
}

# ---- Linux -> ustack ----
before=$(stats)
bg "$TMP/serve.log" "$TCPURG" serve 7100
wait_for 10 grep -q '^listening' "$TMP/serve.log" || fail "tcpurg serve did not listen: $(cat "$TMP/serve.log")"
out=$(nsx timeout 30 python3 -c '
import socket, time
s = socket.create_connection(("'"$US_IP"'", 7100), timeout=10)
s.sendall(b"abc")
time.sleep(0.2)
s.send(b"!", socket.MSG_OOB)
time.sleep(0.2)
s.sendall(b"def")
s.shutdown(socket.SHUT_WR)
print("eof" if s.recv(10) == b"" else "data")
s.close()
' 2>&1)
assert_eq eof "$out" "Linux client: orderly close after the urgent send"
finished "$TMP/serve.log" pri_after "tcpurg serve"
srv=$(cat "$TMP/serve.log")
assert_contains "$srv" '^pri$' "ustack reports urgent data pending (US_POLLPRI)"
assert_contains "$srv" "^oob -$(python3 -c 'import errno; print(errno.EINVAL)')\$" "recv(US_MSG_OOB) fails with EINVAL (urgent data is inline)"
data=$(awk '$1 == "read" { printf "%s", $3 }' <<<"$srv")
assert_eq 'abc!def' "$data" "bytes delivered inline, in order, once"
first=$(awk '$1 == "read" { print $2 " " $3; exit }' <<<"$srv")
assert_eq "0 abc" "$first" "the first read stops before the mark"
at=$(awk '$1 == "read" && $2 == 1 { print substr($3, 1, 1); exit }' <<<"$srv")
assert_eq '!' "$at" "at the mark (US_SO_ATMARK 1) the next read starts with the urgent byte"
assert_contains "$srv" '^pri_after 0$' "urgent mode ends once the urgent byte is read"
after=$(stats)
urg_in=$(( $(counter TCP_URG_IN "$after") - $(counter TCP_URG_IN "$before") ))
assert_ge 1 "$urg_in" "TCP_URG_IN counted the kernel's urgent pointer"

# ---- ustack -> Linux ----
bg "$TMP/krecv.log" python3 -u -c '
import select, socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("'"$HOST_IP"'", 7200))
l.listen(1)
print("listening", flush=True)
c, a = l.accept()
c.settimeout(10)
r, w, x = select.select([], [], [c], 10)
print("exceptional", 1 if x else 0, flush=True)
print("oob", c.recv(1, socket.MSG_OOB).decode(), flush=True)
data = b""
while True:
    d = c.recv(100)
    if not d:
        break
    data += d
print("stream", data.decode(), flush=True)
c.close()
'
wait_for 10 grep -q '^listening' "$TMP/krecv.log" || fail "the kernel receiver did not listen: $(cat "$TMP/krecv.log")"
before=$(stats)
out=$(timeout 30 "$TCPURG" send "$HOST_IP" 7200 abc '!' def 2>&1)
assert_eq sent "$out" "tcpurg send"
finished "$TMP/krecv.log" stream "the kernel receiver"
k=$(cat "$TMP/krecv.log")
assert_contains "$k" '^exceptional 1$' "Linux select() reports the urgent condition"
assert_contains "$k" '^oob !$' "Linux recv(1, MSG_OOB) returns the byte sent with US_MSG_OOB"
assert_contains "$k" '^stream abcdef$' "Linux's normal stream (no SO_OOBINLINE) is the rest"
after=$(stats)
assert_counter_delta TCP_URG_OUT 1 "$before" "$after"

finish
