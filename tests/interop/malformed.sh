#!/usr/bin/env bash
# Crafted bad frames written into the TAP link from the kernel side (AF_PACKET, inject.py): each
# must be dropped and counted under its own reason in `ustack netstat -s` (exactly one drop, under
# that name), and ustack must still answer ping afterwards. Then an impaired link
# (--impair loss/dup/reorder): a kernel ping gets some but not all replies and ustack stays up.
# Last, bit errors on the wire (--impair biterr): some pings fail, and no damaged frame reaches
# the stack (the FCS check drops them): no drop counted under a bad-header or checksum reason.
. "$(dirname "$0")/lib.sh" "$@"
us_start --serve echo,discard
INJECT="python3 $ROOT/tests/interop/inject.py"
KMAC=$(nsx cat "/sys/class/net/$TAP/address") || die "cannot read the kernel MAC of $TAP"
out=$(nsx ping -n -c 1 -W 2 "$US_IP" 2>&1)
assert_contains "$out" "1 received" "ping before injection (fills both ARP caches)"

drop_total() { sed -n 's/^Drops by reason (total \([0-9]*\)).*/\1/p' <<<"$1"; }

# CASE COUNTER DELTA [TOTAL_DROPS_DELTA]
check_case() {
    local case=$1 name=$2 delta=$3 tdelta=${4:-$3}
    local before after out rc
    before=$(stats)
    out=$(nsx $INJECT "$TAP" "$KMAC" "$US_MAC" "$HOST_IP" "$US_IP" "$case" 2>&1); rc=$?
    if [ "$rc" -eq 3 ] && [ "$case" = eth_truncated ]; then
        # Linux's AF_PACKET will not send a frame shorter than the 14-byte Ethernet header
        # (dev_validate_header), so ETH_TRUNCATED is unreachable from the kernel side.
        log "SKIP $case: $out"
        return
    fi
    [ "$rc" -eq 0 ] || { fail "inject $case: exit $rc: $out"; return; }
    sleep 0.05
    after=$(stats)
    local ok=1
    assert_counter_delta "$name" "$delta" "$before" "$after" || ok=0
    local tb ta
    tb=$(drop_total "$before"); ta=$(drop_total "$after")
    if [ "$((ta - tb))" -ne "$tdelta" ]; then
        fail "$case: total drops went $tb -> $ta, expected +$tdelta"
        ok=0
    fi
    if [ "$ok" = 1 ]; then
        log "ok $case: $name +$delta"
    else
        echo "---- netstat -s before $case ----"; echo "$before"
        echo "---- netstat -s after $case ----"; echo "$after"
    fi
}

check_case eth_truncated        ETH_TRUNCATED     1
check_case eth_unknown_type     ETH_UNKNOWN_TYPE  1
check_case eth_8023_length      ETH_UNKNOWN_TYPE  1
check_case eth_not_for_us       ETH_NOT_FOR_US    1
check_case eth_bcast_src        ETH_BAD_SRC       1
check_case arp_truncated        ARP_TRUNCATED     1
check_case arp_bad_hw           ARP_BAD_HW        1
check_case arp_bad_proto        ARP_BAD_PROTO     1
check_case arp_bad_op           ARP_BAD_OP        1
check_case ip_truncated         IP_TRUNCATED      1
check_case ip_bad_version       IP_BAD_VERSION    1
check_case ip_bad_hdr_len       IP_BAD_HDR_LEN    1
check_case ip_bad_total_len     IP_BAD_TOTAL_LEN  1
check_case ip_bad_csum          IP_BAD_CSUM       1
check_case ip_bad_options       IP_BAD_OPTIONS    1
check_case ip_bcast_src         IP_BAD_SRC        1
check_case ip_limited_bcast_src IP_BAD_SRC        1
check_case ip_not_for_us        IP_NOT_FOR_US     1
check_case ip_unknown_proto     IP_UNKNOWN_PROTO  1
check_case frag_overlap         IP_FRAG_OVERLAP   1
check_case frag_past_65535      IP_BAD_FRAG       1
check_case frag_too_big         IP_FRAG_TOO_BIG   1
check_case icmp_truncated       ICMP_TRUNCATED    1
check_case icmp_bad_csum        ICMP_BAD_CSUM     1
check_case icmp_bcast_echo      ICMP_BCAST_ECHO   1
check_case udp_truncated        UDP_TRUNCATED     1
check_case udp_bad_csum         UDP_BAD_CSUM      1
check_case udp_bad_len_long     UDP_BAD_LEN       1
check_case udp_bad_len_short    UDP_BAD_LEN       1
check_case udp_closed_port      UDP_NO_PORT       1
# A zero UDP checksum means "none computed" (RFC 768): accepted, delivered to discard, no drop.
check_case udp_zero_csum_echo   UDP_IN            1 0

kill -0 "$US_PID" 2>/dev/null || die "ustack died during the injection"
out=$(nsx ping -n -c 3 -i 0.2 -W 2 "$US_IP" 2>&1)
assert_contains "$out" "3 packets transmitted, 3 received, 0% packet loss" "ping after injection"
out=$(nsx ping -n -c 2 -i 0.2 -W 2 -s 4000 "$US_IP" 2>&1)
assert_contains "$out" "2 packets transmitted, 2 received, 0% packet loss" \
    "fragmented ping after injection (reassembly still works)"
us_stop

# ---- impaired link ----
us_start --impair loss=0.2,dup=0.05,reorder=0.05,seed=3
out=$(nsx ping -n -c 30 -i 0.05 -W 1 "$US_IP" 2>&1)
got=$(sed -n 's/^30 packets transmitted, \([0-9]*\) received.*/\1/p' <<<"$out")
log "impaired ping: $(grep 'packets transmitted' <<<"$out")"
assert_gt 0 "${got:-0}" "replies over the impaired link"
[ "${got:-30}" -lt 30 ] || fail "impaired link: expected some loss, got ${got:-?}/30 replies"
kill -0 "$US_PID" 2>/dev/null || fail "ustack died on the impaired link"
us netstat -s >/dev/null || fail "netstat failed after the impaired run"

# ---- bit errors on the wire: the FCS check drops them before the stack sees them ----
us_restart --impair biterr=0.3,seed=5
out=$(nsx ping -n -c 30 -i 0.05 -W 1 "$US_IP" 2>&1)
got=$(sed -n 's/^30 packets transmitted, \([0-9]*\) received.*/\1/p' <<<"$out")
log "bit errors: $(grep 'packets transmitted' <<<"$out")"
assert_gt 0 "${got:-0}" "replies over a link with bit errors"
[ "${got:-30}" -lt 30 ] || fail "bit errors: expected some frames dropped, got ${got:-?}/30 replies"
s=$(stats)
for c in ETH_NOT_FOR_US ETH_BAD_SRC ETH_UNKNOWN_TYPE IP_BAD_CSUM IP_BAD_VERSION ICMP_BAD_CSUM \
    ARP_BAD_HW ARP_BAD_PROTO ARP_BAD_OP; do
    v=$(awk -v n="$c" '$1 == n { print $2; exit }' <<<"$s")
    assert_eq 0 "${v:-0}" "bit errors: $c (a damaged frame reached the stack)"
done
finish
