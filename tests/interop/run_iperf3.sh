#!/usr/bin/env bash
# iperf3 under `ustack run` against iperf3 on the kernel: the client role (`-c`, data from the
# program to the kernel), the reverse (`-R`, data from the kernel), UDP (`-u`: a TCP control
# connection and a connected UDP data socket) and the server role (`iperf3 -s`, which listens on
# `::` and takes IPv4-mapped connections; the kernel runs the client), also for UDP (`-s` with
# `-u` from the client: the server binds its UDP socket with SO_REUSEADDR, connects it to the
# client and binds another on the same port; 10 Mbit/s of 1400-byte datagrams, so that a
# receiver slowed by a loaded host does not overflow its socket buffer). Each run completes
# (exit 0, JSON with no "error") with sane figures: bytes moved, bits/s between 1 Mbit/s and
# 1 Tbit/s; TCP: the receiver got no more than was sent and at least 90% of it (iperf3 stops
# counting at the deadline, with data still in buffers); UDP: under 10% lost. The
# same runs go first with both ends on the kernel. INTEROP_IPERF_SECONDS per run (default 3).
. "$(dirname "$0")/lib.sh" "$@"
SECS=${INTEROP_IPERF_SECONDS:-3}
us_start

# check_json WHAT FILE: the checks on one iperf3 -J report.
check_json() {
    local out
    out=$(python3 - "$2" <<'PY' 2>&1
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad JSON: %s" % e); sys.exit(0)
if "error" in j:
    print("error: %s" % j["error"]); sys.exit(0)
e = j["end"]
udp = j["start"]["test_start"]["protocol"] == "UDP"
if udp:
    s = e["sum"]
    sent, bps, lost = s["packets"], s["bits_per_second"], s["lost_percent"]
    print("udp packets=%d lost=%.1f%% bps=%.0f" % (sent, lost, bps))
    ok = sent > 0 and 1e6 < bps < 1e12 and lost < 10
else:
    sent, recv = e["sum_sent"]["bytes"], e["sum_received"]["bytes"]
    bps = e["sum_received"]["bits_per_second"]
    print("tcp sent=%d received=%d bps=%.0f" % (sent, recv, bps))
    ok = sent > 0 and 0.9 * sent <= recv <= sent and 1e6 < bps < 1e12
print("sane" if ok else "NOT sane")
PY
)
    log "$1: $out"
    assert_contains "$out" "^sane$" "$1: iperf3 figures"
}

# client WHAT RUNNER... -- ARGS...: iperf3 -c under RUNNER with -J, then check_json.
client() {
    local what=$1 runner=() rc; shift
    while [ "$1" != -- ]; do runner+=("$1"); shift; done
    shift
    "${runner[@]}" iperf3 -J -t "$SECS" "$@" >"$TMP/iperf.json" 2>"$TMP/iperf.err"; rc=$?
    assert_eq 0 "$rc" "$what: iperf3 exit status ($(head -c 300 "$TMP/iperf.err"))"
    check_json "$what" "$TMP/iperf.json"
}

KRUN=(timeout -k 5 $((SECS + 30)) ip netns exec "$NS")
bg "$TMP/ks.log" iperf3 -s -B "$HOST_IP" -p 5201
wait_tcp_port 5201

# ---- the kernel ----
client "kernel -c" "${KRUN[@]}" -- -c "$HOST_IP" -p 5201
client "kernel -c -R" "${KRUN[@]}" -- -c "$HOST_IP" -p 5201 -R
client "kernel -c -u" "${KRUN[@]}" -- -c "$HOST_IP" -p 5201 -u -b 20M
bg "$TMP/ks2.log" iperf3 -s -p 5202 -1
wait_tcp_port 5202
client "kernel -s (kernel client)" "${KRUN[@]}" -- -c "$HOST_IP" -p 5202
bg "$TMP/ks3.log" iperf3 -s -p 5204 -1
wait_tcp_port 5204
client "kernel -s, UDP (kernel client)" "${KRUN[@]}" -- -c "$HOST_IP" -p 5204 -u -b 10M -l 1400
kfails=$FAILS

# ---- ustack run ----
make_appns
assert_appns_isolated 5201
require_us_run
client "ustack run -c" us_run_t $((SECS + 30)) -- -c "$HOST_IP" -p 5201
client "ustack run -c -R" us_run_t $((SECS + 30)) -- -c "$HOST_IP" -p 5201 -R
client "ustack run -c -u" us_run_t $((SECS + 30)) -- -c "$HOST_IP" -p 5201 -u -b 20M
us_run_bg "$TMP/us.log" iperf3 -s -p 5203 -1
wait_run_port tcp 5203
assert_netstat_owner iperf3 5203
client "ustack run -s (kernel client)" "${KRUN[@]}" -- -c "$RUN_IP" -p 5203
wait_for 10 bash -c "! kill -0 $BG_LAST 2>/dev/null" || fail "iperf3 -s -1 under ustack run did not exit after its test"
us_run_bg "$TMP/us2.log" iperf3 -s -p 5205 -1
wait_run_port tcp 5205
client "ustack run -s, UDP (kernel client)" "${KRUN[@]}" -- -c "$RUN_IP" -p 5205 -u -b 10M -l 1400
wait_for 10 bash -c "! kill -0 $BG_LAST 2>/dev/null" ||
    fail "iperf3 -s -1 under ustack run did not exit after its UDP test: $(tail -5 "$TMP/us2.log")"
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
