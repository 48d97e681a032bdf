/* Seeded pseudo-random source owned by the stack (xoshiro256**, seeded by splitmix64).
 * Layer: core. Not cryptographic; TCP's ISN will add a keyed hash on top (RFC 6528). */
#ifndef US_CORE_RAND_H
#define US_CORE_RAND_H

#include "core/types.h"

struct us_rand {
    uint64_t s[4];
};

/* One splitmix64 step: turns a seed into well-mixed seeds for further generators. */
uint64_t us_rand_splitmix64(uint64_t *x);
void us_rand_seed(struct us_rand *r, uint64_t seed);
uint64_t us_rand_next(struct us_rand *r);
/* Uniform in [0, n) for n > 0. */
uint32_t us_rand_below(struct us_rand *r, uint32_t n);

#endif
