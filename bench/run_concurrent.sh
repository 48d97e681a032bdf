#!/usr/bin/env bash
# Many concurrent downloads (doc/benchmarks.md): wrk with N connections fetching one file
# from ustack's HTTP server (`ustack up --serve http=DIR`) over a TAP, beside the same wrk
# fetching the same file from nginx on the kernel over a veth pair, in turn, in this run.
#
#   bench/run_concurrent.sh [RAWFILE]     (as root, from the top of the tree, after `make`)
#
# Rows: file size (16 KiB, 1 MiB) x N (BENCH_CONC_CONNS) x mode. Mode "offload" is the default
# daemon (virtio-net header: checksum offload, TSO, GSO) against the veth pair with its default
# features (the same offloads); mode "no-offload" is `ustack up --no-offload` against the veth
# pair with checksum offload, scatter-gather, TSO, GSO and GRO turned off on both ends (ethtool),
# so both sides move, checksum and acknowledge every 1500-byte frame themselves.
# Namespaces (all ours, removed on any exit):
#   C  wrk; the TAP's kernel end 192.0.2.1/24 (the daemon runs here; ustack is 192.0.2.2,
#      RFC 5737), veth end 198.51.100.2/24
#   S  nginx (one worker) on the other veth end 198.51.100.1/24
# Both links have MTU 1500. Pinning (2 CPUs): the server (the daemon, or nginx's master and its
# one worker) on the last CPU, wrk (2 threads) on the first; the kernel's work for a frame
# runs mostly in the softirq of the CPU that sent it, so each side's kernel work lands the same
# way for both servers. With one CPU nothing is pinned.
# For each ustack run, the daemon's counters (netstat -s) before and after give the TAP drops
# (TAP_KERNEL_DROPS), RTOs (TCP_RTO) and retransmitted segments (TCP_RETRANS); the kernel in C
# gives the segments it received (IpExtInNoECTPkts; it counts a TSO super-frame from the TAP
# as one, so with offloads the segments are estimated as the bytes wrk read over the MSS) and
# the duplicate segments it reported with a D-SACK (TCPDSACKOldSent + TCPDSACKOfoSent:
# retransmissions that were spurious). For nginx, the kernel in S gives its own segments sent,
# retransmitted and its tail loss probes. For both servers, their CPU time and their time
# runnable but waiting for a CPU (/proc/PID/schedstat) over the run.
# Output: key=value lines ("ustack conc ..." and "kernel conc ...") on stdout and appended to
# RAWFILE; without RAWFILE, the table (scripts/bench-table.py --conc) at the end.
# Knobs: BENCH_CONC_RUNS (5 run pairs per row), BENCH_CONC_SECONDS (5 per wrk run),
# BENCH_CONC_CONNS (20,200), BENCH_CONC_MODES (offload,no-offload), BENCH_CONC_SIZES (16k,1m),
# BENCH_CONC_PIN (1; 0 pins nothing), BENCH_CONC_PERF=FILE: also record the daemon with
# `perf record --call-graph dwarf` during one extra ustack run of each row, into
# FILE.MODE.SIZE.N.
set -euo pipefail
REL=${REL:-build/rel}
USTACK=$(realpath "$REL/ustack")
RAW=${1:-/dev/null}
RUNS=${BENCH_CONC_RUNS:-5}
SECS=${BENCH_CONC_SECONDS:-5}
IFS=, read -ra CONNS <<<"${BENCH_CONC_CONNS:-20,200}"
IFS=, read -ra MODES <<<"${BENCH_CONC_MODES:-offload,no-offload}"
IFS=, read -ra SIZES <<<"${BENCH_CONC_SIZES:-16k,1m}"
PERF=${BENCH_CONC_PERF:-}
LUA=$(realpath bench/conc_wrk.lua)

[ -x "$USTACK" ] || { echo "run_concurrent: no $USTACK (run make first)" >&2; exit 1; }
for t in wrk nginx ethtool nstat; do
    command -v $t >/dev/null ||
        { echo "run_concurrent: SKIP: no $t (scripts/deps.sh)" >&2; exit 0; }
done
[ -c /dev/net/tun ] || { echo "run_concurrent: SKIP: no /dev/net/tun" >&2; exit 0; }
if [ -n "$PERF" ] && ! command -v perf >/dev/null; then
    echo "run_concurrent: BENCH_CONC_PERF needs perf (Debian: linux-perf); not profiling" >&2
    PERF=""
fi
SRV_PIN=() CLI_PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ] && [ "${BENCH_CONC_PIN:-1}" = 1 ]; then
    SRV_PIN=(taskset -c $(($(nproc) - 1)))
    CLI_PIN=(taskset -c 0)
fi

TMP=$(mktemp -d /tmp/usbench-conc.XXXXXX)
NSC=usconc-c-$$ NSS=usconc-s-$$ TAP=usc$$ VC=vcc$$ VS=vcs$$
CTL=$TMP/ctl
WWW=$TMP/www
LOCAL=$TMP/raw
NGX_PID=""
. "$(dirname "$0")/lib.sh"
mkns "$NSC"; mkns "$NSS"
# wrk opens N new connections each run, and the runs follow each other closely: give the
# client the wider port range Linux allows.
ip netns exec "$NSC" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"

# mkveth on|off: (re)makes the veth pair, with Linux's default features (on) or with checksum
# offload, scatter-gather, TSO, GSO and GRO off on both ends (off).
mkveth() {
    ip -n "$NSC" link del "$VC" 2>/dev/null || true
    ip link add "$VC" netns "$NSC" mtu 1500 type veth peer name "$VS" netns "$NSS" mtu 1500
    ip -n "$NSC" addr add 198.51.100.2/24 dev "$VC"
    ip -n "$NSS" addr add 198.51.100.1/24 dev "$VS"
    if [ "$1" = off ]; then
        ip netns exec "$NSC" ethtool -K "$VC" tx off rx off sg off tso off gso off gro off >/dev/null
        ip netns exec "$NSS" ethtool -K "$VS" tx off rx off sg off tso off gso off gro off >/dev/null
    fi
    ip -n "$NSC" link set "$VC" up
    ip -n "$NSS" link set "$VS" up
}

mkdir -p "$WWW"
head -c $((16 * 1024)) /dev/urandom >"$WWW/16k"
head -c $((1024 * 1024)) /dev/urandom >"$WWW/1m"
bytes_of() { case $1 in 16k) echo $((16 * 1024)) ;; 1m) echo $((1024 * 1024)) ;; esac; }

# nginx: one worker like the single-threaded daemon, Debian's own defaults for static files
# (sendfile, tcp_nopush), no access log (ustack's server keeps none), no limit on the requests
# of a kept-alive connection (ustack's server has none).
mkdir -p "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    server {
        listen 80 backlog=4096;
        root $WWW;
    }
}
CONF
ip netns exec "$NSS" "${SRV_PIN[@]}" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
    >"$TMP/nginx.out" 2>&1 &
NGX_PID=$!
PIDS+=("$NGX_PID")

# us_up [OPTIONS...]: (re)starts the daemon serving $WWW and waits for its up line.
us_up() {
    if [ -n "$US_PID" ]; then
        kill -TERM "$US_PID"; wait "$US_PID" || true; US_PID=""
        for _ in $(seq 50); do ip -n "$NSC" link show "$TAP" >/dev/null 2>&1 || break; sleep 0.1; done
    fi
    ip netns exec "$NSC" "${SRV_PIN[@]}" "$USTACK" up --tap "$TAP" --addr 192.0.2.2/24 \
        --host-addr 192.0.2.1/24 --mac 02:00:00:00:00:02 --ctl "$CTL" --serve http="$WWW" "$@" \
        >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
    US_PID=$!
    wait_up run_concurrent
}


# counter NAME TEXT: one counter from `ustack netstat -s` text.
counter() { awk -v n="$1" '$1 == n { print $2; exit }' <<<"$2"; }
# kstat NS NAME...: the kernel's counters in NS, absolute, space-separated.
kstat() {
    local ns=$1 t; shift
    t=$(ip netns exec "$ns" nstat -asz "$@")
    for n in "$@"; do awk -v n="$n" '$1 == n { v = $2 } END { printf "%d ", v }' <<<"$t"; done
}

# wrk_run WHO URL SIZE N: one wrk run; prints its wrkstat line (or "wrkstat ok=0 ..." on failure).
wrk_run() {
    local out
    if out=$(ip netns exec "$NSC" timeout -k 5 $((SECS + 60)) "${CLI_PIN[@]}" wrk -t2 -c"$4" \
        -d"${SECS}s" --timeout 10s -s "$LUA" "$2" -- "$3" 2>"$TMP/wrk.err"); then
        grep '^wrkstat ' <<<"$out" || echo "wrkstat ok=0 rps=fail"
    else
        head -c 300 "$TMP/wrk.err" >&2
        echo "wrkstat ok=0 rps=fail"
    fi
}

# cpu_pct T0 T1: the share of one CPU those ticks are over the run (the server's CPU time; on a
# shared machine, well under 100 while the server had work says it waited for its CPU).
# waited PID...: their time runnable but not running so far, in ns (/proc/PID/schedstat).
waited() {
    local p t=0
    for p in "$@"; do t=$((t + $(awk '{ print $2 }' "/proc/$p/schedstat"))); done
    echo $t
}
# wait_pct W0 W1: that time over the run, in percent of the run (0 with a CPU to itself).
wait_pct() { awk -v d=$(($2 - $1)) -v s="$SECS" 'BEGIN { printf "%.0f", d / 1e9 / s * 100 }'; }
cpu_pct() { awk -v d=$(($2 - $1)) -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.0f", d / hz / s * 100 }'; }

KC=(IpExtInNoECTPkts TcpExtTCPDSACKOldSent TcpExtTCPDSACKOfoSent)
KS=(TcpOutSegs TcpRetransSegs TcpExtTCPLossProbes)
one() { # WHO MODE SIZE N
    local who=$1 mode=$2 size=$3 n=$4 bytes w s0 s1 k0 k1 t0 t1 r0 r1 extra
    bytes=$(bytes_of "$size")
    if [ "$who" = ustack ]; then
        s0=$(USTACK_CTL=$CTL "$USTACK" netstat -s)
        read -ra k0 <<<"$(kstat "$NSC" "${KC[@]}")"
        t0=$(ticks "$US_PID") r0=$(waited "$US_PID")
        w=$(wrk_run ustack "http://192.0.2.2/$size" "$bytes" "$n")
        t1=$(ticks "$US_PID") r1=$(waited "$US_PID")
        read -ra k1 <<<"$(kstat "$NSC" "${KC[@]}")"
        s1=$(USTACK_CTL=$CTL "$USTACK" netstat -s)
        local d
        extra=""
        for d in TAP_KERNEL_DROPS TCP_RTO TCP_RETRANS TCP_TLP_PROBES TCP_OUT_SEGS; do
            extra+=" ${d,,}=$(($(counter $d "$s1") - $(counter $d "$s0")))"
        done
        # The kernel counts a TSO super-frame from the TAP as one datagram; segments on the wire
        # are at least the bytes wrk read over the MSS (1448 with timestamps).
        local segs=$((k1[0] - k0[0])) rd
        rd=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$w")
        [ $((${rd:-0} / 1448)) -gt $segs ] && segs=$((rd / 1448))
        extra+=" wire_segs=$segs dsack_dups=$((k1[1] - k0[1] + k1[2] - k0[2]))"
        extra+=" server_cpu_pct=$(cpu_pct "$t0" "$t1") server_wait_pct=$(wait_pct "$r0" "$r1")"
    else
        read -ra k0 <<<"$(kstat "$NSS" "${KS[@]}")"
        t0=$(ticks "$NGX_WORKER") r0=$(waited "$NGX_WORKER")
        w=$(wrk_run kernel "http://198.51.100.1/$size" "$bytes" "$n")
        t1=$(ticks "$NGX_WORKER") r1=$(waited "$NGX_WORKER")
        read -ra k1 <<<"$(kstat "$NSS" "${KS[@]}")"
        extra=" wire_segs=$((k1[0] - k0[0])) tcp_retrans=$((k1[1] - k0[1])) tcp_tlp_probes=$((k1[2] - k0[2]))"
        extra+=" server_cpu_pct=$(cpu_pct "$t0" "$t1") server_wait_pct=$(wait_pct "$r0" "$r1")"
    fi
    echo "$who conc mode=$mode size=$size conns=$n ${w#wrkstat }$extra" | tee -a "$RAW" "$LOCAL"
}

for _ in $(seq 50); do
    ip netns exec "$NSS" ss -Htnl 'sport = :80' | grep -q . && break
    sleep 0.1
done
ip netns exec "$NSS" ss -Htnl 'sport = :80' | grep -q . || {
    echo "run_concurrent: nginx did not start:" >&2; cat "$TMP/nginx.out" >&2; exit 1; }
NGX_WORKER=$(pgrep -P "$NGX_PID" | head -1)
[ -n "$NGX_WORKER" ] || { echo "run_concurrent: no nginx worker" >&2; exit 1; }

for mode in "${MODES[@]}"; do
    if [ "$mode" = offload ]; then us_up; mkveth on; else us_up --no-offload; mkveth off; fi
    for size in "${SIZES[@]}"; do
        for n in "${CONNS[@]}"; do
            echo "== concurrent downloads, $mode, $size file, $n connections: wrk against ustack" \
                "(TAP) and nginx (kernel, veth) in turn, $RUNS runs of ${SECS} s each"
            for i in $(seq "$RUNS"); do
                one ustack "$mode" "$size" "$n"
                one kernel "$mode" "$size" "$n"
            done
            if [ -n "$PERF" ]; then
                echo "== perf record of the daemon during one more ustack run -> $PERF.$mode.$size.$n"
                perf record --call-graph dwarf,16384 -o "$PERF.$mode.$size.$n" -p "$US_PID" >/dev/null 2>"$TMP/perf.err" &
                pp=$!
                sleep 0.3
                RAW=/dev/null LOCAL=/dev/null one ustack "$mode" "$size" "$n" >/dev/null
                kill -INT "$pp"; wait "$pp" || true
            fi
        done
    done
done
# the table; scripts/run-bench.sh prints it with the others at its end
[ "$RAW" != /dev/null ] || python3 scripts/bench-table.py --conc "$LOCAL"
