/* Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Layer: core (see csum.h). Pure functions over caller memory; no state, no allocation.
 * Sums 8 bytes per load in native byte order and swaps once at the end (RFC 1071 2(B):
 * the sum is byte-order independent), so it is fast on any alignment. Must never read past len. */
#include <string.h>

#include "core/csum.h"

#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "csum.c needs the compiler's __BYTE_ORDER__ (gcc, clang)"
#endif

static inline uint64_t
csum_load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* Sums go into 64-bit accumulators as 32-bit halves, so nothing carries out of them for any
 * buffer below 2^30 bytes (each accumulator gains under 2^33 per 8 bytes): no carries to chase
 * and no end-around adds until the fold. */

/* Adds the last len (< 8) bytes in 4-, 2- and 1-byte steps; offsets stay even, so 16-bit words
 * stay aligned. RFC 1071 4.1: an odd final byte is the high byte of a word padded with zero,
 * which in memory order is the byte itself in the low lane. */
static inline uint64_t
csum_tail(uint64_t acc, const uint8_t *p, size_t len)
{
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        acc += w;
        p += 2;
        len -= 2;
    }
    if (len > 0)
        acc += *p;
    return acc;
}

/* Folds a native-order accumulator, swaps it to big-endian word order (RFC 1071 2(B)) and adds
 * it to the caller's running sum. */
static inline uint32_t
csum_join(uint32_t sum, uint64_t acc)
{
    uint32_t folded = us_csum_fold_words(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    folded = ((folded & 0xffu) << 8) | (folded >> 8);
#endif
    return us_csum_fold_words((uint64_t)sum + folded);
}

uint32_t
us_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    /* Four independent accumulators over 32-byte blocks, so the CPU overlaps them freely. */
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (; len >= 32; p += 32, len -= 32) {
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
    }
    uint64_t acc = a0 + a1 + a2 + a3;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w = csum_load64(p);
        acc += (uint32_t)w;
        acc += w >> 32;
    }
    return csum_join(sum, csum_tail(acc, p, len));
}

uint32_t
us_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
    /* One pass for both jobs: the bytes are in registers anyway. Same word rules as above. */
    const uint8_t *p = src;
    uint8_t *q = dst;
    uint64_t a0 = 0, a1 = 0;
    for (; len >= 8; p += 8, q += 8, len -= 8) {
        uint64_t w = csum_load64(p);
        memcpy(q, &w, 8);
        a0 += (uint32_t)w;
        a1 += w >> 32;
    }
    memcpy(q, p, len);
    return csum_join(sum, csum_tail(a0 + a1, p, len));
}

uint32_t
us_csum_swap(uint32_t sum)
{
    return csum_join(0, us_csum_fold_words(sum)); /* a folded sum, swapped once */
}

