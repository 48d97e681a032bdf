/* libFuzzer target: ICMP parse of the raw input, then of a copy whose checksum was fixed up (so
 * the field decoding is reached), then emit into an exactly sized buffer and re-parse. Any
 * disagreement aborts. */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_same(const struct us_icmp_repr *a, const struct us_icmp_repr *b)
{
    if (a->type != b->type || a->code != b->code || a->id != b->id || a->seq != b->seq ||
        a->next_hop_mtu != b->next_hop_mtu || a->pointer != b->pointer ||
        a->data_len != b->data_len || memcmp(a->data, b->data, a->data_len) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct us_icmp_repr r;
    int rc = us_wire_icmp_parse(&r, data, size);
    if (rc != 0 && rc != US_DROP_ICMP_TRUNCATED && rc != US_DROP_ICMP_BAD_CSUM)
        abort();
    if (size < US_ICMP_HDR_LEN) {
        if (rc != US_DROP_ICMP_TRUNCATED)
            abort();
        return 0;
    }

    uint8_t *fixed = malloc(size);
    if (fixed == NULL)
        return 0;
    memcpy(fixed, data, size);
    us_store_be16(fixed + 2, 0);
    us_store_be16(fixed + 2, us_csum_finish(us_csum_add(0, fixed, size)));
    if (us_wire_icmp_parse(&r, fixed, size) != 0 || r.data != fixed + US_ICMP_HDR_LEN ||
        r.data_len != size - US_ICMP_HDR_LEN)
        abort();

    size_t n = us_wire_icmp_emit_len(&r);
    uint8_t *out = malloc(n);
    if (out == NULL) {
        free(fixed);
        return 0;
    }
    us_wire_icmp_emit(&r, out, n);
    struct us_icmp_repr p;
    if (us_wire_icmp_parse(&p, out, n) != 0)
        abort();
    check_same(&r, &p);
    /* Emitting again in place (data already at out + 8) gives the same bytes. */
    uint8_t *again = malloc(n);
    if (again != NULL) {
        memcpy(again, out, n);
        p.data = again + US_ICMP_HDR_LEN;
        us_wire_icmp_emit(&p, again, n);
        if (memcmp(again, out, n) != 0)
            abort();
        free(again);
    }
    free(out);
    free(fixed);
    return 0;
}
