#!/usr/bin/env bash
# --pcap FILE: after a kernel ping of ustack and a ustack ping of the kernel, the file reads back
# with tcpdump and shows the ARP exchange and the ICMP echo requests and replies both ways.
. "$(dirname "$0")/lib.sh" "$@"
us_start --pcap "$TMP/cap.pcap"
out=$(nsx ping -n -c 2 -i 0.2 -W 2 "$US_IP" 2>&1)
assert_contains "$out" "2 packets transmitted, 2 received" "kernel ping of ustack"
out=$(us ping -c 2 -i 0.2 "$HOST_IP" 2>&1)
assert_contains "$out" "^2 packets transmitted, 2 received" "ustack ping of the kernel"
us_stop
[ -s "$TMP/cap.pcap" ] || die "no pcap file written"
dump=$(tcpdump -nn -r "$TMP/cap.pcap" 2>"$TMP/tcpdump.err")
rc=$?
assert_eq 0 "$rc" "tcpdump -r exit status ($(cat "$TMP/tcpdump.err"))"
assert_contains "$dump" "ARP, Request who-has $US_IP tell $HOST_IP" "ARP request from the kernel"
assert_contains "$dump" "ARP, Reply $US_IP is-at 02:00:00:00:00:02" "ARP reply from ustack"
assert_contains "$dump" "IP $HOST_IP > $US_IP: ICMP echo request" "kernel's echo request"
assert_contains "$dump" "IP $US_IP > $HOST_IP: ICMP echo reply" "ustack's echo reply"
assert_contains "$dump" "IP $US_IP > $HOST_IP: ICMP echo request" "ustack's echo request"
assert_contains "$dump" "IP $HOST_IP > $US_IP: ICMP echo reply" "kernel's echo reply"
assert_eq 4 "$(grep -c 'ICMP echo request' <<<"$dump")" "echo requests in the capture"
assert_eq 4 "$(grep -c 'ICMP echo reply' <<<"$dump")" "echo replies in the capture"
[ "$FAILS" -gt 0 ] && echo "$dump"
finish
