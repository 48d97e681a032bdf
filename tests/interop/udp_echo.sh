#!/usr/bin/env bash
# UDP both ways: kernel -> ustack echo service (nc -u and socat; 1..8000 bytes, 8000 fragments),
# ustack -> kernel echo servers (python3 and socat) through a client-library program, and ICMP
# port unreachable both ways (ConnectionRefusedError in the kernel, ECONNREFUSED in ustack).
. "$(dirname "$0")/lib.sh" "$@"
build_udpclient
us_start --serve echo,discard
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- kernel -> ustack echo (port 7) ----
for size in 1 100 1472 1473 8000; do
    head -c "$size" /dev/urandom >"$TMP/req"
    nsx socat -b 65536 -t 2 - "UDP:$US_IP:7" <"$TMP/req" >"$TMP/rep.socat" 2>"$TMP/socat.err"
    assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep.socat")" \
        "socat echo of $size bytes (got $(stat -c %s "$TMP/rep.socat" 2>/dev/null) bytes)"
done
for size in 1 1472 8000; do
    head -c "$size" /dev/urandom >"$TMP/req"
    nsx nc -u -w1 "$US_IP" 7 <"$TMP/req" >"$TMP/rep.nc" 2>"$TMP/nc.err"
    assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep.nc")" \
        "nc -u echo of $size bytes (got $(stat -c %s "$TMP/rep.nc" 2>/dev/null) bytes)"
done
s=$(stats)
assert_gt 0 "$(counter IP_REASM_OK "$s")" "IP_REASM_OK after 8000-byte datagrams"
assert_gt 0 "$(counter IP_FRAGMENTED "$s")" "IP_FRAGMENTED after 8000-byte echoes"

# ---- ustack -> kernel: a python3 echo server and a socat echo server ----
bg "$TMP/pyecho.log" python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'"$HOST_IP"'", 5555))
while True:
    d, a = s.recvfrom(65535)
    print("from %s:%d %d bytes" % (a[0], a[1], len(d)), flush=True)
    s.sendto(d, a)
'
bg "$TMP/socatecho.log" socat -b 65536 "UDP-RECVFROM:5556,bind=$HOST_IP,fork" PIPE
wait_udp_port 5555
wait_udp_port 5556
for port in 5555 5556; do
    for size in 1 1472 8000; do
        head -c "$size" /dev/urandom >"$TMP/req"
        "$UDPCLIENT" "$HOST_IP" "$port" <"$TMP/req" >"$TMP/rep.us" 2>"$TMP/udpclient.err"
        rc=$?
        [ "$rc" -eq 0 ] || fail "udpclient -> $HOST_IP:$port ($size bytes) exit status $rc: $(tr -d '\0' <"$TMP/rep.us" | head -c 200) $(cat "$TMP/udpclient.err")"
        assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep.us")" "ustack -> kernel:$port echo of $size bytes"
    done
done
assert_contains "$(cat "$TMP/pyecho.log")" "^from $US_IP:[0-9]+ 8000 bytes" "python server saw ustack's datagram"

# ---- closed port on ustack: ICMP port unreachable -> ConnectionRefusedError in the kernel ----
before=$(stats)
out=$(nsx python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("'"$US_IP"'", 4444))
s.send(b"anyone there?")
try:
    s.recv(100)
    print("got a reply")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' 2>&1)
assert_eq refused "$out" "kernel UDP to closed ustack port 4444"
after=$(stats)
assert_counter_delta UDP_NO_PORT 1 "$before" "$after"
assert_counter_delta ICMP_ERR_OUT 1 "$before" "$after"

# ---- closed port on the kernel: ustack client gets ECONNREFUSED ----
out=$(echo hello | "$UDPCLIENT" -c "$HOST_IP" 5999 2>&1); rc=$?
assert_eq 3 "$rc" "udpclient -c to closed kernel port exit status ($out)"
assert_contains "$out" "^error: ECONNREFUSED" "udpclient -c to closed kernel port"
assert_gt 0 "$(counter ICMP_ERR_IN)" "ICMP_ERR_IN after port unreachable from the kernel"
finish
