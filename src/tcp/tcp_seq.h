/* Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4). Layer: transport.
 * Compare only through these: they look at the sign bit of the 32-bit difference, computed in
 * unsigned arithmetic (no implementation-defined signed conversion). Raw < on sequence numbers
 * is a bug. */
#ifndef US_TCP_SEQ_H
#define US_TCP_SEQ_H

#include <stdint.h>

typedef uint32_t us_seq_t;

static inline bool
us_seq_lt(us_seq_t a, us_seq_t b)
{
    return ((a - b) & 0x80000000u) != 0;
}
static inline bool
us_seq_leq(us_seq_t a, us_seq_t b)
{
    return a == b || us_seq_lt(a, b);
}
static inline bool
us_seq_gt(us_seq_t a, us_seq_t b)
{
    return us_seq_lt(b, a);
}
static inline bool
us_seq_geq(us_seq_t a, us_seq_t b)
{
    return us_seq_leq(b, a);
}
/* a <= x < b, in sequence space */
static inline bool
us_seq_in(us_seq_t x, us_seq_t a, us_seq_t b)
{
    return us_seq_leq(a, x) && us_seq_lt(x, b);
}
static inline us_seq_t
us_seq_max(us_seq_t a, us_seq_t b)
{
    return us_seq_gt(a, b) ? a : b;
}
static inline us_seq_t
us_seq_min(us_seq_t a, us_seq_t b)
{
    return us_seq_lt(a, b) ? a : b;
}

#endif
