#!/usr/bin/env bash
# `ustack lookup` against dnsmasq in the namespace: an A record, a CNAME chain, several A
# records, NXDOMAIN, and a server address where nothing listens (fails cleanly, non-zero).
. "$(dirname "$0")/lib.sh" "$@"
us_start
bg "$TMP/dnsmasq.log" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --listen-address="$HOST_IP" --bind-interfaces --port=53 --log-queries --log-facility=- \
    --host-record=www.example.test,192.0.2.80 \
    --cname=alias.example.test,www.example.test \
    --cname=alias2.example.test,alias.example.test \
    --host-record=multi.example.test,192.0.2.81 \
    --host-record=multi.example.test,192.0.2.82 \
    --host-record=multi.example.test,192.0.2.83 \
    --local=/example.test/ --pid-file="$TMP/dnsmasq.pid" --user=root
wait_udp_port 53

# lookup NAME: sets LOOKUP_OUT (what ustack printed) and GOT (the addresses it printed, sorted,
# on one line, then "rc=" and its exit status).
lookup() {
    local rc
    LOOKUP_OUT=$(us lookup "$@" --server "$HOST_IP" 2>&1); rc=$?
    GOT="$(grep '^Address: ' <<<"$LOOKUP_OUT" | awk '{print $2}' | sort | xargs) rc=$rc"
}

lookup www.example.test
assert_eq "192.0.2.80 rc=0" "$GOT" "A record for www.example.test"
assert_contains "$LOOKUP_OUT" "^Name: +www\.example\.test$" "name line for www.example.test"

lookup alias.example.test
assert_eq "192.0.2.80 rc=0" "$GOT" "CNAME alias -> www"
assert_contains "$LOOKUP_OUT" "^alias\.example\.test[[:space:]]+canonical name = www\.example\.test\.$" \
    "canonical name line for alias.example.test"

lookup alias2.example.test
assert_eq "192.0.2.80 rc=0" "$GOT" "CNAME chain alias2 -> alias -> www"
assert_contains "$LOOKUP_OUT" "canonical name = www\.example\.test\.$" "canonical name of alias2"

lookup multi.example.test
assert_eq "192.0.2.81 192.0.2.82 192.0.2.83 rc=0" "$GOT" \
    "three A records for multi.example.test"

lookup nosuch.example.test
assert_eq " rc=1" "$GOT" "NXDOMAIN for nosuch.example.test"
assert_contains "$LOOKUP_OUT" "^ustack lookup: nosuch\.example\.test: no such host" "NXDOMAIN error message"
log "NXDOMAIN message: $LOOKUP_OUT"

# A second kernel address where no DNS server listens (dnsmasq is bound to 192.0.2.1 only):
# the query gets a port unreachable or times out; either way a clean non-zero exit.
nsx ip addr add 192.0.2.9/24 dev "$TAP"
out=$(us lookup www.example.test --server 192.0.2.9 --tries 1 --timeout 500 2>&1); rc=$?
assert_eq 1 "$rc" "lookup against 192.0.2.9 (no server) exit status ($out)"
assert_contains "$out" "^ustack lookup: www\.example\.test: " "lookup against 192.0.2.9 error message"
assert_not_contains "$out" "^Address:" "lookup against 192.0.2.9 printed an address"
log "no-server message: $out"
finish
