/* Timer queue: one binary min-heap of (deadline, insertion seq, kind, owner index, generation).
 * Layer: core. Ties fire in insertion order, so simulations replay exactly (doc/design.md, Timers).
 * Cancelling is lazy: the owner forgets its deadline, and the handler skips entries whose
 * generation or deadline no longer match. */
#ifndef US_CORE_TIMERQ_H
#define US_CORE_TIMERQ_H

#include "core/types.h"

struct us_timer_ent {
    us_time_t deadline;
    uint32_t seq;   /* push order: equal deadlines pop first-in first-out (until it wraps, when
                     * only the order among equal deadlines changes) */
    uint32_t owner; /* index into the owning table */
    uint32_t gen;   /* owner's generation when armed */
    uint8_t kind;
};

/* The heap shrinks again when it is mostly empty, so a burst of timers (a million connections
 * opening) does not keep its memory. */
struct us_timerq {
    struct us_timer_ent *heap;
    size_t len, cap;
    uint32_t next_seq;
    size_t limit; /* most entries held; 0: only memory bounds it (tests lower it to fail adds) */
    size_t stale; /* entries known to be dead (owner freed, deadline superseded): us_timerq_purge */
};

void us_timerq_init(struct us_timerq *q);
void us_timerq_destroy(struct us_timerq *q);
/* Returns 0 or -ENOMEM. */
int us_timerq_add(struct us_timerq *q, us_time_t deadline, uint8_t kind, uint32_t owner,
                  uint32_t gen);
/* Drops the entries `live` says are dead, rebuilds the heap (O(len)) and zeroes `stale`. Lazy
 * cancelling leaves an entry behind for every timer its owner forgot; a busy stack frees owners
 * faster than their deadlines pass (100k connections a second, each leaving a 1 s SYN RTO), and
 * without a purge the heap would grow to hold them all. Returns how many were dropped. */
size_t us_timerq_purge(struct us_timerq *q, bool (*live)(void *ctx, const struct us_timer_ent *e),
                       void *ctx);
/* The owner of n queued entries is gone: they are dead (counted for us_timerq_purge). */
static inline void
us_timerq_forget(struct us_timerq *q, size_t n)
{
    q->stale += n;
}
/* A popped entry turned out dead: one fewer waits in the heap. */
static inline void
us_timerq_dead_popped(struct us_timerq *q)
{
    q->stale -= q->stale > 0;
}
/* Worth purging: over half the heap is known dead (so a purge costs O(1) per dead entry). */
static inline bool
us_timerq_should_purge(const struct us_timerq *q)
{
    return q->stale >= 1024 && q->stale > q->len / 2;
}
/* Pops the earliest entry due at `now` into *out; false when none is due. */
bool us_timerq_pop_due(struct us_timerq *q, us_time_t now, struct us_timer_ent *out);
/* The earliest deadline, or US_TIME_NEVER. Inline: asked on every poll. */
static inline us_time_t
us_timerq_next(const struct us_timerq *q)
{
    return q->len ? q->heap[0].deadline : US_TIME_NEVER;
}

/* Lazy re-arm, for timers whose deadline moves often (an RTO restarted by every ACK, an ARP entry
 * re-confirmed by every packet). The owner keeps two deadlines per timer: *t, the logical one
 * (US_TIME_NEVER = off; stopping a timer only sets it), and *tq, the deadline of its entry in the
 * heap (US_TIME_NEVER = none). The heap then holds at most one live entry per timer: moving the
 * deadline later pushes nothing (the queued entry re-queues itself when it fires), moving it
 * earlier pushes a new one, and the old one is skipped when popped because it no longer matches
 * *tq. Cost: a timer moved later fires once early and is queued again. */

/* Sets *t = when, and queues an entry unless one is queued at or before `when`. Returns 0, or
 * -ENOMEM when an entry was needed and the heap could not take it (then *tq is unchanged and
 * nothing will fire at `when`: the owner must handle it). */
static inline int
us_timerq_arm(struct us_timerq *q, us_time_t *t, us_time_t *tq, us_time_t when, uint8_t kind,
              uint32_t owner, uint32_t gen)
{
    *t = when;
    if (*tq != US_TIME_NEVER && *tq <= when)
        return 0; /* inline: the common case (an RTO pushed later by an ACK) costs no call */
    int err = us_timerq_add(q, when, kind, owner, gen);
    if (err == 0) {
        q->stale += *tq != US_TIME_NEVER; /* the entry queued later is dead now */
        *tq = when;
    }
    return err;
}
/* For a popped entry `e` whose owner and generation the caller has matched: true when the timer
 * is due (then *t is US_TIME_NEVER and the caller runs it); false when `e` is stale, the timer
 * was stopped, or it moved later (then it is queued again at *t). */
bool us_timerq_fire(struct us_timerq *q, const struct us_timer_ent *e, us_time_t *t,
                    us_time_t *tq, us_time_t now);

#endif
