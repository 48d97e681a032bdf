/* libFuzzer target: IPv4 header parse with and without checksum verification; the two must
 * agree except for IP_BAD_CSUM. On success re-emit (20-byte header + payload) into an exactly
 * sized buffer and re-parse with verification. Any disagreement aborts. */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_same(const struct us_ip4_repr *a, const struct us_ip4_repr *b)
{
    if (a->tos != b->tos || a->id != b->id || a->df != b->df || a->mf != b->mf ||
        a->frag_off != b->frag_off || a->ttl != b->ttl || a->proto != b->proto ||
        a->src != b->src || a->dst != b->dst || a->payload_len != b->payload_len)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct us_ip4_repr r, rv;
    memset(&r, 0, sizeof(r)); /* padding too: the reprs are compared with memcmp */
    memset(&rv, 0, sizeof(rv));
    int rc = us_wire_ip4_parse(&r, data, size, false);
    int rcv = us_wire_ip4_parse(&rv, data, size, true);
    if (rcv == 0 && (rc != 0 || memcmp(&r, &rv, sizeof(r)) != 0))
        abort();
    if (rcv != 0 && rcv != US_DROP_IP_BAD_CSUM && rcv != rc)
        abort();
    if (rc != 0)
        return 0;
    if (r.hdr_len < US_IP4_HDR_LEN || r.hdr_len > 60 || r.payload != data + r.hdr_len ||
        r.hdr_len + r.payload_len > size || r.frag_off % 8 != 0 ||
        r.frag_off + r.payload_len > US_IP4_MAX_LEN)
        abort();
    if (r.payload_len > US_IP4_MAX_LEN - US_IP4_HDR_LEN)
        return 0; /* a 60-byte header's payload does not fit behind a 20-byte one */

    size_t n = US_IP4_HDR_LEN + r.payload_len;
    uint8_t *out = malloc(n);
    if (out == NULL)
        return 0;
    if (r.payload_len > 0)
        memcpy(out + US_IP4_HDR_LEN, r.payload, r.payload_len);
    us_wire_ip4_emit(&r, out);
    struct us_ip4_repr p;
    if (us_wire_ip4_parse(&p, out, n, true) != 0 || p.hdr_len != US_IP4_HDR_LEN)
        abort();
    check_same(&r, &p);
    if (memcmp(p.payload, r.payload, r.payload_len) != 0)
        abort();
    /* An option-free input with a valid checksum comes back byte for byte, except the reserved
     * flag bit (not kept) and a stored 0xffff where we compute 0 (the same one's-complement sum). */
    if (rcv == 0 && r.hdr_len == US_IP4_HDR_LEN && (data[6] & 0x80) == 0 &&
        us_load_be16(data + 10) != 0xffff && memcmp(out, data, n) != 0)
        abort();
    free(out);
    return 0;
}
