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

/* The bulk of a buffer goes 64 bytes per step through vector lanes (GCC/clang vector extensions:
 * SSE2 on any x86-64, AVX2 where the CPU has it, NEON on arm64): each 64-bit lane adds the low and
 * the high 32-bit halves of its word, which cannot overflow below 2^30 bytes (as above). `dst`
 * non-NULL copies the block on the way. Returns the 64-bit sum of the first len & ~63 bytes. */
typedef uint64_t csum_v4 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) uint64_t
csum_blocks(uint8_t *dst, const uint8_t *p, size_t n)
{
    const csum_v4 lo = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    csum_v4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    for (size_t i = 0; i + 64 <= n; i += 64) { /* two independent chains per step */
        csum_v4 w0, w1;
        memcpy(&w0, p + i, sizeof(w0));
        memcpy(&w1, p + i + 32, sizeof(w1));
        if (dst) {
            memcpy(dst + i, &w0, sizeof(w0));
            memcpy(dst + i + 32, &w1, sizeof(w1));
        }
        a += (w0 & lo) + (w1 & lo);
        b += (w0 >> 32) + (w1 >> 32);
    }
    csum_v4 t = a + b;
    return t[0] + t[1] + t[2] + t[3];
}

/* What is left after the blocks (all of a header): 32 bytes per step in four independent
 * scalar sums, then 8 per step, then the tail. */
static inline __attribute__((always_inline)) uint32_t
csum_rest(uint32_t sum, uint64_t acc, uint8_t *q, const uint8_t *p, size_t len)
{
    for (; len >= 32; p += 32, len -= 32) {
        uint64_t w0 = csum_load64(p), w1 = csum_load64(p + 8);
        uint64_t w2 = csum_load64(p + 16), w3 = csum_load64(p + 24);
        if (q) {
            memcpy(q, p, 32);
            q += 32;
        }
        acc += ((uint64_t)(uint32_t)w0 + (w0 >> 32)) + ((uint64_t)(uint32_t)w1 + (w1 >> 32)) +
               ((uint64_t)(uint32_t)w2 + (w2 >> 32)) + ((uint64_t)(uint32_t)w3 + (w3 >> 32));
    }
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w = csum_load64(p);
        if (q) {
            memcpy(q, &w, 8);
            q += 8;
        }
        acc += (uint32_t)w;
        acc += w >> 32;
    }
    if (q)
        memcpy(q, p, len);
    return csum_join(sum, csum_tail(acc, p, len));
}

static inline __attribute__((always_inline)) uint32_t
csum_body(uint32_t sum, uint8_t *q, const uint8_t *p, size_t len)
{
    size_t n = len & ~(size_t)63;
    uint64_t acc = n ? csum_blocks(q, p, n) : 0; /* headers: no vector set-up */
    return csum_rest(sum, acc, q ? q + n : NULL, p + n, len - n);
}

/* x86-64: the same code built for AVX2 as well, taken when the CPU has it (the check reads a
 * word libgcc/compiler-rt fills in at start-up). Short buffers (headers) skip the check. Each
 * entry point has its own copy, so the copy-or-not test folds away at compile time. */
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 6)
#define CSUM_AVX2(len) ((len) >= 256 && __builtin_cpu_supports("avx2"))
__attribute__((target("avx2"))) static uint32_t
csum_add_avx2(uint32_t sum, const uint8_t *p, size_t len)
{
    return csum_body(sum, NULL, p, len);
}

__attribute__((target("avx2"))) static uint32_t
csum_copy_avx2(uint32_t sum, uint8_t *q, const uint8_t *p, size_t len)
{
    return csum_body(sum, q, p, len);
}
#else
#define CSUM_AVX2(len) 0
#define csum_add_avx2(sum, p, len) 0
#define csum_copy_avx2(sum, q, p, len) 0
#endif

uint32_t
us_csum_add(uint32_t sum, const void *data, size_t len)
{
    if (CSUM_AVX2(len))
        return csum_add_avx2(sum, data, len);
    return csum_body(sum, NULL, data, len);
}

uint32_t
us_csum_copy(void *dst, const void *src, size_t len, uint32_t sum)
{
    /* One pass for both jobs: the bytes are in registers anyway. */
    if (CSUM_AVX2(len))
        return csum_copy_avx2(sum, dst, src, len);
    return csum_body(sum, dst, src, len);
}

uint32_t
us_csum_swap(uint32_t sum)
{
    return csum_join(0, us_csum_fold_words(sum)); /* a folded sum, swapped once */
}

