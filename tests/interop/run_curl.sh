#!/usr/bin/env bash
# `ustack run -- curl` downloads from a Linux HTTP server (python3 -m http.server on
# 192.0.2.1:8000): a 100 MB file by literal address and by a name that dnsmasq next to the kernel
# resolves (glibc's resolver then talks UDP over ustack), sha256 byte-exact; a 404 gives curl's
# exit 22; while a rate-limited download runs, `ustack netstat -anp` shows PID/curl on the
# connection. The same downloads run first with curl on the kernel in the test namespace.
# INTEROP_RUN_MB sets the big file's size (default 100).
. "$(dirname "$0")/lib.sh" "$@"
MB=${INTEROP_RUN_MB:-100}
NAME=web.ustack.test
us_start
WWW=$TMP/www
mkdir -p "$WWW"
head -c $((MB * 1024 * 1024)) /dev/urandom >"$WWW/big"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WWW/slow"
bg "$TMP/http.log" python3 -m http.server 8000 --bind "$HOST_IP" --directory "$WWW"
bg "$TMP/dnsmasq.log" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --listen-address="$HOST_IP" --bind-interfaces --port=53 --log-queries --log-facility=- \
    --host-record="$NAME,$HOST_IP" --local=/ustack.test/ --pid-file="$TMP/dnsmasq.pid" --user=root
wait_tcp_port 8000
wait_udp_port 53
ns_resolv "$NS" "$HOST_IP"
ns_resolv "$APPNS" "$HOST_IP"

# get RUNNER... -- URL FILE WHAT: downloads URL with curl under RUNNER, compares with $WWW/FILE.
get() {
    local runner=() url file what rc t0 t1
    while [ "$1" != -- ]; do runner+=("$1"); shift; done
    shift; url=$1 file=$2 what=$3
    rm -f "$TMP/out"
    t0=$(date +%s%N)
    "${runner[@]}" curl -sS --max-time 50 -o "$TMP/out" "$url" 2>"$TMP/curl.err"; rc=$?
    t1=$(date +%s%N)
    log "$what: curl exit $rc, $(fsize "$TMP/out") bytes in $(( (t1 - t0) / 1000000 )) ms"
    [ "$rc" -eq 0 ] || fail "$what: curl exit status $rc: $(head -c 300 "$TMP/curl.err")"
    assert_eq "$(sha "$WWW/$file")" "$(sha "$TMP/out")" "$what: sha256 of $file"
}

# ---- the kernel: proves the servers, the name and the checks ----
get timeout 60 ip netns exec "$NS" -- "http://$HOST_IP:8000/big" big "kernel curl, literal address, $MB MB"
get timeout 60 ip netns exec "$NS" -- "http://$NAME:8000/big" big "kernel curl, $NAME, $MB MB"
code=$(nsx curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$HOST_IP:8000/missing" 2>&1)
assert_eq 404 "$code" "kernel curl: status of a missing file"

# ---- ustack run ----
make_appns
assert_appns_isolated 8000
out=$(appx curl -sS --max-time 10 -o /dev/null "http://$NAME:8000/big" 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "plain curl by name in $APPNS succeeded: $out"
require_us_run
get us_run_t 60 -- "http://$HOST_IP:8000/big" big "ustack run curl, literal address, $MB MB"
get us_run_t 60 -- "http://$NAME:8000/big" big "ustack run curl, $NAME, $MB MB"
assert_contains "$(cat "$TMP/dnsmasq.log")" "query\[A\] $NAME from $US_IP" "dnsmasq got the A query from ustack's address"
us_run_t 20 curl -sS -f --max-time 10 -o /dev/null "http://$HOST_IP:8000/missing" 2>"$TMP/curl.err"; rc=$?
assert_eq 22 "$rc" "ustack run curl -f of a missing file: exit status ($(cat "$TMP/curl.err"))"

# netstat -p while a slow download runs (3 MB at 1 MB/s). The server may already have sent the
# whole file and its FIN (with offloads, the default, 3 MB reach ustack's receive buffer in a
# moment): then the connection is in CLOSE-WAIT while curl reads on.
us_run_bg "$TMP/slow.log" curl -sS --max-time 30 --limit-rate 1M -o "$TMP/slow.out" "http://$HOST_IP:8000/slow"
slow=$BG_LAST
if wait_for 10 bash -c "'$USTACK' netstat -an | grep -Eq ' $HOST_IP:8000 .*(ESTABLISHED|CLOSE-WAIT)'"; then
    log "during the slow download: $(us netstat -anp 2>&1 | grep ":8000 ")"
    assert_netstat_owner curl 8000
else
    fail "no established (or close-wait) connection to $HOST_IP:8000 in ustack netstat during the slow download: $(us netstat -an)"
fi
wait "$slow"; rc=$?
assert_eq 0 "$rc" "slow download: curl exit status ($(cat "$TMP/slow.log"))"
assert_eq "$(sha "$WWW/slow")" "$(sha "$TMP/slow.out")" "slow download: sha256"
wait_for 10 bash -c "! '$USTACK' netstat -an | grep -E '^(tcp|udp) ' | grep -vq TIME-WAIT" ||
    fail "sockets left in the daemon after curl exited: $(us netstat -an)"
finish
