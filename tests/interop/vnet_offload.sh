#!/usr/bin/env bash
# Offloads, the default: the TAP device carries a virtio-net header, so the kernel hands ustack
# GSO super-frames with partial checksums and ustack hands the kernel TSO super-segments.
# Downloads both ways must be byte-exact, and fewer (bigger) segments must cross than the data
# would need at MTU 1500; the pcap capture records super-segments whole. With --no-offload the
# same download crosses in MTU-sized segments; --vnet (once needed for offloads) still works.
. "$(dirname "$0")/lib.sh" "$@"
mkdir -p "$TMP/www"
head -c 20000000 /dev/urandom >"$TMP/www/f.bin"
want=$(sha256sum <"$TMP/www/f.bin" | cut -d' ' -f1)
us_start --serve "http=$TMP/www,echo" --pcap "$TMP/cap.pcap"
# ustack -> kernel: TSO on ustack's send side
nsx curl -s -m 120 -o "$TMP/a.bin" "http://$US_IP/f.bin"
assert_eq "$want" "$(sha256sum <"$TMP/a.bin" | cut -d' ' -f1)" "curl download over TSO"
out_segs=$(counter TCP_OUT_SEGS)
[ "$out_segs" -lt 13800 ] || fail "ustack sent $out_segs segments for 20 MB: no TSO super-segments"
# kernel -> ustack: GSO super-frames on ustack's receive side
bg "$TMP/web.log" python3 -m http.server 8080 --bind "$HOST_IP" --directory "$TMP/www"
for _ in $(seq 50); do nsx ss -ltn | grep -q ":8080 " && break; sleep 0.1; done
us get "http://$HOST_IP:8080/f.bin" -o "$TMP/b.bin" >"$TMP/get.log" 2>&1
assert_eq 0 "$?" "ustack get exit status ($(cat "$TMP/get.log"))"
assert_eq "$want" "$(sha256sum <"$TMP/b.bin" | cut -d' ' -f1)" "ustack get over GSO"
in_segs=$(counter TCP_IN_SEGS)
[ "$in_segs" -lt 13800 ] || fail "ustack received $in_segs segments for 20 MB: no GSO super-frames"
# small exchanges still work with checksum offload
out=$(echo "offloaded echo" | nsx nc -q1 "$US_IP" 7)
assert_eq "offloaded echo" "$out" "TCP echo with checksum offload"
us_restart --no-offload --serve "http=$TMP/www,echo"
nsx curl -s -m 120 -o "$TMP/c.bin" "http://$US_IP/f.bin"
assert_eq "$want" "$(sha256sum <"$TMP/c.bin" | cut -d' ' -f1)" "curl download with --no-offload"
segs=$(counter TCP_OUT_SEGS)
[ "$segs" -ge 13800 ] || fail "--no-offload: ustack sent $segs segments for 20 MB: super-segments?"
us_restart --vnet --serve "http=$TMP/www,echo"
out=$(echo "still offloaded" | nsx nc -q1 "$US_IP" 7)
assert_eq "still offloaded" "$out" "TCP echo with --vnet, now the default's alias"
us_stop
# the capture (complete once ustack stopped) holds the super-segments whole: gathered from the
# send buffer into one record each
big=$(tcpdump -nn -r "$TMP/cap.pcap" "src host $US_IP and tcp and greater 9000" 2>/dev/null | wc -l)
[ "$big" -gt 0 ] || fail "no TSO super-segment in the capture"
tcpdump -nn -r "$TMP/cap.pcap" 2>&1 | grep -q truncated && fail "capture has truncated frames"
finish
