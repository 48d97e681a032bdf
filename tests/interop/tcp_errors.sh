#!/usr/bin/env bash
# TCP error paths and connection teardown against Linux:
#  - ustack connect to a closed kernel port: "Connection refused", exit 1;
#  - the kernel to a closed ustack port: curl exit 7, nc fails, python ConnectionRefusedError,
#    and ustack counts the RST it sent;
#  - the kernel closes first: TIME-WAIT on the kernel side (ss), nothing left on ours;
#  - ustack closes first: TIME-WAIT on ustack's side (ustack netstat -a), nothing on the kernel's;
#  - ustack aborts (SO_LINGER 0, and close with unread data): the kernel's recv fails with
#    ECONNRESET;
#  - the kernel aborts (SO_LINGER 0): ustack connect reports "Connection reset by peer", exit 1.
. "$(dirname "$0")/lib.sh" "$@"
build_prog tcpabort
TCPABORT=$TMP/tcpabort
us_start --serve echo

# ---- ustack -> closed kernel port ----
before=$(stats)
out=$(echo hi | timeout 30 "$USTACK" connect "$HOST_IP" 9999 2>&1); rc=$?
assert_eq 1 "$rc" "ustack connect to closed kernel port 9999: exit status ($out)"
assert_contains "$out" "Connection refused" "ustack connect to closed kernel port 9999: message"
after=$(stats)
assert_counter_delta TCP_RST_IN 1 "$before" "$after"

# ---- kernel -> closed ustack port ----
before=$(stats)
nsx curl -sS --max-time 20 -o /dev/null "http://$US_IP:8081/" 2>"$TMP/curl.err"; rc=$?
assert_eq 7 "$rc" "curl to closed ustack port 8081: exit status ($(cat "$TMP/curl.err"))"
assert_contains "$(cat "$TMP/curl.err")" "Connection refused|Couldn't connect" "curl to closed ustack port 8081: message"
out=$(nsx timeout 20 nc -z -w 5 "$US_IP" 8082 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "nc -z to closed ustack port 8082 succeeded ($out)"
out=$(nsx timeout 20 python3 -c '
import socket
try:
    socket.create_connection(("'"$US_IP"'", 8083), timeout=10)
    print("connected")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' 2>&1)
assert_eq refused "$out" "python3 connect to closed ustack port 8083"
after=$(stats)
assert_counter_delta TCP_NO_SOCKET 3 "$before" "$after"
assert_counter_delta TCP_RST_OUT 3 "$before" "$after"

# ---- the kernel closes first: TIME-WAIT on the kernel side ----
out=$(nsx timeout 20 python3 -c '
import socket
s = socket.create_connection(("'"$US_IP"'", 7), timeout=10)
print("local %s:%d" % s.getsockname())
s.sendall(b"ping")
print(s.recv(100).decode())
s.shutdown(socket.SHUT_WR)       # our FIN first
print("eof" if s.recv(100) == b"" else "data after FIN")
s.close()
' 2>&1)
kport=$(awk '/^local /{split($2, a, ":"); print a[2]; exit}' <<<"$out")
assert_eq "ping eof" "$(grep -v '^local' <<<"$out" | xargs)" "kernel-closes-first echo exchange"
assert_contains "$(nsx ss -Htan state time-wait)" "$HOST_IP:$kport +$US_IP:7" "kernel TIME-WAIT after it closed first"
wait_for 5 bash -c "! '$USTACK' netstat -an | grep -q ' $HOST_IP:$kport '" ||
    fail "ustack still lists $HOST_IP:$kport after the kernel closed first: $(us netstat -an)"

# ---- ustack closes first: TIME-WAIT on ustack's side ----
bg "$TMP/reader.log" python3 -u -c '
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("'"$HOST_IP"'", 6200))
l.listen(4)
while True:
    c, a = l.accept()
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
    print("peer %s:%d read %d then EOF" % (a[0], a[1], n), flush=True)
    c.close()                    # only after the peer closed
'
wait_tcp_port 6200
head -c 30000 /dev/urandom >"$TMP/req"
timeout 30 "$USTACK" connect "$HOST_IP" 6200 <"$TMP/req" >"$TMP/rep" 2>"$TMP/connect.err"; rc=$?
assert_eq 0 "$rc" "ustack connect (closes first) exit status ($(cat "$TMP/connect.err"))"
wait_for 5 grep -q "read 30000 then EOF" "$TMP/reader.log" ||
    fail "the kernel reader did not see 30000 bytes then EOF: $(cat "$TMP/reader.log")"
uport=$(awk '/^peer /{split($2, a, ":"); print a[2]; exit}' "$TMP/reader.log")
ns=$(us netstat -an)
assert_contains "$ns" "$US_IP:$uport +$HOST_IP:6200 +TIME-WAIT" "ustack TIME-WAIT after it closed first"
assert_not_contains "$(nsx ss -Htan)" "$HOST_IP:6200 +$US_IP:$uport" "kernel still lists the connection ustack closed first"

# ---- ustack aborts: the kernel's recv fails with ECONNRESET ----
bg "$TMP/victim.log" python3 -u -c '
import socket, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("'"$HOST_IP"'", 6300))
l.listen(4)
while True:
    c, a = l.accept()
    c.settimeout(10)
    c.sendall(b"unread data for you\n")
    n = 0
    try:
        while True:
            d = c.recv(65536)
            if not d:
                print("peer %d: EOF after %d" % (a[1], n), flush=True)
                break
            n += len(d)
    except ConnectionResetError:
        print("peer %d: ECONNRESET after %d" % (a[1], n), flush=True)
    except socket.timeout:
        print("peer %d: timeout after %d" % (a[1], n), flush=True)
    c.close()
'
wait_tcp_port 6300
for mode in linger0 unread; do
    flag=(); [ "$mode" = unread ] && flag=(-u)
    before=$(stats)
    out=$(head -c 5000 /dev/urandom | timeout 30 "$TCPABORT" "${flag[@]}" "$HOST_IP" 6300 2>&1); rc=$?
    assert_eq 0 "$rc" "tcpabort ($mode) exit status ($out)"
    # the state and congestion control come over the control socket as numbers (us_tcp_info)
    assert_eq "sent 5000 info ESTABLISHED cubic closed" "$(xargs <<<"$out")" "tcpabort ($mode) output"
    wait_for 5 bash -c "[ \$(grep -c ': ' '$TMP/victim.log') -ge $([ $mode = linger0 ] && echo 1 || echo 2) ]"
    last=$(tail -1 "$TMP/victim.log")
    assert_contains "$last" "ECONNRESET after 5000$" "kernel recv after ustack's abort ($mode)"
    after=$(stats)
    assert_counter_delta TCP_RST_OUT 1 "$before" "$after"
done

# ---- the kernel aborts: ustack connect sees ECONNRESET ----
bg "$TMP/aborter.log" python3 -u -c '
import socket, struct, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("'"$HOST_IP"'", 6400))
l.listen(4)
c, a = l.accept()
c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
print("aborted", flush=True)
time.sleep(60)
'
wait_tcp_port 6400
out=$( (echo hello; sleep 3) | timeout 30 "$USTACK" connect "$HOST_IP" 6400 2>&1); rc=$?
assert_eq 1 "$rc" "ustack connect to a server that aborts: exit status ($out)"
assert_contains "$out" "Connection reset by peer" "ustack connect to a server that aborts: message"
assert_contains "$(us netstat -an)" "LISTEN" "daemon still answers after the resets"
finish
