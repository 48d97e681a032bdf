#!/usr/bin/env bash
# `ustack bridge` (doc/ustack.8): two ports joined through seeded impairers. Linux A (namespace
# $NS, TAP ba, 192.0.2.1) and Linux B ($APPNS, TAP bb, 192.0.2.3), both TAPs held by the bridge;
# then ustack (daemon in $NS on its own TAP, 192.0.2.2, whose kernel side has no address) reached
# by the bridge through an AF_PACKET socket, to Linux B.
# - Determinism: 2000 UDP datagrams A -> B through loss=0.05 (static ARP and no IPv6, so they are
#   the only frames): the bridge counts exactly 2000 in, B receives exactly in - lost, the same
#   seed drops the same datagrams twice, another seed drops others; the drop count is within
#   4 standard deviations of 5%.
# - A 20 MB file A -> B over TCP through loss=0.05 both ways, byte-exact (sha256); every frame
#   A's TAP sent reached the bridge; in = out + lost each way.
# - ustack's HTTP server -> curl on B, 10 MB through loss=0.02: byte-exact, frames lost and
#   retransmitted, the losses found by RACK (RFC 8985, the default loss detection), nothing
#   dropped by the packet socket, no oversize frame (--no-offload).
. "$(dirname "$0")/lib.sh" "$@"
A_IP=192.0.2.1
B_IP=192.0.2.3
BR_PID=""
BR_OUT=$TMP/bridge.out

make_ns
make_appns
appx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
appx sysctl -qw net.ipv6.conf.default.disable_ipv6=1

# br_start ARGS...: starts `ustack bridge ARGS` (in $NS) and waits for its "up" line.
br_start() {
    : >"$BR_OUT"
    ip netns exec "$NS" "$USTACK" bridge "$@" >"$BR_OUT" 2>&1 &
    BR_PID=$!
    BG_PIDS+=("$BR_PID")
    wait_for 10 grep -q "ustack bridge: up" "$BR_OUT" || die "bridge not up: $(cat "$BR_OUT")"
}
# br_stop: SIGTERM; the bridge must exit 0 and print both directions' counters.
br_stop() {
    kill -TERM "$BR_PID"
    wait "$BR_PID"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "bridge exited with status $rc: $(cat "$BR_OUT")"
    BR_PID=""
}
# brc DIR KEY: a counter of direction DIR (a->b or b->a) from the last bridge's exit lines.
brc() {
    sed -n "s/^ustack bridge: $1 .* $2=\([0-9]*\).*/\1/p" "$BR_OUT" | tail -1
}
# link_ab: addresses, and static neighbours so that no ARP frame crosses the bridge.
link_ab() {
    nsx ip addr add "$A_IP/24" dev ba
    appx ip addr add "$B_IP/24" dev bb
    nsx ip neigh replace "$B_IP" lladdr "$(appx cat /sys/class/net/bb/address)" dev ba nud permanent
    appx ip neigh replace "$A_IP" lladdr "$(nsx cat /sys/class/net/ba/address)" dev bb nud permanent
}

# udp_burst SEED: 2000 datagrams A -> B through loss=0.05 with SEED; sets GOT (the ids B
# received, one line) and the bridge's counters in BR_OUT.
udp_burst() {
    br_start --impair "loss=0.05" --seed "$1" "tap:ba@$NS" "tap:bb@$APPNS"
    link_ab
    appx timeout 30 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: all 2000 fit, however slow we are
s.bind(("0.0.0.0", 9999)); s.settimeout(2.0)
print("ready", flush=True)
got = []
try:
    while True:
        got.append(int(s.recv(2048).split(b" ")[0]))
except socket.timeout:
    pass
print(" ".join(map(str, got)))
' >"$TMP/udp.rx" 2>&1 &
    local rx=$!
    wait_for 5 grep -q ready "$TMP/udp.rx" || fail "UDP receiver not ready"
    nsx python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b"%d " % i + b"x" * 1000, ("'"$B_IP"'", 9999))
    if i % 20 == 19:
        time.sleep(0.002)
'
    wait "$rx"
    GOT=$(tail -1 "$TMP/udp.rx")
    br_stop
}

# ---- determinism: UDP through loss=0.05 --------------------------------------------------------
udp_burst 7
GOT1=$GOT; IN1=$(brc 'a->b' in); OUT1=$(brc 'a->b' out); LOST1=$(brc 'a->b' lost)
n1=$(wc -w <<<"$GOT1")
log "seed 7: a->b in=$IN1 out=$OUT1 lost=$LOST1, B received $n1"
assert_eq 2000 "$IN1" "frames the bridge read from A (the 2000 datagrams, nothing else)"
assert_eq "$((IN1 - LOST1))" "$OUT1" "frames written to B = in - lost"
assert_eq "$OUT1" "$n1" "datagrams B received = frames the bridge wrote"
# 5% of 2000: 100, standard deviation 9.7
[ "$LOST1" -ge 61 ] && [ "$LOST1" -le 139 ] || fail "lost $LOST1 of 2000 at loss=0.05 (expected 61..139)"
udp_burst 7
assert_eq "$LOST1" "$(brc 'a->b' lost)" "same seed, same drop count"
assert_eq "$GOT1" "$GOT" "same seed, the same datagrams dropped"
udp_burst 8
log "seed 8: lost $(brc 'a->b' lost)"
[ "$GOT1" != "$GOT" ] || fail "seeds 7 and 8 dropped the same datagrams"

# ---- Linux A -> Linux B over TCP through loss=0.05 ---------------------------------------------
head -c $((20 * 1024 * 1024)) /dev/urandom >"$TMP/file"
br_start --impair "loss=0.05" --seed 11 "tap:ba@$NS" "tap:bb@$APPNS"
link_ab
appx timeout 60 socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$TMP/got,creat,trunc" &
rx=$!
wait_for 5 sh -c "ip netns exec $APPNS ss -Htnl 'sport = :5001' | grep -q ." || fail "no listener"
t0=$(date +%s%N)
nsx timeout 60 socat -u "OPEN:$TMP/file" "TCP:$B_IP:5001" || fail "socat A -> B failed"
wait "$rx" || fail "socat on B failed"
ms=$((($(date +%s%N) - t0) / 1000000))
a_tx=$(nsx cat /sys/class/net/ba/statistics/tx_packets)
br_stop
log "20 MB A -> B in $ms ms; $(grep -- '->' "$BR_OUT" | sed 's/ustack bridge: //' | cut -d' ' -f1,3-7 | xargs)"
assert_eq "$(sha "$TMP/file")" "$(sha "$TMP/got")" "20 MB through loss=0.05, byte-exact"
assert_eq "$a_tx" "$(brc 'a->b' in)" "every frame A's TAP sent reached the bridge"
for d in 'a->b' 'b->a'; do
    in=$(brc "$d" in); out=$(brc "$d" out); lost=$(brc "$d" lost)
    assert_eq "$((in - lost))" "$out" "$d: out = in - lost"
    assert_eq 0 "$(brc "$d" tx_errors)" "$d: write errors"
    # 5% of at least 14,000 frames: within 3%..7%
    [ "$((lost * 100))" -ge "$((in * 3))" ] && [ "$((lost * 100))" -le "$((in * 7))" ] ||
        fail "$d: lost $lost of $in frames at loss=0.05"
done
assert_gt 14000 "$(brc 'a->b' in)" "data frames a->b"

# ---- ustack -> Linux B through an AF_PACKET port -----------------------------------------------
mkdir -p "$TMP/www"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$TMP/www/ten.bin"
ip netns exec "$NS" "$USTACK" up --tap "$TAP" --addr "$US_IP/24" --mac "$US_MAC" --ctl "$CTL" \
    --no-offload --serve "http=$TMP/www" >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
US_PID=$!
wait_for 10 grep -q "ustack: up on" "$TMP/ustack.out" || die "ustack not up"
br_start --impair "loss=0.02" --seed 5 "packet:$TAP@$NS" "tap:bb@$APPNS"
appx ip addr add "$B_IP/24" dev bb
before=$(stats)
appx curl -sS --max-time 90 -o "$TMP/got10" "http://$US_IP/ten.bin" || fail "curl from B failed"
after=$(stats)
br_stop
log "10 MB ustack -> B: $(grep -- '->' "$BR_OUT" | sed 's/ustack bridge: //' | cut -d' ' -f1,3-7 | xargs)"
assert_eq "$(sha "$TMP/www/ten.bin")" "$(sha "$TMP/got10")" "10 MB from ustack through loss=0.02, byte-exact"
assert_gt 0 "$(brc 'a->b' lost)" "frames from ustack lost"
r0=$(counter TCP_RETRANS "$before"); r1=$(counter TCP_RETRANS "$after")
assert_gt 0 "$((r1 - r0))" "ustack retransmitted"
k0=$(counter TCP_RACK_LOST "$before"); k1=$(counter TCP_RACK_LOST "$after")
assert_gt 0 "$((k1 - k0))" "segments RACK marked lost"
for d in 'a->b' 'b->a'; do
    assert_eq "$(($(brc "$d" in) - $(brc "$d" lost)))" "$(brc "$d" out)" "$d: out = in - lost"
    assert_eq 0 "$(brc "$d" oversize)" "$d: oversize frames"
    assert_eq 0 "$(brc "$d" tx_errors)" "$d: write errors"
done
assert_eq 0 "$(brc 'a->b' rx_drops)" "frames the packet socket dropped"
assert_gt 7000 "$(brc 'a->b' in)" "data frames from ustack"

finish
