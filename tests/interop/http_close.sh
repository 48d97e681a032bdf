#!/usr/bin/env bash
# ustack's HTTP server closes the connections it says it closes (RFC 9112 9.3, 9.6): after a
# response carrying "Connection: close" (the request asked for it, or was HTTP/1.0 without
# keep-alive) ustack sends a FIN, not an RST, once the body is out, while the client keeps its
# side open and reads to end of stream. Checked with a python3 client that never half-closes
# (the body must be byte-exact and end in a FIN, within 10 s), also with a pipelined request
# behind the closing one (it is not answered, and still no RST); with `curl --http1.0`; with
# `nc` reading to end of stream; and with ApacheBench, which speaks HTTP/1.0: `ab -n 5000
# -c 50` must complete every request (0 failed, 0 non-2xx).
. "$(dirname "$0")/lib.sh" "$@"
AB_N=${INTEROP_AB_N:-5000}
WWW=$TMP/www
mkdir -p "$WWW"
head -c 100000 /dev/urandom >"$WWW/page.bin"
head -c 4096 /dev/urandom >"$WWW/ab.bin"
printf 'second\n' >"$WWW/second.txt"
us_start --serve http="$WWW"

# client NAME REQUEST_PRINTF: sends the request (printf format) and reads until end of stream or
# 10 s, never shutting down its own side. Prints "eof" (a FIN came), "reset" or "timeout", and
# saves what arrived in $TMP/NAME.resp.
client() {
    nsx python3 - "$US_IP" "$1" "$2" "$TMP/$1.resp" <<'PY'
import socket, sys, time
host, name, req, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
req = req.encode().decode('unicode_escape').encode('latin-1')
s = socket.create_connection((host, 80), timeout=5)
s.sendall(req)
s.settimeout(10)
got, how = b'', 'timeout'
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        how = 'reset'
        break
    if not b:
        how = 'eof'
        break
    got += b
open(out, 'wb').write(got)
print(how)
s.close()
PY
}

# body_of FILE: the bytes after the first empty line of a saved response, into FILE.body.
body_of() { python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\r\n\r\n")
open(sys.argv[1] + ".body", "wb").write(d[i + 4:] if i >= 0 else b"")
' "$1"; }

check_closing() { # NAME REQUEST WHAT
    local how
    how=$(client "$1" "$2")
    assert_eq eof "$how" "$3: how the connection ended (a FIN from ustack after the response)"
    local r=$TMP/$1.resp
    assert_contains "$(head -c 400 "$r" | tr -d '\r\000')" "^HTTP/1\.1 200 OK$" "$3: status line"
    assert_contains "$(head -c 400 "$r" | tr -d '\r\000')" "^Connection: close$" "$3: Connection: close"
    body_of "$r"
    assert_eq "$(sha "$WWW/page.bin")" "$(sha "$r.body")" "$3: body sha256 ($(fsize "$r.body") bytes)"
}

check_closing c11 'GET /page.bin HTTP/1.1\r\nHost: ustack\r\nConnection: close\r\n\r\n' \
    "HTTP/1.1 with Connection: close"
check_closing c10 'GET /page.bin HTTP/1.0\r\n\r\n' "HTTP/1.0 without keep-alive"
# A pipelining client: the second request sits behind the closing one. RFC 9112 9.6: the server
# MUST NOT process it; it closes after the first response, and with a FIN (an RST could destroy
# the response before the client reads it).
check_closing pipe 'GET /page.bin HTTP/1.1\r\nHost: ustack\r\nConnection: close\r\n\r\nGET /second.txt HTTP/1.1\r\nHost: ustack\r\n\r\n' \
    "pipelined request behind Connection: close"
assert_eq 1 "$(grep -c 'HTTP/1.1 200' "$TMP/pipe.resp")" "pipelined: responses after the closing one"
# Keep-alive still keeps the connection: HTTP/1.0 with keep-alive gets no FIN (timeout after 10 s
# would be too slow; ask for it on 1.1 instead: the first response, then the second on the same
# connection, then our close ends it).
how=$(client ka 'GET /second.txt HTTP/1.1\r\nHost: ustack\r\n\r\nGET /page.bin HTTP/1.1\r\nHost: ustack\r\nConnection: close\r\n\r\n')
assert_eq eof "$how" "keep-alive then close: how the connection ended"
assert_eq 2 "$(grep -c 'HTTP/1.1 200' "$TMP/ka.resp")" "keep-alive then close: responses"

# curl --http1.0: byte-exact.
nsx timeout 20 curl -sS --http1.0 --max-time 15 -o "$TMP/curl10" "http://$US_IP/page.bin" \
    2>"$TMP/curl.err"; rc=$?
assert_eq 0 "$rc" "curl --http1.0 exit status ($(cat "$TMP/curl.err"))"
assert_eq "$(sha "$WWW/page.bin")" "$(sha "$TMP/curl10")" "curl --http1.0 body sha256"

# nc reads to end of stream and does not half-close (no -N): it ends only when ustack closes.
printf 'GET /page.bin HTTP/1.1\r\nHost: ustack\r\nConnection: close\r\n\r\n' |
    nsx timeout 10 nc "$US_IP" 80 >"$TMP/nc.resp"; rc=$?
assert_eq 0 "$rc" "nc reading to end of stream: exit status (124: it hung)"
body_of "$TMP/nc.resp"
assert_eq "$(sha "$WWW/page.bin")" "$(sha "$TMP/nc.resp.body")" "nc: body sha256"

# ApacheBench (HTTP/1.0, no keep-alive): every request completes.
nsx timeout 100 ab -n "$AB_N" -c 50 -s 10 -r "http://$US_IP/ab.bin" >"$TMP/ab.out" 2>&1; rc=$?
assert_eq 0 "$rc" "ab exit status"
ab=$(cat "$TMP/ab.out")
assert_contains "$ab" "^Complete requests: +$AB_N$" "ab: complete requests"
assert_contains "$ab" "^Failed requests: +0$" "ab: failed requests"
assert_not_contains "$ab" "^Non-2xx responses" "ab: non-2xx responses"
assert_contains "$ab" "^Document Length: +4096 bytes$" "ab: document length"
log "ab: $(grep -E '^(Requests per second|Time taken for tests)' <<<"$ab" | tr -s ' ' | paste -sd';')"
[ "$FAILS" -eq 0 ] || tail -30 "$TMP/ab.out"
finish
