/* Loss episodes: undo of spurious retransmissions (RFC 3708 with D-SACK, RFC 3522 detection and
 * RFC 4015 response with timestamps; the decisions of Linux's tcp_try_undo_recovery,
 * tcp_try_undo_dsack and tcp_try_undo_loss) and Proportional Rate Reduction in SACK fast
 * recovery (RFC 6937, PRR-SSRB). Layer: transport. Fast recovery itself is in tcp_input.c.
 *
 * An episode begins with fast recovery or a retransmission timeout and notes cwnd and ssthresh
 * before their cut. Every segment resent in it is counted; each D-SACK at or above its start
 * (RFC 2883: the peer got that segment twice) takes one off. When none is left, every
 * retransmission was spurious (reordering or a late ACK, not loss): the cut is undone. With
 * timestamps the first ACK for data past the first retransmission tells at once: if it echoes a
 * TSval older than that retransmission, the original arrived (RFC 3522). The episode stays
 * after recovery until SND.UNA passes what was sent by then, so late D-SACKs still count. */
#include <stdlib.h>

#include "core/core.h"
#include "tcp/tcp.h"

/* The pool: episodes that ended wait on a free list for the next one, so a connection that keeps
 * losing packets does not call malloc per episode. Up to US_TCP_EP_SPARES wait; more go back to
 * the allocator, so a burst of losses across many connections leaves no large pool behind. A
 * spare is poisoned under ASan but for its link. */
#define US_TCP_EP_SPARES 64
union us_tcp_ep_slot {
    struct us_tcp_episode ep;
    union us_tcp_ep_slot *next;
};
#define EP_LINK sizeof(union us_tcp_ep_slot *)

static struct us_tcp_episode *
ep_get(struct us_stack *st)
{
    struct us_tcp_globals *t = st->tcp;
    union us_tcp_ep_slot *s = t->ep_free;
    if (s) {
        TCP_UNPOISON(s, sizeof(*s));
        t->ep_free = s->next;
        t->ep_spares--;
        return &s->ep;
    }
    if (!(s = malloc(sizeof(*s)))) {
        us_stat_inc(st, US_STAT_TCP_EPISODE_NO_MEM);
        return NULL;
    }
    return &s->ep;
}

void
us_tcp_episode_free(struct us_stack *st, struct us_tcp_conn *c)
{
    struct us_tcp_globals *t = st->tcp;
    /* the episode is the slot's first member: the slot is at its address (C11 6.7.2.1) */
    union us_tcp_ep_slot *s = (union us_tcp_ep_slot *)c->ep;
    c->ep = NULL;
    if (!s)
        return;
    if (t->ep_spares >= US_TCP_EP_SPARES) {
        free(s);
        return;
    }
    s->next = t->ep_free;
    t->ep_free = s;
    t->ep_spares++;
    TCP_POISON((char *)s + EP_LINK, sizeof(*s) - EP_LINK);
}

void
us_tcp_episode_pool_destroy(struct us_tcp_globals *t)
{
    for (union us_tcp_ep_slot *s = t->ep_free, *next; s; s = next) {
        TCP_UNPOISON(s, sizeof(*s));
        next = s->next;
        free(s);
    }
    t->ep_free = NULL;
    t->ep_spares = 0;
}

void
us_tcp_episode_begin(struct us_stack *st, struct us_tcp_conn *c, bool rto)
{
    struct us_tcp_episode *ep = c->ep;
    if (ep && !ep->over) {
        ep->rto |= rto; /* an RTO within recovery: the same episode, the first cut's priors */
        return;
    }
    if (!ep && !(ep = ep_get(st)))
        return; /* no memory (counted): no undo, and recovery sets cwnd = ssthresh at once */
    *ep = (struct us_tcp_episode){.prior_cwnd = c->cwnd, .prior_ssthresh = c->ssthresh,
                                  .start = c->snd_una, .rto = rto};
    c->ep = ep;
}

void
us_tcp_episode_rtx(struct us_tcp_conn *c, uint32_t len, us_time_t now)
{
    struct us_tcp_episode *ep = c->ep;
    if (!ep || ep->over)
        return;
    ep->retrans += len > c->mss ? (len + c->mss - 1u) / c->mss : 1u;
    if (!ep->rtx_ts && c->ts_ok) {
        ep->rtx_tsval = us_tcp_ts_now(c, now);
        ep->rtx_ts = true;
    }
}

void
us_tcp_episode_recovered(struct us_tcp_conn *c)
{
    if (c->ep && !c->ep->over) {
        us_tcp_rack_recovery_exit(c);
        c->ep->over = true;
        c->ep->end = c->snd_max;
    }
}

/* All the episode's retransmissions were spurious: the cut is undone (Linux's
 * tcp_undo_cwnd_reduction: the larger of the present and the prior values). Recovery ends, as
 * nothing was lost; after a timeout, sending resumes after what was already sent (RFC 4015:
 * SND.NXT = SND.MAX) instead of going back over data the peer has. */
static void
episode_undo(struct us_stack *st, struct us_tcp_conn *c, bool by_ts)
{
    struct us_tcp_episode *ep = c->ep;
    c->cwnd = US_MAX(c->cwnd, ep->prior_cwnd);
    c->ssthresh = US_MAX(c->ssthresh, ep->prior_ssthresh);
    us_stat_inc(st, by_ts ? US_STAT_TCP_UNDO_TS : US_STAT_TCP_UNDO_DSACK);
    if (c->in_recovery) {
        c->in_recovery = false;
        c->tlp_lost = false;
        c->dupacks = 0;
    }
    if (ep->rto && us_seq_lt(c->snd_nxt, c->snd_max))
        c->snd_nxt = c->snd_max;
    c->rto_loss = false;
    us_tcp_rack_undo(c);
    char a[16];
    US_TRACE(st, "tcp: %s:%u the retransmissions were spurious (%s): cwnd %u ssthresh %u restored",
             us_ip4_ntoa(c->raddr, a), (unsigned)c->rport,
             by_ts ? "the ACK echoes a timestamp older than the first" : "D-SACK of each",
             (unsigned)c->cwnd, (unsigned)c->ssthresh);
    us_tcp_episode_free(st, c);
}

/* RFC 9937 (PRR, which obsoletes RFC 6937) 6: cwnd from the data delivered during recovery.
 * Above ssthresh, sending is proportional to delivery (ssthresh / RecoverFS of it); at or below,
 * it catches up to ssthresh by what was delivered (PRR-CRB), and by one segment more when the
 * ACK is safe (SND.UNA moved and no new loss was found: PRR-SSRB). At least one segment goes
 * when recovery begins: the fast retransmit. An ACK that delivers nothing changes nothing (as
 * Linux's tcp_cwnd_reduction). */
static void
prr_update(struct us_tcp_conn *c, uint32_t delivered, bool safe)
{
    struct us_tcp_episode *ep = c->ep;
    ep->prr_delivered += delivered;
    uint32_t pipe = us_tcp_sack_pipe(c, NULL, NULL);
    int64_t sndcnt, mss = c->mss;
    /* DEVIATION(RFC 9937 6: bytes): in whole segments, as Linux counts PRR in packets: the
     * proportional share rounded up (in
     * bytes a delivered segment's share is less than one, and with a small window no segment
     * might go for several ACKs, leaving the retransmission alone in flight: its loss then
     * costs an RTO, as no later segment's SACK can show it lost; prr_out takes back what went
     * over), the room below ssthresh rounded down. */
    if (pipe > c->ssthresh) {
        uint64_t fs = ep->recover_fs ? ep->recover_fs : 1u;
        sndcnt = (int64_t)(((uint64_t)ep->prr_delivered * c->ssthresh + fs - 1u) / fs) -
                 (int64_t)ep->prr_out;
        sndcnt = sndcnt > 0 ? (sndcnt + mss - 1) / mss * mss : 0;
    } else {
        sndcnt = US_MAX((int64_t)ep->prr_delivered - (int64_t)ep->prr_out, (int64_t)delivered) +
                 (safe ? mss : 0);
        sndcnt = US_MIN((int64_t)(c->ssthresh - pipe) / mss * mss, (sndcnt + mss - 1) / mss * mss);
    }
    if (sndcnt < 0)
        sndcnt = 0;
    if (ep->prr_out == 0 && sndcnt < c->mss)
        sndcnt = c->mss;
    c->cwnd = pipe + (uint32_t)sndcnt;
}

void
us_tcp_prr_start(struct us_tcp_conn *c)
{
    struct us_tcp_episode *ep = c->ep;
    if (!ep) {
        c->cwnd = c->ssthresh; /* RFC 6675 5 step 4, without PRR's counters */
        return;
    }
    /* RFC 9937 6: RecoverFS is the pipe (RFC 6937 had FlightSize, which counts SACKed data
     * that, with the pipe deciding before recovery too, new data has replaced already) */
    ep->recover_fs = us_tcp_sack_pipe(c, NULL, NULL);
    ep->prr_delivered = ep->prr_out = 0;
    prr_update(c, 0, false);
}

/* RFC 2883 4, RFC 3708: the first SACK block is a D-SACK if it lies at or below the cumulative
 * ACK or inside the second block. Returns the segments it reports (0: none). */
uint32_t
us_tcp_dsack_segs(const struct us_tcp_conn *c, const struct us_tcp_repr *r)
{
    if (!r->n_sack)
        return 0;
    us_seq_t a = r->sack[0].start, b = r->sack[0].end;
    if (!us_seq_lt(a, b))
        return 0;
    bool dsack = us_seq_leq(b, r->ack) ||
                 (r->n_sack > 1 && us_seq_geq(a, r->sack[1].start) &&
                  us_seq_leq(b, r->sack[1].end));
    if (!dsack)
        return 0;
    return (b - a + c->mss - 1u) / c->mss;
}

bool
us_tcp_episode_rtx_sent(const struct us_tcp_conn *c)
{
    return c->ep && !c->ep->over && c->ep->rtx_ts;
}

void
us_tcp_episode_ack(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r,
                   us_seq_t una0, bool rtx_before, uint32_t delivered, uint32_t newly_lost)
{
    struct us_tcp_episode *ep = c->ep;
    if (!ep)
        return;
    /* RFC 3708: D-SACKs of segments resent in this episode. A resent loss probe's own D-SACK
     * is the probe's business (tlp_ack), even when recovery followed it. */
    uint32_t n = us_tcp_dsack_segs(c, r);
    if (n && ep->retrans && us_seq_geq(r->sack[0].start, ep->start) &&
        !(c->tlp_rtx && r->sack[0].end == c->tlp_end)) {
        n = US_MIN(n, ep->retrans);
        ep->retrans -= n;
        st->stats[US_STAT_TCP_SPURIOUS_RTX] += n;
        if (ep->retrans == 0) {
            episode_undo(st, c, false);
            return;
        }
    }
    /* RFC 3522, RFC 4015: the first ACK that acknowledges data past SND.UNA after the
     * first retransmission echoes, in TSecr, the TSval of the segment that filled the hole:
     * older than that retransmission means the original arrived. */
    if (rtx_before && !ep->over && !ep->eifel_done && ep->rtx_ts && us_seq_gt(r->ack, una0) &&
        r->has_ts && r->ts_ecr) {
        ep->eifel_done = true;
        if (us_seq_lt(r->ts_ecr, ep->rtx_tsval)) {
            st->stats[US_STAT_TCP_SPURIOUS_RTX] += ep->retrans;
            episode_undo(st, c, true);
            return;
        }
    }
    if (c->in_recovery && c->sack_ok && !ep->over && delivered)
        prr_update(c, delivered, us_seq_gt(c->snd_una, una0) && !newly_lost);
    /* The undo window closes once SND.UNA passes what was sent when recovery ended (an RTO
     * episode: when SND.UNA reaches the recovery point). */
    if (!ep->over && !c->in_recovery && us_seq_geq(c->snd_una, c->recover))
        us_tcp_episode_recovered(c);
    if (ep->over && us_seq_geq(c->snd_una, ep->end) && us_seq_gt(c->snd_una, una0))
        us_tcp_episode_free(st, c);
}
