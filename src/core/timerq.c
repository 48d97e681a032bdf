/* Binary min-heap timer queue; see timerq.h. Layer: core. */
#include "core/timerq.h"

#include <errno.h>
#include <stdlib.h>

void
us_timerq_init(struct us_timerq *q)
{
    q->heap = NULL;
    q->len = q->cap = 0;
    q->next_seq = 0;
    q->limit = 0;
    q->stale = 0;
}

void
us_timerq_destroy(struct us_timerq *q)
{
    free(q->heap);
    us_timerq_init(q);
}

static bool
ent_before(const struct us_timer_ent *a, const struct us_timer_ent *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

int
us_timerq_add(struct us_timerq *q, us_time_t deadline, uint8_t kind, uint32_t owner, uint32_t gen)
{
    if (q->limit && q->len >= q->limit)
        return -ENOMEM;
    if (q->len == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        struct us_timer_ent *n = realloc(q->heap, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        q->heap = n;
        q->cap = ncap;
    }
    struct us_timer_ent e = {deadline, q->next_seq++, owner, gen, kind};
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ent_before(&e, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return 0;
}

/* Puts `e` at hole i or below it, moving smaller children up. */
static void
sift_down(struct us_timerq *q, size_t i, struct us_timer_ent e)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->len)
            break;
        if (c + 1 < q->len && ent_before(&q->heap[c + 1], &q->heap[c]))
            c++;
        if (!ent_before(&q->heap[c], &e))
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    q->heap[i] = e;
}

/* Halves the array while it is mostly empty; a failed shrink just keeps the memory. */
static void
shrink(struct us_timerq *q)
{
    while (q->cap > 64 && q->len < q->cap / 4) {
        struct us_timer_ent *n = realloc(q->heap, q->cap / 2 * sizeof(*n));
        if (!n)
            return;
        q->heap = n;
        q->cap /= 2;
    }
}

bool
us_timerq_pop_due(struct us_timerq *q, us_time_t now, struct us_timer_ent *out)
{
    if (q->len == 0 || q->heap[0].deadline > now)
        return false;
    *out = q->heap[0];
    struct us_timer_ent last = q->heap[--q->len];
    if (q->len > 0)
        sift_down(q, 0, last);
    shrink(q);
    return true;
}

size_t
us_timerq_purge(struct us_timerq *q, bool (*live)(void *ctx, const struct us_timer_ent *e),
                void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < q->len; i++)
        if (live(ctx, &q->heap[i]))
            q->heap[n++] = q->heap[i];
    size_t dropped = q->len - n;
    q->len = n;
    q->stale = 0;
    for (size_t i = n / 2; i-- > 0;) /* Floyd's heap construction: sift every parent down */
        sift_down(q, i, q->heap[i]);
    shrink(q);
    return dropped;
}

bool
us_timerq_fire(struct us_timerq *q, const struct us_timer_ent *e, us_time_t *t, us_time_t *tq,
               us_time_t now)
{
    if (*tq != e->deadline) {
        us_timerq_dead_popped(q); /* superseded by an earlier entry */
        return false;
    }
    *tq = US_TIME_NEVER;
    if (*t == US_TIME_NEVER)
        return false; /* stopped */
    /* Moved later while this entry waited: queue it again. That cannot fail, as the pop that
     * brought `e` here freed a place; if it ever did, firing early beats never firing. */
    if (*t > now && us_timerq_arm(q, t, tq, *t, e->kind, e->owner, e->gen) == 0)
        return false;
    *t = US_TIME_NEVER;
    return true;
}
