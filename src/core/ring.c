/* Byte ring for TCP send and receive data (smoltcp RingBuffer), with storage only while in use.
 * Layer: core. Storage is allocated on the first write, in chunks that double from
 * RING_MIN_ALLOC up to cap (a connection that only ever queues a few hundred bytes does not pay
 * for a 256 KiB window), and freed when us_ring_consume drains the ring. Growing moves the
 * bytes to a new buffer, un-wrapped, so every grow costs one copy of what is allocated.
 * Raising cap while holding data only moves the limit; the next write grows the allocation.
 * Lowering cap keeps a larger allocation until the ring drains (alloc may exceed cap).
 * Logical offset i (from head) lives at buf[(head + i) mod alloc]; nothing touches buf outside
 * [0, alloc). Bytes never written are zero, never stale heap contents. */
#include "core/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Smallest allocation: one MSS-sized segment and a bit, so small exchanges allocate once. */
#define RING_MIN_ALLOC 2048

void
us_ring_init(struct us_ring *r, size_t cap)
{
    r->buf = NULL;
    r->cap = (uint32_t)US_MIN(cap, (size_t)UINT32_MAX);
    r->alloc = 0;
    r->head = 0;
    r->len = 0;
}

void
us_ring_free(struct us_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->alloc = 0;
    r->head = 0;
    r->len = 0;
}

/* Physical index of logical offset i, for i <= alloc (i == alloc maps back to head). */
static size_t
ring_pos(const struct us_ring *r, size_t i)
{
    size_t to_end = r->alloc - r->head;
    return i < to_end ? r->head + i : i - to_end;
}

/* memcpy, with small copies (request/response traffic moves a few bytes at a time) done in
 * overlapping fixed-size moves instead of a library call. */
static inline void
ring_memcpy(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n > 0) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* Copies n bytes into logical offsets [i, i + n); requires i + n <= alloc. */
static void
ring_copy_in(struct us_ring *r, size_t i, const uint8_t *src, size_t n)
{
    size_t pos = ring_pos(r, i);
    size_t first = US_MIN(n, r->alloc - pos);
    ring_memcpy(r->buf + pos, src, first);
    if (first < n) /* wrapped */
        ring_memcpy(r->buf, src + first, n - first);
}

/* Copies logical offsets [i, i + n) out; requires i + n <= alloc. */
static void
ring_copy_out(const struct us_ring *r, size_t i, uint8_t *dst, size_t n)
{
    size_t pos = ring_pos(r, i);
    size_t first = US_MIN(n, r->alloc - pos);
    ring_memcpy(dst, r->buf + pos, first);
    if (first < n) /* wrapped */
        ring_memcpy(dst + first, r->buf, n - first);
}

/* Moves the ring to a larger allocation that makes logical offsets [0, need) addressable;
 * alloc < need <= max(cap, alloc). Every byte of the old allocation (stored data and data written
 * ahead) keeps its logical offset. Returns false, leaving the ring as it was, if the allocation
 * fails. */
static bool
ring_grow(struct us_ring *r, size_t need)
{
    size_t want;
    if (r->alloc == 0)
        want = RING_MIN_ALLOC;
    else
        want = r->alloc > r->cap / 2 ? r->cap : r->alloc * 2;
    want = US_MIN(US_MAX(want, need), US_MAX(r->cap, need));
    uint8_t *nb = malloc(want);
    if (!nb)
        return false;
    if (r->buf)
        ring_copy_out(r, 0, nb, r->alloc);
    memset(nb + r->alloc, 0, want - r->alloc);
    free(r->buf);
    r->buf = nb;
    r->alloc = (uint32_t)want; /* want <= max(cap, need), and both fit 32 bits */
    r->head = 0;
    return true;
}

/* Makes logical offsets [0, need) addressable (need <= max(cap, alloc)); inline, as nearly every
 * write fits what is allocated. */
static inline bool
ring_reserve(struct us_ring *r, size_t need)
{
    return need <= r->alloc || ring_grow(r, need);
}

size_t
us_ring_write(struct us_ring *r, const void *data, size_t n)
{
    n = US_MIN(n, us_ring_space(r));
    if (n == 0)
        return 0;
    if (!ring_reserve(r, r->len + n))
        n = r->alloc - r->len; /* what the current allocation holds; 0 if none */
    if (n == 0)
        return 0;
    ring_copy_in(r, r->len, data, n);
    r->len += (uint32_t)n;
    return n;
}

size_t
us_ring_write_at(struct us_ring *r, size_t off, const void *data, size_t n)
{
    size_t space = us_ring_space(r);
    if (off >= space)
        return 0;
    n = US_MIN(n, space - off);
    if (n == 0)
        return 0;
    if (!ring_reserve(r, r->len + off + n)) {
        if (r->alloc <= r->len + off)
            return 0;
        n = r->alloc - r->len - off;
    }
    ring_copy_in(r, r->len + off, data, n);
    return n;
}

void
us_ring_commit(struct us_ring *r, size_t n)
{
    /* Committing more than was ever made addressable is a caller bug; clamp so that len never
     * covers bytes outside the allocation. */
    US_ASSERT(n <= us_ring_space(r) && r->len + n <= r->alloc);
    n = US_MIN(n, us_ring_space(r));
    n = US_MIN(n, (size_t)(r->alloc - r->len));
    r->len += (uint32_t)n;
}

size_t
us_ring_peek(const struct us_ring *r, size_t off, void *out, size_t n)
{
    if (off >= r->len)
        return 0;
    n = US_MIN(n, r->len - off);
    ring_copy_out(r, off, out, n);
    return n;
}

/* Removes n bytes from the front; returns true if that left the ring empty. */
static bool
ring_drop_front(struct us_ring *r, size_t n)
{
    US_ASSERT(n <= r->len);
    n = US_MIN(n, r->len);
    if (n == 0)
        return false;
    r->head = (uint32_t)ring_pos(r, n);
    r->len -= (uint32_t)n;
    return r->len == 0;
}

void
us_ring_consume(struct us_ring *r, size_t n)
{
    if (ring_drop_front(r, n))
        us_ring_free(r);
}

void
us_ring_consume_keep(struct us_ring *r, size_t n)
{
    (void)ring_drop_front(r, n);
}

int
us_ring_set_cap(struct us_ring *r, size_t cap)
{
    if (cap < r->len || cap > UINT32_MAX)
        return -EINVAL;
    r->cap = (uint32_t)cap;
    return 0;
}

size_t
us_ring_view(const struct us_ring *r, size_t off, const uint8_t **p)
{
    if (off >= r->len) {
        *p = NULL;
        return 0;
    }
    size_t pos = ring_pos(r, off);
    *p = r->buf + pos;
    return US_MIN(r->len - off, r->alloc - pos);
}
