/* UDP header (RFC 768): validating parse with pseudo-header checksum, and emit.
 * Layer: wire. No state; port demultiplexing lives in src/udp/udp.c and src/udp/pcb.c.
 * The emitter checksums the payload in place, so the caller writes the payload first. */
#include "wire/wire.h"

int
us_wire_udp_parse(struct us_udp_repr *r, const uint8_t *b, size_t len, us_ip4_t src,
                  us_ip4_t dst, bool verify_csum)
{
    if (len < US_UDP_HDR_LEN)
        return US_DROP_UDP_TRUNCATED;
    /* RFC 768: Length counts header and data, so it is at least 8; bytes past it are ignored. */
    uint16_t ulen = us_load_be16(b + 4);
    if (ulen < US_UDP_HDR_LEN || ulen > len)
        return US_DROP_UDP_BAD_LEN;
    /* RFC 768: an all-zero checksum field means the sender computed none (RFC 1122 4.1.3.4). */
    if (verify_csum && us_load_be16(b + 6) != 0) {
        uint32_t sum = us_csum_pseudo4(src, dst, US_IPPROTO_UDP, ulen);
        if (us_csum_finish(us_csum_add(sum, b, ulen)) != 0)
            return US_DROP_UDP_BAD_CSUM;
    }
    r->src_port = us_load_be16(b);
    r->dst_port = us_load_be16(b + 2);
    r->payload = b + US_UDP_HDR_LEN;
    r->payload_len = (size_t)ulen - US_UDP_HDR_LEN;
    return 0;
}

void
us_wire_udp_emit(const struct us_udp_repr *r, uint8_t *out, size_t payload_len, us_ip4_t src,
                 us_ip4_t dst)
{
    US_ASSERT(payload_len <= 0xffff - US_UDP_HDR_LEN);
    uint16_t ulen = (uint16_t)(US_UDP_HDR_LEN + payload_len);
    us_store_be16(out, r->src_port);
    us_store_be16(out + 2, r->dst_port);
    us_store_be16(out + 4, ulen);
    us_store_be16(out + 6, 0);
    uint32_t sum = us_csum_pseudo4(src, dst, US_IPPROTO_UDP, ulen);
    uint16_t csum = us_csum_finish(us_csum_add(sum, out, ulen));
    /* RFC 768: a computed zero is transmitted as all ones; zero means "no checksum". */
    us_store_be16(out + 6, csum == 0 ? 0xffff : csum);
}
