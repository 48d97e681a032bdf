/* Timer queue: one binary min-heap of (deadline, insertion seq, kind, owner index, generation).
 * Layer: core. Ties fire in insertion order, so simulations replay exactly (STYLE.md 6).
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
};

void us_timerq_init(struct us_timerq *q);
void us_timerq_destroy(struct us_timerq *q);
/* Returns 0 or -ENOMEM. */
int us_timerq_add(struct us_timerq *q, us_time_t deadline, uint8_t kind, uint32_t owner,
                  uint32_t gen);
/* Pops the earliest entry due at `now` into *out; false when none is due. */
bool us_timerq_pop_due(struct us_timerq *q, us_time_t now, struct us_timer_ent *out);
/* The earliest deadline, or US_TIME_NEVER. Inline: asked on every poll. */
static inline us_time_t
us_timerq_next(const struct us_timerq *q)
{
    return q->len ? q->heap[0].deadline : US_TIME_NEVER;
}

#endif
