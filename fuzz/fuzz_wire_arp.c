/* libFuzzer target: ARP parse; on success re-emit 28 bytes into an exactly sized buffer and
 * check the re-parse agrees field by field. Any disagreement aborts. */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct us_arp_repr r;
    int rc = us_wire_arp_parse(&r, data, size);
    if (rc != 0) {
        if (rc != US_DROP_ARP_TRUNCATED && rc != US_DROP_ARP_BAD_HW &&
            rc != US_DROP_ARP_BAD_PROTO && rc != US_DROP_ARP_BAD_OP)
            abort();
        return 0;
    }
    uint8_t *out = malloc(US_ARP_LEN);
    if (out == NULL)
        return 0;
    us_wire_arp_emit(&r, out);
    struct us_arp_repr p;
    if (us_wire_arp_parse(&p, out, US_ARP_LEN) != 0 || p.op != r.op || p.spa != r.spa ||
        p.tpa != r.tpa || memcmp(p.sha, r.sha, US_ETH_ALEN) != 0 ||
        memcmp(p.tha, r.tha, US_ETH_ALEN) != 0 || memcmp(out, data, US_ARP_LEN) != 0)
        abort();
    free(out);
    return 0;
}
