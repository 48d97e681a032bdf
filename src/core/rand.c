/* xoshiro256** PRNG (Blackman and Vigna, public domain algorithm), seeded with splitmix64. */
#include "core/rand.h"

uint64_t
us_rand_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void
us_rand_seed(struct us_rand *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = us_rand_splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
us_rand_next(struct us_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t
us_rand_below(struct us_rand *r, uint32_t n)
{
    /* Lemire's multiply-shift; the tiny bias is irrelevant here. */
    return (uint32_t)(((us_rand_next(r) >> 32) * (uint64_t)n) >> 32);
}
