/* SipHash-2-4 with 64-bit output (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): two compression rounds per 8-byte word, four finalization rounds.
 * Layer: core. Pure function of key and bytes; reads the input with byte loads (any alignment,
 * any host byte order). */
#include "core/siphash.h"

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

static uint64_t
rotl64(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t
load_le64(const uint8_t *p)
{
    uint64_t w = 0;
    for (unsigned i = 0; i < 8; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static void
sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

/* One message word: c = 2 rounds. */
static void
sip_compress(struct sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

uint64_t
us_siphash24(const struct us_siphash_key *key, const void *data, size_t len)
{
    const uint8_t *p = data;
    /* Initialization: the key words XORed with "somepseudorandomlygeneratedbytes". */
    struct sip_state s = {
        .v0 = key->k0 ^ UINT64_C(0x736f6d6570736575),
        .v1 = key->k1 ^ UINT64_C(0x646f72616e646f6d),
        .v2 = key->k0 ^ UINT64_C(0x6c7967656e657261),
        .v3 = key->k1 ^ UINT64_C(0x7465646279746573),
    };
    size_t left = len;
    while (left >= 8) {
        sip_compress(&s, load_le64(p));
        p += 8;
        left -= 8;
    }
    /* Last word: the 0..7 remaining bytes little-endian, the length mod 256 in the top byte. */
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < left; i++)
        last |= (uint64_t)p[i] << (8 * i);
    sip_compress(&s, last);
    /* Finalization: d = 4 rounds. */
    s.v2 ^= 0xff;
    for (unsigned i = 0; i < 4; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
