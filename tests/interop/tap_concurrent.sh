#!/usr/bin/env bash
# 20 concurrent downloads of a 1 MiB file from ustack's HTTP server in the default mode:
# the kernel's ACKs towards ustack must all get through the TAP (its tx_dropped on the
# kernel side does not grow, and ustack's own count of it, TAP_KERNEL_DROPS in netstat -s, says
# the same) and no retransmission timeout fires on a link that loses nothing; with offloads
# (the default) no tail loss probe turns out spurious (TCP_TLP_SPURIOUS: the peer's D-SACK
# showed the probe resent what had arrived) and fewer than 1 segment in 10,000 is sent again
# (segments counted from the bytes served: 724 full segments per 1 MiB download, a lower
# bound). Then the same with --no-offload, where every segment is a frame and the ACKs come
# many more (its probes are counted, not checked: doc/status.md).
# wrk (Debian) drives the load, 20 connections; bench/conc_wrk.lua checks that every request
# completed with a 2xx status and a whole body (it keeps wrk from handing bodies to Lua: comparing
# each 1 MiB body there slows wrk enough to delay its ACKs by hundreds of milliseconds on a busy
# machine); without wrk, 20 curl downloads in parallel, several times over. The
# kernel's receive counters on the TAP show the mode: TSO super-frames (more than 1514 bytes
# per frame on average) by default, none with --no-offload.
# INTEROP_CONC_SECS: how long wrk runs (default 5).
. "$(dirname "$0")/lib.sh" "$@"
SECS=${INTEROP_CONC_SECS:-5}
WWW=$TMP/www
mkdir -p "$WWW"
head -c $((1024 * 1024)) /dev/urandom >"$WWW/1m"

tx_dropped() { nsx cat "/sys/class/net/$TAP/statistics/tx_dropped"; }
# rx_frames_bytes: the frames and bytes the kernel received from ustack on the TAP.
rx_frames_bytes() {
    echo "$(nsx cat "/sys/class/net/$TAP/statistics/rx_packets") $(nsx cat "/sys/class/net/$TAP/statistics/rx_bytes")"
}

# load MODE: the downloads against the running daemon, and the checks.
load() {
    local MODE=$1 drop0 drop1 s0 s1 out rc reqs=100 round pids i rx0 rx1 per segs rtx
    drop0=$(tx_dropped)
    s0=$(stats)
    read -ra rx0 <<<"$(rx_frames_bytes)"
    # one download first: the file arrives whole (the load below checks status codes only)
    nsx curl -sS --max-time 30 -o "$TMP/one" "http://$US_IP/1m" || fail "$MODE: single curl download"
    assert_eq "$(sha "$WWW/1m")" "$(sha "$TMP/one")" "$MODE: sha256 of /1m"

    if command -v wrk >/dev/null; then
        nsx wrk -t2 -c20 -d"${SECS}s" --latency --timeout 10s -s "$ROOT/bench/conc_wrk.lua" \
            "http://$US_IP/1m" -- "$(fsize "$WWW/1m")" >"$TMP/wrk.out" 2>&1
        rc=$?
        sed 's/^/    | /' "$TMP/wrk.out"
        assert_eq 0 "$rc" "$MODE: wrk exit status"
        out=$(cat "$TMP/wrk.out")
        assert_contains "$out" "requests in" "$MODE: wrk finished its run"
        assert_not_contains "$out" "Socket errors|Non-2xx" "$MODE: wrk: no socket errors, only 2xx answers"
        reqs=$(awk '/requests in/ { print $1; exit }' <<<"$out")
        assert_gt 19 "${reqs:-0}" "$MODE: requests wrk completed"
        assert_contains "$out" "^wrkstat ok=1 requests=$reqs " \
            "$MODE: every request completed, 2xx, with a whole body"
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
    read -ra rx1 <<<"$(rx_frames_bytes)"
    per=$(( (rx1[1] - rx0[1]) / (rx1[0] - rx0[0] + 1) ))
    log "$MODE: the kernel received $((rx1[0] - rx0[0])) frames from ustack, $per bytes each on average"
    if [ "$MODE" = "--no-offload" ]; then
        [ "$per" -le 1514 ] || fail "$MODE: frames of $per bytes on average reached the kernel (no TSO expected)"
    else
        [ "$per" -gt 1514 ] || fail "$MODE: frames of $per bytes on average: no TSO super-frames"
    fi
    assert_ge 20 "$(($(counter TCP_PASSIVE_OPENS "$s1") - $(counter TCP_PASSIVE_OPENS "$s0")))" \
        "$MODE: connections ustack accepted"
    log "$MODE: TAP tx_dropped (kernel side) $drop0 -> $drop1; ustack: $(grep -E '^ *(TCP_RTO|TCP_TLP_PROBES|TCP_TLP_SPURIOUS|TCP_TLP_LOSS|TCP_RETRANS|TCP_OUT_SEGS|TCP_FAST_RETRANS|TAP_KERNEL_DROPS) ' <<<"$s1" | awk '{printf "%s=%s ", $1, $2}')"
    assert_eq "$drop0" "$drop1" "$MODE: frames the kernel dropped on the TAP towards ustack"
    assert_eq "$drop1" "$(counter TAP_KERNEL_DROPS "$s1")" "$MODE: TAP_KERNEL_DROPS in netstat -s against the TAP's tx_dropped"
    assert_counter_delta TCP_RTO 0 "$s0" "$s1" || log "($MODE: TCP_RTO above)"
    segs=$(((reqs + 1) * 724))
    rtx=$(($(counter TCP_RETRANS "$s1") - $(counter TCP_RETRANS "$s0")))
    log "$MODE: $rtx segments sent again of at least $segs," \
        "$(($(counter TCP_TLP_SPURIOUS "$s1") - $(counter TCP_TLP_SPURIOUS "$s0"))) spurious probes"
    [ "$MODE" = "--no-offload" ] && return # (doc/status.md: spurious probes without offloads)
    assert_counter_delta TCP_TLP_SPURIOUS 0 "$s0" "$s1" || log "($MODE: TCP_TLP_SPURIOUS above)"
    [ $((rtx * 10000)) -lt "$segs" ] ||
        fail "$MODE: $rtx retransmissions in $segs segments: 1 in 10,000 or more"
}

us_start --serve http="$WWW"
load "default (offloads)"
us_restart --no-offload --serve http="$WWW"
load "--no-offload"
finish
