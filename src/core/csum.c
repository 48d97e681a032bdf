/* Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Layer: core (see csum.h). Pure functions over caller memory; no state, no allocation.
 * Sums 8 bytes per load in native byte order and swaps once at the end (RFC 1071 2(B):
 * the sum is byte-order independent), so it is fast on any alignment. Must never read past len. */
#include <string.h>

#include "core/csum.h"

#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "csum.c needs the compiler's __BYTE_ORDER__ (gcc, clang)"
#endif

/* One's-complement 64-bit add: the carry out of bit 63 wraps into bit 0 (RFC 1071 2(A)). */
static inline uint64_t
csum_adc(uint64_t acc, uint64_t w)
{
    uint64_t s = acc + w;
    return s + (s < w);
}

static inline uint64_t
csum_load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

uint32_t
us_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = 0;

    if (len < 64) {
        /* Headers and small payloads, the common case: 32-bit words into a 64-bit sum cannot
         * carry out, so there is no carry to chase and little to set up. */
        for (; len >= 8; p += 8, len -= 8) {
            uint64_t w = csum_load64(p);
            acc += (uint32_t)w;
            acc += w >> 32;
        }
        if (len >= 4) {
            uint32_t w;
            memcpy(&w, p, sizeof(w));
            acc += w;
            p += 4;
            len -= 4;
        }
        goto tail;
    }
    /* Four independent 64-bit accumulators of 32-bit halves: no carries to chase (each can
     * take 2^32 additions), so the CPU overlaps them freely; joined below. */
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    while (len >= 32) {
        uint64_t w0 = csum_load64(p), w1 = csum_load64(p + 8);
        uint64_t w2 = csum_load64(p + 16), w3 = csum_load64(p + 24);
        a0 += (uint32_t)w0;
        a1 += w0 >> 32;
        a2 += (uint32_t)w1;
        a3 += w1 >> 32;
        a0 += (uint32_t)w2;
        a1 += w2 >> 32;
        a2 += (uint32_t)w3;
        a3 += w3 >> 32;
        p += 32;
        len -= 32;
    }
    acc = csum_adc(acc, a0 + a1 + a2 + a3);
    while (len >= 8) {
        acc = csum_adc(acc, csum_load64(p));
        p += 8;
        len -= 8;
    }
    /* The tail in 4-, 2- and 1-byte steps; offsets stay even, so 16-bit words stay aligned.
     * RFC 1071 4.1: an odd final byte is the high byte of a word padded with zero, which in
     * memory order is the byte itself in the low lane. */
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        acc = csum_adc(acc, w);
        p += 4;
        len -= 4;
    }
tail:
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        acc = csum_adc(acc, w);
        p += 2;
        len -= 2;
    }
    if (len > 0)
        acc = csum_adc(acc, *p);

    uint32_t folded = us_csum_fold_words(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    folded = ((folded & 0xffu) << 8) | (folded >> 8);
#endif
    return us_csum_fold_words((uint64_t)sum + folded);
}

uint32_t
us_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
    /* One pass for both jobs: the bytes are in registers anyway. Same word rules as above. */
    const uint8_t *p = src;
    uint8_t *q = dst;
    uint64_t acc = 0, a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    while (len >= 16) {
        uint64_t w0 = csum_load64(p), w1 = csum_load64(p + 8);
        memcpy(q, &w0, 8);
        memcpy(q + 8, &w1, 8);
        a0 += (uint32_t)w0;
        a1 += w0 >> 32;
        a2 += (uint32_t)w1;
        a3 += w1 >> 32;
        p += 16;
        q += 16;
        len -= 16;
    }
    acc = csum_adc(acc, a0 + a1 + a2 + a3);
    if (len >= 8) {
        uint64_t a = csum_load64(p);
        memcpy(q, &a, 8);
        acc = csum_adc(acc, a);
        p += 8;
        q += 8;
        len -= 8;
    }
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        memcpy(q, &w, sizeof(w));
        acc = csum_adc(acc, w);
        p += 4;
        q += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        memcpy(q, &w, sizeof(w));
        acc = csum_adc(acc, w);
        p += 2;
        q += 2;
        len -= 2;
    }
    if (len > 0) {
        *q = *p;
        acc = csum_adc(acc, *p);
    }
    uint32_t folded = us_csum_fold_words(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    folded = ((folded & 0xffu) << 8) | (folded >> 8);
#endif
    return us_csum_fold_words((uint64_t)sum + folded);
}

uint32_t
us_csum_swap(uint32_t sum)
{
    uint32_t f = us_csum_fold_words(sum);
    return ((f & 0xffu) << 8) | (f >> 8);
}

