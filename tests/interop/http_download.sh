#!/usr/bin/env bash
# Linux curl against ustack's HTTP file server (--serve http=DIR): a big random file (sha256 must
# match) on a clean link and again through --impair loss/reorder/dup; HEAD (200 and the right
# Content-Length, no body); 404 for a missing file; keep-alive (curl fetches two URLs over one
# connection and the server answers both).
# Sizes: INTEROP_BIG_MB (clean link, default 100) and INTEROP_LOSSY_MB (impaired link, default 4:
# with 5% loss ustack's sending is RTO-bound, about 0.25 MB/s under ASan: 100 MB took 391 s).
# INTEROP_IMPAIR_SEED picks the impairment seed (default 11), INTEROP_XFER_TIMEOUT the limit per
# download (default 300 s).
. "$(dirname "$0")/lib.sh" "$@"
BIG_MB=${INTEROP_BIG_MB:-100}
LOSSY_MB=${INTEROP_LOSSY_MB:-4}
SEED=${INTEROP_IMPAIR_SEED:-11}
XFER_TIMEOUT=${INTEROP_XFER_TIMEOUT:-300}
IMPAIR="loss=0.05,reorder=0.02,dup=0.01,seed=$SEED"

WWW=$TMP/www
mkdir -p "$WWW"
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
head -c $((LOSSY_MB * 1024 * 1024)) /dev/urandom >"$WWW/lossy.bin"
printf 'hello from ustack\n' >"$WWW/small.txt"
printf 'second file\n' >"$WWW/second.txt"

# fetch NAME WHAT: curl downloads /NAME into $TMP/got and compares it with $WWW/NAME.
fetch() {
    local t0 t1 rc
    rm -f "$TMP/got"
    t0=$(date +%s.%N)
    nsx curl -sS --max-time "$XFER_TIMEOUT" -o "$TMP/got" "http://$US_IP/$1" 2>"$TMP/curl.err"; rc=$?
    t1=$(date +%s.%N)
    log "$2: curl exit $rc, $(fsize "$TMP/got") bytes in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
    [ "$rc" -eq 0 ] || fail "$2: curl exit status $rc: $(cat "$TMP/curl.err")"
    assert_eq "$(sha "$WWW/$1")" "$(sha "$TMP/got")" "$2: sha256 of /$1 ($(fsize "$TMP/got") of $(fsize "$WWW/$1") bytes)"
}

# ---- clean link ----
us_start --serve http="$WWW"
fetch big.bin "clean link, ${BIG_MB} MB"

# HEAD: status 200, Content-Length of the file, and no body.
out=$(nsx curl -sS --max-time 30 -I "http://$US_IP/big.bin" 2>&1 | tr -d '\r')
assert_contains "$out" "^HTTP/1\.1 200" "HEAD /big.bin status line"
assert_contains "$out" "^[Cc]ontent-[Ll]ength: $(fsize "$WWW/big.bin")$" "HEAD /big.bin Content-Length"
code=$(nsx curl -sS --max-time 30 -I -o "$TMP/head.body" -w '%{http_code} %{size_download}' \
    "http://$US_IP/small.txt" 2>&1)
assert_eq "200 0" "$code" "HEAD /small.txt: status and body bytes"

# 404 for a missing file (GET and HEAD), and the connection is still usable afterwards.
code=$(nsx curl -sS --max-time 30 -o /dev/null -w '%{http_code}' "http://$US_IP/no-such-file" 2>&1)
assert_eq 404 "$code" "GET /no-such-file status"
code=$(nsx curl -sS --max-time 30 -I -o /dev/null -w '%{http_code}' "http://$US_IP/no-such-file" 2>&1)
assert_eq 404 "$code" "HEAD /no-such-file status"

# Keep-alive: two URLs in one curl run share one connection (num_connects 1 then 0), and the
# server answered both (the bodies match).
out=$(nsx curl -sS --max-time 30 -v -w 'connects=%{num_connects} code=%{http_code}\n' \
    -o "$TMP/ka1" "http://$US_IP/small.txt" -o "$TMP/ka2" "http://$US_IP/second.txt" 2>"$TMP/ka.err")
assert_eq "connects=1 code=200
connects=0 code=200" "$out" "keep-alive: num_connects and status of the two requests"
assert_contains "$(cat "$TMP/ka.err")" "Re-using existing connection" "keep-alive: curl -v reused the connection"
assert_eq "$(sha "$WWW/small.txt")" "$(sha "$TMP/ka1")" "keep-alive: first body"
assert_eq "$(sha "$WWW/second.txt")" "$(sha "$TMP/ka2")" "keep-alive: second body"
# One connection, two requests, then a 404 and a third request on the same connection.
out=$(nsx curl -sS --max-time 30 -w '%{num_connects}:%{http_code} ' \
    -o /dev/null "http://$US_IP/small.txt" -o /dev/null "http://$US_IP/nope" \
    -o /dev/null "http://$US_IP/second.txt" 2>&1)
assert_eq "1:200 0:404 0:200 " "$out" "keep-alive across a 404: num_connects:status per request"
log "clean link: TCP_RETRANS=$(counter TCP_RETRANS) (not asserted: a stalled CI host can fire an RTO)"

# ---- impaired link: loss 5%, reorder 2%, dup 1% ----
us_restart --serve http="$WWW" --impair "$IMPAIR"
fetch lossy.bin "impaired link ($IMPAIR), ${LOSSY_MB} MB"
fetch small.txt "impaired link, small file"
s=$(stats)
log "impaired link: $(grep -E '^ *TCP_(RETRANS|RTO|FAST_RETRANS|DUPACKS) ' <<<"$s" | awk '{printf "%s=%s ", $1, $2}')"
assert_gt 0 "$(counter TCP_RETRANS "$s")" "TCP_RETRANS on the impaired link (was the impairment applied?)"
finish
