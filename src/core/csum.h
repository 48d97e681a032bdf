/* Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Layer: core. Pure functions over caller memory; no state, no allocation. In core because
 * more than the wire formats need it: a driver finishes a checksum the kernel left partial. */
#ifndef US_CORE_CSUM_H
#define US_CORE_CSUM_H

#include <string.h>

#include "core/types.h"

/* Adds `len` bytes at `data` to a running one's-complement sum (start with 0 or a pseudo-header
 * sum). Bytes are taken as big-endian 16-bit words; chunks other than the last must have even
 * length. The result is a partially folded 32-bit accumulator. */
uint32_t us_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds and complements: the 16-bit value to store (with us_store_be16) in a checksum field.
 * Over data that includes a correct checksum field the result is 0. Inline: every packet
 * passes here once or twice. */
static inline uint16_t
us_csum_finish(uint32_t sum)
{
    sum = (sum & 0xffffu) + (sum >> 16); /* at most 0x1fffe */
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}
/* Copies len bytes from src to dst and adds them to the running sum, in one pass (the same
 * chunking rule as us_csum_add). */
uint32_t us_csum_copy(void *dst, const void *src, size_t len, uint32_t sum);
/* The sum of a chunk that starts at an odd offset of the data being summed: its bytes are
 * swapped (RFC 1071 2(B), byte-order independence). */
uint32_t us_csum_swap(uint32_t sum);
/* Folds a sum of big-endian word values (16- or 32-bit words taken as numbers, e.g. the
 * values an emitter just stored) to a 16-bit partial sum: one's-complement addition does not
 * care how the words were grouped (RFC 1071 2(C)). An emitter that sums the words it writes
 * never reads them back, so no load waits for the stores it depends on. */
static inline uint32_t
us_csum_fold_words(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    uint32_t f = (uint32_t)s;
    f = (f & 0xffffu) + (f >> 16);
    return (f & 0xffffu) + (f >> 16);
}
/* The sum of a 20-byte IPv4 header (every datagram has one): five 32-bit loads in memory order,
 * no loop and no carries to chase (RFC 1071 2(B): the sum does not depend on byte order, so it
 * is folded and swapped once at the end). */
static inline uint32_t
us_csum_ip4_hdr(const uint8_t *h)
{
    uint64_t s = 0;
    for (int i = 0; i < 20; i += 4) {
        uint32_t w;
        memcpy(&w, h + i, sizeof(w));
        s += w;
    }
    uint32_t f = us_csum_fold_words(s); /* memory-order words: swapped below */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    f = ((f & 0xffu) << 8) | (f >> 8);
#endif
    return f; /* at most 0xffff: us_csum_finish folds and complements it */
}
/* Sum of the IPv4 pseudo-header for TCP/UDP (RFC 768, RFC 9293 3.1): source, destination,
 * zero, protocol, length. At most 6 * 0xffff: a partial sum like us_csum_add's. */
static inline uint32_t
us_csum_pseudo4(us_ip4_t src, us_ip4_t dst, uint8_t proto, uint16_t l4_len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + l4_len;
}

#endif
