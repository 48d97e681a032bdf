#!/usr/bin/env bash
# The kernel pings ustack: sizes 0, 56, 1472 (one full frame) and 8000 (fragmented both ways);
# every reply must arrive, and ustack must count the reassembly and the fragmentation.
. "$(dirname "$0")/lib.sh" "$@"
us_start --serve echo
before=$(stats)
for size in 0 56 1472 8000; do
    out=$(nsx ping -n -c 3 -i 0.2 -W 2 -s "$size" "$US_IP" 2>&1)
    assert_contains "$out" "3 packets transmitted, 3 received, 0% packet loss" "kernel ping -s $size"
    [ "$size" -ge 8 ] && assert_not_contains "$out" "wrong data|corrupted|DUP!" "kernel ping -s $size data"
done
after=$(stats)
assert_gt 0 "$(counter IP_REASM_OK "$after")" "IP_REASM_OK after ping -s 8000"
assert_gt 0 "$(counter IP_FRAGMENTED "$after")" "IP_FRAGMENTED after ping -s 8000"
# 3 x 8000-byte requests: 3 reassembled, 3 replies fragmented (6 frames each at MTU 1500).
assert_counter_delta IP_REASM_OK 3 "$before" "$after"
assert_counter_delta IP_FRAGMENTED 3 "$before" "$after"
assert_counter_delta ICMP_ECHO_REPLY_OUT 12 "$before" "$after"
[ "$FAILS" -gt 0 ] && echo "$after"
finish
