/* Byte ring buffer for TCP send and receive data (doc/design.md, Memory; smoltcp RingBuffer).
 * Layer: core. Storage is allocated only while data is queued (on first write) and released when
 * the ring drains, so an idle connection holds no buffer. Capacity may change while empty or
 * grow while holding data (receive window auto-tuning). */
#ifndef US_CORE_RING_H
#define US_CORE_RING_H

#include "core/types.h"

/* 32-bit sizes: a ring lives in every TCP control block (two of them), and no socket buffer
 * comes near 4 GiB (us_ring_set_cap refuses that). */
struct us_ring {
    uint8_t *buf;   /* NULL while nothing is stored */
    uint32_t cap;   /* logical capacity (limit), bytes */
    uint32_t alloc; /* bytes allocated in buf (0 or >= len) */
    uint32_t head;  /* offset of the first stored byte in buf */
    uint32_t len;   /* bytes stored */
};

/* cap is clamped to UINT32_MAX. */
void us_ring_init(struct us_ring *r, size_t cap);
void us_ring_free(struct us_ring *r);
static inline size_t us_ring_len(const struct us_ring *r) { return r->len; }
static inline size_t us_ring_space(const struct us_ring *r) { return r->cap - r->len; }
/* Appends up to n bytes; returns how many were stored (0 if full or allocation failed). */
size_t us_ring_write(struct us_ring *r, const void *data, size_t n);
/* Writes n bytes at offset off past the end of the stored data (off + n <= space), without
 * making them part of len: out-of-order TCP data. Returns bytes written. */
size_t us_ring_write_at(struct us_ring *r, size_t off, const void *data, size_t n);
/* Makes n bytes written with write_at at offset 0.. part of the stored data. */
void us_ring_commit(struct us_ring *r, size_t n);
/* Copies up to n bytes starting off bytes into the stored data, without removing them. */
size_t us_ring_peek(const struct us_ring *r, size_t off, void *out, size_t n);
/* Removes n bytes (n <= len) from the front; frees storage when empty. */
void us_ring_consume(struct us_ring *r, size_t n);
/* Like us_ring_consume, but keeps the storage (and the position of data written ahead with
 * write_at) when the ring empties. A receive ring that still holds out-of-order data (its range
 * set is not empty) must use this, or the out-of-order bytes are lost with the buffer. */
void us_ring_consume_keep(struct us_ring *r, size_t n);
/* Sets the capacity; fails (-EINVAL) below the stored length or above UINT32_MAX. */
int us_ring_set_cap(struct us_ring *r, size_t cap);
/* Contiguous view of stored bytes from off: sets *p and returns the length (may be < len-off
 * because of wrap-around). */
size_t us_ring_view(const struct us_ring *r, size_t off, const uint8_t **p);

#endif
