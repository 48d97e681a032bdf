/* TCP connection blocks: allocation, the 4-tuple and listener hashes, local port accounting,
 * initial sequence numbers, state changes and timers. Layer: transport. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tcp/tcp.h"

/* The memory target: an idle established connection costs at most 512 bytes: its control block
 * (buffers and range sets are allocated only while they hold data) plus its share of the page
 * headers, the 4-tuple hash and the timer heap (bench_mem measures the whole: 486 bytes). */
_Static_assert(sizeof(struct us_tcp_conn) <= 496, "TCP control block over 496 bytes");

#define PAGE_NONE UINT32_MAX /* no page (ends the list of pages with free blocks) */


int
us_tcp_init(struct us_stack *st)
{
    struct us_tcp_globals *t = st->tcp = calloc(1, sizeof(*st->tcp));
    if (!t)
        return -ENOMEM;
    int kind = us_timer_kinds_add(st, US_TT_N, us_tcp_timer, us_tcp_timer_live);
    if (kind < 0)
        return kind;
    t->timer_kind = (uint8_t)kind;
    t->partial = t->spare = PAGE_NONE;
    t->ehash_n = 1024;
    t->ehash = calloc(t->ehash_n, sizeof(*t->ehash));
    if (!t->ehash)
        return -ENOMEM;
    t->isn_key.k0 = us_rand_next(&st->rand);
    t->isn_key.k1 = us_rand_next(&st->rand);
    t->cookie_key.k0 = us_rand_next(&st->rand);
    t->cookie_key.k1 = us_rand_next(&st->rand);
    t->eph_counter = (uint32_t)us_rand_next(&st->rand);
    us_ip_register(st, US_IPPROTO_TCP, us_tcp_input);
    us_ip_register_err(st, US_IPPROTO_TCP, us_tcp_icmp_error_quoted);
    return 0;
}

/* ---- control block pages ------------------------------------------------------------------ */

struct us_tcp_page {
    uint64_t live;          /* bit i: block i is in use */
    uint32_t idx;           /* this page's index in pages[] */
    uint32_t next, prev;    /* list of pages with a free block (indices; PAGE_NONE ends it) */
    bool listed;
    struct us_tcp_conn c[US_TCP_PAGE_CONNS];
};
_Static_assert(US_TCP_PAGE_CONNS == 64, "one 64-bit mask of live blocks per page");

static void
page_list_push(struct us_tcp_globals *t, struct us_tcp_page *p)
{
    p->prev = PAGE_NONE;
    p->next = t->partial;
    if (t->partial != PAGE_NONE)
        t->pages[t->partial]->prev = p->idx;
    t->partial = p->idx;
    p->listed = true;
}

static void
page_list_unlink(struct us_tcp_globals *t, struct us_tcp_page *p)
{
    if (!p->listed)
        return;
    if (p->prev != PAGE_NONE)
        t->pages[p->prev]->next = p->next;
    else
        t->partial = p->next;
    if (p->next != PAGE_NONE)
        t->pages[p->next]->prev = p->prev;
    p->listed = false;
}

/* Puts a page with free blocks on the list: the spare if there is one, else a new one.
 * Returns false when out of memory (or of ids). */
static bool
page_add(struct us_tcp_globals *t)
{
    if (t->spare != PAGE_NONE) {
        page_list_push(t, t->pages[t->spare]);
        t->spare = PAGE_NONE;
        return true;
    }
    uint32_t idx = t->n_pages;
    if (t->n_released > 0) /* reuse a released page's index (rare: only after shrinking) */
        for (idx = 0; t->pages[idx]; idx++)
            ;
    if (idx == t->n_pages && t->n_pages == t->cap_pages) {
        if (t->cap_pages >= (UINT32_MAX >> US_TCP_PAGE_SHIFT) / 2)
            return false; /* ids are 32-bit */
        uint32_t n = t->cap_pages ? t->cap_pages * 2 : 16;
        struct us_tcp_page **np = realloc(t->pages, n * sizeof(*np));
        if (!np)
            return false;
        t->pages = np;
        t->cap_pages = n;
    }
    struct us_tcp_page *p = malloc(sizeof(*p));
    if (!p)
        return false;
    p->live = 0;
    p->idx = idx;
    TCP_POISON(p->c, sizeof(p->c));
    t->pages[idx] = p;
    if (idx == t->n_pages)
        t->n_pages++;
    else
        t->n_released--;
    page_list_push(t, p);
    return true;
}

struct us_tcp_conn *
us_tcp_conn_by_id(struct us_stack *st, uint32_t id)
{
    struct us_tcp_globals *t = st->tcp;
    uint32_t pi = id >> US_TCP_PAGE_SHIFT, slot = id & (US_TCP_PAGE_CONNS - 1);
    struct us_tcp_page *p = pi < t->n_pages ? t->pages[pi] : NULL;
    return p && (p->live >> slot & 1) ? &p->c[slot] : NULL;
}

/* Releases a block's side allocations (buffers, range sets, listener state). */
static void
conn_release(struct us_tcp_conn *c)
{
    us_ring_free(&c->sndbuf);
    us_ring_free(&c->rcvbuf);
    free(c->lsn);
    free(c->ooo);
    free(c->sacked);
    free(c->ep);
    us_tcp_rack_free(c);
}

void
us_tcp_destroy(struct us_stack *st)
{
    struct us_tcp_globals *t = st->tcp;
    if (!t)
        return;
    for (uint32_t pi = 0; pi < t->n_pages; pi++) {
        struct us_tcp_page *p = t->pages[pi];
        for (uint32_t i = 0; p && i < US_TCP_PAGE_CONNS; i++)
            if (p->live >> i & 1)
                conn_release(&p->c[i]);
        free(p);
    }
    free(t->pages);
    us_tcp_tw_destroy(st);
    us_tcp_episode_pool_destroy(t);
    free(t->ehash);
    free(t->port_refs);
    free(t);
    st->tcp = NULL;
}

void
us_tcp_poll(struct us_stack *st, us_time_t now)
{
    if (st->tcp->timers_lost && st->tcp->timers_retry_at <= now)
        us_tcp_timers_retry(st, now);
    if (us_tcp_tw_next(st->tcp) <= now)
        us_tcp_tw_expire(st, now);
}

us_time_t
us_tcp_next_deadline(const struct us_stack *st)
{
    us_time_t d = us_tcp_tw_next(st->tcp);
    /* a timer waits to be queued (out of memory): come back when TCP wants to retry */
    return st->tcp->timers_lost ? US_MIN(d, st->tcp->timers_retry_at) : d;
}

struct us_tcp_conn *
us_tcp_conn_new(struct us_stack *st)
{
    struct us_tcp_globals *t = st->tcp;
    if (t->n_live + t->tw_count >= st->cfg.tcp_max_conns) /* TIME-WAIT records count too */
        return NULL;
    if (t->partial == PAGE_NONE && !page_add(t))
        return NULL;
    struct us_tcp_page *p = t->pages[t->partial];
    uint32_t slot = (uint32_t)__builtin_ctzll(~p->live);
    p->live |= 1ull << slot;
    if (p->live == UINT64_MAX)
        page_list_unlink(t, p);
    t->n_live++;
    us_stat_inc(st, US_STAT_TCP_CONN_ALLOC);
    struct us_tcp_conn *c = &p->c[slot];
    TCP_UNPOISON(c, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->id = p->idx << US_TCP_PAGE_SHIFT | slot;
    c->gen = (uint32_t)us_rand_next(&st->rand);
    c->type = US_SOCK_STREAM;
    c->fd = -1;
    c->state = US_TCPS_CLOSED;
    for (int k = 0; k < US_TT_N; k++)
        c->t[k] = c->tq[k] = US_TIME_NEVER;
    us_ring_init(&c->sndbuf, st->cfg.tcp_sndbuf);
    us_ring_init(&c->rcvbuf, st->cfg.tcp_rcvbuf);
    c->rcvbuf_max = (uint32_t)US_MIN(st->cfg.tcp_rcvbuf_max, (size_t)UINT32_MAX);
    c->rto = st->cfg.tcp_rto_initial;
    c->keep_idle = 7200;
    c->keep_intvl = 75;
    c->keep_cnt = 9;
    c->linger_secs = -1;
    c->mss = 536; /* RFC 9293 3.7.1 default until the peer tells us */
    us_tcp_set_cc(c, st->cfg.tcp_default_cc);
    return c;
}

void
us_tcp_conn_free(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_globals *t = st->tcp;
    US_ASSERT(!c->in_ehash && c->fd < 0);
    us_tcp_episode_free(st, c);
    conn_release(c);
    /* Its queued timer entries are dead now; the heap is purged once they are half of it. */
    size_t queued = 0;
    for (int k = 0; k < US_TT_N; k++)
        queued += c->tq[k] != US_TIME_NEVER;
    us_timerq_forget(&st->timers, queued);
    uint32_t pi = c->id >> US_TCP_PAGE_SHIFT, slot = c->id & (US_TCP_PAGE_CONNS - 1);
    struct us_tcp_page *p = t->pages[pi];
    US_ASSERT(p && (p->live >> slot & 1) && &p->c[slot] == c);
    bool was_full = p->live == UINT64_MAX;
    p->live &= ~(1ull << slot);
    TCP_POISON(c, sizeof(*c));
    t->n_live--;
    us_stat_inc(st, US_STAT_TCP_CONN_FREE);
    if (was_full)
        page_list_push(t, p);
    if (p->live == 0) {
        /* Keep one empty page for the next connection, so a lone connection opening and
         * closing at a page boundary does not allocate each time; release the rest. */
        page_list_unlink(t, p);
        if (t->spare == PAGE_NONE) {
            t->spare = pi;
        } else {
            t->pages[pi] = NULL;
            t->n_released++;
            free(p);
        }
    }
}

void
us_tcp_set_cc(struct us_tcp_conn *c, unsigned id)
{
    c->cc_id = id == US_CC_NEWRENO ? US_CC_NEWRENO : US_CC_CUBIC;
}

void
us_tcp_set_state(struct us_stack *st, struct us_tcp_conn *c, int state, const char *why)
{
    if (c->state == state)
        return;
    char a[16];
    US_TRACE(st, "tcp: %s:%u %s -> %s (%s)", us_ip4_ntoa(c->raddr, a), (unsigned)c->rport,
             us_tcp_state_name(c->state), us_tcp_state_name(state), why);
    if (state == US_TCPS_ESTABLISHED)
        us_stat_inc(st, US_STAT_TCP_ESTABLISHED);
    if (state == US_TCPS_ESTABLISHED && c->ecn_ok)
        us_stat_inc(st, US_STAT_TCP_ECN_NEGOTIATED);
    c->state = (uint8_t)state;
    us_sock_wake(st, c->fd); /* connected, refused, reset, timed out, FIN: readiness moves */
}

/* ---- hashes ---------------------------------------------------------------------------------- */

static size_t
ehash_idx(const struct us_tcp_globals *t, us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp)
{
    return (size_t)us_tcp_tuple_hash(la, lp, ra, rp) & (t->ehash_n - 1);
}

static void
ehash_grow(struct us_stack *st)
{
    struct us_tcp_globals *t = st->tcp;
    size_t n = t->ehash_n * 2;
    struct us_tcp_conn **nh = calloc(n, sizeof(*nh));
    if (!nh)
        return; /* keep the old table: longer chains, still correct */
    size_t old_n = t->ehash_n;
    struct us_tcp_conn **old = t->ehash;
    t->ehash = nh;
    t->ehash_n = n;
    for (size_t i = 0; i < old_n; i++) {
        struct us_tcp_conn *c = old[i];
        while (c) {
            struct us_tcp_conn *next = c->hnext;
            size_t h = ehash_idx(t, c->laddr, c->lport, c->raddr, c->rport);
            c->hnext = nh[h];
            nh[h] = c;
            c = next;
        }
    }
    free(old);
}

struct us_tcp_conn *
us_tcp_lookup(struct us_stack *st, us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp)
{
    struct us_tcp_globals *t = st->tcp;
    for (struct us_tcp_conn *c = t->ehash[ehash_idx(t, la, lp, ra, rp)]; c; c = c->hnext)
        if (c->lport == lp && c->rport == rp && c->raddr == ra && c->laddr == la)
            return c;
    return NULL;
}

int
us_tcp_ehash_insert(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_globals *t = st->tcp;
    if (us_tcp_lookup(st, c->laddr, c->lport, c->raddr, c->rport) ||
        us_tcp_tw_lookup(st, c->laddr, c->lport, c->raddr, c->rport))
        return -EADDRINUSE;
    if (t->ehash_count >= t->ehash_n) /* load factor at most 1: a lookup touches ~1 block */
        ehash_grow(st);
    size_t h = ehash_idx(t, c->laddr, c->lport, c->raddr, c->rport);
    c->hnext = t->ehash[h];
    t->ehash[h] = c;
    c->in_ehash = true;
    t->ehash_count++;
    return 0;
}

void
us_tcp_ehash_remove(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_globals *t = st->tcp;
    if (!c->in_ehash)
        return;
    struct us_tcp_conn **pp = &t->ehash[ehash_idx(t, c->laddr, c->lport, c->raddr, c->rport)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    c->hnext = NULL;
    c->in_ehash = false;
    t->ehash_count--;
}

void
us_tcp_lhash_insert(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_conn **b = &st->tcp->lhash[c->lport & 0xff];
    c->hnext = *b;
    *b = c;
}

void
us_tcp_lhash_remove(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_conn **pp = &st->tcp->lhash[c->lport & 0xff];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    c->hnext = NULL;
}

struct us_tcp_conn *
us_tcp_lookup_listener(struct us_stack *st, us_ip4_t la, uint16_t lp)
{
    struct us_tcp_conn *any = NULL;
    for (struct us_tcp_conn *c = st->tcp->lhash[lp & 0xff]; c; c = c->hnext) {
        if (c->lport != lp)
            continue;
        if (c->laddr == la)
            return c;
        if (c->laddr == 0)
            any = c;
    }
    return any;
}

/* ---- local ports ------------------------------------------------------------------------------ */

int
us_tcp_port_ref(struct us_stack *st, struct us_tcp_conn *c, uint16_t port)
{
    struct us_tcp_globals *t = st->tcp;
    if (!t->port_refs) {
        t->port_refs = calloc(65536, sizeof(*t->port_refs));
        if (!t->port_refs)
            return -ENOMEM;
    }
    if (t->port_refs[port] == UINT16_MAX)
        return -EADDRINUSE;
    t->port_refs[port]++;
    c->lport = port;
    c->port_ref = true;
    return 0;
}

void
us_tcp_port_unref(struct us_stack *st, struct us_tcp_conn *c)
{
    if (!c->port_ref)
        return;
    st->tcp->port_refs[c->lport]--;
    c->port_ref = false;
}

/* Can bind() take this port? A listener always blocks it; other users (connections, TIME-WAIT)
 * block it unless SO_REUSEADDR, as on Linux. */
bool
us_tcp_port_busy(struct us_stack *st, uint16_t port, bool reuse)
{
    for (struct us_tcp_conn *c = st->tcp->lhash[port & 0xff]; c; c = c->hnext)
        if (c->lport == port)
            return true;
    if (!st->tcp->port_refs || st->tcp->port_refs[port] == 0)
        return false;
    return !reuse;
}

/* ---- ISN (RFC 6528, RFC 9293 3.4.1) ---------------------------------------------------------- */

us_seq_t
us_tcp_isn(struct us_stack *st, us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp, us_time_t now)
{
    /* ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 us clock. */
    uint8_t b[12];
    us_store_be32(b, la);
    us_store_be32(b + 4, ra);
    us_store_be16(b + 8, lp);
    us_store_be16(b + 10, rp);
    uint32_t f = (uint32_t)us_siphash24(&st->tcp->isn_key, b, sizeof(b));
    return f + (uint32_t)(now / 4000);
}

/* ---- timers ---------------------------------------------------------------------------------- */

/* Lazy re-arm (core/timerq.h): an RTO restarted on every ACK costs no heap push. */
void
us_tcp_timer_arm(struct us_stack *st, struct us_tcp_conn *c, int kind, us_time_t when)
{
    /* A failed push (the heap is out of memory) must not leave a timer that never fires: the
     * logical deadline stays in t[] and us_poll tries to queue it again by then. */
    if (us_timerq_arm(&st->timers, &c->t[kind], &c->tq[kind], when, (uint8_t)(st->tcp->timer_kind + kind),
                      c->id, c->gen) != 0) {
        /* Retry by the time this timer was due (no clock here: its deadline is the time we
         * know); an earlier loss keeps its earlier retry. */
        if (!st->tcp->timers_lost || when < st->tcp->timers_retry_at)
            st->tcp->timers_retry_at = when;
        st->tcp->timers_lost = true;
    }
}

void
us_tcp_timers_retry(struct us_stack *st, us_time_t now)
{
    bool lost = false;
    for (uint32_t id = 0; id < st->tcp->n_pages << US_TCP_PAGE_SHIFT; id++) {
        struct us_tcp_conn *c = us_tcp_conn_by_id(st, id);
        for (int k = 0; c && k < US_TT_N; k++) {
            if (c->t[k] == US_TIME_NEVER || c->tq[k] != US_TIME_NEVER)
                continue;
            if (us_timerq_arm(&st->timers, &c->t[k], &c->tq[k], c->t[k], (uint8_t)(st->tcp->timer_kind + k),
                              c->id, c->gen) == 0)
                us_stat_inc(st, US_STAT_TCP_TIMER_RETRY);
            else
                lost = true;
        }
    }
    st->tcp->timers_lost = lost;
    st->tcp->timers_retry_at = now + US_MSEC(1); /* still out of memory: again in 1 ms */
}

void
us_tcp_child_add(struct us_tcp_conn *l, struct us_tcp_conn *c)
{
    c->listener = l;
    c->in_accq = false;
    c->qprev = NULL;
    c->qnext = l->lsn->syn_head;
    if (c->qnext)
        c->qnext->qprev = c;
    l->lsn->syn_head = c;
    l->lsn->syn_count++;
}

void
us_tcp_child_unlink(struct us_tcp_conn *c)
{
    struct us_tcp_conn *l = c->listener;
    if (!l)
        return;
    struct us_tcp_listen *q = l->lsn;
    if (c->qprev)
        c->qprev->qnext = c->qnext;
    else if (c->in_accq)
        q->acc_head = c->qnext;
    else
        q->syn_head = c->qnext;
    if (c->qnext)
        c->qnext->qprev = c->qprev;
    else if (c->in_accq)
        q->acc_tail = c->qprev;
    if (c->in_accq)
        q->acc_count--;
    else
        q->syn_count--;
    c->qnext = c->qprev = NULL;
    c->listener = NULL;
    c->in_accq = false;
}

void
us_tcp_child_established(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_conn *l = c->listener;
    us_tcp_child_unlink(c);
    c->listener = l;
    c->in_accq = true;
    c->qnext = NULL;
    c->qprev = l->lsn->acc_tail;
    if (l->lsn->acc_tail)
        l->lsn->acc_tail->qnext = c;
    else
        l->lsn->acc_head = c;
    l->lsn->acc_tail = c;
    l->lsn->acc_count++;
    us_sock_wake(st, l->fd); /* the accept queue grew: the listener is readable */
}

void
us_tcp_close_conn(struct us_stack *st, struct us_tcp_conn *c, int err, const char *why)
{
    if (err && !c->so_error)
        c->so_error = err;
    if (c->state == US_TCPS_LISTEN) {
        US_ASSERT(!c->lsn->syn_head && !c->lsn->acc_head); /* us_tcp_listener_close took them */
        us_tcp_lhash_remove(st, c);
    }
    us_tcp_child_unlink(c);
    us_tcp_set_state(st, c, US_TCPS_CLOSED, why);
    us_tcp_ehash_remove(st, c);
    us_tcp_port_unref(st, c);
    for (int k = 0; k < US_TT_N; k++)
        c->t[k] = US_TIME_NEVER;
    us_ring_consume(&c->sndbuf, us_ring_len(&c->sndbuf));
    free(c->ooo);
    free(c->sacked);
    c->ooo = c->sacked = NULL;
    c->rcv_fin_ooo = false;
    us_tcp_episode_free(st, c);
    us_tcp_rack_free(c);
    if (c->fd < 0)
        us_tcp_conn_free(st, c);
    /* with a descriptor the block stays until close(): the reader sees EOF or the error */
}

void
us_tcp_listener_close(struct us_stack *st, struct us_tcp_conn *l, const char *why, us_time_t now)
{
    /* Children die with their listener (Linux inet_csk_listen_stop): embryonic ones quietly,
     * those that completed the handshake with a RST, whose timestamp needs the real time. */
    while (l->lsn->syn_head)
        us_tcp_close_conn(st, l->lsn->syn_head, 0, "listener closed");
    while (l->lsn->acc_head) {
        struct us_tcp_conn *k = l->lsn->acc_head;
        us_tcp_send_rst(st, k, now);
        us_tcp_close_conn(st, k, 0, "listener closed");
    }
    us_tcp_close_conn(st, l, 0, why);
}

void
us_tcp_check_invariants(const struct us_tcp_conn *c)
{
#ifdef US_DEBUG
    switch (c->state) {
    case US_TCPS_LISTEN:
        US_ASSERT(c->lsn != NULL);
        break;
    case US_TCPS_SYN_SENT:
        US_ASSERT(c->snd_una == c->iss);
        break;
    case US_TCPS_CLOSED:
        break;
    default:
        US_ASSERT(us_seq_leq(c->snd_una, c->snd_nxt) && us_seq_leq(c->snd_nxt, c->snd_max));
        break;
    }
    if (c->state == US_TCPS_FIN_WAIT_1 || c->state == US_TCPS_CLOSING || c->state == US_TCPS_LAST_ACK)
        US_ASSERT(c->fin_queued);
    if (c->state == US_TCPS_CLOSE_WAIT || c->state == US_TCPS_CLOSING ||
        c->state == US_TCPS_LAST_ACK || c->state == US_TCPS_TIME_WAIT)
        US_ASSERT(c->rcv_fin);
    if (c->state == US_TCPS_TIME_WAIT)
        US_ASSERT(c->sndbuf.len == 0);
#else
    (void)c;
#endif
}

void
us_tcp_conn_sockinfo(const struct us_tcp_conn *c, struct us_sock_info *s)
{
    s->fd = c->fd;
    s->type = US_SOCK_STREAM;
    s->state = (enum us_tcp_state)c->state;
    s->local.addr = c->laddr;
    s->local.port = c->lport;
    s->remote.addr = c->raddr;
    s->remote.port = c->rport;
    if (c->state == US_TCPS_LISTEN) {
        s->recv_q = (size_t)c->lsn->acc_count; /* Linux: the accept queue */
        s->send_q = (size_t)c->lsn->backlog;
    } else {
        s->recv_q = us_ring_len(&c->rcvbuf);
        s->send_q = us_ring_len(&c->sndbuf); /* sent or not, not yet acknowledged */
    }
    us_tcp_conn_info(c, &s->tcp);
}

void
us_tcp_conn_info(const struct us_tcp_conn *c, struct us_tcp_info *o)
{
    memset(o, 0, sizeof(*o));
    o->state = (enum us_tcp_state)c->state;
    o->cc = (enum us_tcp_cc)c->cc_id;
    o->cwnd = c->cwnd;
    o->ssthresh = c->ssthresh;
    o->mss_snd = c->mss;
    o->mss_rcv = c->rcv_mss;
    o->srtt = c->srtt;
    o->rttvar = c->rttvar;
    o->rto = c->rto;
    o->wscale = c->ws_ok;
    o->snd_wscale = c->snd_wscale;
    o->rcv_wscale = c->rcv_wscale;
    o->ts = c->ts_ok;
    o->sack = c->sack_ok;
    o->ecn = c->ecn_ok;
    o->snd_wnd = c->snd_wnd;
    o->rcv_wnd = us_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    o->retrans = c->retrans;
    o->bytes_sent = c->bytes_sent;
    o->bytes_acked = c->bytes_acked;
    o->bytes_received = c->bytes_received;
    o->unacked = c->snd_max - c->snd_una;
    o->sacked = c->sacked ? us_rangeset_bytes(c->sacked) : 0;
    us_tcp_rack_info(c, o);
}

size_t
us_tcp_list_orphans(struct us_stack *st, struct us_sock_info *out, size_t max)
{
    size_t k = 0;
    for (uint32_t id = 0; id < st->tcp->n_pages << US_TCP_PAGE_SHIFT; id++) {
        const struct us_tcp_conn *c = us_tcp_conn_by_id(st, id);
        if (!c || c->fd >= 0)
            continue;
        if (out && k < max)
            us_tcp_conn_sockinfo(c, &out[k]);
        k++;
    }
    return k + us_tcp_tw_list(st, out ? out + US_MIN(k, max) : NULL, max > k ? max - k : 0);
}

struct us_rangeset *
us_tcp_rs_get(struct us_rangeset **p)
{
    if (!*p)
        *p = calloc(1, sizeof(**p));
    return *p;
}

void
us_tcp_rs_trim(struct us_rangeset **p)
{
    if (*p && (*p)->n == 0) {
        free(*p);
        *p = NULL;
    }
}
