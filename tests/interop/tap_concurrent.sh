#!/usr/bin/env bash
# 20 concurrent downloads of a 1 MiB file from ustack's HTTP server in the default mode:
# the kernel's ACKs towards ustack must all get through the TAP (its tx_dropped on the
# kernel side does not grow, and ustack's own count of it, TAP_KERNEL_DROPS in netstat -s, says
# the same) and no retransmission timeout fires on a link that loses nothing. Then the same
# with --no-offload, where every segment is a frame and the ACKs come many more.
# wrk (Debian) drives the load; without it, 20 curl downloads in parallel, several times over.
# INTEROP_CONC_SECS: how long wrk runs (default 5).
. "$(dirname "$0")/lib.sh" "$@"
SECS=${INTEROP_CONC_SECS:-5}
WWW=$TMP/www
mkdir -p "$WWW"
head -c $((1024 * 1024)) /dev/urandom >"$WWW/1m"

tx_dropped() { nsx cat "/sys/class/net/$TAP/statistics/tx_dropped"; }

# load MODE: the downloads against the running daemon, and the checks.
load() {
    local MODE=$1 drop0 drop1 s0 s1 out rc reqs round pids i
    drop0=$(tx_dropped)
    s0=$(stats)
    # one download first: the file arrives whole (the load below checks status codes only)
    nsx curl -sS --max-time 30 -o "$TMP/one" "http://$US_IP/1m" || fail "$MODE: single curl download"
    assert_eq "$(sha "$WWW/1m")" "$(sha "$TMP/one")" "$MODE: sha256 of /1m"

    if command -v wrk >/dev/null; then
        nsx wrk -t2 -c20 -d"${SECS}s" --latency --timeout 10s "http://$US_IP/1m" >"$TMP/wrk.out" 2>&1
        rc=$?
        sed 's/^/    | /' "$TMP/wrk.out"
        assert_eq 0 "$rc" "$MODE: wrk exit status"
        out=$(cat "$TMP/wrk.out")
        assert_contains "$out" "requests in" "$MODE: wrk finished its run"
        assert_not_contains "$out" "Socket errors|Non-2xx" "$MODE: wrk: no socket errors, only 2xx answers"
        reqs=$(awk '/requests in/ { print $1; exit }' <<<"$out")
        assert_gt 19 "${reqs:-0}" "$MODE: requests wrk completed"
    else
        log "$MODE: no wrk: 20 concurrent curl downloads, 5 rounds"
        for round in 1 2 3 4 5; do
            pids=()
            for i in $(seq 20); do
                nsx curl -sS --max-time 30 -o "$TMP/c$i" "http://$US_IP/1m" 2>"$TMP/c$i.err" &
                pids+=($!)
            done
            for i in $(seq 20); do
                wait "${pids[$((i - 1))]}" || fail "$MODE: round $round: curl $i: $(cat "$TMP/c$i.err")"
                assert_eq "$(fsize "$WWW/1m")" "$(fsize "$TMP/c$i")" "$MODE: round $round: bytes of curl $i"
            done
        done
    fi

    drop1=$(tx_dropped)
    s1=$(stats)
    log "$MODE: TAP tx_dropped (kernel side) $drop0 -> $drop1; ustack: $(grep -E '^ *(TCP_RTO|TCP_TLP_PROBES|TCP_RETRANS|TAP_KERNEL_DROPS) ' <<<"$s1" | awk '{printf "%s=%s ", $1, $2}')"
    assert_eq "$drop0" "$drop1" "$MODE: frames the kernel dropped on the TAP towards ustack"
    assert_eq "$drop1" "$(counter TAP_KERNEL_DROPS "$s1")" "$MODE: TAP_KERNEL_DROPS in netstat -s against the TAP's tx_dropped"
    assert_counter_delta TCP_RTO 0 "$s0" "$s1" || log "($MODE: TCP_RTO above)"
}

us_start --serve http="$WWW"
load "default (offloads)"
us_restart --no-offload --serve http="$WWW"
load "--no-offload"
finish
