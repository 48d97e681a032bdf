/* Compact TIME-WAIT (RFC 9293 3.10.7.4, 3.6.1). An orphaned connection in TIME-WAIT has nothing
 * left to send or read: for 2*MSL it only acknowledges a retransmitted FIN, keeps old duplicates
 * of its 4-tuple away from a new incarnation and may let a newer SYN reopen it (RFC 6191). Like
 * Linux's inet_timewait_sock, it spends that time as a small record (struct us_tcp_tw, 88 bytes)
 * instead of its control block (488): a busy client holds tens of thousands of them.
 *
 * A segment for a record turns it back into a control block in TIME-WAIT for the length of
 * us_tcp_input (us_tcp_tw_inflate), so every TIME-WAIT rule lives in one place, tcp_input.c;
 * us_tcp_tw_enter compacts the block again afterwards. Records expire in deadline order from a
 * FIFO (every record waits the same 2*MSL, so the newest deadline is the last): no timer heap
 * entry per record. Layer: transport. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tcp/tcp.h"

_Static_assert(sizeof(struct us_tcp_tw) <= 96, "TIME-WAIT record over 96 bytes");

static size_t
tw_idx(const struct us_tcp_globals *t, us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp)
{
    return us_tcp_tuple_hash(la, lp, ra, rp) & (t->twhash_n - 1);
}

struct us_tcp_tw *
us_tcp_tw_lookup(struct us_stack *st, us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp)
{
    struct us_tcp_globals *t = st->tcp;
    if (t->tw_count == 0)
        return NULL;
    for (struct us_tcp_tw *w = t->twhash[tw_idx(t, la, lp, ra, rp)]; w; w = w->hnext)
        if (w->lport == lp && w->rport == rp && w->raddr == ra && w->laddr == la)
            return w;
    return NULL;
}

static bool
twhash_grow(struct us_tcp_globals *t)
{
    size_t n = t->twhash_n ? t->twhash_n * 2 : 256;
    struct us_tcp_tw **nh = calloc(n, sizeof(*nh));
    if (!nh)
        return t->twhash_n > 0; /* keep the old table: longer chains, still correct */
    size_t old_n = t->twhash_n;
    struct us_tcp_tw **old = t->twhash;
    t->twhash = nh;
    t->twhash_n = n;
    for (size_t i = 0; i < old_n; i++) {
        for (struct us_tcp_tw *w = old[i], *next; w; w = next) {
            next = w->hnext;
            size_t h = tw_idx(t, w->laddr, w->lport, w->raddr, w->rport);
            w->hnext = nh[h];
            nh[h] = w;
        }
    }
    free(old);
    return true;
}

/* Takes a record out of the hash and the expiry list and frees it; its port reference (if any)
 * goes to the caller, who releases or inherits it. */
static void
tw_unlink(struct us_tcp_globals *t, struct us_tcp_tw *w)
{
    struct us_tcp_tw **pp = &t->twhash[tw_idx(t, w->laddr, w->lport, w->raddr, w->rport)];
    while (*pp != w)
        pp = &(*pp)->hnext;
    *pp = w->hnext;
    if (w->prev)
        w->prev->next = w->next;
    else
        t->tw_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        t->tw_tail = w->prev;
    t->tw_count--;
}

void
us_tcp_tw_kill(struct us_stack *st, struct us_tcp_tw *w, const char *why)
{
    char a[16];
    US_TRACE(st, "tcp: %s:%u TIME-WAIT -> CLOSED (%s)", us_ip4_ntoa(w->raddr, a),
             (unsigned)w->rport, why);
    tw_unlink(st->tcp, w);
    us_stat_inc(st, US_STAT_TCP_TW_FREE);
    if (w->port_ref)
        st->tcp->port_refs[w->lport]--;
    free(w);
}

bool
us_tcp_tw_enter(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_globals *t = st->tcp;
    US_ASSERT(c->state == US_TCPS_TIME_WAIT && c->fd < 0 && c->t[US_TT_2MSL] != US_TIME_NEVER);
    if (c->listener || us_ring_len(&c->rcvbuf) > 0 || !c->in_ehash)
        return false;
    if (t->tw_count >= t->twhash_n && !twhash_grow(t))
        return false;
    struct us_tcp_tw *w = malloc(sizeof(*w));
    if (!w)
        return false;
    *w = (struct us_tcp_tw){
        .deadline = c->t[US_TT_2MSL],
        .laddr = c->laddr, .raddr = c->raddr, .lport = c->lport, .rport = c->rport,
        .iss = c->iss, .irs = c->irs, .snd_nxt = c->snd_nxt, .rcv_nxt = c->rcv_nxt,
        .rcv_adv = c->rcv_adv, .ts_recent = c->ts_recent, .ts_recent_age = c->ts_recent_age,
        .ts_offset = c->ts_offset, .last_oow_ack_ms = c->last_oow_ack_ms, .mss = c->mss,
        .rcv_mss = c->rcv_mss, .snd_wscale = c->snd_wscale, .rcv_wscale = c->rcv_wscale,
        .ws_ok = c->ws_ok, .ts_ok = c->ts_ok, .sack_ok = c->sack_ok, .port_ref = c->port_ref,
        .passive = c->passive};
    size_t h = tw_idx(t, w->laddr, w->lport, w->raddr, w->rport);
    w->hnext = t->twhash[h];
    t->twhash[h] = w;
    /* Expiry order: a new record's deadline is almost always the latest; one compacted late
     * (closed by its owner well into TIME-WAIT) walks back to its place. */
    struct us_tcp_tw *after = t->tw_tail;
    while (after && after->deadline > w->deadline)
        after = after->prev;
    w->prev = after;
    w->next = after ? after->next : t->tw_head;
    if (w->next)
        w->next->prev = w;
    else
        t->tw_tail = w;
    if (after)
        after->next = w;
    else
        t->tw_head = w;
    t->tw_count++;
    us_stat_inc(st, US_STAT_TCP_TW_ALLOC);
    c->port_ref = false; /* the record holds the port now */
    us_tcp_ehash_remove(st, c);
    us_tcp_conn_free(st, c);
    return true;
}

/* The control block a record stands for (for netstat, and to become one again). */
static void
tw_fill_conn(const struct us_tcp_tw *w, struct us_tcp_conn *c)
{
    c->state = US_TCPS_TIME_WAIT;
    c->laddr = w->laddr;
    c->raddr = w->raddr;
    c->lport = w->lport;
    c->rport = w->rport;
    c->iss = w->iss;
    c->irs = w->irs;
    c->snd_una = c->snd_nxt = c->snd_max = w->snd_nxt;
    c->snd_buf_seq = w->snd_nxt - 1; /* the FIN was the last thing sent, and it was ACKed */
    c->recover = w->snd_nxt;
    c->snd_wl1 = w->rcv_nxt;
    c->snd_wl2 = w->snd_nxt;
    c->rcv_nxt = w->rcv_nxt;
    c->rcv_adv = w->rcv_adv;
    c->ts_recent = w->ts_recent;
    c->ts_recent_age = w->ts_recent_age;
    c->ts_offset = w->ts_offset;
    c->last_oow_ack_ms = w->last_oow_ack_ms;
    c->mss = w->mss;
    c->rcv_mss = w->rcv_mss;
    c->snd_wscale = w->snd_wscale;
    c->rcv_wscale = w->rcv_wscale;
    c->ws_ok = w->ws_ok;
    c->ts_ok = w->ts_ok;
    c->sack_ok = w->sack_ok;
    c->passive = w->passive;
    c->fin_queued = c->rcv_fin = c->rd_shut = c->used = true;
    c->t[US_TT_2MSL] = w->deadline;
}

struct us_tcp_conn *
us_tcp_tw_inflate(struct us_stack *st, struct us_tcp_tw *w)
{
    struct us_tcp_tw k = *w;
    tw_unlink(st->tcp, w); /* first: the block may take the record's place under tcp_max_conns */
    us_stat_inc(st, US_STAT_TCP_TW_FREE);
    free(w);
    struct us_tcp_conn *c = us_tcp_conn_new(st);
    if (!c) {
        if (k.port_ref)
            st->tcp->port_refs[k.lport]--;
        return NULL; /* out of memory: the TIME-WAIT ends early */
    }
    tw_fill_conn(&k, c);
    c->port_ref = k.port_ref;
    if (us_tcp_ehash_insert(st, c) < 0) { /* cannot happen: the 4-tuple was the record's */
        us_tcp_close_conn(st, c, 0, "TIME-WAIT record clashes");
        return NULL;
    }
    return c;
}

void
us_tcp_tw_expire(struct us_stack *st, us_time_t now)
{
    while (st->tcp->tw_head && st->tcp->tw_head->deadline <= now)
        us_tcp_tw_kill(st, st->tcp->tw_head, "2MSL expired");
}

void
us_tcp_tw_destroy(struct us_stack *st)
{
    struct us_tcp_globals *t = st->tcp;
    for (struct us_tcp_tw *w = t->tw_head, *next; w; w = next) {
        next = w->next;
        free(w);
    }
    free(t->twhash);
    t->twhash = NULL;
    t->tw_head = t->tw_tail = NULL;
    t->twhash_n = t->tw_count = 0;
}

size_t
us_tcp_tw_list(struct us_stack *st, struct us_sock_info *out, size_t max)
{
    size_t k = 0;
    for (const struct us_tcp_tw *w = st->tcp->tw_head; w; w = w->next, k++) {
        if (!out || k >= max)
            continue;
        struct us_tcp_conn c;
        memset(&c, 0, sizeof(c));
        tw_fill_conn(w, &c);
        c.fd = -1;
        us_tcp_conn_sockinfo(&c, &out[k]);
    }
    return k;
}
