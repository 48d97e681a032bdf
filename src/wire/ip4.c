/* IPv4 header (RFC 791 3.1): validating parse and option-free emit.
 * Layer: wire. No state; routing, reassembly and delivery decisions belong to src/ip/.
 * Options are checked for well-formedness and then skipped; none is acted on (no source
 * routing, no record route), which costs nothing since RFC 7126 recommends dropping those. */
#include <string.h>

#include "wire/wire.h"

#define IP4_OPT_EOL 0
#define IP4_OPT_NOP 1
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_FRAG_MASK 0x1fff

/* RFC 791 3.1 "Options": EOL and NOP are one octet; every other option is type, length (which
 * counts type and length octets, so >= 2), data, and must end inside the header. Bytes after
 * EOL are padding and are not examined. Returns 0 or US_DROP_IP_BAD_OPTIONS. */
static int
ip4_check_options(const uint8_t *opt, size_t remaining)
{
    while (remaining > 0) {
        uint8_t type = opt[0];
        if (type == IP4_OPT_EOL)
            return 0;
        if (type == IP4_OPT_NOP) {
            opt++;
            remaining--;
            continue;
        }
        if (remaining < 2)
            return US_DROP_IP_BAD_OPTIONS;
        size_t olen = opt[1];
        if (olen < 2 || olen > remaining)
            return US_DROP_IP_BAD_OPTIONS;
        opt += olen;
        remaining -= olen;
    }
    return 0;
}

int
us_wire_ip4_parse(struct us_ip4_repr *r, const uint8_t *b, size_t len, bool verify_csum)
{
    if (len < US_IP4_HDR_LEN)
        return US_DROP_IP_TRUNCATED;
    if ((b[0] >> 4) != 4)
        return US_DROP_IP_BAD_VERSION;
    /* RFC 791 3.1: IHL counts 32-bit words; the minimum valid header is 5 words. */
    size_t hdr_len = (size_t)(b[0] & 0x0f) * 4;
    if (hdr_len < US_IP4_HDR_LEN || hdr_len > len)
        return US_DROP_IP_BAD_HDR_LEN;
    /* RFC 791 3.1: Total Length covers header and data; anything after it is link padding
     * (Ethernet pads short frames to 60 bytes), so trim rather than reject. */
    size_t total = us_load_be16(b + 2);
    if (total < hdr_len || total > len)
        return US_DROP_IP_BAD_TOTAL_LEN;
    /* RFC 791 3.1 "Header Checksum": the sum over the header including the field is 0xffff. */
    if (verify_csum && us_csum_finish(hdr_len == US_IP4_HDR_LEN ? us_csum_ip4_hdr(b)
                                                                 : us_csum_add(0, b, hdr_len)) != 0)
        return US_DROP_IP_BAD_CSUM;
    int rc = ip4_check_options(b + US_IP4_HDR_LEN, hdr_len - US_IP4_HDR_LEN);
    if (rc != 0)
        return rc;
    uint16_t ff = us_load_be16(b + 6);
    size_t frag_off = (size_t)(ff & IP4_FRAG_MASK) * 8;
    size_t payload_len = total - hdr_len;
    /* RFC 791 3.2 (fragmentation): a fragment may not place data past the 65535-byte limit
     * (the "ping of death" shape). */
    if (frag_off + payload_len > US_IP4_MAX_LEN)
        return US_DROP_IP_BAD_FRAG;

    r->tos = b[1];
    r->id = us_load_be16(b + 4);
    r->df = (ff & IP4_FLAG_DF) != 0;
    r->mf = (ff & IP4_FLAG_MF) != 0;
    r->frag_off = (uint16_t)frag_off;
    r->ttl = b[8];
    r->proto = b[9];
    r->src = us_load_be32(b + 12);
    r->dst = us_load_be32(b + 16);
    r->hdr_len = hdr_len;
    r->payload = b + hdr_len;
    r->payload_len = payload_len;
    return 0;
}

void
us_wire_ip4_emit(const struct us_ip4_repr *r, uint8_t *out)
{
    US_ASSERT(r->payload_len <= US_IP4_MAX_LEN - US_IP4_HDR_LEN);
    US_ASSERT(r->frag_off % 8 == 0);
    uint16_t ff = (uint16_t)((r->frag_off / 8) & IP4_FRAG_MASK);
    if (r->df)
        ff |= IP4_FLAG_DF;
    if (r->mf)
        ff |= IP4_FLAG_MF;

    /* Five words, summed from their values as they are written (us_csum_fold_words): version 4
     * and IHL 5 (we never emit options), TOS, total length; id, flags and fragment offset; TTL,
     * protocol, checksum (zero until the end); source; destination. */
    uint32_t w0 = 0x45u << 24 | (uint32_t)r->tos << 16 | (uint32_t)(US_IP4_HDR_LEN + r->payload_len);
    uint32_t w1 = (uint32_t)r->id << 16 | ff;
    uint32_t w2 = (uint32_t)r->ttl << 24 | (uint32_t)r->proto << 16;
    us_store_be32(out, w0);
    us_store_be32(out + 4, w1);
    us_store_be32(out + 12, r->src);
    us_store_be32(out + 16, r->dst);
    uint64_t sum = (uint64_t)w0 + w1 + w2 + r->src + r->dst;
    us_store_be32(out + 8, w2 | us_csum_finish(us_csum_fold_words(sum)));
}
