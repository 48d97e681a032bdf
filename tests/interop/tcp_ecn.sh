#!/usr/bin/env bash
# RFC 3168 ECN with the Linux kernel, which asks for it and accepts it (net.ipv4.tcp_ecn=1, set
# in the test's own namespace). tcpdump on the kernel's side of the TAP records every segment;
# a small pcap reader prints each one's addresses, TCP flags, payload length and IP ECN field.
#  1. ustack as server (its default mode, 2): the kernel's SYN asks (SYN+ECE+CWR), ustack's
#     SYN-ACK agrees (ECE without CWR); 2 MB through ustack's echo service come back byte-exact;
#     ustack's data goes out ECT(0) and its pure ACKs not-ECT.
#  2. ustack as client (--ecn 1): its SYN asks, the kernel's SYN-ACK agrees; 2 MB to a kernel
#     echo server and back through `ustack connect`, byte-exact, ustack's data ECT(0).
#  3. --impair ce=0.02 marks ECT packets CE in both directions: ustack echoes the kernel's marks
#     with ECE and the kernel answers with CWR; the kernel echoes the marks on ustack's data with
#     ECE, ustack halves cwnd and sends CWR; 4 MB still come back byte-exact.
. "$(dirname "$0")/lib.sh" "$@"
make_ns
nsx sysctl -qw net.ipv4.tcp_ecn=1 || die "cannot set net.ipv4.tcp_ecn in $NS"
assert_eq 1 "$(nsx sysctl -n net.ipv4.tcp_ecn)" "net.ipv4.tcp_ecn in the namespace"

# capture_start NAME: tcpdump on the kernel's side of the TAP into $TMP/NAME.pcap (bounded wait
# for it to listen; --immediate-mode: each packet goes to the file as it comes, not in blocks
# that an interrupt may cut off). capture_stop: ends it and waits for the file.
CAP_PID=""
capture_start() {
    CAP=$TMP/$1.pcap
    ip netns exec "$NS" tcpdump -i "$TAP" -s 96 -U --immediate-mode -w "$CAP" tcp >/dev/null 2>"$TMP/tcpdump.err" &
    CAP_PID=$!
    BG_PIDS+=("$CAP_PID")
    wait_for 5 grep -q "listening on" "$TMP/tcpdump.err" || die "tcpdump did not start: $(cat "$TMP/tcpdump.err")"
}
capture_stop() {
    sleep 1
    kill -INT "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
}
# segments: one line per TCP segment of $CAP: "SRC:SPORT DST:DPORT FLAGS LEN ECN", FLAGS as
# tcpdump writes them (S F R P U . E W), ECN as not-ECT, ECT1, ECT0 or CE.
segments() {
    python3 - "$CAP" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
magic = struct.unpack_from("<I", b, 0)[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off = 24
names = ["not-ECT", "ECT1", "ECT0", "CE"]
while off + 16 <= len(b):
    caplen, wirelen = struct.unpack_from(end + "II", b, off + 8)
    f = b[off + 16:off + 16 + caplen]
    off += 16 + caplen
    if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
        continue
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack_from(">H", ip, 2)[0]
    tcp = ip[ihl:]
    sport, dport = struct.unpack_from(">HH", tcp, 0)
    thl = (tcp[12] >> 4) * 4
    fl = tcp[13]
    flags = "".join(c for bit, c in ((2, "S"), (1, "F"), (4, "R"), (8, "P"), (32, "U"),
                                     (16, "."), (64, "E"), (128, "W")) if fl & bit)
    print("%s:%d %s:%d %s %d %s" % (".".join(map(str, ip[12:16])), sport,
                                   ".".join(map(str, ip[16:20])), dport, flags,
                                   total - ihl - thl, names[ip[1] & 3]))
EOF
}
# from ADDR: the segments sent from ADDR (any port). count_from ADDR AWK-CONDITION.
count_from() { awk -v a="$1" "index(\$1, a \":\") == 1 && ($2) { n++ } END { print n + 0 }" <<<"$SEGS"; }

# ---- 1. ustack as server, the kernel asks ----
us_start --serve echo
capture_start server
head -c 2000000 /dev/urandom >"$TMP/req"
nsx timeout -k 5 60 socat -b 65536 -t 30 - "TCP:$US_IP:7" <"$TMP/req" >"$TMP/rep" 2>"$TMP/socat.err" ||
    fail "socat -> ustack echo failed: $(cat "$TMP/socat.err")"
assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep")" "kernel -> ustack echo, 2 MB, with ECN (got $(fsize "$TMP/rep"))"
capture_stop
SEGS=$(segments)
st=$(stats)
assert_contains "$SEGS" "^$HOST_IP:[0-9]+ $US_IP:7 SEW 0 not-ECT$" "the kernel's SYN asks for ECN"
assert_contains "$SEGS" "^$US_IP:7 $HOST_IP:[0-9]+ S\.E 0 not-ECT$" "ustack's SYN-ACK agrees (ECE, no CWR, not-ECT)"
assert_gt 10 "$(count_from "$US_IP" '$4 > 0 && $5 == "ECT0"')" "ustack's data segments (TSO frames) sent ECT(0)"
assert_eq 0 "$(count_from "$US_IP" '$4 > 0 && $5 != "ECT0" && $3 !~ /S/')" "ustack's data segments not ECT(0) (no loss: no retransmission)"
assert_gt 0 "$(count_from "$US_IP" '$4 == 0 && $3 !~ /[SFR]/')" "ustack's pure ACKs"
assert_eq 0 "$(count_from "$US_IP" '$4 == 0 && $5 != "not-ECT"')" "ustack's segments without data not-ECT"
assert_gt 10 "$(count_from "$HOST_IP" '$4 > 0 && $5 == "ECT0"')" "the kernel's data segments ECT(0) (so it agreed too)"
assert_ge 1 "$(counter TCP_ECN_NEGOTIATED "$st")" "TCP_ECN_NEGOTIATED"
assert_eq 0 "$(counter TCP_ECN_CE_IN "$st")" "TCP_ECN_CE_IN without marks"
assert_eq 0 "$(counter TCP_ECN_CWND_REDUCED "$st")" "TCP_ECN_CWND_REDUCED without marks"
log "server: $(count_from "$US_IP" '$5 == "ECT0"') ECT(0) segments from ustack, $(count_from "$HOST_IP" '$5 == "ECT0"') from the kernel"

# ---- 2. ustack as client (--ecn 1) ----
us_restart --ecn 1
bg_echo_server "$TMP/pyecho.log" 6002
wait_tcp_port 6002
capture_start client
timeout -k 5 60 "$USTACK" connect "$HOST_IP" 6002 <"$TMP/req" >"$TMP/rep" 2>"$TMP/connect.err" ||
    fail "ustack connect -> kernel echo failed: $(cat "$TMP/connect.err")"
assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep")" "ustack connect -> kernel echo, 2 MB, with ECN (got $(fsize "$TMP/rep"))"
capture_stop
SEGS=$(segments)
assert_contains "$SEGS" "^$US_IP:[0-9]+ $HOST_IP:6002 SEW 0 not-ECT$" "ustack's SYN asks for ECN (--ecn 1)"
assert_contains "$SEGS" "^$HOST_IP:6002 $US_IP:[0-9]+ S\.E 0 not-ECT$" "the kernel's SYN-ACK agrees"
assert_gt 10 "$(count_from "$US_IP" '$4 > 0 && $5 == "ECT0"')" "ustack's data segments (TSO frames) sent ECT(0)"
assert_eq 0 "$(count_from "$US_IP" '$4 == 0 && $5 != "not-ECT"')" "ustack's segments without data not-ECT"
assert_gt 10 "$(count_from "$HOST_IP" '$4 > 0 && $5 == "ECT0"')" "the kernel's data segments ECT(0)"
st=$(stats)
assert_ge 1 "$(counter TCP_ECN_NEGOTIATED "$st")" "TCP_ECN_NEGOTIATED as client"

# ---- 3. CE marks on the path, both directions ----
us_restart --serve echo --ecn 1 --impair ce=0.02,seed=3
capture_start marks
head -c 4000000 /dev/urandom >"$TMP/req"
nsx timeout -k 5 120 socat -b 65536 -t 30 - "TCP:$US_IP:7" <"$TMP/req" >"$TMP/rep" 2>"$TMP/socat.err" ||
    fail "socat -> ustack echo with CE marks failed: $(cat "$TMP/socat.err")"
assert_eq "$(sha "$TMP/req")" "$(sha "$TMP/rep")" "kernel -> ustack echo, 4 MB, CE marks both ways (got $(fsize "$TMP/rep"))"
capture_stop
SEGS=$(segments)
st=$(stats)
log "ustack's counters:"; grep -E '(^|[[:space:]])TCP_(ECN_|RETRANS|FAST_RETRANS)' <<<"$st" | sed 's/^/    | /'
# The kernel -> ustack direction: ustack sees CE, echoes ECE; the kernel reduces and sends CWR.
assert_gt 0 "$(counter TCP_ECN_CE_IN "$st")" "TCP_ECN_CE_IN (the kernel's data marked on the way in)"
assert_gt 0 "$(counter TCP_ECN_ECE_OUT "$st")" "TCP_ECN_ECE_OUT"
assert_gt 0 "$(count_from "$US_IP" '$3 ~ /E/ && $3 !~ /S/')" "ustack's segments with ECE on the wire"
assert_gt 0 "$(count_from "$HOST_IP" '$3 ~ /W/ && $3 !~ /S/')" "the kernel's segments with CWR (it answered ustack's ECE)"
# The ustack -> kernel direction: the capture sees ustack's data marked CE; the kernel echoes;
# ustack reduces cwnd and sends CWR on new data.
assert_gt 0 "$(count_from "$US_IP" '$4 > 0 && $5 == "CE"')" "ustack's data marked CE on the path"
assert_gt 0 "$(count_from "$HOST_IP" '$3 ~ /E/ && $3 !~ /S/')" "the kernel's segments with ECE"
assert_gt 0 "$(counter TCP_ECN_ECE_IN "$st")" "TCP_ECN_ECE_IN"
assert_gt 0 "$(counter TCP_ECN_CWND_REDUCED "$st")" "TCP_ECN_CWND_REDUCED"
assert_gt 0 "$(counter TCP_ECN_CWR_OUT "$st")" "TCP_ECN_CWR_OUT"
assert_gt 0 "$(count_from "$US_IP" '$3 ~ /W/ && $4 > 0 && $5 != "not-ECT"')" "ustack's CWR on an ECT data segment"
assert_eq 0 "$(count_from "$US_IP" '$3 ~ /W/ && $4 == 0 && $3 !~ /S/')" "ustack's CWR on a segment without data"
# Once per window: far fewer reductions than ECE-carrying ACKs.
ece_in=$(counter TCP_ECN_ECE_IN "$st")
red=$(counter TCP_ECN_CWND_REDUCED "$st")
[ "$red" -lt "$ece_in" ] || fail "cwnd reductions ($red) not fewer than ECE segments received ($ece_in)"
log "marks: $(count_from "$US_IP" '$5 == "CE"') of ustack's segments marked CE; ECE in $ece_in, reductions $red"
finish
