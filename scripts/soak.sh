#!/usr/bin/env bash
# Soak run (doc/soak.md): SOAK_SECONDS (default 3600) of mixed traffic between the Linux kernel
# and ustack over an impaired link, while a monitor samples the daemon every SOAK_INTERVAL
# seconds. Then the traffic stops, TIME-WAIT drains, and the run passes only if every transfer
# was byte-exact, nothing failed, the daemon's RSS stayed flat, and its sockets, timer heap,
# packet buffers, TIME-WAIT records and descriptors came back to where they were before the
# traffic. Prints a summary table; the samples go to a CSV in the build directory.
#     scripts/soak.sh [PATH/TO/ustack]        (default build/rel/ustack; as root)
# The traffic, all at once, each kind in its own loop:
#   bulk       curl (kernel) downloads a large file from the daemon's HTTP service; `ustack run
#              -- curl` downloads one from python's http.server on the kernel; `ustack run --
#              socat` sends one to a kernel socat that hashes it; the kernel streams one through
#              the daemon's TCP echo service and back. sha256 compared every time.
#   req/resp   redis-benchmark and redis-cli (kernel) against `ustack run -- redis-server`, a
#              random value stored and read back; wrk with keep-alive against the HTTP service.
#   churn      ab (short connections, each a request) against the HTTP service; short echo
#              connections, each checked.
#   udp        datagrams (some fragmented) through the daemon's UDP echo, each checked by hash;
#              `ustack run -- iperf3 -u -c` (and -R) against iperf3 -s on the kernel.
#   ping       the kernel pings ustack (also fragmented); `ustack ping` pings the kernel.
#   syn flood  hping3 SYNs from the kernel's address and from unanswered ones, every SOAK_FLOOD_EVERY s.
#   malformed  every tests/interop/inject.py case, every SOAK_INJECT_EVERY s.
# The link (SOAK_LINK): "bridge" puts `ustack bridge` with --impair SOAK_IMPAIR between ustack's
# TAP (an AF_PACKET port) and a TAP in a third namespace where the kernel peer lives; "impair"
# (what a ustack without the bridge gets) uses the daemon's own --impair on a TAP shared with
# the kernel; the default, "auto", takes the bridge when this ustack has it.
set -u
cd "$(dirname "$0")/.."
bin=${1:-${USTACK:-build/rel/ustack}}
. tests/interop/lib.sh "$bin"

SECS=${SOAK_SECONDS:-3600}
INTERVAL=${SOAK_INTERVAL:-5}
IMPAIR=${SOAK_IMPAIR:-loss=0.005,dup=0.002,reorder=0.005,corrupt=0.0005,seed=11}
FLOOD_EVERY=${SOAK_FLOOD_EVERY:-120}
INJECT_EVERY=${SOAK_INJECT_EVERY:-60}
BULK_MB=${SOAK_BULK_MB:-16}
PAUSE=${SOAK_PAUSE:-1} # seconds each loop rests between rounds (the machine is shared)
OUTDIR=$BUILD/soak
mkdir -p "$OUTDIR"
CSV=$OUTDIR/soak-$(date -u +%Y%m%dT%H%M%SZ).csv
TOOL="python3 $ROOT/scripts/soak_tool.py"
INJECT="python3 $ROOT/tests/interop/inject.py"
RES=$TMP/results # one line per check: "ok KIND BYTES" or "FAIL KIND message"
: >"$RES"
: >"$TMP/sink.sums"
# A small ASan quarantine, so RSS reaches its plateau within the warm-up (the default holds up
# to 256 MiB of freed memory, which would read as growth).
ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=16"

ok() { echo "ok $1 ${2:-0}" >>"$RES"; }
bad() { local k=$1 m; shift; m=$(tr '\n' ' ' <<<"$*" | head -c 400); echo "FAIL $k $m" >>"$RES"; echo "[soak] FAIL $k: $m"; }
now() { date +%s; }

# ---- setup: files, servers, the daemon ------------------------------------------------------
WWW=$TMP/www
mkdir -p "$WWW" "$TMP/kwww"
head -c $((BULK_MB * 1048576)) /dev/urandom >"$WWW/big.bin"
printf 'still here\n' >"$WWW/small.txt"
head -c $((BULK_MB * 1048576)) /dev/urandom >"$TMP/kwww/kbig.bin"
head -c $((BULK_MB * 1048576 / 2)) /dev/urandom >"$TMP/up.bin"
BIG_SHA=$(sha "$WWW/big.bin"); KBIG_SHA=$(sha "$TMP/kwww/kbig.bin"); UP_SHA=$(sha "$TMP/up.bin")

LINK=${SOAK_LINK:-auto}
if [ "$LINK" = auto ]; then
    if "$USTACK" bridge --help >/dev/null 2>&1; then LINK=bridge; else LINK=impair; fi
fi
SERVE="echo,discard,chargen,http=$WWW"
BR_PID=""
if [ "$LINK" = bridge ]; then
    # The kernel peer in a namespace of its own, on a TAP the bridge holds.
    KNS="$NS-k"
    KDEV="sb$$"
    KNS_MADE=0
    soak_cleanup() {
        local rc=$? p
        [ -n "$BR_PID" ] && kill -KILL "$BR_PID" 2>/dev/null
        if [ "$KNS_MADE" = 1 ]; then
            for p in $(ip netns pids "$KNS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
            ip netns del "$KNS" 2>/dev/null
        fi
        (exit "$rc")
        cleanup
    }
    trap soak_cleanup EXIT
    make_ns
    ip netns add "$KNS" || die "cannot create namespace $KNS"
    KNS_MADE=1
    ip netns exec "$KNS" ip link set lo up
    ip netns exec "$KNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    # The packet port carries frames of at most the MTU: no offloads.
    ip netns exec "$NS" "$USTACK" up --tap "$TAP" --addr "$US_IP/24" --mac "$US_MAC" --ctl "$CTL" \
        --no-offload --serve "$SERVE" >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
    US_PID=$!
    wait_for 10 grep -q "ustack: up on" "$TMP/ustack.out" || die "ustack did not come up"
    ip netns exec "$NS" "$USTACK" bridge --impair "$IMPAIR" "packet:$TAP@$NS" "tap:$KDEV@$KNS" \
        >"$TMP/bridge.out" 2>&1 &
    BR_PID=$!
    wait_for 10 grep -q "ustack bridge: up" "$TMP/bridge.out" || die "bridge not up: $(cat "$TMP/bridge.out")"
    ip netns exec "$KNS" ip addr add "$HOST_IP/24" dev "$KDEV"
    ip netns exec "$KNS" ip link set "$KDEV" up
    log "ustack up (pid $US_PID) on $TAP in $NS; bridge (pid $BR_PID) to $KDEV in $KNS: --impair $IMPAIR"
else
    KNS=$NS
    KDEV=$TAP
    us_start --serve "$SERVE" --impair "$IMPAIR"
fi
# kx CMD...: CMD in the kernel peer's namespace; kbg OUT CMD...: the same in the background.
kx() { ip netns exec "$KNS" "$@"; }
kbg() {
    local out=$1; shift
    ip netns exec "$KNS" "$@" >"$out" 2>&1 &
    BG_PIDS+=($!)
}
kwait_tcp() {
    wait_for 5 eval "kx ss -Htnl 'sport = :$1' | grep -q ." || fail "nothing listens on TCP $1 on the kernel side"
}
make_appns
require_us_run
kbg "$TMP/khttp.log" python3 -m http.server 8000 --bind "$HOST_IP" --directory "$TMP/kwww"
# kernel side sink: each connection's sha256 on a line of its own
kbg "$TMP/ksink.log" socat -u TCP-LISTEN:5002,bind=$HOST_IP,reuseaddr,fork \
    SYSTEM:"sha256sum >>$TMP/sink.sums"
kwait_tcp 8000
kwait_tcp 5002
cat >"$TMP/redis.conf" <<CONF
bind 0.0.0.0
port 6379
protected-mode no
daemonize no
save ""
appendonly no
dir $TMP
logfile $TMP/redis.log
CONF
us_run_bg "$TMP/redis.out" redis-server "$TMP/redis.conf"
kbg "$TMP/kiperf.log" iperf3 -s -B "$HOST_IP" -p 5201
wait_run_port tcp 6379
kwait_tcp 5201
kx ping -n -c 3 -i 0.2 -W 2 "$US_IP" >/dev/null 2>&1 # ARP both ways
us ping -c 1 -W 2 "$HOST_IP" >/dev/null 2>&1

# ---- monitor ---------------------------------------------------------------------------------
COLS="t,rss_kb,fds,timer_heap,timer_heap_stale,timer_heap_cap,pkt_small_in_use,pkt_small_alloc"
COLS="$COLS,pkt_large_in_use,pkt_large_alloc,sockets,tcp_blocks,tcp_hashed,tcp_timewait"
COLS="$COLS,dgram_pcbs,arp_entries,frag_dgrams,frag_bytes,TCP_CONN_ALLOC,TCP_CONN_FREE"
COLS="$COLS,TCP_TW_ALLOC,TCP_TW_FREE,RUN_CLIENTS,RUN_SOCKETS,established,syn_received,time_wait"
COLS="$COLS,other_states,drops_total"
# sample: one CSV line of the daemon's figures now.
T0=$(now)
sample() {
    local s an rss fds
    s=$(us netstat -s 2>/dev/null) || return 1
    an=$(us netstat -an 2>/dev/null)
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$US_PID/status" 2>/dev/null)
    fds=$(ls "/proc/$US_PID/fd" 2>/dev/null | wc -l)
    awk -v t=$(($(now) - T0)) -v rss="${rss:-0}" -v fds="$fds" -v cols="$COLS" -v an="$an" '
        BEGIN {
            n = split(an, lines, "\n")
            for (i = 1; i <= n; i++) {
                if (lines[i] !~ /^tcp /) continue
                m = split(lines[i], f, " "); st = f[6]
                if (st == "ESTABLISHED") v["established"]++
                else if (st == "SYN-RECEIVED" || st == "SYN_RECV") v["syn_received"]++
                else if (st == "TIME-WAIT" || st == "TIME_WAIT") v["time_wait"]++
                else if (st != "LISTEN") v["other_states"]++
            }
        }
        NF >= 2 && $2 ~ /^[0-9]+$/ { v[$1] = $2 }
        /^Drops by reason \(total/ { x = $0; gsub(/[^0-9]/, "", x); v["drops_total"] = x }
        END {
            v["t"] = t; v["rss_kb"] = rss; v["fds"] = fds
            k = split(cols, c, ",")
            for (i = 1; i <= k; i++) printf "%s%s", (i > 1 ? "," : ""), (c[i] in v ? v[c[i]] : 0)
            printf "\n"
        }' <<<"$s"
}
echo "$COLS" >"$CSV"
# Every figure the verdict compares must be there: a missing one would read as 0 throughout.
s0=$(stats)
for c in ${COLS//,/ }; do
    case $c in t | rss_kb | fds | established | syn_received | time_wait | other_states | drops_total) continue ;; esac
    grep -Eq "^ +$c +[0-9]+ " <<<"$s0" || die "ustack netstat -s shows no $c"
done
BASE=$(sample) || die "cannot read the daemon's netstat -s"
echo "$BASE" >>"$CSV"
# col LINE NAME: one field of a sample line by column name
col() {
    awk -F, -v name="$2" -v cols="$COLS" 'BEGIN { k = split(cols, c, ","); for (i = 1; i <= k; i++) if (c[i] == name) n = i }
        { print $n }' <<<"$1"
}
[ "$(col "$BASE" sockets)" -ge 5 ] && [ "$(col "$BASE" rss_kb)" -gt 0 ] && [ "$(col "$BASE" fds)" -gt 0 ] ||
    die "implausible baseline (sockets, RSS, descriptors): $BASE"
log "baseline: rss $(col "$BASE" rss_kb) KiB, sockets $(col "$BASE" sockets), timer heap $(col "$BASE" timer_heap), fds $(col "$BASE" fds)"
log "soak: $SECS s of traffic, link: $LINK --impair $IMPAIR, samples every $INTERVAL s to $CSV"

END=$(($(now) + SECS))
running() { [ "$(now)" -lt "$END" ] && kill -0 "$US_PID" 2>/dev/null; }
monitor() {
    while running; do
        sleep "$INTERVAL"
        sample >>"$CSV" || echo "[soak] monitor: netstat failed at $(($(now) - T0)) s"
    done
}

# ---- traffic loops -----------------------------------------------------------------------------
# fetch KIND SHA URL RUNNER...: downloads URL with curl under RUNNER and compares its sha256.
fetch() {
    local kind=$1 want=$2 url=$3 f=$TMP/$1.bin; shift 3
    if "$@" curl -sS --max-time 300 -o "$f" "$url" 2>"$f.err"; then
        [ "$(sha "$f")" = "$want" ] && ok "$kind" "$(fsize "$f")" ||
            bad "$kind" "sha256 differs ($(fsize "$f") bytes)"
    else
        running && bad "$kind" "curl: $(head -c 200 "$f.err")"
    fi
    rm -f "$f"
}
w_bulk_down() { # the daemon's HTTP service -> kernel curl
    while running; do fetch bulk_down "$BIG_SHA" "http://$US_IP/big.bin" kx; sleep "$PAUSE"; done
}
w_bulk_run_down() { # kernel http.server -> `ustack run -- curl`
    while running; do fetch bulk_run_down "$KBIG_SHA" "http://$HOST_IP:8000/kbig.bin" us_run_t 320; sleep "$PAUSE"; done
}
w_bulk_run_up() { # `ustack run -- socat` -> kernel socat | sha256sum
    local i=0 had
    while running; do
        i=$((i + 1))
        had=$(wc -l <"$TMP/sink.sums")
        if us_run_t 320 socat -u "FILE:$TMP/up.bin" "TCP:$HOST_IP:5002" 2>"$TMP/rup.err"; then
            # the kernel's socat hashes what it got once the FIN arrives
            wait_for 60 eval '[ "$(wc -l <"$TMP/sink.sums")" -gt "$had" ]'
            local got
            got=$(sed -n "$((had + 1))p" "$TMP/sink.sums" | cut -d' ' -f1)
            [ "$got" = "$UP_SHA" ] && ok bulk_run_up "$(fsize "$TMP/up.bin")" ||
                bad bulk_run_up "#$i: the kernel got sha256 '${got:-none}'"
        else
            running && bad bulk_run_up "#$i: socat: $(head -c 200 "$TMP/rup.err")"
        fi
        sleep "$PAUSE"
    done
}
w_echo() { # the daemon's TCP echo: 4 MiB both ways at once, then 20 short connections
    local out
    while running; do
        out=$(kx timeout 300 $TOOL tcp-echo "$US_IP" 7 4194304 1 2>&1)
        case $out in ok*) ok echo_bulk "$(awk '{print $2 * 2}' <<<"$out")" ;; *) running && bad echo_bulk "$out" ;; esac
        out=$(kx timeout 120 $TOOL tcp-echo "$US_IP" 7 3000 20 2>&1)
        case $out in ok*) ok echo_churn "$(awk '{print $2 * 2}' <<<"$out")" ;; *) running && bad echo_churn "$out" ;; esac
        sleep "$PAUSE"
    done
}
w_redis() { # request/response against `ustack run -- redis-server`
    local out v i=0
    while running; do
        i=$((i + 1))
        out=$(kx timeout 120 redis-benchmark -h "$US_IP" -p 6379 -c 8 -n 5000 -r 1000 -t set,get -q 2>&1 | tr '\r' '\n')
        if grep -q '^GET: [0-9.]* requests per second' <<<"$out" && ! grep -Eqi 'error|refused|reset' <<<"$out"; then
            ok redis_bench 0
        else
            running && bad redis_bench "#$i: $(tail -3 <<<"$out" | tr '\n' ' ' | head -c 300)"
        fi
        v=$(head -c 3000 /dev/urandom | base64 -w 0)
        out=$(kx timeout 30 redis-cli -h "$US_IP" -p 6379 SET "soak$i" "$v" 2>&1)
        local back
        back=$(kx timeout 30 redis-cli -h "$US_IP" -p 6379 --raw GET "soak$i" 2>&1)
        kx timeout 30 redis-cli -h "$US_IP" -p 6379 DEL "soak$i" >/dev/null 2>&1
        [ "$out" = OK ] && [ "$back" = "$v" ] && ok redis_value ${#v} ||
            { running && bad redis_value "#$i: SET '$out', GET gave ${#back} bytes of ${#v}"; }
        sleep "$PAUSE"
    done
}
w_http() { # wrk keep-alive and ab short connections against the daemon's HTTP service
    local out
    while running; do
        out=$(kx timeout 60 wrk -t1 -c8 -d10s --timeout 20s "http://$US_IP/small.txt" 2>&1)
        if grep -Eq 'Requests/sec' <<<"$out" && ! grep -Eq 'Non-2xx|Socket errors' <<<"$out"; then
            ok wrk "$(awk '/requests in/ {print $1}' <<<"$out")"
        else
            running && bad wrk "$(grep -E 'Non-2xx|Socket errors|requests in' <<<"$out" | tr '\n' ' ')"
        fi
        out=$(kx timeout 120 ab -q -n 1000 -c 8 -s 30 "http://$US_IP/small.txt" 2>&1)
        if grep -Eq '^Complete requests: +1000$' <<<"$out" && grep -Eq '^Failed requests: +0$' <<<"$out"; then
            ok ab 1000
        else
            running && bad ab "$(grep -E '^(Complete|Failed) requests|apr_' <<<"$out" | tr '\n' ' ')"
        fi
        sleep "$PAUSE"
    done
}
w_udp() { # UDP echo, each datagram checked; iperf3 -u from a program over ustack
    local out lost
    while running; do
        out=$(kx timeout 60 $TOOL udp-echo "$US_IP" 7 500 2>&1)
        case $out in
        ok*)
            # UDP may lose datagrams: on the link (a 6-fragment one crosses it 12 times), and in
            # full receive queues when the bursts meet the bulk transfers (UDP_RCVBUF_FULL). Only
            # a path that lost most of them is broken; the totals go into the summary.
            lost=$(awk '{print $4}' <<<"$out")
            echo "500 $lost" >>"$TMP/udp.loss"
            if [ "$lost" -gt 375 ]; then bad udp_echo "$out"; else ok udp_echo "$(awk '{print $2}' <<<"$out")"; fi ;;
        *) running && bad udp_echo "$out" ;;
        esac
        # `ustack run -- iperf3 -u -c`, sending and (-R) receiving; iperf3 -s on the kernel
        local rev=()
        [ $((RANDOM % 2)) = 1 ] && rev=(-R)
        out=$(us_run_t 60 iperf3 -u -c "$HOST_IP" -p 5201 -b 20M -t 5 "${rev[@]}" 2>&1)
        if grep -q 'receiver' <<<"$out"; then
            ok iperf3_udp 0
        elif grep -q 'unable to read from stream socket' <<<"$out" && ! grep -q ' sec ' <<<"$out"; then
            # No interval ever ran: iperf3's UDP start-up datagram or its reply was lost on the
            # link, and iperf3 (3.12) does not resend it but gives up after 30 s. Between two
            # Linux hosts through the same bridge and profile it happens about once in 60 runs.
            echo iperf3 >>"$TMP/iperf.lost"
        else
            running && bad iperf3_udp "$(tail -2 <<<"$out" | tr '\n' ' ')"
        fi
        sleep "$PAUSE"
    done
}
w_ping() { # both ways, some fragmented
    local out got
    while running; do
        out=$(kx ping -n -q -c 20 -i 0.2 -W 2 -s $((RANDOM % 2 ? 56 : 3000)) "$US_IP" 2>&1)
        got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
        [ "${got:-0}" -ge 10 ] && ok ping_kernel 0 || { running && bad ping_kernel "$(grep transmitted <<<"$out")"; }
        out=$(us ping -c 10 -i 0.2 -W 2 "$HOST_IP" 2>&1)
        got=$(sed -n 's/.* \([0-9]*\) \(packets \)\{0,1\}received.*/\1/p' <<<"$out")
        [ "${got:-0}" -ge 5 ] && ok ping_ustack 0 || { running && bad ping_ustack "$(tail -2 <<<"$out" | tr '\n' ' ')"; }
    done
}
w_flood() { # SYN floods, from the kernel's address and from four unanswered ones
    local a
    sleep 20
    while running; do
        for a in "$HOST_IP" 192.0.2.100 192.0.2.101 192.0.2.102 192.0.2.103; do
            kx timeout 60 hping3 -q -S -p 80 -i u200 -c 2000 -a "$a" -I "$KDEV" "$US_IP" >/dev/null 2>&1 &
        done
        wait
        ok syn_flood 0
        local t=$(($(now) + FLOOD_EVERY))
        while running && [ "$(now)" -lt "$t" ]; do sleep 2; done
    done
}
INJECT_CASES=$(sed -n 's/^    "\([a-z0-9_]*\)": .*/\1/p' tests/interop/inject.py)
w_inject() { # every malformed-frame case
    local kmac c
    kmac=$(kx cat "/sys/class/net/$KDEV/address")
    sleep 10
    while running; do
        for c in $INJECT_CASES; do
            [ "$c" = eth_truncated ] && continue # AF_PACKET will not send it (malformed.sh)
            kx $INJECT "$KDEV" "$kmac" "$US_MAC" "$HOST_IP" "$US_IP" "$c" >/dev/null 2>&1 ||
                bad inject "$c: inject.py failed"
        done
        ok inject 0
        local t=$(($(now) + INJECT_EVERY))
        while running && [ "$(now)" -lt "$t" ]; do sleep 2; done
    done
}

monitor &
MON=$!
WORKERS=()
for w in w_bulk_down w_bulk_run_down w_bulk_run_up w_echo w_redis w_http w_udp w_ping w_flood w_inject; do
    $w &
    WORKERS+=($!)
done
BG_PIDS+=("$MON" "${WORKERS[@]}")
# Progress every 5 minutes.
while running; do
    sleep 10
    if [ $(( ($(now) - T0) % 300 )) -lt 10 ]; then
        last=$(tail -1 "$CSV")
        log "$(($(now) - T0)) s: rss $(col "$last" rss_kb) KiB, sockets $(col "$last" sockets), timer heap $(col "$last" timer_heap), checks ok $(grep -c '^ok' "$RES"), failed $(grep -c '^FAIL' "$RES")"
    fi
done
kill -0 "$US_PID" 2>/dev/null || fail "the daemon died during the soak"
# The loops stop at END; a transfer in flight finishes (bounded by its own timeout).
for p in "${WORKERS[@]}" "$MON"; do
    for _ in $(seq 400); do kill -0 "$p" 2>/dev/null || break; sleep 1; done
    kill -0 "$p" 2>/dev/null && { fail "a traffic loop (pid $p) did not stop within 400 s"; kill "$p"; }
done
TRAFFIC_END=$(($(now) - T0))

# ---- drain: TIME-WAIT (2*MSL = 60 s) and the half-open connections of the floods -------------
log "traffic stopped at $TRAFFIC_END s; waiting (up to 150 s) for the daemon to come back to idle"
idle() {
    local s
    s=$(sample) || return 1
    echo "$s" >>"$CSV"
    for c in sockets tcp_blocks tcp_timewait fds RUN_SOCKETS RUN_CLIENTS pkt_small_in_use pkt_large_in_use; do
        [ "$(col "$s" $c)" -le "$(col "$BASE" $c)" ] || return 1
    done
    [ "$(col "$s" frag_dgrams)" -eq 0 ]
}
if ! wait_for 150 idle; then
    log "not idle after 150 s; the daemon's sockets, and the kernel's on the link:"
    us netstat -anp -i 2>&1 | grep -Ev 'LISTEN|^udp|^Active|^Proto' | sed 's/^/    | /'
    kx ss -tanpi 2>&1 | grep -v LISTEN | head -20 | sed 's/^/    k| /'
fi
sleep "$INTERVAL"
FINAL=$(sample)
echo "$FINAL" >>"$CSV"

# The bridge's own account: frames in, out and lost each way; it must exit 0 on SIGTERM.
BRIDGE_SUMMARY=""
if [ -n "$BR_PID" ]; then
    kill -TERM "$BR_PID"
    wait "$BR_PID"
    rc=$?
    BR_PID=""
    [ "$rc" -eq 0 ] || fail "the bridge exited with status $rc on SIGTERM"
    BRIDGE_SUMMARY=$(grep -- '->' "$TMP/bridge.out")
fi

# ---- verdict ---------------------------------------------------------------------------------
for c in sockets tcp_blocks tcp_hashed tcp_timewait fds RUN_SOCKETS RUN_CLIENTS dgram_pcbs \
    pkt_small_in_use pkt_large_in_use frag_dgrams frag_bytes; do
    assert_eq "$(col "$BASE" $c)" "$(col "$FINAL" $c)" "$c after the drain vs before the traffic"
done
# Lazy cancelling leaves dead entries until they pop or a purge; the live ones are the idle set.
b=$(( $(col "$BASE" timer_heap) - $(col "$BASE" timer_heap_stale) ))
f=$(( $(col "$FINAL" timer_heap) - $(col "$FINAL" timer_heap_stale) ))
[ "$f" -le $((b + 8)) ] || fail "timer heap: $f entries not known dead after the drain, $b before the traffic"
# The counter pairs: what was allocated and not freed is what is live, in every sample.
awk -F, -v cols="$COLS" 'BEGIN { k = split(cols, c, ","); for (i = 1; i <= k; i++) n[c[i]] = i }
    NR > 1 && ($n["TCP_CONN_ALLOC"] - $n["TCP_CONN_FREE"] != $n["tcp_blocks"] ||
               $n["TCP_TW_ALLOC"] - $n["TCP_TW_FREE"] != $n["tcp_timewait"]) { bad++ }
    END { exit bad > 0 }' "$CSV" ||
    fail "a sample where TCP_CONN_ALLOC - TCP_CONN_FREE != tcp_blocks or TCP_TW_ALLOC - TCP_TW_FREE != tcp_timewait"

# RSS flat: after the warm-up (a fifth of the run, at least 60 s), the median of the last third of
# the samples taken during traffic within max(2 MiB, SOAK_RSS_PCT %) of the first third's
# (doc/soak.md).
read -r warm rss_first rss_last rss_peak rss_slope <<<"$(awk -F, -v end="$TRAFFIC_END" '
    NR > 1 { t[++n] = $1; r[n] = $2 }
    function median(a, lo, hi,   m, i, j, x, b) {
        m = 0; for (i = lo; i <= hi; i++) b[++m] = a[i]
        for (i = 2; i <= m; i++) { x = b[i]; for (j = i - 1; j >= 1 && b[j] > x; j--) b[j + 1] = b[j]; b[j + 1] = x }
        return m ? b[int((m + 1) / 2)] : 0
    }
    END {
        warm = end / 5; if (warm < 60) warm = 60
        for (i = 1; i <= n; i++) { if (r[i] > peak) peak = r[i]; if (t[i] >= warm && t[i] <= end) { w[++m] = r[i]; wt[m] = t[i] } }
        k = int(m / 3)
        if (k < 1) { print warm, 0, 0, peak, 0; exit }
        # least-squares slope over the samples after the warm-up, KiB per hour
        for (i = 1; i <= m; i++) { sx += wt[i]; sy += w[i] } ; mx = sx / m; my = sy / m
        for (i = 1; i <= m; i++) { num += (wt[i] - mx) * (w[i] - my); den += (wt[i] - mx) ^ 2 }
        printf "%d %d %d %d %.0f\n", warm, median(w, 1, k), median(w, m - k + 1, m), peak, den ? num / den * 3600 : 0
    }' "$CSV")"
# SOAK_RSS_PCT: the bound's share of the first median (5; run-soak.sh gives the 5-minute ASan run
# 10, doc/soak.md says why).
pct=${SOAK_RSS_PCT:-5}
bound=$((rss_first * pct / 100)); [ "$bound" -lt 2048 ] && bound=2048
[ "$rss_first" -gt 0 ] || fail "too few samples after the warm-up to judge RSS"
[ $((rss_last - rss_first)) -le "$bound" ] ||
    fail "RSS grew: median $rss_first KiB in the first third after warm-up, $rss_last KiB in the last (bound +$bound KiB)"

# Every malformed-frame reason was counted (their frames crossed the impaired link, so "at least
# one" rather than an exact count; malformed.sh checks each exactly).
stats_final=$(stats)
for r in ETH_UNKNOWN_TYPE ETH_NOT_FOR_US ETH_BAD_SRC ARP_BAD_HW ARP_BAD_OP IP_BAD_CSUM IP_BAD_OPTIONS \
    IP_FRAG_OVERLAP IP_FRAG_TOO_BIG ICMP_BAD_CSUM UDP_BAD_CSUM UDP_BAD_LEN UDP_NO_PORT; do
    [ "$(counter "$r" "$stats_final")" -gt 0 ] || fail "drop reason $r never counted (the malformed frames)"
done
[ "$(counter TCP_SYNCOOKIES_SENT "$stats_final")" -gt 0 ] || log "note: no SYN cookies were sent (the floods never filled the SYN queue)"
nfail=$(grep -c '^FAIL' "$RES")
[ "$nfail" -eq 0 ] || fail "$nfail traffic checks failed (listed above)"

# ---- summary ---------------------------------------------------------------------------------
peak() { awk -F, -v c="$1" -v cols="$COLS" 'BEGIN { k = split(cols, h, ","); for (i = 1; i <= k; i++) if (h[i] == c) n = i }
    NR > 1 && $n + 0 > m { m = $n + 0 } END { print m + 0 }' "$CSV"; }
echo
echo "soak summary: $TRAFFIC_END s of traffic over $LINK --impair $IMPAIR ($(basename "$(dirname "$USTACK")") build)"
printf '  %-26s %12s %12s %12s\n' "figure" "before" "peak" "after"
for c in rss_kb fds sockets tcp_blocks tcp_timewait timer_heap timer_heap_cap pkt_small_in_use \
    pkt_small_alloc pkt_large_in_use pkt_large_alloc arp_entries frag_dgrams RUN_SOCKETS established syn_received time_wait; do
    printf '  %-26s %12s %12s %12s\n' "$c" "$(col "$BASE" $c)" "$(peak $c)" "$(col "$FINAL" $c)"
done
printf '  %-26s %s KiB first third, %s KiB last third (bound +%s KiB), slope %s KiB/h, after %s s warm-up\n' \
    "RSS median" "$rss_first" "$rss_last" "$bound" "$rss_slope" "$warm"
printf '  %-26s %s allocated, %s freed; TIME-WAIT records %s made, %s ended\n' "TCP control blocks" \
    "$(col "$FINAL" TCP_CONN_ALLOC)" "$(col "$FINAL" TCP_CONN_FREE)" "$(col "$FINAL" TCP_TW_ALLOC)" "$(col "$FINAL" TCP_TW_FREE)"
[ -s "$TMP/iperf.lost" ] && printf '  %-26s %s\n' "iperf3 -u start-up lost" \
    "$(wc -l <"$TMP/iperf.lost") runs (iperf3 does not resend its UDP start-up datagram)"
[ -s "$TMP/udp.loss" ] && printf '  %-26s %s\n' "UDP echo datagrams" \
    "$(awk '{ s += $1; l += $2 } END { printf "%d sent, %d lost (%.1f%%)", s, l, s ? 100 * l / s : 0 }' "$TMP/udp.loss")"
for c in TCP_RETRANS TCP_RTO TCP_SYNCOOKIES_SENT TCP_SYNCOOKIES_OK TCP_TIMEOUTS NO_BUFFER TCP_NO_MEM \
    TCP_TIMER_RETRY IP_FRAG_TIMEOUT UDP_RCVBUF_FULL TCP_BAD_CSUM UDP_BAD_CSUM IP_BAD_CSUM; do
    printf '  %-26s %s\n' "$c" "$(counter "$c" "$stats_final")"
done
echo "  checks (kind: passed, failed, MB moved):"
awk '{ k = $2; if ($1 == "ok") { okc[k]++; b[k] += $3 } else fc[k]++; kinds[k] = 1 }
    END { for (k in kinds) printf "    %-16s %6d %6d %10.1f\n", k, okc[k], fc[k], b[k] / 1048576 }' "$RES" | sort
[ -n "$BRIDGE_SUMMARY" ] && sed 's/^/  /' <<<"$BRIDGE_SUMMARY"
echo "  total: $(grep -c '^ok' "$RES") passed, $nfail failed; samples in $CSV"
grep '^FAIL' "$RES" | head -20 | sed 's/^/    /'
finish
