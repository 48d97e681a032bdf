#!/usr/bin/env bash
# redis both ways. `ustack run -- redis-server` (own config in $TMP, no persistence) driven by
# redis-benchmark from the kernel side: SET, GET, INCR, LPUSH, LPOP, MSET with 50 clients, every
# test reports its rate and no errors; redis-cli from the kernel stores and reads back a 1 MB
# value (sha256) and INCR counts right. `ustack run -- redis-cli` and `ustack run --
# redis-benchmark` against a redis-server on the kernel. `ustack netstat -anp` shows
# PID/redis-server on the listener. Everything first runs with both ends on the kernel.
. "$(dirname "$0")/lib.sh" "$@"
us_start
base64 -w 0 </dev/urandom | head -c 1000000 >"$TMP/value"

# redis_conf DIR BIND PORT: a config with no persistence, everything under DIR.
redis_conf() {
    mkdir -p "$1"
    cat >"$1/redis.conf" <<CONF
bind $2
port $3
protected-mode no
daemonize no
save ""
appendonly no
dir $1
logfile $1/redis.log
CONF
}

# benchmark WHAT RUNNER... -- IP PORT: redis-benchmark under RUNNER; each test's rate, no errors.
benchmark() {
    local what=$1 runner=() out rc t; shift
    while [ "$1" != -- ]; do runner+=("$1"); shift; done
    shift
    out=$("${runner[@]}" redis-benchmark -h "$1" -p "$2" -c 50 -n 20000 -r 1000 -t set,get,incr,lpush,lpop,mset -q 2>&1 | tr '\r' '\n'); rc=$?
    grep 'requests per second' <<<"$out" | sed "s/^/    [$what] /"
    assert_eq 0 "$rc" "$what: redis-benchmark exit status"
    for t in SET GET INCR LPUSH LPOP "MSET \(10 keys\)"; do
        assert_contains "$out" "^$t: [0-9.]+ requests per second" "$what: redis-benchmark $t"
    done
    assert_not_contains "$out" "[Ee]rror|ERR|Connection refused|Could not connect|reset" "$what: redis-benchmark errors"
}

# client_checks WHAT RUNNER... -- IP PORT: redis-cli stores and reads back values.
client_checks() {
    local what=$1 runner=() out; shift
    while [ "$1" != -- ]; do runner+=("$1"); shift; done
    shift
    local ip=$1 port=$2
    out=$("${runner[@]}" redis-cli -h "$ip" -p "$port" PING 2>&1)
    assert_eq PONG "$out" "$what: PING"
    "${runner[@]}" redis-cli -h "$ip" -p "$port" DEL counter >/dev/null 2>&1
    for _ in 1 2 3; do "${runner[@]}" redis-cli -h "$ip" -p "$port" INCR counter >/dev/null 2>&1; done
    out=$("${runner[@]}" redis-cli -h "$ip" -p "$port" GET counter 2>&1)
    assert_eq 3 "$out" "$what: three INCRs from three connections"
    out=$("${runner[@]}" redis-cli -h "$ip" -p "$port" -x SET bigvalue <"$TMP/value" 2>&1)
    assert_eq OK "$out" "$what: SET of a 1 MB value"
    "${runner[@]}" redis-cli -h "$ip" -p "$port" --raw GET bigvalue 2>&1 | head -c 1000000 >"$TMP/got"
    assert_eq "$(sha "$TMP/value")" "$(sha "$TMP/got")" "$what: GET of the 1 MB value (got $(fsize "$TMP/got") bytes)"
    out=$("${runner[@]}" redis-cli -h "$ip" -p "$port" STRLEN bigvalue 2>&1)
    assert_eq 1000000 "$out" "$what: STRLEN of the value"
}

# ---- the kernel: a server on 192.0.2.1:6380 (kept for the ustack run clients) ----
redis_conf "$TMP/k" "$HOST_IP" 6380
bg "$TMP/k/out.log" redis-server "$TMP/k/redis.conf"
wait_tcp_port 6380
benchmark "kernel benchmark -> kernel redis" timeout 60 ip netns exec "$NS" -- "$HOST_IP" 6380
client_checks "kernel redis-cli -> kernel redis" timeout 20 ip netns exec "$NS" -- "$HOST_IP" 6380
kfails=$FAILS

# ---- ustack run ----
make_appns
assert_appns_isolated 6380
require_us_run
redis_conf "$TMP/u" 0.0.0.0 6379
us_run_bg "$TMP/u/out.log" redis-server "$TMP/u/redis.conf"
wait_run_port tcp 6379 || cat "$TMP/u/redis.log"
assert_netstat_owner redis-server 6379
benchmark "kernel benchmark -> ustack run redis-server" timeout 60 ip netns exec "$NS" -- "$RUN_IP" 6379
client_checks "kernel redis-cli -> ustack run redis-server" timeout 20 ip netns exec "$NS" -- "$RUN_IP" 6379
client_checks "ustack run redis-cli -> kernel redis" us_run_t 20 -- "$HOST_IP" 6380
benchmark "ustack run redis-benchmark -> kernel redis" us_run_t 60 -- "$HOST_IP" 6380
kill -TERM "$BG_LAST" 2>/dev/null
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
