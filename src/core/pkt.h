/* Packet buffers from per-stack pools, with headroom for headers (doc/design.md, Memory).
 * Layer: core. Two size classes: small (one MTU-sized frame) and large (64 KiB super-frames,
 * reassembled datagrams). Buffers are allocated lazily up to a limit and then reused from a free
 * list, so the steady state does no malloc. Functions say whether they consume or borrow a pkt. */
#ifndef US_CORE_PKT_H
#define US_CORE_PKT_H

#include "core/types.h"

#define US_PKT_HEADROOM 128 /* ethernet 14 + ip 60 + tcp 60, rounded; virtio header fits too */
#define US_PKT_SMALL_SIZE 2048
#define US_PKT_LARGE_SIZE (65536 + US_PKT_HEADROOM)

struct us_pkt {
    struct us_pkt *next; /* queue link, owned by whoever holds the pkt */
    uint8_t *data;       /* first valid byte */
    size_t len;          /* valid bytes */
    uint8_t *buf;        /* storage */
    size_t cap;          /* storage size */
    uint8_t cls;         /* pool class */
    /* metadata for whoever queues the pkt */
    us_ip4_t addr;       /* e.g. next hop while waiting for ARP, or source of a datagram */
    us_ip4_t addr2;      /* e.g. destination of a datagram */
    uint16_t port;
    uint8_t ttl;
    bool csum_partial; /* the L4 checksum is left to the device (us_tx_gso_fn) */
    uint16_t gso_size; /* non-zero: a TCP super-segment the device cuts into this size */
    uint16_t l4_hdr_len; /* with csum_partial: the L4 header at l4 and its length, set by the */
    uint8_t *l4;         /* transport, so the link layer hands the device offsets unparsed */
    /* Payload that follows data[0, len) but is borrowed from elsewhere (TCP's send buffer), so a
     * device that gathers (us_tx_gso_fn) writes it without a copy into the pkt. Valid only for
     * the call that sends the pkt: whoever keeps the pkt longer calls us_pkt_linearize first.
     * The storage always has room for it. */
    uint8_t n_ext;
    struct {
        const uint8_t *p;
        size_t len;
    } ext[2];
};

struct us_pool {
    size_t buf_size;
    size_t max;       /* buffers that may exist */
    size_t allocated; /* buffers that exist */
    size_t in_use;
    struct us_pkt *free;
};

void us_pool_init(struct us_pool *p, size_t buf_size, size_t max);
void us_pool_destroy(struct us_pool *p);

/* Takes a buffer from the pool whose class fits `size` bytes after the headroom; data starts at
 * the headroom with len 0. NULL when the class is exhausted or size is too large. */
struct us_pkt *us_pkt_alloc(struct us_pool pools[2], size_t size);
/* Consumes p (NULL is fine). */
void us_pkt_free(struct us_pool pools[2], struct us_pkt *p);

/* Prepends n bytes (header room) and returns the new start. The caller guarantees headroom. */
static inline uint8_t *
us_pkt_push(struct us_pkt *p, size_t n)
{
    US_ASSERT((size_t)(p->data - p->buf) >= n);
    p->data -= n;
    p->len += n;
    return p->data;
}

/* Appends n bytes and returns where they start. The caller guarantees tailroom. */
static inline uint8_t *
us_pkt_put(struct us_pkt *p, size_t n)
{
    uint8_t *t = p->data + p->len;
    US_ASSERT(t + n <= p->buf + p->cap);
    p->len += n;
    return t;
}

/* Bytes of the packet: its own and the borrowed payload after them. */
static inline size_t
us_pkt_total(const struct us_pkt *p)
{
    size_t n = p->len;
    for (uint8_t i = 0; i < p->n_ext; i++)
        n += p->ext[i].len;
    return n;
}

/* Copies borrowed payload into the pkt's own storage (see ext). */
void us_pkt_linearize(struct us_pkt *p);

static inline size_t
us_pkt_headroom(const struct us_pkt *p)
{
    return (size_t)(p->data - p->buf);
}

static inline size_t
us_pkt_tailroom(const struct us_pkt *p)
{
    return p->cap - (size_t)(p->data - p->buf) - p->len;
}

/* A FIFO of pkts with a count and a byte total. */
struct us_pktq {
    struct us_pkt *head, *tail;
    size_t count, bytes;
};

/* Takes p; a queued pkt holds all its bytes itself (borrowed payload is copied in). */
static inline void
us_pktq_push(struct us_pktq *q, struct us_pkt *p)
{
    if (p->n_ext)
        us_pkt_linearize(p);
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->count++;
    q->bytes += p->len;
}

static inline struct us_pkt *
us_pktq_pop(struct us_pktq *q)
{
    struct us_pkt *p = q->head;
    if (!p)
        return NULL;
    q->head = p->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= p->len;
    p->next = NULL;
    return p;
}

/* Frees every pkt in q. */
void us_pktq_purge(struct us_pool pools[2], struct us_pktq *q);

#endif
