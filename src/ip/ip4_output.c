/* IPv4 output: route lookup, header, fragmentation. Layer: internet.
 * RFC 791 3.2 (fragmentation), RFC 1122 3.3.5 (a host may fragment what it sends). */
#include <errno.h>
#include <string.h>

#include "ip/arp.h"
#include "ip/ip.h"

static void
ip4_emit(struct us_stack *st, struct us_pkt *pkt, const struct us_ip4_tx *tx, us_ip4_t src,
         uint16_t id, uint16_t frag_off, bool mf, size_t payload_len)
{
    struct us_ip4_repr ip = {.tos = tx->tos, .id = id, .df = tx->df, .mf = mf,
                             .frag_off = frag_off, .ttl = tx->ttl ? tx->ttl : st->cfg.ttl,
                             .proto = tx->proto, .src = src, .dst = tx->dst,
                             .payload_len = payload_len};
    us_wire_ip4_emit(&ip, us_pkt_push(pkt, US_IP4_HDR_LEN));
}

int
us_ip4_output(struct us_stack *st, struct us_pkt *pkt, const struct us_ip4_tx *tx, us_time_t now)
{
    us_ip4_t nh = 0;
    const struct us_route *rt = NULL;
    struct us_iface *ifp;
    /* RFC 1122 3.3.6: limited broadcast stays on the link (never to a gateway, even when a
     * default route matches it); it leaves by the first interface. */
    if (tx->dst != US_IP4_BROADCAST)
        rt = us_route_lookup(st, tx->dst, &nh);
    if (rt) {
        ifp = rt->ifp;
    } else if (tx->dst == US_IP4_BROADCAST && st->link->n_ifaces > 0) {
        ifp = &st->link->ifaces[0];
        nh = US_IP4_BROADCAST;
    } else {
        us_drop(st, US_DROP_IP_NO_ROUTE);
        us_pkt_free(st->pools, pkt);
        return -ENETUNREACH;
    }
    us_ip4_t src = tx->src ? tx->src : ifp->addr;
    size_t len = us_pkt_total(pkt); /* with payload borrowed from TCP's send buffer (TSO) */
    uint16_t id = st->ip->id++;
    us_stat_inc(st, US_STAT_IP_OUT);
    char s[16], d[16];
    if (US_IP4_HDR_LEN + len <= ifp->mtu || pkt->gso_size) { /* TSO: the device segments */
        US_TRACE(st, "ip: send %zu-byte datagram %s -> %s proto %u", US_IP4_HDR_LEN + len,
                 us_ip4_ntoa(src, s), us_ip4_ntoa(tx->dst, d), (unsigned)tx->proto);
        ip4_emit(st, pkt, tx, src, id, 0, false, len);
        us_arp_output(st, ifp, nh, pkt, now);
        return 0;
    }
    if (tx->df) {
        us_drop(st, US_DROP_IP_DF_TOO_BIG);
        us_pkt_free(st->pools, pkt);
        return -EMSGSIZE;
    }
    us_pkt_linearize(pkt); /* the fragments copy from one buffer */
    /* RFC 791 3.2: every fragment but the last carries a multiple of 8 payload bytes. */
    size_t chunk = (size_t)(ifp->mtu - US_IP4_HDR_LEN) & ~(size_t)7;
    size_t nfrag = (len + chunk - 1) / chunk;
    us_stat_inc(st, US_STAT_IP_FRAGMENTED);
    for (size_t off = 0, i = 1; off < len; off += chunk, i++) {
        size_t n = US_MIN(chunk, len - off);
        struct us_pkt *f = us_pkt_alloc(st->pools, n + US_IP4_HDR_LEN + US_ETH_HDR_LEN);
        if (!f) {
            us_drop(st, US_DROP_NO_BUFFER);
            us_pkt_free(st->pools, pkt);
            return -ENOBUFS;
        }
        memcpy(us_pkt_put(f, n), pkt->data + off, n);
        US_TRACE(st, "ip: %zu-byte datagram %s -> %s, fragment %zu/%zu (offset %zu, %zu bytes)",
                 US_IP4_HDR_LEN + len, us_ip4_ntoa(src, s), us_ip4_ntoa(tx->dst, d), i, nfrag,
                 off, n);
        ip4_emit(st, f, tx, src, id, (uint16_t)off, off + n < len, n);
        us_stat_inc(st, US_STAT_IP_FRAG_CREATED);
        us_arp_output(st, ifp, nh, f, now);
    }
    us_pkt_free(st->pools, pkt);
    return 0;
}
