#!/usr/bin/env bash
# `ustack run` benchmarks (doc/benchmarks.md): unmodified programs whose sockets live in the ustack
# daemon, each beside the same program kernel-to-kernel over a veth pair, measured in this run.
#
#   bench/run_ustack_run.sh [RAWFILE]     (as root, from the top of the tree, after `make`)
#
# - bulk: `iperf3 -c` (one TCP stream, BENCH_RUN_BULK_SECONDS) to a kernel `iperf3 -s`;
# - rr: bench/rr_conn rr, 1-byte request and 1-byte response on one connection, TCP_NODELAY;
# - conn: bench/rr_conn conn, connect + 1-byte request/response + close, one after the other.
# Namespaces (all ours, removed on any exit):
#   K  the servers (iperf3 -s, rr_conn server) and the daemon, `ustack up --tap --vnet`;
#      the TAP's kernel side is 192.0.2.1/24, ustack 192.0.2.2 (RFC 5737); veth end 198.51.100.1
#   A  loopback only: the client under `ustack run` (a socket that fell back to the kernel
#      there could not reach 192.0.2.1)
#   C  the baseline's client on the kernel, veth end 198.51.100.2/24
# The same server processes serve both clients. Runs alternate, ustack then kernel,
# BENCH_RUN_RUNS times per row; bench-table.py takes the median of the paired ratios. Output:
# key=value lines ("ustack run ..." and "kernel veth ...") on stdout and appended to RAWFILE;
# the rr and conn lines also give the CPU time per operation of every process on the path and
# their sleeps (voluntary context switches) per operation.
# Knobs: BENCH_RUN_ROWS ("bulk rr conn", the rows to run), BENCH_RUN_RUNS (7),
# BENCH_RUN_SECONDS (1, per rr/conn run), BENCH_RUN_BULK_SECONDS (3),
# BENCH_RUN_PERF=FILE: also record the daemon with `perf record -g` during one extra run of
# each row (FILE.bulk, FILE.rr, FILE.conn); BENCH_RUN_STRACE=FILE: `strace -c` the daemon and
# the program during one extra run of each rr/conn row (FILE.WHAT.daemon, FILE.WHAT.program), and
# print their system calls per operation.
set -euo pipefail
REL=${REL:-build/rel}
USTACK=$(realpath "$REL/ustack")
RAW=${1:-/dev/null}
RUNS=${BENCH_RUN_RUNS:-7}
SECS=${BENCH_RUN_SECONDS:-1}
BSECS=${BENCH_RUN_BULK_SECONDS:-3}
PERF=${BENCH_RUN_PERF:-}
STRACE=${BENCH_RUN_STRACE:-}
ROWS=${BENCH_RUN_ROWS:-bulk rr conn}

for f in "$USTACK" "$REL/libustack-preload.so"; do
    [ -e "$f" ] || { echo "run_ustack_run: no $f (run make first)" >&2; exit 1; }
done
command -v iperf3 >/dev/null || { echo "run_ustack_run: SKIP: no iperf3" >&2; exit 0; }
[ -c /dev/net/tun ] || { echo "run_ustack_run: SKIP: no /dev/net/tun" >&2; exit 0; }
if [ -n "$PERF" ] && ! command -v perf >/dev/null; then
    echo "run_ustack_run: BENCH_RUN_PERF needs perf (Debian: linux-perf); not profiling" >&2
    PERF=""
fi
if [ -n "$STRACE" ] && ! command -v strace >/dev/null; then
    echo "run_ustack_run: BENCH_RUN_STRACE needs strace; not tracing" >&2
    STRACE=""
fi

TMP=$(mktemp -d /tmp/usbench-run.XXXXXX)
NSK=usrun-k-$$ NSA=usrun-a-$$ NSC=usrun-c-$$ TAP=usr$$
CTL=$TMP/ctl
. "$(dirname "$0")/lib.sh"
mkns "$NSK"; mkns "$NSA"; mkns "$NSC"
ip link add "vk$$" netns "$NSK" type veth peer name "vc$$" netns "$NSC"
ip -n "$NSK" addr add 198.51.100.1/24 dev "vk$$"
ip -n "$NSC" addr add 198.51.100.2/24 dev "vc$$"
ip -n "$NSK" link set "vk$$" up
ip -n "$NSC" link set "vc$$" up
# The connection-rate client closes first and keeps TIME-WAIT; ustack reuses a TIME-WAIT
# 4-tuple when timestamps protect it (as Linux's tcp_tw_reuse=1 does), so the kernel client
# gets the same, and the wider port range Linux allows.
ip netns exec "$NSC" sysctl -qw net.ipv4.tcp_tw_reuse=1
ip netns exec "$NSC" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"

# the load program: plain sockets, no ustack, no sanitizers
RRC=$TMP/rr_conn
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 bench/rr_conn.c -o "$RRC"

ip netns exec "$NSK" "$USTACK" up --tap "$TAP" --addr 192.0.2.2/24 --host-addr 192.0.2.1/24 \
    --mac 02:00:00:00:00:02 --vnet --ctl "$CTL" >"$TMP/ustack.out" 2>"$TMP/ustack.err" &
US_PID=$!
wait_up run_ustack_run
ip netns exec "$NSK" iperf3 -s -p 5201 >"$TMP/iperf-s.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NSK" "$RRC" server 7000 >"$TMP/rr-s.log" 2>&1 &
RR_SRV=$!
PIDS+=($!)
for _ in $(seq 50); do
    [ "$(ip netns exec "$NSK" ss -Htnl '( sport = :5201 or sport = :7000 )' | wc -l)" -ge 2 ] && break
    sleep 0.1
done

URUN=(ip netns exec "$NSA" "$USTACK" run --ctl "$CTL" --)
KRUN=(ip netns exec "$NSC")


# bulk_gbps FILE: the rate the server received, from iperf3's JSON report.
bulk_gbps() {
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
if "error" in j: sys.exit("iperf3: " + j["error"])
print("%.3f" % (j["end"]["sum_received"]["bits_per_second"] / 1e9))' "$1"
}
# one WHO DEST RUNNER...: runs $WHAT once with RUNNER; prints and records "WHO key=value".
one() {
    local who=$1 dst=$2 out v; shift 2
    case $WHAT in
    bulk)
        if timeout -k 5 $((BSECS + 30)) "$@" iperf3 -J -c "$dst" -p 5201 -t "$BSECS" \
            >"$TMP/iperf.json" 2>"$TMP/iperf.err" && v=$(bulk_gbps "$TMP/iperf.json"); then
            out="run_bulk_gbps=$v"
        else
            out="run_bulk_gbps=fail"; head -c 300 "$TMP/iperf.err" "$TMP/iperf.json" >&2
        fi ;;
    rr | conn)
        local key=run_rr_tps; [ $WHAT = conn ] && key=run_conn_ps
        # CPU time of every process on the path (the client's own figure, the server's and, for
        # ustack, the daemon's from /proc), per operation: the work, apart from scheduling.
        # Sleeps (voluntary context switches) per operation, each a wait for a wake-up: the
        # program's, the server's and the daemon's (0 on the kernel path).
        local pids=("$RR_SRV") t0 t1 s0 s1 d0=0 d1=0
        [ "$who" = "ustack run" ] && pids+=("$US_PID")
        t0=$(ticks "${pids[@]}")
        s0=$(vcsw "$RR_SRV")
        [ "$who" = "ustack run" ] && d0=$(vcsw "$US_PID")
        if v=$(timeout -k 5 $((SECS + 30)) "$@" "$RRC" $WHAT "$dst" 7000 "$SECS" 2>"$TMP/rr.err"); then
            t1=$(ticks "${pids[@]}")
            s1=$(vcsw "$RR_SRV")
            [ "$who" = "ustack run" ] && d1=$(vcsw "$US_PID")
            out="$key=$(cut -d' ' -f1 <<<"${v#*=}") $(awk -v v="$v" -v d=$((t1 - t0)) \
                -v hz="$HZ" -v s=$((s1 - s0)) -v dd=$((d1 - d0)) -v k="${key%_*}" 'BEGIN {
                split(v, f, /[ =]/); n = f[4]
                printf "%s_cpu_us=%.1f %s_sleeps=%.2f %s_sleeps_pds=%.2f/%.2f/%.2f",
                    k, (f[8] + d / hz) / n * 1e6, k, (f[10] + s + dd) / n,
                    k, f[10] / n, dd / n, s / n }')"
        else
            out="$key=fail"; head -c 300 "$TMP/rr.err" >&2
        fi ;;
    esac
    echo "$who $out" | tee -a "$RAW"
}

for WHAT in $ROWS; do
    echo "== ustack run $WHAT: ustack run (lo-only netns -> daemon --vnet -> TAP -> Linux) and" \
        "kernel-to-kernel over veth in turn, $RUNS runs each"
    for i in $(seq "$RUNS"); do
        one "ustack run" 192.0.2.1 "${URUN[@]}"
        one "kernel veth" 198.51.100.1 "${KRUN[@]}"
    done
    if [ -n "$PERF" ]; then
        echo "== perf record -g of the daemon during one more ustack run $WHAT -> $PERF.$WHAT"
        perf record -g -o "$PERF.$WHAT" -p "$US_PID" >/dev/null 2>"$TMP/perf.err" &
        pp=$!
        sleep 0.3
        RAW=/dev/null one "profiled" 192.0.2.1 "${URUN[@]}" >/dev/null
        kill -INT "$pp"; wait "$pp" || true
    fi
    if [ -n "$STRACE" ] && [ "$WHAT" != bulk ]; then
        # Counts only: the rate under strace means nothing. Per operation: the calls over the
        # operations the traced run made.
        echo "== strace -c of the daemon and the program during one more ustack run $WHAT" \
            "-> $STRACE.$WHAT.{daemon,program}"
        strace -c -o "$STRACE.$WHAT.daemon" -p "$US_PID" 2>"$TMP/strace.err" &
        sp=$!
        sleep 0.3
        v=$(timeout -k 5 $((SECS + 30)) "${URUN[@]}" strace -c -f -o "$STRACE.$WHAT.program" \
            "$RRC" $WHAT 192.0.2.1 7000 "$SECS" 2>"$TMP/rr.err") || v=""
        kill -INT "$sp"; wait "$sp" || true
        ops=$(sed -n 's/.*\(transactions\|connections\)=\([0-9]*\).*/\2/p' <<<"$v")
        if [ -n "$ops" ] && [ "$ops" -gt 0 ]; then
            for who in daemon program; do
                echo "$who, per operation ($ops operations):"
                # strace -c rows: % time, seconds, usecs/call, calls, [errors,] name
                awk -v n="$ops" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $4 / n >= 0.005 {
                    e = (NF == 6 ? $5 : 0)
                    printf "  %-16s %7.2f", $NF, $4 / n
                    if (e / n >= 0.005) printf "  (%.2f failed)", e / n
                    printf "\n" }' "$STRACE.$WHAT.$who"
            done
        else
            echo "strace run failed: $(head -c 300 "$TMP/rr.err")" >&2
        fi
    fi
done
