#!/usr/bin/env bash
# Builds and runs the benchmarks against the release library; prints their tables, then one
# combined TCP table (ustack beside a baseline measured in this run, ratio, target, met?).
# Knobs (environment): BENCH_RUNS (3), BENCH_BULK_BYTES (268435456), BENCH_RR (1000000),
# BENCH_CONNS (1000,10000,100000), BENCH_MEM_CONNS (1000000), BENCH_TAP (1; 0 skips the TAP part),
# BENCH_TAP_RUNS (7), BENCH_IDLE (10000), BENCH_IDLE_RUNS (5), BENCH_RUN (1; 0 skips the `ustack run`
# part; its own knobs are at the top of bench/run_ustack_run.sh), BENCH_CONC (1; 0 skips the
# concurrent downloads; their knobs are at the top of bench/run_concurrent.sh), BENCH_LOSS (1; 0
# skips the loss-recovery part, bench/run_bridge_loss.sh, whose knobs are at its top:
# BENCH_LOSS_SEEDS, BENCH_LOSS_BYTES, BENCH_LOSS_PROFILES, BENCH_LOSS_TIMEOUT).
set -euo pipefail
CC=${CC:-cc}
RUNS=${BENCH_RUNS:-3}
BULK=${BENCH_BULK_BYTES:-268435456}
RR=${BENCH_RR:-1000000}
CONNS=${BENCH_CONNS:-1000,10000,100000}
MEMN=${BENCH_MEM_CONNS:-1000000}
TAP_RUNS=${BENCH_TAP_RUNS:-7}
D=build/rel/bench
mkdir -p $D
for b in bench/*.c; do
    # standalone: lwip_* built by build-lwip.sh, rr_conn.c (plain sockets) by run_ustack_run.sh,
    # bulk_conn.c (plain sockets) by run_bridge_loss.sh
    case $(basename "$b") in lwip_* | rr_conn.c | bulk_conn.c) continue ;; esac
    out=$D/$(basename "$b" .c)
    # (libustack-apps: bench_tcp's idle rows run the built-in services)
    $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -g -Iinclude -Isrc -Iapps -Itests "$b" tests/lib/sim.c \
        build/rel/libustack-apps.a build/rel/libustack.a -lpcap -lresolv -lz -lm -o "$out"
done

# The in-memory benchmarks run on one CPU, ustack and its baseline alike, in turn: one run of
# ustack, one of lwIP, RUNS times for each metric, each run in a fresh process (lwip_bench forks
# one per run anyway); the table takes medians and the median of the paired ratios. On a VM the
# vCPUs' speed drifts from minute to minute and differs between them (here up to 1.5x), so a
# ratio must compare runs taken side by side.
# BENCH_CPU picks the CPU (default: the last one); the TAP benchmarks are not pinned (their
# kernel peers need the other CPU).
PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    PIN=(taskset -c "${BENCH_CPU:-$(($(nproc) - 1))}")
fi

echo "== bench_core"
"${PIN[@]}" $D/bench_core

RAW=$D/tcp-raw.txt
: >"$RAW"
have_lwip=0
if pkg-config --exists lwip 2>/dev/null; then
    bash bench/build-lwip.sh >/dev/null
    have_lwip=1
else
    echo "== lwip_bench skipped: liblwip-dev not installed"
fi
for mtu in 1500 9000; do
    for what in bulk rr conn; do
        echo "== $what, MTU $mtu: bench_tcp (ustack) and lwip_bench (lwIP 2.1.3) in turn, $RUNS" \
            "runs each, in-memory link"
        for i in $(seq "$RUNS"); do
            "${PIN[@]}" $D/bench_tcp --mtu $mtu --runs 1 --bulk-bytes "$BULK" --rr "$RR" \
                --conns "$CONNS" --only $what | tee -a "$RAW"
            if [ $have_lwip = 1 ]; then
                "${PIN[@]}" $D/lwip_bench --mtu $mtu --runs 1 --bulk-bytes "$BULK" --rr "$RR" \
                    --conns "$CONNS" --only $what | tee -a "$RAW" || true
            fi
        done
    done
done
echo "== bench_tcp --only idle: the services loop (as the daemon runs it) with 0 and" \
    "${BENCH_IDLE:-10000} idle connections, ${BENCH_IDLE_RUNS:-5} paired runs, in-memory link"
"${PIN[@]}" $D/bench_tcp --only idle --idle "${BENCH_IDLE:-10000}" --rr 200000 \
    --runs "${BENCH_IDLE_RUNS:-5}" | tee -a "$RAW"
echo "== bench_mem $MEMN"
"${PIN[@]}" $D/bench_mem "$MEMN" | tee -a "$RAW"

# TAP: a namespace of our own (RFC 5737 addresses), removed on any exit.
if [ "${BENCH_TAP:-1}" = 1 ] && [ -c /dev/net/tun ] && ip netns add "usbench-$$" 2>/dev/null; then
    NS=usbench-$$
    trap 'ip netns del "$NS" 2>/dev/null || true' EXIT INT TERM
    ip -n "$NS" link set lo up
    # One run of ustack, then one of its ceiling, TAP_RUNS times per direction; the table takes
    # the median of the paired ratios. On this VM one TAP run differs from the next by up to
    # 1.5x for either program (the kernel peer's scheduling and ACK timing: the same binary gave
    # 1.8 to 3.3 Gbit/s in consecutive runs), so three runs of each in a row decided little.
    for vnet in 0 1; do
        echo "== bench_tap --vnet $vnet (ustack on TAP vs Linux in netns $NS) and tap_ceiling" \
            "(no TCP stack on the same TAP: minimal sender, stateless reflector) in turn," \
            "$TAP_RUNS runs each"
        for what in tx rx rr; do
            # A run that fails leaves a "fail" figure in its place, so the pairs stay aligned.
            key=${what}_gbps; [ $what = rr ] && key=rr_kps
            tag=tap; [ $vnet = 1 ] && tag=tap_vnet
            for i in $(seq "$TAP_RUNS"); do
                $D/bench_tap "$NS" --runs 1 --bytes "$BULK" --rr 20000 --vnet $vnet \
                    --only $what | tee -a "$RAW" || echo "ustack $tag mtu=1500 $key=fail" >>"$RAW"
                $D/tap_ceiling "$NS" --runs 1 --bytes "$BULK" --rr 20000 --vnet $vnet \
                    --only $what | tee -a "$RAW" ||
                    echo "ceiling tap mtu=1500 vnet=$vnet $key=fail" >>"$RAW"
            done
        done
    done
else
    echo "== TAP benchmarks skipped (BENCH_TAP=0, no /dev/net/tun or no netns)"
fi

# `ustack run`: unmodified programs (iperf3, bench/rr_conn) with their sockets in the daemon,
# against the same programs kernel-to-kernel over a veth pair, in turn (its own namespaces).
if [ "${BENCH_RUN:-1}" = 1 ]; then
    bash bench/run_ustack_run.sh "$RAW" || echo "== ustack run benchmarks failed (exit $?)"
else
    echo "== ustack run benchmarks skipped (BENCH_RUN=0)"
fi

# Concurrent downloads: wrk against ustack's HTTP server on a TAP and against nginx on the
# kernel over a veth pair, in turn (its own namespaces).
if [ "${BENCH_CONC:-1}" = 1 ]; then
    bash bench/run_concurrent.sh "$RAW" || echo "== concurrent download benchmarks failed (exit $?)"
else
    echo "== concurrent download benchmarks skipped (BENCH_CONC=0)"
fi

# Loss recovery: ustack -> Linux beside Linux -> Linux through `ustack bridge`, same profiles
# and seeds (its own namespaces).
if [ "${BENCH_LOSS:-1}" = 1 ]; then
    bash bench/run_bridge_loss.sh "$RAW" || echo "== loss-recovery benchmarks failed (exit $?)"
else
    echo "== loss-recovery benchmarks skipped (BENCH_LOSS=0)"
fi

python3 scripts/bench-table.py "$RAW"
