/* ICMP messages (RFC 792, RFC 1191 for the next-hop MTU): parse and emit with checksum.
 * Layer: wire. No state; which types are answered or delivered is decided in src/ip/icmp.c.
 * Only the type-specific 4 bytes that the repr names are decoded; the rest (e.g. the redirect
 * gateway) are neither parsed nor emitted. */
#include <string.h>

#include "wire/wire.h"

int
us_wire_icmp_parse(struct us_icmp_repr *r, const uint8_t *b, size_t len)
{
    if (len < US_ICMP_HDR_LEN)
        return US_DROP_ICMP_TRUNCATED;
    /* RFC 792: the checksum covers the whole ICMP message, starting with the type. */
    if (us_csum_finish(us_csum_add(0, b, len)) != 0)
        return US_DROP_ICMP_BAD_CSUM;

    memset(r, 0, sizeof(*r));
    r->type = b[0];
    r->code = b[1];
    switch (r->type) {
    case US_ICMP_ECHO_REQUEST:
    case US_ICMP_ECHO_REPLY:
        /* RFC 792 "Echo or Echo Reply Message": identifier, sequence number. */
        r->id = us_load_be16(b + 4);
        r->seq = us_load_be16(b + 6);
        break;
    case US_ICMP_DEST_UNREACH:
        /* RFC 1191 4: with code 4 the low 16 bits of the unused word carry the next-hop MTU. */
        if (r->code == US_ICMP_UNREACH_NEEDFRAG)
            r->next_hop_mtu = us_load_be16(b + 6);
        break;
    case US_ICMP_PARAM_PROBLEM:
        /* RFC 792 "Parameter Problem Message": pointer is the first octet after the checksum. */
        r->pointer = b[4];
        break;
    default:
        break;
    }
    r->data = b + US_ICMP_HDR_LEN;
    r->data_len = len - US_ICMP_HDR_LEN;
    return 0;
}

void
us_wire_icmp_emit(const struct us_icmp_repr *r, uint8_t *out, size_t out_len)
{
    US_ASSERT(out_len == us_wire_icmp_emit_len(r));
    if (r->data_len > 0 && r->data != out + US_ICMP_HDR_LEN)
        memmove(out + US_ICMP_HDR_LEN, r->data, r->data_len);

    out[0] = r->type;
    out[1] = r->code;
    us_store_be16(out + 2, 0);
    us_store_be32(out + 4, 0);
    switch (r->type) {
    case US_ICMP_ECHO_REQUEST:
    case US_ICMP_ECHO_REPLY:
        us_store_be16(out + 4, r->id);
        us_store_be16(out + 6, r->seq);
        break;
    case US_ICMP_DEST_UNREACH:
        if (r->code == US_ICMP_UNREACH_NEEDFRAG)
            us_store_be16(out + 6, r->next_hop_mtu);
        break;
    case US_ICMP_PARAM_PROBLEM:
        out[4] = r->pointer;
        break;
    default:
        break;
    }
    us_store_be16(out + 2, us_csum_finish(us_csum_add(0, out, out_len)));
}
