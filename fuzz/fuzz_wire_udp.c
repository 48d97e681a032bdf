/* libFuzzer target: UDP parse. Input = source address (4) + destination address (4) + datagram.
 * Parses with and without checksum verification (they must agree except UDP_BAD_CSUM), then
 * re-emits into an exactly sized buffer and re-parses with verification. Any disagreement
 * aborts. */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    us_ip4_t src = us_load_be32(data), dst = us_load_be32(data + 4);
    const uint8_t *b = data + 8;
    size_t len = size - 8;

    struct us_udp_repr r, rv;
    memset(&r, 0, sizeof(r)); /* padding too: the reprs are compared with memcmp */
    memset(&rv, 0, sizeof(rv));
    int rc = us_wire_udp_parse(&r, b, len, src, dst, false);
    int rcv = us_wire_udp_parse(&rv, b, len, src, dst, true);
    if (rcv == 0 && (rc != 0 || memcmp(&r, &rv, sizeof(r)) != 0))
        abort();
    if (rcv != 0 && rcv != US_DROP_UDP_BAD_CSUM && rcv != rc)
        abort();
    if (rc != 0)
        return 0;
    if (r.payload != b + US_UDP_HDR_LEN || US_UDP_HDR_LEN + r.payload_len > len)
        abort();

    size_t n = US_UDP_HDR_LEN + r.payload_len;
    uint8_t *out = malloc(n);
    if (out == NULL)
        return 0;
    if (r.payload_len > 0)
        memcpy(out + US_UDP_HDR_LEN, r.payload, r.payload_len);
    us_wire_udp_emit(&r, out, r.payload_len, src, dst);
    struct us_udp_repr p;
    if (us_wire_udp_parse(&p, out, n, src, dst, true) != 0 || p.src_port != r.src_port ||
        p.dst_port != r.dst_port || p.payload_len != r.payload_len ||
        memcmp(p.payload, r.payload, r.payload_len) != 0 || us_load_be16(out + 6) == 0)
        abort();
    /* A verified non-zero checksum is reproduced exactly (0 and 0xffff are the same sum only
     * for a computed zero, which we send as 0xffff). */
    if (rcv == 0 && us_load_be16(b + 6) != 0 && us_load_be16(b + 6) != 0xffff &&
        memcmp(out, b, n) != 0)
        abort();
    free(out);
    return 0;
}
