/* In-memory link with seeded impairments: the impairer (fate of each frame), the delay queue
 * (a binary min-heap on (delivery time, arrival order) over recycled buffers), the two-ended
 * link built from them, and the parser for impairment specs.
 * Layer: drivers. No clock, no I/O, no globals: time comes from the caller, randomness from a
 * per-impairer xoshiro256** seeded through splitmix64, so a run replays from its seed. */
#include "drivers/wire.h"

#include "core/rand.h"

#include <ctype.h>
#include <errno.h>
#include <math.h> /* isfinite (a macro: no libm) */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* ---- PRNG: the stack's own xoshiro256** (core/rand.h) --------------------------------------- */

/* Uniform in [0, 1). */
static double
wire_rng_unit(struct us_rand *r)
{
    return (double)(us_rand_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for the n we use. */
static uint64_t
wire_rng_below(struct us_rand *r, uint64_t n)
{
    return us_rand_next(r) % n;
}

/* True with probability p. Draws nothing when p is 0, so an unused impairment does not shift
 * the stream of the others. */
static bool
wire_rng_chance(struct us_rand *r, double p)
{
    return p > 0 && wire_rng_unit(r) < p;
}

/* ---- impairer ------------------------------------------------------------------------------- */

#define WIRE_QUEUE_LIMIT_DEFAULT 1000u
#define WIRE_REORDER_GAP_DEFAULT US_MSEC(1)

struct us_impairer {
    struct us_impair imp;
    struct us_rand rng;
    struct us_wire_stats stats;
    /* Rate limiting: when the serialiser is next free, and a ring of the finish times of the
     * frames it still holds (their number is the queue length). */
    us_time_t busy_until;
    us_time_t *finish;
    size_t finish_cap, finish_head, finish_n;
    bool clean; /* no impairment at all: every frame goes through at once, untouched */
};

struct us_impairer *
us_impairer_new(const struct us_impair *imp, uint64_t seed)
{
    struct us_impairer *im = calloc(1, sizeof(*im));
    if (im == NULL)
        return NULL;
    if (imp != NULL)
        im->imp = *imp;
    if (im->imp.reorder_gap <= 0)
        im->imp.reorder_gap = WIRE_REORDER_GAP_DEFAULT;
    /* Time never runs backwards on the wire. */
    im->imp.delay = US_MAX(im->imp.delay, 0);
    im->imp.jitter = US_MAX(im->imp.jitter, 0);
    im->imp.blackout_every = US_MAX(im->imp.blackout_every, 0);
    us_rand_seed(&im->rng, seed);
    const struct us_impair *p = &im->imp;
    im->clean = p->loss <= 0 && p->dup <= 0 && p->reorder <= 0 && p->corrupt <= 0 &&
                p->biterr <= 0 && p->ce <= 0 && p->early <= 0 && p->delay == 0 &&
                p->jitter == 0 && p->rate_bps == 0 && p->blackout_len <= 0;
    if (im->imp.rate_bps > 0) {
        im->finish_cap = im->imp.queue_limit ? im->imp.queue_limit : WIRE_QUEUE_LIMIT_DEFAULT;
        im->finish = calloc(im->finish_cap, sizeof(*im->finish));
        if (im->finish == NULL) {
            free(im);
            return NULL;
        }
    }
    return im;
}

void
us_impairer_free(struct us_impairer *im)
{
    if (im == NULL)
        return;
    free(im->finish);
    free(im);
}

struct us_wire_stats *
us_impairer_stats(struct us_impairer *im)
{
    return &im->stats;
}

bool
us_impairer_clean(const struct us_impairer *im)
{
    return im->clean;
}

/* Time on the wire for len bytes at rate_bps, rounded up to a whole nanosecond. */
static us_time_t
wire_tx_time(size_t len, uint64_t rate_bps)
{
    uint64_t bits_ns = (uint64_t)len * 8u * (uint64_t)US_NSEC_PER_SEC; /* < 2^50 */
    return (us_time_t)(bits_ns / rate_bps + (bits_ns % rate_bps != 0));
}

/* Puts the frame through the serialiser; returns when it has left, or -1 when the queue in
 * front of the serialiser is full. */
static us_time_t
wire_serialise(struct us_impairer *im, size_t len, us_time_t now)
{
    us_time_t start, done;

    while (im->finish_n > 0 && im->finish[im->finish_head] <= now) {
        im->finish_head = (im->finish_head + 1) % im->finish_cap;
        im->finish_n--;
    }
    if (im->finish_n >= im->finish_cap)
        return -1;
    start = US_MAX(now, im->busy_until);
    done = start + wire_tx_time(len, im->imp.rate_bps);
    im->busy_until = done;
    im->finish[(im->finish_head + im->finish_n) % im->finish_cap] = done;
    im->finish_n++;
    return done;
}

/* The bytes "corrupt" may damage: everything after the Ethernet header, except in ARP frames
 * (see struct us_impair). Returns how many, from offset WIRE_ETH_HDR. */
#define WIRE_ETH_HDR 14
#define WIRE_ETHERTYPE_ARP 0x0806
static size_t
wire_corruptible(const uint8_t *frame, size_t len)
{
    if (len <= WIRE_ETH_HDR || ((unsigned)frame[12] << 8 | frame[13]) == WIRE_ETHERTYPE_ARP)
        return 0;
    return len - WIRE_ETH_HDR;
}

/* An IPv4 packet whose ECN field is ECT(0) or ECT(1) (0 is not-ECT, 3 is CE already). */
#define WIRE_ETHERTYPE_IP4 0x0800
static bool
wire_ect(const uint8_t *frame, size_t len)
{
    if (len < WIRE_ETH_HDR + 20 || ((unsigned)frame[12] << 8 | frame[13]) != WIRE_ETHERTYPE_IP4)
        return false;
    unsigned ecn = frame[WIRE_ETH_HDR + 1] & 3u;
    return (frame[WIRE_ETH_HDR] >> 4) == 4 && ecn != 0 && ecn != 3;
}

bool
us_wire_mark_ce(uint8_t *frame, size_t len)
{
    if (!wire_ect(frame, len))
        return false;
    uint8_t *ip = frame + WIRE_ETH_HDR;
    /* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the 16-bit word holding the TOS octet. */
    uint32_t old = (uint32_t)ip[0] << 8 | ip[1], new = old | 3u;
    uint32_t sum = (~((uint32_t)ip[10] << 8 | ip[11]) & 0xffffu) + (~old & 0xffffu) + new;
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    ip[1] |= 3u;
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
    return true;
}

int
us_impairer_decide(struct us_impairer *im, const uint8_t *frame, size_t len, us_time_t now,
                   struct us_impair_verdict *v)
{
    const struct us_impair *p = &im->imp;
    us_time_t at = now;

    im->stats.sent++;
    if (im->clean) { /* the common case of a benchmark: decide nothing */
        v->copies = 1;
        v->corrupt = v->fcs = v->biterr = v->ce = false;
        v->at[0] = v->at[1] = now;
        return 1;
    }
    memset(v, 0, sizeof(*v));
    if (p->blackout_len > 0 && now >= p->blackout_start) {
        us_time_t into = now - p->blackout_start;
        if (p->blackout_every > 0)
            into %= p->blackout_every;
        if (into < p->blackout_len) {
            im->stats.blackout++;
            return 0;
        }
    }
    if (wire_rng_chance(&im->rng, p->loss)) {
        im->stats.lost++;
        return 0;
    }
    if (p->rate_bps > 0) {
        at = wire_serialise(im, len, now);
        if (at < 0) {
            im->stats.queue_drops++;
            return 0;
        }
    }
    if (wire_rng_chance(&im->rng, p->early)) {
        im->stats.reordered++; /* out at once, ahead of the frames still delayed */
    } else {
        at += p->delay;
        if (p->jitter > 0)
            at += (us_time_t)wire_rng_below(&im->rng, (uint64_t)p->jitter + 1);
    }
    if (wire_rng_chance(&im->rng, p->reorder)) {
        at += p->reorder_gap;
        im->stats.reordered++;
    }
    size_t span = wire_corruptible(frame, len);
    if (span > 0 && wire_rng_chance(&im->rng, p->corrupt)) {
        v->corrupt = true;
        v->corrupt_byte = WIRE_ETH_HDR + (size_t)wire_rng_below(&im->rng, span);
        v->corrupt_mask = (uint8_t)(1u << wire_rng_below(&im->rng, 8));
        im->stats.corrupted++;
    }
    if (p->ce > 0 && wire_ect(frame, len) &&
        wire_rng_chance(&im->rng, p->ce)) {
        v->ce = true;
        im->stats.ce_marked++;
    }
    /* Bit errors on the wire hit any byte of any frame; the FCS check at the receiving end
     * catches them (us_delayq_deliver). */
    v->fcs = p->biterr > 0;
    if (len > 0 && wire_rng_chance(&im->rng, p->biterr)) {
        v->biterr = true;
        v->biterr_byte = (size_t)wire_rng_below(&im->rng, len);
        v->biterr_mask = (uint8_t)(1u << wire_rng_below(&im->rng, 8));
        im->stats.biterrs++;
    }
    v->copies = 1;
    v->at[0] = v->at[1] = at;
    if (at > now)
        im->stats.delayed++;
    if (wire_rng_chance(&im->rng, p->dup)) {
        v->copies = 2;
        im->stats.duplicated++;
    }
    return v->copies;
}

/* ---- delay queue ---------------------------------------------------------------------------- */

#define DQ_SMALL 2048u /* buffer size classes: a 1500-byte MTU frame, and a super-frame */
#define DQ_MAX_FRAMES_DEFAULT 16384u /* two windows of 4 MiB in flight at once, with room */

struct dq_buf {
    struct dq_buf *next_free;
    us_time_t at;
    uint64_t seq;
    size_t len, cap;
    int tag;
    struct us_wire_stats *fcs_stats; /* the FCS is checked at delivery (NULL: none carried) */
    uint32_t fcs;                    /* the frame's FCS as sent */
    uint8_t data[];
};

/* Frames wait in a min-heap ordered by (delivery time, push order). Most pushes arrive in order
 * (no delay, jitter or reordering), so those go to a plain FIFO instead (linked through
 * next_free) and pop merges the two by the same key: same order, O(1) for the common case. */
struct us_delayq {
    struct dq_buf **heap;
    size_t n, heap_cap, max_frames;
    struct dq_buf *fifo_head, *fifo_tail;
    size_t fifo_n;
    size_t allocated; /* buffers obtained from malloc (in the heap or on a free list) */
    uint64_t seq;
    struct dq_buf *free_small, *free_large;
};

struct us_delayq *
us_delayq_new(size_t max_frames)
{
    struct us_delayq *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->max_frames = max_frames ? max_frames : DQ_MAX_FRAMES_DEFAULT;
    return q;
}

static void
dq_free_list(struct dq_buf *b)
{
    while (b != NULL) {
        struct dq_buf *next = b->next_free;
        free(b);
        b = next;
    }
}

void
us_delayq_free(struct us_delayq *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->n; i++)
        free(q->heap[i]);
    dq_free_list(q->fifo_head);
    free(q->heap);
    dq_free_list(q->free_small);
    dq_free_list(q->free_large);
    free(q);
}

size_t
us_delayq_len(const struct us_delayq *q)
{
    return q->n + q->fifo_n;
}

size_t
us_delayq_allocated(const struct us_delayq *q)
{
    return q->allocated;
}

us_time_t
us_delayq_next_due(const struct us_delayq *q)
{
    us_time_t t = q->n > 0 ? q->heap[0]->at : US_TIME_NEVER;
    if (q->fifo_head && q->fifo_head->at < t)
        t = q->fifo_head->at;
    return t;
}

static bool
dq_before(const struct dq_buf *a, const struct dq_buf *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
dq_sift_up(struct us_delayq *q, size_t i)
{
    struct dq_buf *b = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!dq_before(b, q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = b;
}

static void
dq_sift_down(struct us_delayq *q, size_t i)
{
    struct dq_buf *b = q->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && dq_before(q->heap[c + 1], q->heap[c]))
            c++;
        if (!dq_before(q->heap[c], b))
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    q->heap[i] = b;
}

static struct dq_buf *
dq_buf_get(struct us_delayq *q, size_t len)
{
    struct dq_buf **list = len <= DQ_SMALL ? &q->free_small : &q->free_large;
    size_t cap = len <= DQ_SMALL ? DQ_SMALL : US_DELAYQ_FRAME_MAX;
    struct dq_buf *b = *list;

    if (b != NULL) {
        *list = b->next_free;
        return b;
    }
    b = malloc(sizeof(*b) + cap);
    if (b != NULL) {
        b->cap = cap;
        q->allocated++;
    }
    return b;
}

static void
dq_buf_put(struct us_delayq *q, struct dq_buf *b)
{
    struct dq_buf **list = b->cap == DQ_SMALL ? &q->free_small : &q->free_large;
    b->next_free = *list;
    *list = b;
}

/* Queues a copy of the frame; returns its buffer (so the caller may alter the copy) or NULL
 * with *err set. */
static struct dq_buf *
dq_push(struct us_delayq *q, const uint8_t *frame, size_t len, us_time_t at, int tag, int *err)
{
    struct dq_buf *b;

    if (len > US_DELAYQ_FRAME_MAX) {
        *err = -EMSGSIZE;
        return NULL;
    }
    if (q->n + q->fifo_n >= q->max_frames) {
        *err = -ENOBUFS;
        return NULL;
    }
    if (q->n == q->heap_cap) {
        size_t ncap = q->heap_cap ? q->heap_cap * 2 : 64;
        struct dq_buf **nh = realloc(q->heap, ncap * sizeof(*nh));
        if (nh == NULL) {
            *err = -ENOMEM;
            return NULL;
        }
        q->heap = nh;
        q->heap_cap = ncap;
    }
    b = dq_buf_get(q, len);
    if (b == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    memcpy(b->data, frame, len);
    b->len = len;
    b->at = at;
    b->seq = q->seq++;
    b->tag = tag;
    b->fcs_stats = NULL;
    b->next_free = NULL;
    if (q->n == 0 && (!q->fifo_tail || q->fifo_tail->at <= at)) {
        if (q->fifo_tail)
            q->fifo_tail->next_free = b;
        else
            q->fifo_head = b;
        q->fifo_tail = b;
        q->fifo_n++;
        return b;
    }
    q->heap[q->n++] = b;
    dq_sift_up(q, q->n - 1);
    return b;
}

int
us_delayq_push(struct us_delayq *q, const uint8_t *frame, size_t len, us_time_t at, int tag)
{
    int err = 0;
    return dq_push(q, frame, len, at, tag, &err) != NULL ? 0 : err;
}

int
us_delayq_push_impaired(struct us_delayq *q, struct us_impairer *im, const uint8_t *frame,
                        size_t len, us_time_t now, int tag)
{
    struct us_impair_verdict v;
    int i, err = 0;

    if (len > US_DELAYQ_FRAME_MAX)
        return -EMSGSIZE;
    us_impairer_decide(im, frame, len, now, &v);
    for (i = 0; i < v.copies; i++) {
        struct dq_buf *b = dq_push(q, frame, len, v.at[i], tag, &err);
        if (b == NULL) {
            /* Keep the books: a lost duplicate is no duplicate; a lost original is a drop. */
            if (i == 0)
                im->stats.queue_drops++;
            else
                im->stats.duplicated--;
            return i == 0 ? err : i;
        }
        if (v.ce)
            us_wire_mark_ce(b->data, len);
        if (v.corrupt)
            b->data[v.corrupt_byte] ^= v.corrupt_mask;
        if (v.fcs) {
            b->fcs_stats = &im->stats;
            b->fcs = us_wire_fcs(frame, len);
        }
        if (v.biterr)
            b->data[v.biterr_byte] ^= v.biterr_mask;
    }
    return v.copies;
}

uint32_t
us_wire_fcs(const uint8_t *frame, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) { /* zlib takes uInt lengths */
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = crc32(crc, frame, n);
        frame += n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* The earliest frame of the FIFO and the heap, or NULL. */
static struct dq_buf *
dq_peek(const struct us_delayq *q)
{
    struct dq_buf *h = q->n > 0 ? q->heap[0] : NULL;
    struct dq_buf *f = q->fifo_head;
    if (!h)
        return f;
    if (!f)
        return h;
    return dq_before(f, h) ? f : h;
}

/* Removes `first`, the frame dq_peek just returned. */
static struct dq_buf *
dq_pop(struct us_delayq *q, struct dq_buf *first)
{
    struct dq_buf *f = q->fifo_head;
    if (f == first) {
        q->fifo_head = f->next_free;
        if (!q->fifo_head)
            q->fifo_tail = NULL;
        q->fifo_n--;
        f->next_free = NULL;
        return f;
    }
    struct dq_buf *top = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    if (q->n > 0)
        dq_sift_down(q, 0);
    return top;
}

size_t
us_delayq_deliver(struct us_delayq *q, us_time_t now, size_t max, us_delayq_fn fn, void *ctx)
{
    size_t done = 0;

    struct dq_buf *b0;
    while (done < max && (b0 = dq_peek(q)) != NULL && b0->at <= now) {
        struct dq_buf *b = dq_pop(q, b0);
        /* The receiving end's FCS check (IEEE 802.3 3.2.9), as a NIC drops a damaged frame. */
        if (b->fcs_stats && us_wire_fcs(b->data, b->len) != b->fcs) {
            b->fcs_stats->fcs_drops++;
            dq_buf_put(q, b);
            continue;
        }
        /* Popped before the call, so the callback may push into this queue. */
        fn(ctx, b->tag, b->data, b->len, now);
        dq_buf_put(q, b);
        done++;
    }
    return done;
}

/* ---- link ----------------------------------------------------------------------------------- */

struct us_wire_end {
    struct us_wire_link *link;
    int idx;
};

struct us_wire_link {
    struct us_wire_end ends[2];
    struct us_impairer *imp[2]; /* imp[i] impairs frames sent by end i */
    struct us_delayq *q;        /* both directions; tag = sending end */
    us_time_t now;
};

struct us_wire_link *
us_wire_link_new(const struct us_impair *imp, uint64_t seed)
{
    struct us_wire_link *l = calloc(1, sizeof(*l));
    uint64_t s = seed;

    if (l == NULL)
        return NULL;
    for (int i = 0; i < 2; i++) {
        l->ends[i].link = l;
        l->ends[i].idx = i;
        l->imp[i] = us_impairer_new(imp, us_rand_splitmix64(&s));
    }
    l->q = us_delayq_new(0);
    if (l->imp[0] == NULL || l->imp[1] == NULL || l->q == NULL) {
        us_wire_link_free(l);
        return NULL;
    }
    return l;
}

void
us_wire_link_free(struct us_wire_link *l)
{
    if (l == NULL)
        return;
    us_impairer_free(l->imp[0]);
    us_impairer_free(l->imp[1]);
    us_delayq_free(l->q);
    free(l);
}

struct us_wire_end *
us_wire_link_end(struct us_wire_link *l, int i)
{
    return (i == 0 || i == 1) ? &l->ends[i] : NULL;
}

int
us_wire_end_tx(void *end, const uint8_t *frame, size_t len)
{
    struct us_wire_end *e = end;
    struct us_wire_link *l = e->link;
    int rc = us_delayq_push_impaired(l->q, l->imp[e->idx], frame, len, l->now, e->idx);
    /* A full queue is a drop on the wire, not a driver error; oversize frames are. */
    return rc == -EMSGSIZE ? rc : 0;
}

void
us_wire_link_set_now(struct us_wire_link *l, us_time_t now)
{
    l->now = now;
}

struct wire_deliver_ctx {
    struct us_wire_link *link;
    us_wire_rx_fn rx;
    void *ctx[2];
};

static void
wire_deliver_one(void *arg, int tag, const uint8_t *frame, size_t len, us_time_t now)
{
    struct wire_deliver_ctx *d = arg;
    d->link->imp[tag]->stats.delivered++;
    d->rx(d->ctx[1 - tag], frame, len, now);
}

size_t
us_wire_link_deliver(struct us_wire_link *l, us_time_t now, us_wire_rx_fn rx, void *ctx0,
                     void *ctx1)
{
    struct wire_deliver_ctx d = {.link = l, .rx = rx, .ctx = {ctx0, ctx1}};
    l->now = now;
    return us_delayq_deliver(l->q, now, US_WIRE_DELIVER_MAX, wire_deliver_one, &d);
}

us_time_t
us_wire_link_next_due(const struct us_wire_link *l)
{
    return us_delayq_next_due(l->q);
}

size_t
us_wire_link_buffers(const struct us_wire_link *l)
{
    return us_delayq_allocated(l->q);
}

const struct us_wire_stats *
us_wire_link_stats(const struct us_wire_link *l, int i)
{
    return (i == 0 || i == 1) ? &l->imp[i]->stats : NULL;
}

/* ---- spec parser ---------------------------------------------------------------------------- */

struct wire_unit {
    const char *name;
    double mult;
};

static const struct wire_unit wire_time_units[] = {
    {"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9},
};
static const struct wire_unit wire_rate_units[] = {
    {"bit", 1.0}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
};

/* A non-negative decimal number followed by one of units (or a bare 0). */
static int
wire_parse_scaled(const char *val, const struct wire_unit *units, size_t n_units, double limit,
                  double *out)
{
    char *end;
    double v;

    if (!isdigit((unsigned char)val[0]) && val[0] != '.')
        return -EINVAL;
    v = strtod(val, &end);
    if (!isfinite(v) || v < 0)
        return -EINVAL;
    if (*end == '\0') {
        if (v != 0)
            return -EINVAL; /* a unit is required, except for zero */
        *out = 0;
        return 0;
    }
    for (size_t i = 0; i < n_units; i++) {
        if (strcasecmp(end, units[i].name) == 0) {
            v *= units[i].mult;
            if (v > limit)
                return -EINVAL;
            *out = v;
            return 0;
        }
    }
    return -EINVAL;
}

static int
wire_parse_time(const char *val, us_time_t *out)
{
    double v;
    int rc = wire_parse_scaled(val, wire_time_units, US_ARRAY_LEN(wire_time_units), 1e18, &v);
    if (rc == 0)
        *out = (us_time_t)(v + 0.5); /* v <= 1e18: fits; no libm */
    return rc;
}

static int
wire_parse_prob(const char *val, double *out)
{
    char *end;
    double v;

    if (!isdigit((unsigned char)val[0]) && val[0] != '.')
        return -EINVAL;
    v = strtod(val, &end);
    if (*end != '\0' || !(v >= 0 && v <= 1))
        return -EINVAL;
    *out = v;
    return 0;
}

static int
wire_parse_uint(const char *val, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char)val[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(val, &end, 0);
    if (errno != 0 || *end != '\0' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Applies one key=value. seen is a bitmask of keys already given (repeats are errors). */
static int
wire_parse_item(struct us_impair *imp, uint64_t *seed, const char *key, const char *val,
                unsigned *seen)
{
    static const char *const keys[] = {
        "loss", "dup", "reorder", "corrupt", "delay", "jitter", "reorder_gap", "rate",
        "queue", "blackout_start", "blackout_len", "biterr", "ce", "blackout_every", "early",
        "seed",
    };
    unsigned long long u = 0;
    double d = 0;
    size_t k;
    int rc;

    for (k = 0; k < US_ARRAY_LEN(keys); k++)
        if (strcmp(key, keys[k]) == 0)
            break;
    if (k == US_ARRAY_LEN(keys) || (*seen & (1u << k)) || val[0] == '\0')
        return -EINVAL;
    *seen |= 1u << k;
    switch (k) {
    case 0: return wire_parse_prob(val, &imp->loss);
    case 1: return wire_parse_prob(val, &imp->dup);
    case 2: return wire_parse_prob(val, &imp->reorder);
    case 3: return wire_parse_prob(val, &imp->corrupt);
    case 4: return wire_parse_time(val, &imp->delay);
    case 5: return wire_parse_time(val, &imp->jitter);
    case 6: return wire_parse_time(val, &imp->reorder_gap);
    case 7:
        rc = wire_parse_scaled(val, wire_rate_units, US_ARRAY_LEN(wire_rate_units), 1e15, &d);
        imp->rate_bps = (uint64_t)(d + 0.5);
        return rc;
    case 8:
        rc = wire_parse_uint(val, 1000000, &u);
        imp->queue_limit = (unsigned)u;
        return rc;
    case 9: return wire_parse_time(val, &imp->blackout_start);
    case 10: return wire_parse_time(val, &imp->blackout_len);
    case 11: return wire_parse_prob(val, &imp->biterr);
    case 12: return wire_parse_prob(val, &imp->ce);
    case 13: return wire_parse_time(val, &imp->blackout_every);
    case 14: return wire_parse_prob(val, &imp->early);
    default:
        if (seed == NULL)
            return -EINVAL;
        rc = wire_parse_uint(val, UINT64_MAX, &u);
        if (rc == 0)
            *seed = (uint64_t)u;
        return rc;
    }
}

int
us_impair_parse(struct us_impair *imp, uint64_t *seed, const char *spec)
{
    struct us_impair tmp;
    uint64_t tmp_seed = seed ? *seed : 0;
    unsigned seen = 0;
    const char *p = spec ? spec : "";

    memset(&tmp, 0, sizeof(tmp));
    while (*p != '\0') {
        char key[32], val[64];
        size_t item_len = strcspn(p, ","), klen;
        const char *eq = memchr(p, '=', item_len);
        int rc;

        if (eq == NULL)
            return -EINVAL;
        klen = (size_t)(eq - p);
        if (klen == 0 || klen >= sizeof(key) || item_len - klen - 1 >= sizeof(val))
            return -EINVAL;
        memcpy(key, p, klen);
        key[klen] = '\0';
        memcpy(val, eq + 1, item_len - klen - 1);
        val[item_len - klen - 1] = '\0';
        rc = wire_parse_item(&tmp, seed ? &tmp_seed : NULL, key, val, &seen);
        if (rc < 0)
            return rc;
        p += item_len;
        if (*p == ',' && *++p == '\0')
            return -EINVAL; /* trailing comma */
    }
    *imp = tmp;
    if (seed != NULL)
        *seed = tmp_seed;
    return 0;
}
