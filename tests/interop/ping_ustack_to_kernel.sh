#!/usr/bin/env bash
# ustack pings the kernel (3 x 56 bytes, 3 x 8000 bytes fragmented both ways): all replies;
# ustack pings an unused address: ARP gives up, nothing is received, exit status 1.
. "$(dirname "$0")/lib.sh" "$@"
us_start
out=$(us ping -c 3 -i 0.2 "$HOST_IP" 2>&1); rc=$?
assert_eq 0 "$rc" "ustack ping $HOST_IP exit status"
assert_contains "$out" "^3 packets transmitted, 3 received, 0% packet loss" "ustack ping $HOST_IP"
assert_eq 3 "$(grep -c "bytes from $HOST_IP: icmp_seq=" <<<"$out")" "reply lines from $HOST_IP"
assert_not_contains "$out" "corrupted" "ustack ping $HOST_IP data"

out=$(us ping -c 3 -i 0.2 -s 8000 "$HOST_IP" 2>&1); rc=$?
assert_eq 0 "$rc" "ustack ping -s 8000 exit status"
assert_contains "$out" "^3 packets transmitted, 3 received, 0% packet loss" "ustack ping -s 8000"
assert_contains "$out" "^8008 bytes from $HOST_IP: icmp_seq=1 " "ustack ping -s 8000 reply size"
assert_not_contains "$out" "corrupted" "ustack ping -s 8000 data"
s=$(stats)
assert_gt 0 "$(counter IP_FRAGMENTED "$s")" "IP_FRAGMENTED after ustack ping -s 8000"
assert_gt 0 "$(counter IP_REASM_OK "$s")" "IP_REASM_OK after ustack ping -s 8000"

# 192.0.2.77 is in the subnet but nobody has it: ARP (3 tries, 1 s apart) fails.
out=$(us ping -c 1 -W 5 192.0.2.77 2>&1); rc=$?
assert_eq 1 "$rc" "ustack ping to unused 192.0.2.77 exit status"
assert_contains "$out" "^1 packets transmitted, 0 received" "ustack ping to unused 192.0.2.77"
assert_contains "$out" "Destination Host Unreachable" "ustack ping to unused 192.0.2.77 error"
assert_gt 0 "$(counter ARP_UNRESOLVED)" "ARP_UNRESOLVED after ping to unused address"
[ "$FAILS" -gt 0 ] && echo "$out"
finish
