/* RACK loss detection (RFC 8985 6): a segment is lost when a segment sent after it has been
 * delivered and a reordering window has passed since it went out. Layer: transport.
 *
 * Records: one per data segment in flight (at most one MSS each; a TSO super-segment gets one
 * per MSS), in sequence order, in a ring that doubles when full (no malloc per segment; at most
 * one record per byte of the send buffer). Each holds the time of the segment's last
 * transmission, whether it was ever sent again, whether it is SACKed (wholly inside the
 * scoreboard) and whether it is marked lost and not yet sent again. Records go when SND.UNA
 * passes them; the ring goes when the connection closes or idles with nothing in flight
 * (US_TT_IDLE), so RACK's state (min_RTT, reordering) starts afresh after an idle second.
 * The decisions follow RFC 8985 6.2 and what Linux's tcp_recovery.c does with them. Fast
 * recovery, PRR and the pipe stay in tcp_input.c, tcp_recovery.c and tcp_output.c; RACK only
 * says which segments are lost. */
#include <stdlib.h>

#include "core/core.h"
#include "tcp/tcp.h"

#define REC_RTX 1u    /* Segment.retransmitted */
#define REC_LOST 2u   /* Segment.lost */
#define REC_SACKED 4u /* delivered out of order */

#define RACK_DUPTHRESH 3u          /* RFC 6675 DupThresh, in RFC 8985 6.2 step 4 */
#define RACK_PERSIST 16            /* RFC 8985 6.2 step 4: recoveries an inflated window lasts */
#define RACK_MIN_RTT_WIN US_SEC(300) /* Linux's tcp_min_rtt_wlen */
#define RACK_RING0 8u

struct rack_rec {
    us_time_t xmit; /* Segment.xmit_ts: its last transmission */
    us_seq_t start;
    uint32_t order; /* when it was last sent, in the connection's order of transmissions */
    uint16_t len;
    uint8_t fl;
};

struct us_tcp_rack {
    struct rack_rec *rec;
    uint32_t cap, head, n; /* rec[(head + i) & (cap - 1)], i < n, in sequence order */
    uint32_t lost_bytes;   /* in records marked lost */
    uint32_t sacked_segs;  /* RACK.segs_sacked */
    uint32_t seg_order;    /* RACK.xmit_ts and RACK.end_seq, as a transmission order (with
                            * have_seg) */
    uint32_t next_order;   /* the order the next transmission gets */
    us_time_t rtt;         /* RACK.rtt */
    us_time_t min_rtt, min_rtt_at; /* RACK.min_RTT (with have_min) and when it was taken */
    us_seq_t fack;         /* RACK.fack (with have_fack) */
    us_seq_t dsack_round;  /* RACK.dsack_round (with dsack_on) */
    uint8_t reo_wnd_mult, reo_wnd_persist;
    bool have_seg, have_fack, have_min, dsack_on, reord_seen;
};

static struct rack_rec *
rec_at(const struct us_tcp_rack *k, uint32_t i)
{
    return &k->rec[(k->head + i) & (k->cap - 1)];
}

static us_seq_t
rec_end(const struct rack_rec *x)
{
    return x->start + x->len;
}

/* RFC 8985 6.2 RACK_sent_after: later in time, or at the same time and higher in sequence.
 * DEVIATION(RFC 8985 6.2): by the order of transmission, not by time. The caller's clock is one
 * `now` per daemon loop iteration, so many segments share a time, and a retransmission sent in
 * the same iteration after new data is not "higher in sequence": the SACK of that new data
 * would mark the retransmission lost again at once, and each later ACK again (one segment went
 * eight times at 5% loss). The order is what the RFC's test stands for (Linux's clock is fine
 * enough to tell). */
static bool
sent_after(uint32_t o1, uint32_t o2)
{
    return (int32_t)(o1 - o2) > 0;
}

void
us_tcp_rack_free(struct us_tcp_conn *c)
{
    if (c->rack)
        free(c->rack->rec);
    free(c->rack);
    c->rack = NULL;
}

/* No memory for a record: RACK stops for this connection and RFC 6675's rule takes over. */
static void
rack_give_up(struct us_tcp_conn *c)
{
    us_tcp_rack_free(c);
    c->rack_off = true;
}

static bool
ring_grow(struct us_tcp_rack *k)
{
    uint32_t cap = k->cap ? k->cap * 2 : RACK_RING0;
    struct rack_rec *r = cap > k->cap ? malloc((size_t)cap * sizeof(*r)) : NULL;
    if (!r)
        return false;
    for (uint32_t i = 0; i < k->n; i++)
        r[i] = *rec_at(k, i);
    free(k->rec);
    k->rec = r;
    k->cap = cap;
    k->head = 0;
    return true;
}

/* The first record that ends after seq (n if none). */
static uint32_t
rec_find(const struct us_tcp_rack *k, us_seq_t seq)
{
    uint32_t lo = 0, hi = k->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (us_seq_leq(rec_end(rec_at(k, mid)), seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void
us_tcp_rack_sent(struct us_stack *st, struct us_tcp_conn *c, us_seq_t seq, uint32_t len,
                 us_time_t now)
{
    if (len == 0 || !c->sack_ok || c->rack_off || c->state < US_TCPS_ESTABLISHED ||
        !(st->cfg.tcp_recovery & US_TCP_RECOVERY_RACK))
        return;
    struct us_tcp_rack *k = c->rack;
    if (!k) {
        if (!(k = c->rack = calloc(1, sizeof(*k)))) {
            c->rack_off = true;
            return;
        }
        k->reo_wnd_mult = 1;
    }
    us_seq_t end = seq + len;
    if (k->n) {
        us_seq_t tail = rec_end(rec_at(k, k->n - 1));
        if (us_seq_lt(seq, tail)) {
            /* RFC 8985 6.1 RACK_retransmit_data: every record the segment covers */
            for (uint32_t i = rec_find(k, seq); i < k->n; i++) {
                struct rack_rec *x = rec_at(k, i);
                if (!us_seq_lt(x->start, end))
                    break;
                if (x->fl & REC_LOST)
                    k->lost_bytes -= x->len;
                x->fl = (uint8_t)((x->fl | REC_RTX) & ~REC_LOST);
                x->xmit = now;
                x->order = k->next_order++;
            }
            if (!us_seq_gt(end, tail))
                return;
            seq = tail;
        }
    }
    /* RFC 8985 6.1 RACK_transmit_new_data, one record per MSS */
    while (us_seq_lt(seq, end)) {
        if (k->n == k->cap && !ring_grow(k)) {
            rack_give_up(c);
            return;
        }
        uint32_t l = US_MIN(end - seq, (uint32_t)c->mss);
        *rec_at(k, k->n++) = (struct rack_rec){.xmit = now, .start = seq,
                                               .order = k->next_order++, .len = (uint16_t)l};
        seq += l;
    }
}

/* RFC 8985 6.2 step 1: a windowed minimum, so that a move to a longer path is learned. An RTT
 * of 0 is the caller's clock, not the path: the daemon passes one `now` for all it does in a
 * loop iteration, so a segment sent and acknowledged within one iteration measures 0 (4 in 5 of
 * the samples through the loss bridge, whose RTT is about 50 us). Such samples would make
 * min_RTT, and with it reo_wnd and the check of step 2 on resent segments, 0. */
static void
min_rtt_update(struct us_tcp_rack *k, us_time_t rtt, us_time_t now)
{
    if (rtt <= 0)
        return;
    if (!k->have_min || rtt <= k->min_rtt || now - k->min_rtt_at > RACK_MIN_RTT_WIN) {
        k->have_min = true;
        k->min_rtt = rtt;
        k->min_rtt_at = now;
    }
}

/* What one ACK delivered, walked in sequence order (step 3 depends on it). */
struct rack_walk {
    bool have;
    us_time_t brtt;  /* the latest sent of them: its RTT and order */
    uint32_t border;
};

/* Steps 2 and 3 for one newly delivered record. */
static void
rack_delivered(struct us_tcp_conn *c, const struct us_tcp_repr *r, struct rack_rec *x,
               struct rack_walk *w, us_time_t now)
{
    struct us_tcp_rack *k = c->rack;
    us_seq_t e = rec_end(x);
    /* Step 3: a never-resent segment delivered below the highest delivered one was
     * reordered. */
    if (!k->have_fack || us_seq_gt(e, k->fack)) {
        k->fack = e;
        k->have_fack = true;
    } else if (us_seq_lt(e, k->fack) && !(x->fl & REC_RTX)) {
        k->reord_seen = true;
    }
    /* Step 2: the most recently sent segment delivered, and its RTT. A resent segment
     * counts only if the ACK answers its last transmission: its timestamp echo is not
     * older, and the RTT is not below the least one seen.
     * DEVIATION(RFC 8985 6.2 step 2): the echo is checked only when the ACK moves over the
     * segment. A receiver echoes the segment that advanced its left edge (RFC 7323 4.3),
     * so a SACK's echo is older than any retransmission it reports and the check would
     * refuse every SACKed retransmission: a lost retransmission could then only be found
     * by the RTO. Linux checks only the RTT. */
    us_time_t rtt = now - x->xmit;
    if (x->fl & REC_RTX) {
        if (us_seq_leq(e, r->ack) && c->ts_ok && r->has_ts && r->ts_ecr &&
            us_seq_lt(r->ts_ecr, us_tcp_ts_now(c, x->xmit)))
            return;
        if (rtt <= 0 || rtt < k->min_rtt)
            return;
    } else {
        min_rtt_update(k, rtt, now);
    }
    if (!w->have || sent_after(x->order, w->border)) {
        w->have = true;
        w->border = x->order;
        w->brtt = rtt;
    }
}

/* A record the ACK's SACK blocks may have delivered: newly wholly inside the scoreboard
 * (RFC 6675 4: relative to SND.UNA, not yet moved). */
static bool
rack_newly_sacked(struct us_tcp_conn *c, struct rack_rec *x)
{
    if ((x->fl & REC_SACKED) || !c->sacked || us_seq_lt(x->start, c->snd_una) ||
        !us_rangeset_contains(c->sacked, x->start - c->snd_una, rec_end(x) - c->snd_una))
        return false;
    struct us_tcp_rack *k = c->rack;
    x->fl |= REC_SACKED;
    k->sacked_segs++;
    if (x->fl & REC_LOST) {
        x->fl &= (uint8_t)~REC_LOST;
        k->lost_bytes -= x->len;
    }
    return true;
}

void
us_tcp_rack_ack(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r,
                us_time_t now)
{
    (void)st;
    struct us_tcp_rack *k = c->rack;
    if (!k || !k->n)
        return;
    struct rack_walk w = {0};
    /* Newly delivered: the records at or below the ACK not SACKed before, then those the
     * ACK's SACK blocks cover. Only those are visited, in sequence order (the blocks sorted;
     * a record in two of them is SACKed by the first), not the whole flight per ACK. */
    uint32_t i = 0;
    for (; i < k->n; i++) {
        struct rack_rec *x = rec_at(k, i);
        if (!us_seq_leq(rec_end(x), r->ack))
            break;
        if (!(x->fl & REC_SACKED))
            rack_delivered(c, r, x, &w, now);
    }
    struct us_tcp_sack_block b[US_TCP_MAX_SACK];
    uint8_t nb = 0;
    for (uint8_t j = 0; j < r->n_sack; j++) {
        if (!us_seq_gt(r->sack[j].end, r->ack) || us_seq_gt(r->sack[j].end, c->snd_max))
            continue; /* a D-SACK below the ACK, or beyond what was sent */
        uint8_t at = nb++;
        for (; at > 0 && us_seq_lt(r->sack[j].start, b[at - 1].start); at--)
            b[at] = b[at - 1];
        b[at] = r->sack[j];
    }
    for (uint8_t j = 0; j < nb; j++)
        for (uint32_t m = US_MAX(i, rec_find(k, b[j].start)); m < k->n; m++) {
            struct rack_rec *x = rec_at(k, m);
            if (!us_seq_lt(x->start, b[j].end))
                break;
            if (rack_newly_sacked(c, x))
                rack_delivered(c, r, x, &w, now);
        }
    if (!w.have)
        return;
    k->rtt = w.brtt; /* the RTT of the latest sent of them: the last in order of xmit_ts */
    if (!k->have_seg || sent_after(w.border, k->seg_order)) {
        k->seg_order = w.border;
        k->have_seg = true;
    }
}

void
us_tcp_rack_acked(struct us_tcp_conn *c)
{
    struct us_tcp_rack *k = c->rack;
    if (!k)
        return;
    while (k->n) {
        struct rack_rec *x = rec_at(k, 0);
        if (us_seq_leq(rec_end(x), c->snd_una)) {
            if (x->fl & REC_LOST)
                k->lost_bytes -= x->len;
            if (x->fl & REC_SACKED)
                k->sacked_segs--;
            k->head = (k->head + 1) & (k->cap - 1);
            k->n--;
            continue;
        }
        if (us_seq_lt(x->start, c->snd_una)) { /* partly acknowledged */
            uint32_t cut = c->snd_una - x->start;
            if (x->fl & REC_LOST)
                k->lost_bytes -= cut;
            x->start = c->snd_una;
            x->len = (uint16_t)(x->len - cut);
        }
        break;
    }
}

/* Fast recovery, or the recovery after an RTO (until SND.UNA passes `recover`). */
static bool
in_loss_recovery(const struct us_tcp_conn *c)
{
    return c->in_recovery || !us_tcp_recover_passed(c);
}

/* RFC 8985 6.2 step 4, RACK_update_reo_wnd. */
static us_time_t
reo_wnd(struct us_tcp_conn *c, const struct us_tcp_repr *r)
{
    struct us_tcp_rack *k = c->rack;
    if (k->dsack_on && us_seq_geq(c->snd_una, k->dsack_round))
        k->dsack_on = false;
    /* one step per round trip that brings a D-SACK: after N of them, (N + 1) * min_RTT / 4 */
    if (!k->dsack_on && r && us_tcp_dsack_segs(c, r)) {
        k->dsack_round = c->snd_max;
        k->dsack_on = true;
        if (k->reo_wnd_mult < UINT8_MAX)
            k->reo_wnd_mult++;
        k->reo_wnd_persist = RACK_PERSIST;
    }
    if (!k->reord_seen && (in_loss_recovery(c) || k->sacked_segs >= RACK_DUPTHRESH))
        return 0;
    return US_MIN((us_time_t)k->reo_wnd_mult * (k->min_rtt / 4), c->srtt);
}

/* RFC 8985 8: the reordering timer takes the one timer slot from a probe timeout, and from an
 * RTO due later. */
static void
reo_timer_arm(struct us_stack *st, struct us_tcp_conn *c, us_time_t when)
{
    if (!c->rack_reo && !c->tlp_pto && c->t[US_TT_RTO] != US_TIME_NEVER && c->t[US_TT_RTO] <= when)
        return;
    us_tcp_timer_arm(st, c, US_TT_RTO, when);
    c->tlp_pto = false;
    c->rack_reo = true;
}

uint32_t
us_tcp_rack_detect(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r,
                   us_time_t now)
{
    struct us_tcp_rack *k = c->rack;
    if (!k)
        return 0;
    us_time_t reo = reo_wnd(c, r);
    if (!k->have_seg)
        return 0;
    /* Step 5, RACK_detect_loss: lost if sent before RACK.segment and more than RACK.rtt +
     * reo_wnd ago. New data goes out in sequence order, so past the first never-resent record
     * sent after RACK.segment every record was sent after it too. */
    us_time_t timeout = 0;
    uint32_t marked = 0, marked_rtx = 0;
    for (uint32_t i = 0; i < k->n; i++) {
        struct rack_rec *x = rec_at(k, i);
        if (!sent_after(k->seg_order, x->order)) {
            if (!(x->fl & REC_RTX))
                break;
            continue;
        }
        if (x->fl & (REC_SACKED | REC_LOST))
            continue;
        us_time_t remaining = x->xmit + k->rtt + reo - now;
        if (remaining <= 0) {
            x->fl |= REC_LOST;
            k->lost_bytes += x->len;
            marked++;
            marked_rtx += (x->fl & REC_RTX) != 0;
        } else {
            timeout = US_MAX(timeout, remaining);
        }
    }
    if (marked) {
        st->stats[US_STAT_TCP_RACK_LOST] += marked;
        st->stats[US_STAT_TCP_LOST_RETRANS] += marked_rtx;
        char a[16];
        US_TRACE(st, "tcp: %s:%u RACK: %u segments lost (%u of them resent before), reo_wnd "
                 "%lld us, rtt %lld us", us_ip4_ntoa(c->raddr, a), (unsigned)c->rport,
                 (unsigned)marked, (unsigned)marked_rtx, (long long)(reo / 1000),
                 (long long)(k->rtt / 1000));
        if (!c->in_recovery && us_tcp_recover_passed(c))
            us_tcp_enter_recovery(st, c, false, now); /* sends the first of them */
    }
    /* RFC 8985 6.2: the reordering timer, for when no further ACK comes */
    if (timeout > 0 && c->rack)
        reo_timer_arm(st, c, now + timeout);
    return marked;
}

void
us_tcp_rack_timeout(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    us_stat_inc(st, US_STAT_TCP_RACK_REO_TIMEOUT);
    bool rec = us_tcp_sack_recovery(c);
    us_tcp_rack_detect(st, c, NULL, now);
    if (rec && us_tcp_sack_recovery(c))
        us_tcp_output(st, c, now); /* (entering recovery sent already) */
    if (c->t[US_TT_RTO] == US_TIME_NEVER && c->snd_max != c->snd_una)
        us_tcp_rto_arm(st, c, now + c->rto);
}

bool
us_tcp_rack_rto(struct us_tcp_conn *c, us_time_t now)
{
    struct us_tcp_rack *k = c->rack;
    if (!k || !k->n || us_seq_gt(rec_at(k, 0)->start, c->snd_una))
        return false;
    /* RFC 8985 6.3: the first segment not SACKed was sent an RTO ago and is lost; any other
     * only once RACK.rtt + reo_wnd have passed since it went out (with an RTO of 200 ms or more
     * and a short path, nearly all). What the peer SACKed stays SACKed: RFC 6675 5.1 leaves
     * that to the implementation given a check for reneging (tcp_input.c), and Linux's
     * tcp_timeout_mark_lost keeps it. DEVIATION(RFC 2018 8): "ignore prior SACK information in
     * determining which data to retransmit" would resend everything from SND.UNA: at 5% loss,
     * ten times the retransmissions. */
    us_time_t reo = reo_wnd(c, NULL);
    bool first = true;
    for (uint32_t i = 0; i < k->n; i++) {
        struct rack_rec *x = rec_at(k, i);
        if (x->fl & REC_SACKED)
            continue;
        if (!(x->fl & REC_LOST) && (first || now - x->xmit >= k->rtt + reo)) {
            x->fl |= REC_LOST;
            k->lost_bytes += x->len;
        }
        first = false;
    }
    return true;
}

void
us_tcp_rack_forget(struct us_tcp_conn *c)
{
    struct us_tcp_rack *k = c->rack;
    if (!k)
        return;
    for (uint32_t i = 0; i < k->n; i++)
        rec_at(k, i)->fl &= REC_RTX;
    k->lost_bytes = k->sacked_segs = 0;
}

void
us_tcp_rack_recovery_exit(struct us_tcp_conn *c)
{
    struct us_tcp_rack *k = c->rack;
    if (!k)
        return;
    /* RFC 8985 6.2 step 4: an inflated window lasts RACK_PERSIST recoveries */
    if (k->reo_wnd_persist)
        k->reo_wnd_persist--;
    if (!k->reo_wnd_persist)
        k->reo_wnd_mult = 1;
}

void
us_tcp_rack_undo(struct us_tcp_conn *c)
{
    struct us_tcp_rack *k = c->rack;
    if (!k)
        return;
    for (uint32_t i = 0; i < k->n; i++)
        rec_at(k, i)->fl &= (uint8_t)~REC_LOST;
    k->lost_bytes = 0;
    /* DEVIATION(RFC 8985 6.2 step 3): an undo sets reordering_seen too. Every retransmission
     * of the episode was spurious: the originals came late, which is reordering even though
     * step 3 cannot see it (the segments were resent); Linux's tcp_try_undo_partial likewise
     * notes reordering when an undo shows a hole filled by the original. Without it reo_wnd
     * would stay 0 in every later recovery and widening it on D-SACK would change nothing. */
    k->reord_seen = true;
}

uint32_t
us_tcp_rack_lost_bytes(const struct us_tcp_conn *c)
{
    return c->rack ? c->rack->lost_bytes : 0;
}

/* Splits record i after `at` bytes (the MSS shrank since it went out). */
static bool
rec_split(struct us_tcp_rack *k, uint32_t i, uint16_t at)
{
    if (k->n == k->cap && !ring_grow(k))
        return false;
    for (uint32_t j = k->n; j > i + 1; j--)
        *rec_at(k, j) = *rec_at(k, j - 1);
    struct rack_rec *x = rec_at(k, i);
    *rec_at(k, i + 1) = (struct rack_rec){.xmit = x->xmit, .start = x->start + at,
                                          .order = x->order,
                                          .len = (uint16_t)(x->len - at), .fl = x->fl};
    x->len = at;
    k->n++;
    return true;
}

bool
us_tcp_rack_next_lost(struct us_tcp_conn *c, uint32_t *idx, us_seq_t *seq, uint32_t *len)
{
    struct us_tcp_rack *k = c->rack;
    if (!k || !k->lost_bytes)
        return false;
    for (uint32_t i = *idx; i < k->n; i++) {
        struct rack_rec *x = rec_at(k, i);
        if (!(x->fl & REC_LOST))
            continue;
        if (x->len > c->mss && !(x->fl & REC_SACKED) && rec_split(k, i, c->mss))
            x = rec_at(k, i);
        *seq = x->start;
        *len = US_MIN((uint32_t)x->len, (uint32_t)c->mss);
        *idx = i + 1;
        return true;
    }
    return false;
}

void
us_tcp_rack_info(const struct us_tcp_conn *c, struct us_tcp_info *o)
{
    const struct us_tcp_rack *k = c->rack;
    if (!k)
        return;
    o->lost = k->lost_bytes;
    o->min_rtt = k->min_rtt;
    o->reo_wnd = US_MIN((us_time_t)k->reo_wnd_mult * (k->min_rtt / 4), c->srtt);
    o->reord_seen = k->reord_seen;
}
