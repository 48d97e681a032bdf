#!/usr/bin/env bash
# SYN flood against ustack's HTTP port while a legitimate curl fetches a small file; the fetch
# must succeed. Two floods, each a bounded count (INTEROP_SYN_COUNT, default 20000) of SYNs with
# random source ports, all inside the test namespace and 192.0.2.0/24:
#  1. from the kernel's own address 192.0.2.1: the kernel answers ustack's SYN-ACKs with RSTs,
#     so the half-open connections go away quickly;
#  2. from unanswered addresses 192.0.2.100-119 (nobody answers ARP for them): the half-open
#     connections stay, the SYN queue fills, and only SYN cookies (TCP_SYNCOOKIES_SENT/OK) or an
#     equivalent keep the listener usable.
# The SYNs come from hping3 when installed, else from a python3 raw-socket sender.
. "$(dirname "$0")/lib.sh" "$@"
COUNT=${INTEROP_SYN_COUNT:-20000}
mkdir -p "$TMP/www"
printf 'still here\n' >"$TMP/www/small.txt"
us_start --serve http="$TMP/www"

# flood SRC COUNT: starts sending COUNT SYNs from SRC (random source ports) to ustack's port 80
# in the background; its pid goes to FLOOD_PIDS.
FLOOD_PIDS=()
flood() {
    if command -v hping3 >/dev/null; then
        # hping3 starts at a random source port and increments it per packet. Batches of at most
        # 5000, one after the other: hping3 3.a2 aborts at exit after about 20000 packets.
        bg "$TMP/flood.$1.log" bash -c 'n=$1; while [ "$n" -gt 0 ]; do
                c=$((n > 5000 ? 5000 : n)); n=$((n - c))
                hping3 -q -S -p 80 -i u100 -c "$c" -a "$2" -I "$3" "$4" || exit 1
            done' flood "$2" "$1" "$TAP" "$US_IP"
    else
        bg "$TMP/flood.$1.log" python3 -c '
import socket, struct, random, sys, time
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
for i in range(n):
    sp = random.randint(1024, 65535)
    tcp = struct.pack("!HHIIBBHHH", sp, 80, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    c = csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, sa, da)
    s.sendto(ip + tcp, (dst, 0))
    if i % 100 == 99: time.sleep(0.01)
' "$1" "$US_IP" "$2"
    fi
    FLOOD_PIDS+=("${BG_PIDS[-1]}")
}
# flood_wait SECONDS: waits (bounded) until every flood sender has exited.
flood_done() {
    local p
    for p in "${FLOOD_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}
flood_wait() {
    wait_for "$1" flood_done && return 0
    log "the SYN senders are still running after $1 s"
}

# fetch WHAT: curl fetches small.txt (generous timeout: a dropped SYN is retried after 1, 3, 7 s).
fetch() {
    local out rc
    out=$(nsx curl -sS --max-time 20 "http://$US_IP/small.txt" 2>&1); rc=$?
    [ "$rc" -eq 0 ] && [ "$out" = "still here" ] || fail "$1: curl exit $rc: $out"
}

# counters [TEXT]: the SYN-related counters on one line. netstat -s also lists every connection,
# so check that its Counters section made it.
counters() {
    local s=${1:-$(stats)}
    grep -q "^Counters:" <<<"$s" || { echo "(netstat -s printed no Counters section)"; return; }
    echo "$(grep -E '^ *TCP_(PASSIVE_OPENS|LISTEN_OVERFLOW|SYNCOOKIES_SENT|SYNCOOKIES_OK|NO_MEM|RST_IN|RST_OUT) ' <<<"$s" | awk '{printf "%s=%s ", $1, $2}')"
}
if command -v hping3 >/dev/null; then log "using $(command -v hping3)"; else log "no hping3: python3 raw-socket SYN sender"; fi

# ---- 1. flood from the kernel's address (it resets every SYN-ACK) ----
flood "$HOST_IP" "$COUNT"
sleep 0.5
for i in 1 2 3; do fetch "flood from $HOST_IP, fetch $i"; done
flood_wait 30
fetch "after the flood from $HOST_IP"
log "after flood 1: $(counters)"
assert_gt 100 "$(counter TCP_PASSIVE_OPENS)" "TCP_PASSIVE_OPENS after flood 1 (did the SYNs arrive?)"

# ---- 2. spoofed, unanswered sources inside 192.0.2.0/24 ----
FLOOD_PIDS=()
per=$((COUNT / 20))
for i in $(seq 100 119); do flood "192.0.2.$i" "$per"; done
sleep 1
fails_before=$FAILS
fetch "spoofed flood from 192.0.2.100-119"
flood_wait 30
after=$(stats)
nconn=$(grep -c "SYN-RECEIVED" <<<"$after")
log "after flood 2: $nconn SYN-RECEIVED connections; $(counters "$after")"
# netstat -s prints the whole connection table before the counters, into a 64 KiB reply.
grep -q "^Counters:" <<<"$after" ||
    fail "BUG: ustack netstat -s printed no Counters section with $nconn half-open connections ($(wc -c <<<"$after") bytes: the reply is cut at 64 KiB)"
if [ "$FAILS" -gt "$fails_before" ] && grep -q "^Counters:" <<<"$after" &&
    [ "$(counter TCP_SYNCOOKIES_SENT "$after")" -eq 0 ]; then
    fail "legitimate connection lost during the spoofed flood: TCP_LISTEN_OVERFLOW $(counter TCP_LISTEN_OVERFLOW "$after"), TCP_SYNCOOKIES_SENT 0 (no SYN cookies: a full SYN queue drops every new SYN)"
fi
assert_contains "$(us netstat -an)" "0\.0\.0\.0:80 .*LISTEN" "the HTTP listener after the floods"
finish
