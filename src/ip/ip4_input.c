/* IPv4 input: header validation, address checks, reassembly and protocol dispatch.
 * Layer: internet. RFC 791 3.2, RFC 1122 3.2.1. A host: nothing is forwarded. */
#include "ip/ip.h"

bool
us_ip4_is_mcast(us_ip4_t a)
{
    return (a >> 28) == 0xe;
}

bool
us_ip4_is_bcast_for(const struct us_stack *st, us_ip4_t a)
{
    if (a == US_IP4_BROADCAST)
        return true;
    for (size_t i = 0; i < st->link->n_ifaces; i++)
        if (st->link->ifaces[i].prefix_len < 31 && a == us_iface_bcast(&st->link->ifaces[i]))
            return true;
    return false;
}

/* RFC 1122 3.2.1.3: a source address must be a unicast host address: not 0 (except from a host
 * still configuring itself, which we do not serve), not broadcast or multicast, not class E,
 * not loopback arriving on the wire, and not one of our own addresses (a martian). */
static bool
ip4_src_ok(struct us_stack *st, us_ip4_t src)
{
    if (src == 0 || us_ip4_is_mcast(src) || (src >> 28) == 0xf || (src >> 24) == 127)
        return false;
    if (us_ip4_is_bcast_for(st, src) || us_iface_by_addr(st, src))
        return false;
    return true;
}

void
us_ip4_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *b, size_t len,
             unsigned rx_flags, us_time_t now)
{
    struct us_ip4_rx rx = {.hdr = b, .ifp = ifp, .l4_csum_ok = rx_flags & US_RX_L4_CSUM_OK};
    us_stat_inc(st, US_STAT_IP_IN);
    int err = us_wire_ip4_parse(&rx.ip, b, len, true);
    if (err) {
        us_drop(st, (enum us_drop_reason)err);
        return;
    }
    if (!ip4_src_ok(st, rx.ip.src)) {
        us_drop(st, US_DROP_IP_BAD_SRC);
        return;
    }
    if (rx.ip.dst != ifp->addr && !us_iface_by_addr(st, rx.ip.dst)) {
        if (!us_ip4_is_bcast_for(st, rx.ip.dst)) {
            us_drop(st, US_DROP_IP_NOT_FOR_US);
            return;
        }
        rx.to_bcast = true;
    }
    char s[16], d[16];
    US_TRACE(st, "ip: %zu-byte datagram %s -> %s proto %u id %u%s", rx.ip.hdr_len + rx.ip.payload_len,
             us_ip4_ntoa(rx.ip.src, s), us_ip4_ntoa(rx.ip.dst, d), (unsigned)rx.ip.proto,
             (unsigned)rx.ip.id, rx.ip.mf || rx.ip.frag_off ? " (fragment)" : "");
    if (rx.ip.mf || rx.ip.frag_off) {
        struct us_ip4_rx whole;
        uint8_t hdr[60];
        size_t slot;
        if (us_frag_input(st, &rx, &whole, hdr, &slot, now)) {
            us_ip4_deliver(st, &whole, now);
            us_frag_release(st, slot);
        }
        return;
    }
    us_ip4_deliver(st, &rx, now);
}

void
us_ip4_deliver(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now)
{
    us_stat_inc(st, US_STAT_IP_IN_DELIVERED);
    us_ip_proto_fn input = st->ip->protos[rx->ip.proto];
    if (input) {
        input(st, rx, now);
        return;
    }
    /* RFC 1122 3.2.2.1: protocol unreachable for a transport we do not have. */
    us_drop(st, US_DROP_IP_UNKNOWN_PROTO);
    us_icmp_send_error(st, rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PROTO, 0, now);
}
