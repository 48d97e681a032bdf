#!/usr/bin/env bash
# --trace: a kernel ping makes every layer narrate ("trace: eth:", "arp:", "ip:", "icmp:").
. "$(dirname "$0")/lib.sh" "$@"
us_start --trace
out=$(nsx ping -n -c 1 -W 2 "$US_IP" 2>&1)
assert_contains "$out" "1 packets transmitted, 1 received" "kernel ping of ustack"
sleep 0.2
trace=$(grep '^trace: ' "$TMP/ustack.out")
for layer in eth arp ip icmp; do
    assert_contains "$trace" "^trace: $layer: " "trace lines from the $layer layer"
done
assert_contains "$trace" "^trace: ip: .*$HOST_IP -> $US_IP" "ip trace of the echo request"
[ "$FAILS" -gt 0 ] && cat "$TMP/ustack.out"
finish
