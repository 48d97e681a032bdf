#!/usr/bin/env bash
# `ustack run -- nginx` with a master and two worker processes (the master listens, the workers
# inherit the listener over fork and accept from it) serves wrk from the kernel side: 200
# connections for 10 s, no socket errors, no non-2xx responses, and every response's body is
# the file's (wrk_check.lua compares each one); both workers served requests (the access log
# records the worker's pid); `ustack netstat -anp` shows PID/nginx on the listener. Each nginx
# has its own config, prefix, logs and temp dirs in $TMP; the same run first goes against nginx
# on the kernel in the test namespace. INTEROP_WRK_SECONDS sets the duration (default 10).
. "$(dirname "$0")/lib.sh" "$@"
SECS=${INTEROP_WRK_SECONDS:-10}
us_start
WWW=$TMP/www
mkdir -p "$WWW"
head -c 4000 /dev/urandom | base64 -w 100 >"$WWW/index.html"
head -c 300000 /dev/urandom >"$WWW/big.bin"

# nginx_conf DIR PORT: writes DIR/nginx.conf: foreground, two workers as root (the temp dirs are
# root's), everything under DIR.
nginx_conf() {
    local d=$1
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 1024; }
http {
    log_format pids '\$pid \$status \$body_bytes_sent';
    access_log $d/access.log pids buffer=64k;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    sendfile on;
    keepalive_requests 1000000;
    server {
        listen $2;
        root $WWW;
    }
}
CONF
}

# bench WHAT IP DIR: wrk against IP:8080, then the checks on its output and nginx's access log.
bench() {
    local what=$1 ip=$2 d=$3 out rc total good bad
    out=$(nsx timeout $((SECS + 20)) wrk -t2 -c200 -d"${SECS}s" --timeout 5s -s "$ROOT/tests/interop/wrk_check.lua" \
        "http://$ip:8080/index.html" -- "$WWW/index.html" 2>&1); rc=$?
    sed "s/^/    [$what] /" <<<"$out"
    assert_eq 0 "$rc" "$what: wrk exit status"
    assert_not_contains "$out" "Socket errors" "$what: wrk socket errors"
    assert_not_contains "$out" "Non-2xx" "$what: wrk non-2xx responses"
    total=$(awk '/requests in/ {print $1; exit}' <<<"$out")
    good=$(awk '/^good / {print $2}' <<<"$out"); bad=$(awk '/^good / {print $4}' <<<"$out")
    assert_gt 1000 "${total:-0}" "$what: requests completed in ${SECS} s"
    assert_eq 0 "${bad:-x}" "$what: responses with a wrong status or body"
    assert_eq "$total" "$good" "$what: every response checked good"
    # a bigger file, byte-exact, through sendfile
    nsx curl -sS --max-time 20 -o "$TMP/big.out" "http://$ip:8080/big.bin" 2>"$TMP/curl.err"
    assert_eq "$(sha "$WWW/big.bin")" "$(sha "$TMP/big.out")" "$what: 300 kB file with sendfile ($(cat "$TMP/curl.err"))"
}

# workers_used DIR WHAT: the access log shows 2 worker pids that served.
workers_used() {
    local n
    n=$(awk '{print $1}' "$1/access.log" 2>/dev/null | sort -u | wc -l)
    log "$2: $(awk '{print $1}' "$1/access.log" | sort | uniq -c | xargs) (requests per worker pid)"
    assert_eq 2 "$n" "$2: worker processes that served requests"
}

# stop_nginx PID DIR: SIGQUIT to the master (its pid file's pid: graceful, the workers flush
# the access log), bounded wait for PID (the background job) to end.
stop_nginx() {
    local master
    master=$(cat "$2/nginx.pid" 2>/dev/null)
    [ -n "$master" ] || { fail "no nginx pid file in $2"; master=$1; }
    kill -QUIT "$master" 2>/dev/null
    wait_for 10 bash -c "! kill -0 $1 2>/dev/null" || { fail "nginx did not exit on SIGQUIT"; kill -KILL "$1" "$master"; }
    wait "$1" 2>/dev/null
}

# ---- the kernel ----
nginx_conf "$TMP/k" "$HOST_IP:8080"
bg "$TMP/k/out.log" nginx -p "$TMP/k/" -c "$TMP/k/nginx.conf" -e "$TMP/k/error.log"
kpid=$BG_LAST
wait_tcp_port 8080
bench "kernel nginx" "$HOST_IP" "$TMP/k"
stop_nginx "$kpid" "$TMP/k"
workers_used "$TMP/k" "kernel nginx"
kfails=$FAILS

# ---- ustack run ----
make_appns
assert_appns_isolated
require_us_run
nginx_conf "$TMP/u" 8080
us_run_bg "$TMP/u/out.log" nginx -p "$TMP/u/" -c "$TMP/u/nginx.conf" -e "$TMP/u/error.log"
upid=$BG_LAST
wait_run_port tcp 8080 || { cat "$TMP/u/error.log" "$TMP/u/out.log"; }
wait_for 10 bash -c "[ \$(ip netns pids '$APPNS' | wc -l) -ge 3 ]"
assert_eq 3 "$(app_pids nginx | wc -l)" "nginx processes (master and 2 workers) under ustack run"
assert_netstat_owner nginx 8080
bench "ustack run nginx" "$RUN_IP" "$TMP/u"
stop_nginx "$upid" "$TMP/u"
workers_used "$TMP/u" "ustack run nginx"
assert_not_contains "$(cat "$TMP/u/error.log")" "\[(alert|crit|emerg)\]" "ustack run nginx: error log"
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
