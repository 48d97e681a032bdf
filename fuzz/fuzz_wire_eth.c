/* libFuzzer target: Ethernet II parse; on success re-emit into an exactly sized buffer and
 * check the re-parse agrees. Any disagreement aborts. */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct us_eth_repr r;
    int rc = us_wire_eth_parse(&r, data, size);
    if (rc != 0) {
        if (rc != US_DROP_ETH_TRUNCATED && rc != US_DROP_ETH_UNKNOWN_TYPE)
            abort();
        return 0;
    }
    if (r.payload != data + US_ETH_HDR_LEN || r.payload_len != size - US_ETH_HDR_LEN)
        abort();
    size_t n = US_ETH_HDR_LEN + r.payload_len;
    uint8_t *out = malloc(n);
    if (out == NULL)
        return 0;
    us_wire_eth_emit(&r, out);
    if (r.payload_len > 0)
        memcpy(out + US_ETH_HDR_LEN, r.payload, r.payload_len);
    struct us_eth_repr p;
    if (us_wire_eth_parse(&p, out, n) != 0 || memcmp(p.dst, r.dst, US_ETH_ALEN) != 0 ||
        memcmp(p.src, r.src, US_ETH_ALEN) != 0 || p.type != r.type ||
        p.payload_len != r.payload_len || memcmp(out, data, n) != 0)
        abort();
    if (us_eth_is_bcast(r.dst) && !us_eth_is_mcast(r.dst))
        abort();
    free(out);
    return 0;
}
