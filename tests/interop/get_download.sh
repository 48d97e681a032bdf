#!/usr/bin/env bash
# `ustack get` against a Linux HTTP server (python3 -m http.server) in the namespace: a big
# random file by address on a clean link (sha256 must match), the same through --impair
# loss/reorder/dup, and by host name resolved through dnsmasq (DNS over UDP, then TCP and HTTP in
# one command) both with `get --dns` and with the daemon's `up --dns`; a name that does not
# resolve and a 404 fail with a non-zero exit. On the impaired link ustack's D-SACK reports
# (RFC 2883) must reach Linux.
# Sizes: INTEROP_BIG_MB (clean link, default 100) and INTEROP_LOSSY_MB (impaired, default 32:
# Linux sending through 5% loss ran at about 5 MB/s to the ASan build, 100 MB in 20 s);
# INTEROP_IMPAIR_SEED (default 12); INTEROP_XFER_TIMEOUT the limit per download (default 300 s).
. "$(dirname "$0")/lib.sh" "$@"
BIG_MB=${INTEROP_BIG_MB:-100}
LOSSY_MB=${INTEROP_LOSSY_MB:-32}
SEED=${INTEROP_IMPAIR_SEED:-12}
XFER_TIMEOUT=${INTEROP_XFER_TIMEOUT:-300}
IMPAIR="loss=0.05,reorder=0.02,dup=0.01,seed=$SEED"

WWW=$TMP/www
mkdir -p "$WWW"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
head -c $((LOSSY_MB * 1024 * 1024)) /dev/urandom >"$WWW/lossy.bin"
head -c 300000 /dev/urandom >"$WWW/named.bin"

us_start
bg "$TMP/httpd.log" python3 -m http.server 8080 --bind "$HOST_IP" --directory "$WWW"
bg "$TMP/dnsmasq.log" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --listen-address="$HOST_IP" --bind-interfaces --port=53 --log-queries --log-facility=- \
    --host-record=www.example.test,"$HOST_IP" --local=/example.test/ \
    --pid-file="$TMP/dnsmasq.pid" --user=root
wait_tcp_port 8080
wait_udp_port 53

# get URL FILE WHAT [EXTRA get OPTIONS]: ustack get URL -o $TMP/got, compared with $WWW/FILE.
get() {
    local url=$1 file=$2 what=$3 t0 t1 rc
    shift 3
    rm -f "$TMP/got"
    t0=$(date +%s.%N)
    timeout -k 5 "$XFER_TIMEOUT" "$USTACK" get "$url" -o "$TMP/got" "$@" 2>"$TMP/get.err"; rc=$?
    t1=$(date +%s.%N)
    log "$what: exit $rc, $(fsize "$TMP/got") bytes in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
    [ "$rc" -eq 0 ] || fail "$what: ustack get exit status $rc: $(head -c 500 "$TMP/get.err")"
    assert_eq "$(sha "$WWW/$file")" "$(sha "$TMP/got")" "$what: sha256 ($(fsize "$TMP/got") of $(fsize "$WWW/$file") bytes)"
}

get "http://$HOST_IP:8080/big.bin" big.bin "clean link, ${BIG_MB} MB"
log "clean link: TCP_RETRANS=$(counter TCP_RETRANS) (not asserted: a stalled CI host can fire an RTO)"
get "http://www.example.test:8080/named.bin" named.bin "by name with get --dns" --dns "$HOST_IP"
assert_contains "$(cat "$TMP/dnsmasq.log")" "query\[A\] www\.example\.test from $US_IP" \
    "dnsmasq saw ustack's query"
grep -q '"GET /named.bin HTTP/1.1" 200' "$TMP/httpd.log" ||
    fail "http.server did not log GET /named.bin 200: $(tail -5 "$TMP/httpd.log")"

out=$("$USTACK" get "http://nosuch.example.test:8080/named.bin" -o "$TMP/none" --dns "$HOST_IP" 2>&1); rc=$?
assert_eq 1 "$rc" "get of a name that does not resolve: exit status ($out)"
out=$("$USTACK" get "http://$HOST_IP:8080/no-such-file" -o "$TMP/none" 2>&1); rc=$?
assert_ne_zero() { [ "$1" -ne 0 ] || fail "$2"; }
assert_ne_zero "$rc" "get of a missing file (404) exited 0: $out"
log "404 message: $out"

# The daemon's --dns: no --dns on the get command line.
us_restart --dns "$HOST_IP"
get "http://www.example.test:8080/named.bin" named.bin "by name with up --dns"

# Impaired link.
us_restart --dns "$HOST_IP" --impair "$IMPAIR"
get "http://$HOST_IP:8080/lossy.bin" lossy.bin "impaired link ($IMPAIR), ${LOSSY_MB} MB"
get "http://www.example.test:8080/named.bin" named.bin "impaired link, by name"
s=$(stats)
log "impaired link: $(grep -E '^ *TCP_(RETRANS|RTO|FAST_RETRANS|DUPACKS) ' <<<"$s" | awk '{printf "%s=%s ", $1, $2}')"
assert_gt 0 "$(counter TCP_RETRANS "$s")" "TCP_RETRANS on the impaired link (was the impairment applied?)"
# RFC 2883: Linux's segments that reached ustack twice (the impairment's duplicates, Linux's
# retransmissions of segments whose ACK was lost) went back as D-SACK blocks, and Linux read
# them as such (its TcpExt TCPDSACKRecv counter, in this namespace).
linux_dsack=$(nsx awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) k[i] = $i; n = 1 }
    else for (i = 2; i <= NF; i++) if (k[i] == "TCPDSACKRecv") print $i }' /proc/net/netstat)
log "D-SACK: ustack sent $(counter TCP_DSACK_OUT "$s"), Linux counted TCPDSACKRecv=$linux_dsack"
assert_gt 0 "$(counter TCP_DSACK_OUT "$s")" "TCP_DSACK_OUT on the impaired link"
assert_gt 0 "${linux_dsack:-0}" "Linux's TCPDSACKRecv after the impaired download"
finish
