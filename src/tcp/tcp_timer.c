/* TCP timers: retransmission (RFC 6298 5) and the tail loss probe that shares its slot (RFC 8985
 * 7), persist (RFC 9293 3.8.6.1), keepalive (RFC 1122 4.2.3.6), TIME-WAIT and FIN-WAIT-2 (2*MSL,
 * fin_timeout), delayed ACK (RFC 1122 4.2.3.2).
 * Layer: transport. Handlers run from us_poll(now) and never read a clock. */
#include <errno.h>
#include <stdlib.h>

#include "core/core.h"
#include "tcp/tcp.h"

static void
timeout_abort(struct us_stack *st, struct us_tcp_conn *c, const char *why, us_time_t now)
{
    us_stat_inc(st, US_STAT_TCP_TIMEOUTS);
    int err = c->soft_err ? c->soft_err : ETIMEDOUT;
    if (c->state != US_TCPS_SYN_SENT && c->state != US_TCPS_SYN_RECEIVED)
        us_tcp_send_rst(st, c, now);
    us_tcp_close_conn(st, c, err, why);
}

/* ---- tail loss probe (RFC 8985 7) ------------------------------------------------------------ */

/* Whether the probe timeout may run: SACK in use (RFC 8985 2), data in flight, no probe
 * unacknowledged (one per episode), and neither fast recovery nor RTO recovery under way (both
 * end when SND.UNA reaches `recover`; an ECN reduction's window does not count, as Linux probes
 * in its CWR state). A closed peer window is the persist logic's case. RFC 8985 7.3 (2) asks at
 * expiry for an RTT sample since the last probe; without one (and no probe to judge) the PTO is
 * not armed at all, so the RTO keeps its own deadline.
 * RFC 8985 7.2: not while segments are SACKed (RACK's reordering timer covers that case).
 * DEVIATION(RFC 8985 7.2): without RACK's records (tcp_recovery 0, or no memory for them) also
 * with SACKed data (too little for RFC 6675 to call a loss): the probe timeout then stands in
 * for the reordering timer (tlp_fired). */
static bool
tlp_allowed(const struct us_stack *st, const struct us_tcp_conn *c)
{
    return st->cfg.tcp_tlp && c->sack_ok && !c->in_recovery && !(c->rack && c->sacked) &&
           (!c->tlp_out || us_seq_geq(c->snd_una, c->tlp_end)) && (c->tlp_rtt || c->tlp_out) &&
           c->state >= US_TCPS_ESTABLISHED && c->state != US_TCPS_TIME_WAIT &&
           c->snd_max != c->snd_una && us_tcp_recover_passed(c) && c->snd_wnd > 0;
}

bool
us_tcp_tlp_arm(struct us_stack *st, struct us_tcp_conn *c, us_time_t now, us_time_t rto_at)
{
    if (!tlp_allowed(st, c))
        return false;
    /* RFC 8985 7.2: PTO = 2 * SRTT, plus the peer's delayed-ACK budget when one segment is out
     * (its ACK may wait for a second one), 1 s without an RTT sample, never past the RTO. */
    us_time_t pto = US_SEC(1);
    if (c->srtt && us_tcp_probe_new_len(c)) {
        /* A probe of new data resends nothing: fired early it costs one segment sent ahead
         * of cwnd, while each tail it finds saves an RTO. At least US_TCP_PTO_MIN, as Linux's
         * TCP_TIMEOUT_MIN. */
        pto = US_MAX(2 * c->srtt, US_TCP_PTO_MIN);
        if (c->snd_max - c->snd_una <= c->mss)
            pto += st->cfg.tcp_tlp_max_ack_delay;
    } else if (c->srtt) {
        /* DEVIATION(RFC 8985 7.2): for a probe that resends (the application wrote nothing
         * more), at least SRTT + US_TCP_PTO_DELACK (50 ms). A receiver delays
         * its ACK not only when one segment is out: Linux ACKs at once only if the window it
         * offers would move right, so while its application has not read what arrived the ACK
         * waits for that read or for the delayed-ACK timer (40 ms at least;
         * __tcp_ack_snd_check), and two short segments wait for that timer at any receiver
         * (ours too). On a short path such an ACK is many SRTTs late: with 20 downloads every
         * connection's probe fired 20 to 25 ms after the last ACK and resent what the peer
         * had (doc/status.md). The ACK of the last segment is due within one SRTT plus that
         * delay. */
        pto = US_MAX(2 * c->srtt, c->srtt + US_TCP_PTO_DELACK);
        if (c->snd_max - c->snd_una <= c->mss)
            pto += st->cfg.tcp_tlp_max_ack_delay;
    }
    us_tcp_timer_arm(st, c, US_TT_RTO, US_MIN(now + pto, rto_at));
    c->tlp_pto = true;
    c->rack_reo = false;
    return true;
}

/* RFC 8985 7.3: the probe timeout fired. Send the probe, then the RTO takes over as the last
 * resort (whether or not a probe went out). If SACKed data lies above holes, those holes went out
 * at least a PTO ago (new data restarts the PTO), before data that has arrived since: RACK (6.2)
 * would have called them lost by now. Recovery resends them; no probe is needed. */
static void
tlp_fired(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (tlp_allowed(st, c)) {
        /* The last probe was ACKed exactly (RFC 8985 7.4 waits for one more ACK) and no sign
         * that it arrived twice came since, for a whole PTO: it repaired a loss. */
        if (c->tlp_out)
            us_tcp_tlp_repaired(st, c, now);
        if (c->sacked && (c->sacked->n > 1 || c->sacked->r[0].start > 0))
            us_tcp_enter_recovery(st, c, true, now);
        else if (c->tlp_rtt) /* RFC 8985 7.3 (2): an RTT sample since the last probe */
            us_tcp_send_loss_probe(st, c, now);
    }
    if (c->snd_max != c->snd_una)
        us_tcp_rto_arm(st, c, now + c->rto);
}

/* ---- retransmission timeout ------------------------------------------------------------------ */

static void
rto_fired(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (c->rack_reo) {
        c->rack_reo = false;
        us_tcp_rack_timeout(st, c, now);
        return;
    }
    if (c->tlp_pto) {
        c->tlp_pto = false;
        tlp_fired(st, c, now);
        return;
    }
    bool syn = c->state == US_TCPS_SYN_SENT || c->state == US_TCPS_SYN_RECEIVED;
    unsigned limit = !syn ? st->cfg.tcp_retries
                     : c->state == US_TCPS_SYN_RECEIVED ? st->cfg.tcp_synack_retries
                                                        : st->cfg.tcp_syn_retries;
    bool user_to = c->user_timeout_ms && now - c->last_rx >= US_MSEC(c->user_timeout_ms) && !syn;
    /* RFC 9293 3.8.6.1: the peer closed its window with data in flight. Nothing can be resent;
     * a window probe goes instead, and while the peer keeps answering the connection must not
     * time out (Linux tcp_retransmit_timer; orphans still do). */
    bool probe0 = !syn && c->snd_wnd == 0 && c->fd >= 0 &&
                  now - c->last_rx < 2 * st->cfg.tcp_rto_max;
    if (user_to || (c->backoff >= limit && !probe0)) {
        timeout_abort(st, c, syn ? "SYN not answered" : "retransmissions exhausted", now);
        return;
    }
    us_stat_inc(st, US_STAT_TCP_RTO);
    if (c->backoff < UINT8_MAX)
        c->backoff++;
    c->rto = US_MIN(c->rto * 2, st->cfg.tcp_rto_max); /* RFC 6298 5.5 */
    c->rtt_timing = false; /* Karn: no samples from retransmitted data */
    char a[16];
    US_TRACE(st, "tcp: %s:%u retransmission timeout #%u, rto now %lld ms", us_ip4_ntoa(c->raddr, a),
             (unsigned)c->rport, (unsigned)c->backoff, (long long)(c->rto / US_NSEC_PER_MSEC));
    if (syn) {
        us_tcp_retransmit_head(st, c, now);
        us_tcp_rto_arm(st, c, now + c->rto);
        return;
    }
    /* RFC 5681 3.1: after a timeout, ssthresh from the flight and a one-segment loss window;
     * then resend what was lost. */
    us_tcp_episode_begin(st, c, true);
    if (c->backoff == 1)
        c->ssthresh = us_tcp_cc(c)->on_loss(c, now);
    c->cwnd = c->mss;
    c->in_recovery = false;
    c->dupacks = 0;
    c->recover = c->snd_max;
    c->ecn_cwr_wnd = false;
    c->ecn_cwr = c->ecn_ok; /* RFC 3168 6.1.2: CWR after any reduction */
    c->tlp_out = c->tlp_lost = false; /* RFC 8985 7.1: RTO recovery starts a new episode */
    c->high_rxt = c->snd_una;
    /* With RACK's records the SACKs stay and what is marked lost goes again, as the pipe
     * allows (RFC 8985 6.3, RFC 6675 5.1); without them, back to SND.UNA and the scoreboard
     * afresh. */
    c->rto_loss = c->sack_ok && us_tcp_rack_rto(c, now);
    if (!c->rto_loss) {
        free(c->sacked);
        c->sacked = NULL;
        us_tcp_rack_forget(c);
        c->snd_nxt = c->snd_una;
    }
    US_TRACE(st, "tcp: %s:%u after the timeout: cwnd %u (one segment), ssthresh %u, resend %s",
             us_ip4_ntoa(c->raddr, a), (unsigned)c->rport, (unsigned)c->cwnd,
             (unsigned)c->ssthresh, c->rto_loss ? "what was not SACKed" : "from SND.UNA");
    us_tcp_rto_arm(st, c, now + c->rto);
    us_tcp_output(st, c, now);
    if (probe0)
        us_tcp_send_probe(st, c, now);
}

static void
persist_fired(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (c->snd_wnd > 0)
        return;
    /* Probing forever is allowed while the peer answers (RFC 9293 3.8.6.1), but not when it has
     * gone silent, nor for an orphan (Linux: tcp_orphan_retries). */
    if (now - c->last_rx > 2 * st->cfg.tcp_rto_max || (c->fd < 0 && c->backoff >= 8)) {
        timeout_abort(st, c, "zero-window probes unanswered", now);
        return;
    }
    us_tcp_send_probe(st, c, now);
    if (c->backoff < 16)
        c->backoff++;
    us_time_t next = US_MIN(c->rto << c->backoff, US_SEC(60));
    us_tcp_timer_arm(st, c, US_TT_PERSIST, now + next);
}

static void
keep_fired(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (!c->keepalive || c->state != US_TCPS_ESTABLISHED)
        return;
    us_time_t idle = now - c->last_rx;
    if (idle < US_SEC(c->keep_idle)) {
        us_tcp_timer_arm(st, c, US_TT_KEEP, c->last_rx + US_SEC(c->keep_idle));
        return;
    }
    if (c->keep_probes >= c->keep_cnt) {
        timeout_abort(st, c, "keepalive: peer stopped answering", now);
        return;
    }
    c->keep_probes++;
    us_stat_inc(st, US_STAT_TCP_KEEPALIVE_PROBES);
    us_tcp_send_keepalive(st, c, now);
    us_tcp_timer_arm(st, c, US_TT_KEEP, now + US_SEC(c->keep_intvl));
}

/* The block a heap entry was queued for, or NULL if that block is gone (freed, or its slot
 * reused: another generation). */
static struct us_tcp_conn *
timer_conn(struct us_stack *st, const struct us_timer_ent *e)
{
    struct us_tcp_conn *c = us_tcp_conn_by_id(st, e->owner);
    return c && c->gen == e->gen ? c : NULL;
}

bool
us_tcp_timer_live(struct us_stack *st, const struct us_timer_ent *e)
{
    unsigned kind = (unsigned)e->kind - st->tcp->timer_kind;
    struct us_tcp_conn *c = kind < US_TT_N ? timer_conn(st, e) : NULL;
    if (!c || c->tq[kind] != e->deadline)
        return false;
    if (c->t[kind] == US_TIME_NEVER) { /* stopped: nothing would run; forget the entry */
        c->tq[kind] = US_TIME_NEVER;
        return false;
    }
    return true;
}

void
us_tcp_timer(struct us_stack *st, const struct us_timer_ent *e, us_time_t now)
{
    unsigned kind = (unsigned)e->kind - st->tcp->timer_kind;
    if (kind >= US_TT_N)
        return;
    struct us_tcp_conn *c = timer_conn(st, e);
    if (!c) {
        us_timerq_dead_popped(&st->timers); /* counted when the block was freed */
        return;
    }
    if (!us_timerq_fire(&st->timers, e, &c->t[kind], &c->tq[kind], now))
        return; /* superseded, stopped, or queued again for later */
    switch (kind) {
    case US_TT_RTO:
        rto_fired(st, c, now);
        break;
    case US_TT_PERSIST:
        persist_fired(st, c, now);
        break;
    case US_TT_KEEP:
        keep_fired(st, c, now);
        break;
    case US_TT_2MSL:
        us_tcp_close_conn(st, c, 0, c->state == US_TCPS_TIME_WAIT ? "2MSL expired"
                                                                   : "FIN-WAIT-2 timeout");
        break;
    case US_TT_IDLE:
        if (us_ring_len(&c->sndbuf) == 0) { /* nothing in flight: no records either */
            us_ring_free(&c->sndbuf);
            us_tcp_rack_free(c);
        }
        if (us_ring_len(&c->rcvbuf) == 0 && !c->ooo)
            us_ring_free(&c->rcvbuf);
        break;
    case US_TT_DELACK:
        if (c->state >= US_TCPS_ESTABLISHED && c->state != US_TCPS_TIME_WAIT)
            us_tcp_send_ack(st, c, now);
        break;
    }
}
