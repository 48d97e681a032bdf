/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash for TCP initial sequence numbers
 * (RFC 6528) and SYN cookies, so they cannot be predicted without the stack's secret key.
 * Layer: core. */
#ifndef US_CORE_SIPHASH_H
#define US_CORE_SIPHASH_H

#include "core/types.h"

struct us_siphash_key {
    uint64_t k0, k1;
};

uint64_t us_siphash24(const struct us_siphash_key *key, const void *data, size_t len);

#endif
