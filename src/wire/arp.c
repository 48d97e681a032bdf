/* ARP packet format (RFC 826) for Ethernet hardware and IPv4 protocol addresses only.
 * Layer: wire. No state; the neighbour cache and the reply logic live in src/ip/arp.c.
 * Other hardware/protocol pairs are rejected rather than parsed generically. */
#include <string.h>

#include "wire/wire.h"

#define ARP_HTYPE_ETHER 1

int
us_wire_arp_parse(struct us_arp_repr *r, const uint8_t *b, size_t len)
{
    /* RFC 826 "Packet format": hrd(2) pro(2) hln(1) pln(1) op(2) sha spa tha tpa. */
    if (len < US_ARP_LEN)
        return US_DROP_ARP_TRUNCATED;
    if (us_load_be16(b) != ARP_HTYPE_ETHER || b[4] != US_ETH_ALEN)
        return US_DROP_ARP_BAD_HW;
    if (us_load_be16(b + 2) != US_ETHERTYPE_IPV4 || b[5] != 4)
        return US_DROP_ARP_BAD_PROTO;
    uint16_t op = us_load_be16(b + 6);
    if (op != US_ARP_OP_REQUEST && op != US_ARP_OP_REPLY)
        return US_DROP_ARP_BAD_OP;
    r->op = op;
    memcpy(r->sha, b + 8, US_ETH_ALEN);
    r->spa = us_load_be32(b + 14);
    memcpy(r->tha, b + 18, US_ETH_ALEN);
    r->tpa = us_load_be32(b + 24);
    return 0;
}

void
us_wire_arp_emit(const struct us_arp_repr *r, uint8_t *out)
{
    us_store_be16(out, ARP_HTYPE_ETHER);
    us_store_be16(out + 2, US_ETHERTYPE_IPV4);
    out[4] = US_ETH_ALEN;
    out[5] = 4;
    us_store_be16(out + 6, r->op);
    memcpy(out + 8, r->sha, US_ETH_ALEN);
    us_store_be32(out + 14, r->spa);
    memcpy(out + 18, r->tha, US_ETH_ALEN);
    us_store_be32(out + 24, r->tpa);
}
