#!/usr/bin/env bash
# Loss-recovery rows (doc/benchmarks.md): BENCH_LOSS_BYTES (100 MB) from ustack to Linux and from
# Linux to Linux through `ustack bridge` with the same seeded impairment, for each profile and
# seed, in turn (ustack, then Linux, same seed).
#
#   bench/run_bridge_loss.sh [RAWFILE]     (as root, from the top of the tree, after `make`)
#
# Namespaces (all ours, removed on any exit), addresses from RFC 5737:
#   A  Linux sender: veth va, 198.51.100.1, `bulk_conn serve 5001` (RFC 864 pattern)
#   U  ustack sender: `ustack up --no-offload --serve chargen` on its TAP lu<pid>, 198.51.100.3;
#      also va's peer vp. Neither the TAP's kernel side nor vp has an address.
#   B  the receiver: persistent TAP lb, 198.51.100.2, `bulk_conn recv` (same program both rows),
#      and the bridge: `ustack bridge packet:vp@U tap:lb` or `ustack bridge packet:lu<pid>@U tap:lb`
# So both senders reach the bridge the same way: their frames arrive on an interface in U (vp
# from the veth, the TAP from the daemon's writes), which the bridge reads with an AF_PACKET
# socket and recvmmsg, and leave it through the same TAP lb into the same receiving kernel; the
# bridge is restarted for every run with the same impairment and seed.
# Plain frames: va has checksum offload, TSO and GSO off (the kernel finishes every segment and
# its checksum before the veth), vp has GRO off, lb has no virtio-net header, and the daemon
# runs --no-offload; MTU 1500 everywhere, so both senders put the same 1448-byte segments (with
# timestamps) on the wire. Linux A saves no TCP metrics between runs (tcp_no_metrics_save=1),
# as ustack keeps none.
# Counters per run: the sender's RTOs, retransmitted segments and tail loss probes (ustack:
# netstat -s TCP_RTO, TCP_RETRANS, TCP_TLP_PROBES; Linux: TcpExt TCPTimeouts, Tcp RetransSegs,
# TcpExt TCPLossProbes in A), and the frames the bridge
# dropped each way. Output: "bridge who=ustack|linux profile=... seed=... secs=..." lines on
# stdout and appended to RAWFILE; scripts/bench-table.py makes the table.
# Knobs: BENCH_LOSS_SEEDS (5: seeds 1..N), BENCH_LOSS_BYTES (104857600), BENCH_LOSS_PROFILES
# (clean,loss1,loss5,reorder,blackout; also: delay, reorder's 10 ms without the early frames),
# BENCH_LOSS_TIMEOUT (300 s per transfer), BENCH_LOSS_LINUX_CC (the Linux sender's congestion
# control: cubic, ustack's), BENCH_LOSS_TRACE (FILE: the daemon runs with --trace
# into FILE, for a look at one short run: it slows the sender).
# The impairment applies to both directions (data and ACKs), each with its own stream of the
# seed, as `ustack up --impair` does.
set -euo pipefail
REL=${REL:-build/rel}
USTACK=$(realpath "$REL/ustack")
RAW=${1:-/dev/null}
SEEDS=${BENCH_LOSS_SEEDS:-5}
BYTES=${BENCH_LOSS_BYTES:-104857600}
PROFILES=${BENCH_LOSS_PROFILES:-clean,loss1,loss5,reorder,blackout}
TIMEOUT=${BENCH_LOSS_TIMEOUT:-300}
LINUX_CC=${BENCH_LOSS_LINUX_CC:-cubic}

spec_of() {
    case $1 in
    clean) echo "" ;;               # no impairment: the reference, and the bridge's own rate
    loss1) echo "loss=0.01" ;;
    loss5) echo "loss=0.05" ;;
    reorder) echo "delay=10ms,early=0.02" ;;  # netem's "delay 10ms reorder 2%"
    delay) echo "delay=10ms" ;;               # not by default: reorder's delay alone
    # 10 ms of every second, the first 100 ms after the bridge starts: the transfer has begun
    # (it starts as soon as the bridge is up), so both senders meet it at the same point
    blackout) echo "blackout_start=100ms,blackout_len=10ms,blackout_every=1s" ;;
    *) echo "run_bridge_loss: unknown profile $1" >&2; return 1 ;;
    esac
}

[ -x "$USTACK" ] || { echo "run_bridge_loss: no $USTACK (run make first)" >&2; exit 1; }
[ -c /dev/net/tun ] || { echo "run_bridge_loss: SKIP: no /dev/net/tun" >&2; exit 0; }

TMP=$(mktemp -d /tmp/usbench-loss.XXXXXX)
NSA=usloss-a-$$ NSB=usloss-b-$$ NSU=usloss-u-$$ UTAP=lu$$
A_IP=198.51.100.1 B_IP=198.51.100.2 U_IP=198.51.100.3 U_MAC=02:00:00:00:00:03
CTL=$TMP/ctl
BR_PID=""
. "$(dirname "$0")/lib.sh"
cleanup_first() { [ -n "$BR_PID" ] && kill -TERM "$BR_PID" 2>/dev/null && wait "$BR_PID" 2>/dev/null; }
mkns "$NSA"; mkns "$NSB"; mkns "$NSU"
ip -n "$NSA" link add va type veth peer name vp netns "$NSU"
ip -n "$NSB" tuntap add dev lb mode tap
ip -n "$NSA" addr add "$A_IP/24" dev va
ip -n "$NSB" addr add "$B_IP/24" dev lb
ip -n "$NSA" link set va up
ip -n "$NSU" link set vp up
ip -n "$NSB" link set lb up
if ! ip netns exec "$NSA" ethtool -K va tx off tso off gso off >/dev/null 2>&1 ||
    ! ip netns exec "$NSU" ethtool -K vp gro off >/dev/null 2>&1; then
    echo "run_bridge_loss: SKIP: cannot turn offloads off on the veth (ethtool)" >&2
    exit 0
fi
ip netns exec "$NSA" sysctl -qw net.ipv4.tcp_no_metrics_save=1
ip netns exec "$NSB" sysctl -qw net.ipv4.tcp_no_metrics_save=1
# Static neighbours between the Linux hosts: no ARP frame crosses the impaired bridge for them.
ip -n "$NSA" neigh replace "$B_IP" lladdr "$(ip netns exec "$NSB" cat /sys/class/net/lb/address)" \
    dev va nud permanent
ip -n "$NSB" neigh replace "$A_IP" lladdr "$(ip netns exec "$NSA" cat /sys/class/net/va/address)" \
    dev lb nud permanent
ip -n "$NSB" neigh replace "$U_IP" lladdr "$U_MAC" dev lb nud permanent

BULK=$TMP/bulk_conn
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 bench/bulk_conn.c -o "$BULK"
# The same congestion control as ustack's (CUBIC), not the host's default, which a namespace
# inherits: BBR on some hosts, which takes no cut for random loss, another algorithm altogether.
ip netns exec "$NSA" "$BULK" serve 5001 "$LINUX_CC" >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
US_OUT=${BENCH_LOSS_TRACE:-$TMP/ustack.out}
ip netns exec "$NSU" "$USTACK" up --tap "$UTAP" --addr "$U_IP/24" --mac "$U_MAC" --no-offload \
    --serve chargen --ctl "$CTL" --seed 1 ${BENCH_LOSS_TRACE:+--trace} >"$US_OUT" 2>&1 &
US_PID=$!
for _ in $(seq 100); do grep -q "ustack: up on" "$US_OUT" 2>/dev/null && break; sleep 0.1; done
grep -q "ustack: up on" "$US_OUT" || { echo "run_bridge_loss: ustack not up" >&2; exit 1; }

# us_count NAME: a counter of the daemon's netstat -s.
us_count() { USTACK_CTL=$CTL "$USTACK" netstat -s | awk -v n="$1" '$1 == n { print $2; exit }'; }
# linux_count FILE PREFIX NAME: a counter from /proc/net/{netstat,snmp} in A (header line, values).
linux_count() {
    ip netns exec "$NSA" awk -v p="$2:" -v n="$3" '$1 == p { if (!h) { for (i = 2; i <= NF; i++)
        if ($i == n) c = i; h = 1 } else { print $c; exit } }' "/proc/net/$1"
}
# counts WHO: "RTOs retransmitted-segments tail-loss-probes drops" of the sender; drops are the
# frames lost outside the impairer: the kernel's drops towards the sender (Linux: va's
# rx_dropped; ustack: TAP_KERNEL_DROPS) and into B (lb's rx_dropped: its backlog was full); the
# packet socket's own drops are the bridge's rx_drops. They should stay 0: the bridge must not
# be the bottleneck.
counts() {
    local lb
    lb=$(ip netns exec "$NSB" cat /sys/class/net/lb/statistics/rx_dropped)
    if [ "$1" = ustack ]; then
        echo "$(us_count TCP_RTO) $(us_count TCP_RETRANS) $(us_count TCP_TLP_PROBES)" \
            "$(($(us_count TAP_KERNEL_DROPS) + lb))"
    else
        echo "$(linux_count netstat TcpExt TCPTimeouts) $(linux_count snmp Tcp RetransSegs)" \
            "$(linux_count netstat TcpExt TCPLossProbes)" \
            "$(($(ip netns exec "$NSA" cat /sys/class/net/va/statistics/rx_dropped) + lb))"
    fi
}
# sender_idle WHO: waits (up to 10 s) until the sender holds no connection of a finished run
# (the receiver's RST may be lost: the sender's next retransmission draws another), so its
# retransmissions are not counted in the next run.
sender_idle() {
    local i
    for i in $(seq 100); do
        if [ "$1" = ustack ]; then
            USTACK_CTL=$CTL "$USTACK" netstat -n | grep -q ':19 .*[A-Z_]*WAIT\|:19 .*ESTAB' || return 0
        else
            ip netns exec "$NSA" ss -Htn '( sport = :5001 )' | grep -vq LISTEN || return 0
        fi
        sleep 0.1
    done
}

run_one() { # WHO PROFILE SEED
    local who=$1 prof=$2 seed=$3 spec port_a ip port out secs c0 c1 br
    spec=$(spec_of "$prof")
    if [ "$who" = ustack ]; then
        port_a="packet:$UTAP@$NSU" ip=$U_IP port=19
    else
        port_a="packet:vp@$NSU" ip=$A_IP port=5001
    fi
    br=$TMP/bridge.out
    c0=$(counts "$who")
    ip netns exec "$NSB" "$USTACK" bridge --impair "$spec" --seed "$seed" "$port_a" tap:lb >"$br" 2>&1 &
    BR_PID=$!
    for _ in $(seq 200); do grep -q "ustack bridge: up" "$br" 2>/dev/null && break; sleep 0.01; done
    out=$(timeout -k 5 "$TIMEOUT" ip netns exec "$NSB" "$BULK" recv "$ip" "$port" "$BYTES" 2>&1) || true
    c1=$(counts "$who")
    sender_idle "$who"
    kill -TERM "$BR_PID"; wait "$BR_PID" || true; BR_PID=""
    secs=$(sed -n 's/^secs=\([0-9.]*\).*/\1/p' <<<"$out")
    [ -n "$secs" ] || { secs=fail; echo "run_bridge_loss: $who $prof seed $seed: $out" >&2; }
    set -- $c0 $c1
    local lab lba rxd
    lab=$(sed -n 's/^ustack bridge: a->b .* lost=\([0-9]*\) blackout=\([0-9]*\).*/\1+\2/p' "$br")
    rxd=$(sed -n 's/^ustack bridge: .* rx_drops=\([0-9]*\).*/\1/p' "$br" | paste -sd+)
    lba=$(sed -n 's/^ustack bridge: b->a .* lost=\([0-9]*\) blackout=\([0-9]*\).*/\1+\2/p' "$br")
    local cc=cubic
    [ "$who" = linux ] && cc=$LINUX_CC
    echo "bridge who=$who cc=$cc profile=$prof spec=$spec seed=$seed bytes=$BYTES secs=$secs" \
        "rto=$(($5 - $1)) retrans=$(($6 - $2)) tlp=$(($7 - $3)) other_drops=$(($8 - $4))" \
        "rx_drops=$((${rxd:-0})) dropped_ab=$((${lab:-0})) dropped_ba=$((${lba:-0}))" |
        tee -a "$RAW"
}

echo "== loss recovery: $((BYTES / 1048576)) MiB ustack -> Linux and Linux -> Linux through" \
    "ustack bridge, profiles $PROFILES, seeds 1..$SEEDS, in turn"
IFS=, read -r -a profs <<<"$PROFILES"
for prof in "${profs[@]}"; do
    spec_of "$prof" >/dev/null
    for seed in $(seq "$SEEDS"); do
        run_one ustack "$prof" "$seed"
        run_one linux "$prof" "$seed"
    done
done
