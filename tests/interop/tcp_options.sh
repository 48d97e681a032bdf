#!/usr/bin/env bash
# TCP options negotiated with Linux, seen from both ends of the same connection: `ustack netstat
# -i` on ours, `ss -ti` and the kernel's own TCP_INFO (getsockopt from the python3 end) on Linux's.
# Two connections, both held open while we look: kernel -> ustack discard (passive open on ours,
# the kernel has sent 100000 bytes) and ustack connect -> a kernel python3 server (active open on
# ours, ustack has sent 50000 bytes). Both ends must agree on timestamps, SACK, window scaling
# (Linux's wscale:<snd>,<rcv> is ours mirrored) and the MSS (1448: 1460 minus the timestamp
# option); cwnd, rto and rtt must be present; byte counts must match what the other end saw.
# ss on some hosts (iproute2 older than the kernel) prints no "ts"/"sack" even for kernel-kernel
# connections, so those two flags are taken from the kernel's TCP_INFO tcpi_options.
. "$(dirname "$0")/lib.sh" "$@"
us_start --serve discard

# Python helper: prints the kernel's TCP_INFO of socket s as "kinfo options=ts,sack,wscale
# snd_wscale=N rcv_wscale=N snd_mss=N rcv_mss=N advmss=N cwnd=N".
PYINFO='
import socket, struct
def kinfo(s):
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    opts, ws = b[5], b[6]
    (rto, ato, snd_mss, rcv_mss, unacked, sacked, lost, retrans, fackets, lds, las, ldr, lar,
     pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, cwnd, advmss) = struct.unpack_from("20I", b, 8)
    names = [n for bit, n in ((1, "ts"), (2, "sack"), (4, "wscale")) if opts & bit]
    return "kinfo options=%s snd_wscale=%d rcv_wscale=%d snd_mss=%d rcv_mss=%d advmss=%d cwnd=%d" % (
        ",".join(names), ws & 15, ws >> 4, snd_mss, rcv_mss, advmss, cwnd)
'

# ---- connection 1: kernel client -> ustack discard, 100000 bytes, then held open ----
bg "$TMP/client.log" python3 -u -c "$PYINFO"'
import time
s = socket.create_connection(("'"$US_IP"'", 9), timeout=10)
print("local %s:%d" % s.getsockname(), flush=True)
s.sendall(b"x" * 100000)
time.sleep(1)
print(kinfo(s), flush=True)
time.sleep(60)
'
# ---- connection 2: ustack connect -> kernel server, 50000 bytes, then held open ----
bg "$TMP/server.log" python3 -u -c "$PYINFO"'
import time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("'"$HOST_IP"'", 6100))
l.listen(1)
c, a = l.accept()
print("peer %s:%d" % a, flush=True)
print("fresh " + kinfo(c), flush=True)
n = 0
while n < 50000:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print("received %d" % n, flush=True)
time.sleep(1)
print(kinfo(c), flush=True)
time.sleep(60)
'
wait_tcp_port 6100
# Look at ustack's side of connection 2 before any data flows: the window it took from the
# SYN-ACK. A SYN-ACK's window is never scaled (RFC 7323 2.2), so it is at most 65535.
bg "$TMP/connect.log" bash -c "(sleep 2; head -c 50000 /dev/zero; sleep 60) | '$USTACK' connect $HOST_IP 6100"
wait_for 5 grep -q '^fresh kinfo' "$TMP/server.log" || fail "the kernel server did not accept ustack's connection"
fresh=$(us netstat -ani | grep -A1 -E " $HOST_IP:6100 +ESTABLISHED" | tail -1)
log "ours, connection 2 right after the handshake:$fresh"
snd_wnd=$(grep -Eo 'snd_wnd:[0-9]+' <<<"$fresh" | cut -d: -f2)
[ -n "$snd_wnd" ] && [ "$snd_wnd" -le 65535 ] ||
    fail "BUG (SYN-ACK window scaled): ustack's snd_wnd right after an active open is '$snd_wnd'; the SYN-ACK's window field is unscaled (RFC 7323 2.2) so it must be <= 65535; see src/tcp/tcp_input.c SYN-SENT: snd_wnd = r->wnd << snd_wscale"

wait_for 10 grep -q '^kinfo' "$TMP/client.log" || fail "connection 1: no TCP_INFO from the kernel client: $(cat "$TMP/client.log")"
wait_for 10 grep -q '^kinfo' "$TMP/server.log" || fail "connection 2: no TCP_INFO from the kernel server: $(cat "$TMP/server.log")"

ours_all=$(us netstat -ani)
ss_all=$(nsx ss -tinH)
log "ustack netstat -ani:"; sed 's/^/    | /' <<<"$ours_all"
log "ss -tin:"; sed 's/^/    | /' <<<"$ss_all"

# check_conn NAME KERNEL_ADDR:PORT USTACK_ADDR:PORT KINFO_LINE BYTES_FIELD BYTES
check_conn() {
    local name=$1 kend=$2 uend=$3 kinfo=$4 bfield=$5 bytes=$6
    local ours ss_line
    ours=$(grep -A1 -E " $uend +$kend +ESTABLISHED" <<<"$ours_all" | tail -n +2)
    ss_line=$(awk -v a="$kend" -v b="$uend" '$4 == a && $5 == b { getline; print; exit }' <<<"$ss_all")
    [ -n "$ours" ] || { fail "$name: no ESTABLISHED line for $uend <-> $kend in ustack netstat -ani"; return; }
    [ -n "$ss_line" ] || { fail "$name: no line for $kend <-> $uend in ss -tin"; return; }
    log "$name ours:  $ours"
    log "$name ss:    $ss_line"
    log "$name kernel $kinfo"
    local kopts ksw krw kmss kadv our_sw our_rw ss_sw ss_rw our_mss our_rcvmss ss_mss
    kopts=$(grep -Eo 'options=[a-z,]*' <<<"$kinfo" | cut -d= -f2)
    ksw=$(grep -Eo 'snd_wscale=[0-9]+' <<<"$kinfo" | cut -d= -f2)
    krw=$(grep -Eo 'rcv_wscale=[0-9]+' <<<"$kinfo" | cut -d= -f2)
    kmss=$(grep -Eo 'snd_mss=[0-9]+' <<<"$kinfo" | cut -d= -f2)
    kadv=$(grep -Eo 'advmss=[0-9]+' <<<"$kinfo" | cut -d= -f2)
    # Both ends negotiated timestamps, SACK and window scaling.
    assert_eq "ts,sack,wscale" "$kopts" "$name: options in the kernel's TCP_INFO"
    assert_contains "$ours" "(^|[[:space:]])ts([[:space:]]|$)" "$name: ts in ustack netstat -i"
    assert_contains "$ours" "(^|[[:space:]])sack([[:space:]]|$)" "$name: sack in ustack netstat -i"
    if grep -qw ts <<<"$ss_line"; then
        assert_contains "$ss_line" "(^|[[:space:]])sack([[:space:]]|$)" "$name: sack in ss -ti"
    fi
    # Window scale: ours wscale:<snd>,<rcv> is Linux's wscale:<snd>,<rcv> mirrored.
    our_sw=$(grep -Eo 'wscale:[0-9]+,[0-9]+' <<<"$ours" | sed -E 's/wscale:([0-9]+),.*/\1/')
    our_rw=$(grep -Eo 'wscale:[0-9]+,[0-9]+' <<<"$ours" | sed -E 's/.*,//')
    ss_sw=$(grep -Eo 'wscale:[0-9]+,[0-9]+' <<<"$ss_line" | sed -E 's/wscale:([0-9]+),.*/\1/')
    ss_rw=$(grep -Eo 'wscale:[0-9]+,[0-9]+' <<<"$ss_line" | sed -E 's/.*,//')
    assert_eq "$ksw,$krw" "$ss_sw,$ss_rw" "$name: ss wscale vs the kernel's TCP_INFO"
    assert_eq "$ss_rw,$ss_sw" "$our_sw,$our_rw" "$name: ustack wscale:<snd>,<rcv> mirrors Linux's"
    # MSS: 1460 on the wire, 1448 of payload with timestamps, the same at both ends.
    our_mss=$(grep -Eo '(^|[[:space:]])mss:[0-9]+' <<<"$ours" | cut -d: -f2)
    our_rcvmss=$(grep -Eo 'rcvmss:[0-9]+' <<<"$ours" | cut -d: -f2)
    ss_mss=$(grep -Eo '(^|[[:space:]])mss:[0-9]+' <<<"$ss_line" | cut -d: -f2)
    assert_eq 1448 "$our_mss" "$name: ustack mss"
    assert_eq 1448 "$ss_mss" "$name: Linux ss mss"
    assert_eq 1448 "$kmss" "$name: Linux TCP_INFO snd_mss"
    assert_eq "$kadv" "$our_mss" "$name: ustack mss vs Linux advmss"
    [ -n "$our_rcvmss" ] && [ "$our_rcvmss" -ge 536 ] && [ "$our_rcvmss" -le 1460 ] ||
        fail "$name: ustack rcvmss '$our_rcvmss' not within 536..1460"
    # Linux's rcvmss is the largest payload seen (1448 here once data came in); ours is not
    # asserted equal (it reports the peer's announced MSS), only noted.
    [ "$our_rcvmss" = 1448 ] || log "NOTE $name: ustack rcvmss $our_rcvmss (Linux shows rcvmss:1448 once 1448-byte segments arrived)"
    # The rest of the ss -ti style fields are there.
    local f
    for f in cubic rto: rtt: cwnd: bytes_sent: bytes_acked: bytes_received: snd_wnd: rcv_wnd:; do
        assert_contains "$ours" "(^|[[:space:]])$f" "$name: '$f' in ustack netstat -i"
    done
    for f in rto: rtt: cwnd:; do
        assert_contains "$ss_line" "(^|[[:space:]])$f" "$name: '$f' in ss -ti"
    done
    assert_contains "$ours" "$bfield:$bytes([[:space:]]|$)" "$name: ustack $bfield"
}

kend1=$(awk '/^local /{print $2; exit}' "$TMP/client.log")
check_conn "kernel->ustack discard" "$kend1" "$US_IP:9" "$(grep '^kinfo' "$TMP/client.log")" \
    bytes_received 100000
uend2=$(awk '/^peer /{print $2; exit}' "$TMP/server.log")
assert_contains "$(cat "$TMP/server.log")" "^received 50000$" "kernel server received ustack's 50000 bytes"
check_conn "ustack connect->kernel" "$HOST_IP:6100" "$uend2" "$(grep '^kinfo' "$TMP/server.log")" \
    bytes_acked 50000
finish
