/* A small fixed-capacity set of disjoint half-open ranges [start, end) of 32-bit offsets,
 * relative to a moving base: which out-of-order bytes a TCP receiver holds (smoltcp Assembler),
 * and the SACK scoreboard a sender keeps. Layer: core. Offsets are relative (no wrap-around). */
#ifndef US_CORE_RANGESET_H
#define US_CORE_RANGESET_H

#include "core/types.h"

#define US_RANGESET_MAX 16
#define US_RANGESET_RECENT 4

struct us_rangeset {
    uint8_t n;
    uint8_t n_recent;
    uint32_t recent[US_RANGESET_RECENT]; /* a byte inside each of the ranges added to last,
                                          * newest first, one per range */
    struct {
        uint32_t start, end;
    } r[US_RANGESET_MAX]; /* sorted, disjoint, non-adjacent (merged) */
};

static inline void us_rangeset_clear(struct us_rangeset *s) { s->n = s->n_recent = 0; }
/* Adds [start, end); merges with neighbours. The range it lands in becomes the most recent.
 * Returns 0, or -ENOSPC when it would need more than US_RANGESET_MAX ranges (then the set is
 * unchanged). */
int us_rangeset_add(struct us_rangeset *s, uint32_t start, uint32_t end);
/* Index of the i-th most recently added-to range (0: the newest), or -1 when fewer than i + 1
 * ranges are remembered (US_RANGESET_RECENT at most; shifting and popping forget ranges). */
int us_rangeset_recent(const struct us_rangeset *s, unsigned i);
/* If a range starts at 0, removes it and returns its length; else 0. */
uint32_t us_rangeset_pop_front(struct us_rangeset *s);
/* Shifts every range down by n (ranges that fall below 0 are cut or removed). */
void us_rangeset_shift(struct us_rangeset *s, uint32_t n);
/* Does the set cover every byte of [start, end)? */
bool us_rangeset_contains(const struct us_rangeset *s, uint32_t start, uint32_t end);
/* Bytes covered in total. */
uint32_t us_rangeset_bytes(const struct us_rangeset *s);

#endif
