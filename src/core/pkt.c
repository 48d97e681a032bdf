/* Packet buffer pools: lazy allocation up to a per-stack limit, then reuse (lwIP memp style).
 * Layer: core. The pkt header and its storage come from one allocation. */
#include "core/pkt.h"

#include <stdlib.h>
#include <string.h>

void
us_pool_init(struct us_pool *p, size_t buf_size, size_t max)
{
    p->buf_size = buf_size;
    p->max = max;
    p->allocated = 0;
    p->in_use = 0;
    p->free = NULL;
}

void
us_pool_destroy(struct us_pool *p)
{
    while (p->free) {
        struct us_pkt *n = p->free->next;
        free(p->free);
        p->free = n;
    }
    p->allocated = 0;
}

static struct us_pkt *
pool_get(struct us_pool *p, uint8_t cls)
{
    struct us_pkt *k = p->free;
    if (k) {
        p->free = k->next;
    } else {
        if (p->allocated >= p->max)
            return NULL;
        k = malloc(sizeof(*k) + p->buf_size);
        if (!k)
            return NULL;
        p->allocated++;
        k->buf = (uint8_t *)(k + 1);
        k->cap = p->buf_size;
        k->cls = cls;
    }
    p->in_use++;
    k->next = NULL;
    k->data = k->buf + US_PKT_HEADROOM;
    k->len = 0;
    k->addr = k->addr2 = 0;
    k->port = 0;
    k->ttl = 0;
    k->csum_partial = false;
    k->gso_size = 0;
    k->n_ext = 0;
    return k;
}

struct us_pkt *
us_pkt_alloc(struct us_pool pools[2], size_t size)
{
    if (size + US_PKT_HEADROOM <= pools[0].buf_size) {
        struct us_pkt *k = pool_get(&pools[0], 0);
        if (k)
            return k;
    }
    if (size + US_PKT_HEADROOM <= pools[1].buf_size)
        return pool_get(&pools[1], 1);
    return NULL;
}

void
us_pkt_free(struct us_pool pools[2], struct us_pkt *k)
{
    if (!k)
        return;
    struct us_pool *p = &pools[k->cls];
    US_ASSERT(p->in_use > 0);
    p->in_use--;
    k->next = p->free;
    p->free = k;
}

void
us_pkt_linearize(struct us_pkt *p)
{
    for (uint8_t i = 0; i < p->n_ext; i++)
        memcpy(us_pkt_put(p, p->ext[i].len), p->ext[i].p, p->ext[i].len);
    p->n_ext = 0;
}

void
us_pktq_purge(struct us_pool pools[2], struct us_pktq *q)
{
    struct us_pkt *k;
    while ((k = us_pktq_pop(q)))
        us_pkt_free(pools, k);
}
