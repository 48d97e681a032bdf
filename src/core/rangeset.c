/* Fixed-capacity set of disjoint, merged half-open ranges (smoltcp Assembler shape): which
 * out-of-order bytes a TCP receiver holds, or which bytes a SACK scoreboard marks.
 * Layer: core. No allocation; every operation is O(US_RANGESET_MAX). An empty range
 * (start >= end) is rejected by add and vacuously contained by contains. */
#include "core/rangeset.h"

#include <errno.h>
#include <string.h>

/* Index of the range holding offset x, or -1. */
static int
range_of(const struct us_rangeset *s, uint32_t x)
{
    for (unsigned k = 0; k < s->n; k++)
        if (s->r[k].start <= x && x < s->r[k].end)
            return (int)k;
    return -1;
}

/* Makes range k the most recent: its marker goes first, other markers inside it go. */
static void
recent_touch(struct us_rangeset *s, unsigned k)
{
    uint32_t keep[US_RANGESET_RECENT];
    unsigned w = 0;
    keep[w++] = s->r[k].start;
    for (unsigned q = 0; q < s->n_recent && w < US_RANGESET_RECENT; q++)
        if (range_of(s, s->recent[q]) != (int)k)
            keep[w++] = s->recent[q];
    memcpy(s->recent, keep, w * sizeof(keep[0]));
    s->n_recent = (uint8_t)w;
}

int
us_rangeset_recent(const struct us_rangeset *s, unsigned i)
{
    return i < s->n_recent ? range_of(s, s->recent[i]) : -1;
}

static int
rangeset_add(struct us_rangeset *s, uint32_t start, uint32_t end)
{
    if (start >= end)
        return -EINVAL;
    /* [i, j) are the ranges that overlap or touch [start, end): r.end >= start and
     * r.start <= end. Sorted and disjoint, so they are consecutive. */
    unsigned i = 0;
    while (i < s->n && s->r[i].end < start)
        i++;
    unsigned j = i;
    while (j < s->n && s->r[j].start <= end)
        j++;
    if (i == j) {
        /* Touches nothing: insert a new entry at i. */
        if (s->n >= US_RANGESET_MAX)
            return -ENOSPC;
        memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(s->r[0]));
        s->r[i].start = start;
        s->r[i].end = end;
        s->n++;
        return 0;
    }
    /* Merge [i, j) and the new range into entry i, then close the gap. */
    s->r[i].start = US_MIN(start, s->r[i].start);
    s->r[i].end = US_MAX(end, s->r[j - 1].end);
    unsigned gone = j - i - 1;
    if (gone > 0) {
        memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(s->r[0]));
        s->n = (uint8_t)(s->n - gone);
    }
    return 0;
}

int
us_rangeset_add(struct us_rangeset *s, uint32_t start, uint32_t end)
{
    int err = rangeset_add(s, start, end);
    if (err == 0)
        recent_touch(s, (unsigned)range_of(s, start));
    return err;
}

uint32_t
us_rangeset_pop_front(struct us_rangeset *s)
{
    if (s->n == 0 || s->r[0].start != 0)
        return 0;
    uint32_t len = s->r[0].end;
    memmove(&s->r[0], &s->r[1], (size_t)(s->n - 1) * sizeof(s->r[0]));
    s->n--;
    unsigned w = 0;
    for (unsigned q = 0; q < s->n_recent; q++)
        if (s->recent[q] >= len)
            s->recent[w++] = s->recent[q];
    s->n_recent = (uint8_t)w;
    return len;
}

void
us_rangeset_shift(struct us_rangeset *s, uint32_t n)
{
    /* Ranges ending at or below n vanish; at most one straddles n and is cut to start at 0.
     * The markers move with their ranges (into 0 in a cut one) or vanish with them. */
    unsigned w = 0;
    for (unsigned q = 0; q < s->n_recent; q++) {
        int k = range_of(s, s->recent[q]);
        if (k >= 0 && s->r[k].end > n)
            s->recent[w++] = s->recent[q] > n ? s->recent[q] - n : 0;
    }
    s->n_recent = (uint8_t)w;
    unsigned drop = 0;
    while (drop < s->n && s->r[drop].end <= n)
        drop++;
    if (drop > 0) {
        memmove(&s->r[0], &s->r[drop], (s->n - drop) * sizeof(s->r[0]));
        s->n = (uint8_t)(s->n - drop);
    }
    for (unsigned k = 0; k < s->n; k++) {
        s->r[k].start = s->r[k].start > n ? s->r[k].start - n : 0;
        s->r[k].end -= n;
    }
}

bool
us_rangeset_contains(const struct us_rangeset *s, uint32_t start, uint32_t end)
{
    if (start >= end)
        return true;
    /* Ranges are merged, so a covered interval lies inside a single entry. */
    for (unsigned k = 0; k < s->n; k++) {
        if (s->r[k].end > start)
            return s->r[k].start <= start && end <= s->r[k].end;
    }
    return false;
}

uint32_t
us_rangeset_bytes(const struct us_rangeset *s)
{
    uint32_t total = 0;
    for (unsigned k = 0; k < s->n; k++)
        total += s->r[k].end - s->r[k].start;
    return total;
}
