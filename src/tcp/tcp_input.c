/* TCP input: segment arrival, following RFC 9293 3.10.7 as small steps that return a verdict.
 * Layer: transport. RFC 5961 (blind attacks), RFC 7323 (PAWS), RFC 5681/6582 (dupacks and
 * recovery), RFC 1122 4.2.3.2 (delayed ACK). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tcp/tcp.h"

enum verdict { V_CONTINUE, V_DROP, V_DROP_ACK, V_DONE };

struct seg {
    struct us_tcp_repr r;
    uint32_t len; /* SEG.LEN: payload + SYN + FIN */
    us_seq_t up;  /* SEG.UP with URG: from the segment as it arrived, before any trimming */
    us_time_t now;
    const struct us_ip4_rx *rx;
};

static uint32_t
seg_len(const struct us_tcp_repr *r)
{
    return (uint32_t)r->payload_len + ((r->flags & US_TCP_SYN) ? 1 : 0) +
           ((r->flags & US_TCP_FIN) ? 1 : 0);
}

/* ---- RTT and RTO (RFC 6298) ------------------------------------------------------------------ */

static void
rtt_sample(struct us_stack *st, struct us_tcp_conn *c, us_time_t r)
{
    if (r <= 0)
        r = US_NSEC_PER_MSEC / 10;
    c->tlp_rtt = true;
    if (c->srtt == 0) { /* RFC 6298 2.2 */
        c->srtt = r;
        c->rttvar = r / 2;
    } else { /* 2.3, alpha 1/8, beta 1/4 */
        us_time_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
        /* all three are positive: unsigned shifts, no rounding toward zero to correct for */
        c->rttvar = (us_time_t)(((uint64_t)c->rttvar * 3 + (uint64_t)d) >> 2);
        c->srtt = (us_time_t)(((uint64_t)c->srtt * 7 + (uint64_t)r) >> 3);
    }
    us_time_t rto = c->srtt + US_MAX(4 * c->rttvar, US_MSEC(1));
    /* DEVIATION(RFC 6298 2.4): a 200 ms floor, as Linux, instead of 1 s (configurable). */
    c->rto = US_MIN(US_MAX(rto, st->cfg.tcp_rto_min), st->cfg.tcp_rto_max);
}

/* ---- options at connection setup ------------------------------------------------------------ */

static uint8_t
wscale_for(size_t buf)
{
    uint8_t s = 0;
    while (s < 14 && (65535ul << s) < buf)
        s++;
    return s;
}

/* Records what the peer's SYN offered and what we therefore use (RFC 7323 1.3, RFC 2018 2,
 * RFC 9293 3.7.1 for MSS). `offered_ours` says whether our own SYN offered the options. */
static void
syn_negotiate(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r, us_time_t now)
{
    uint16_t ours = us_tcp_mss_for(st, c->raddr);
    const struct us_route *rt = us_route_lookup(st, c->raddr, NULL);
    c->tso = rt && rt->ifp->tx_gso;
    c->rcv_mss = ours;
    uint16_t peer = r->has_mss ? r->mss : 536;
    c->mss = (uint16_t)US_MAX(US_MIN(peer, ours), 64);
    c->ws_ok = c->ws_ok && r->has_wscale;
    if (c->ws_ok) {
        c->snd_wscale = r->wscale > 14 ? 14 : r->wscale; /* RFC 7323 2.3 */
    } else {
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    c->sack_ok = c->sack_ok && r->sack_ok;
    c->ts_ok = c->ts_ok && r->has_ts;
    if (c->ts_ok) {
        c->ts_recent = r->ts_val;
        c->ts_recent_age = (uint32_t)(now / US_NSEC_PER_SEC);
        c->mss -= 12; /* RFC 6691: MSS counts no options; every segment carries 12 bytes of TS */
    }
    c->cwnd = us_tcp_initial_window(c);
    c->ssthresh = UINT32_MAX;
}

void
us_tcp_syn_options(struct us_stack *st, struct us_tcp_conn *c)
{
    (void)st;
    /* What our SYN offers: everything; syn_negotiate keeps what the peer also offered. */
    c->ws_ok = c->sack_ok = c->ts_ok = true;
    c->rcv_wscale = wscale_for(c->rcvbuf_max);
    /* RFC 7323 5.4 / 7.1: a keyed hash of the address pair, not of the connection (Linux's
     * secure_tcp_ts_off): one timestamp clock per peer keeps successive connections' timestamps
     * increasing, which reusing a 4-tuple in TIME-WAIT relies on (RFC 6191, tcp_tw_reuse). */
    uint8_t b[9] = {'T'};
    us_store_be32(b + 1, c->laddr);
    us_store_be32(b + 5, c->raddr);
    c->ts_offset = (uint32_t)us_siphash24(&st->tcp->isn_key, b, sizeof(b));
}

static void synchronized_input(struct us_stack *st, struct us_tcp_conn *c, struct seg *s);

/* ---- urgent pointer (RFC 9293 3.8.5, 3.10.7.4 sixth step; RFC 6093) -------------------------- */

/* RCV.UP <- max(RCV.UP, SEG.UP); the user is in urgent mode while RCV.UP is ahead of what it has
 * read. SEG.UP is the byte after the urgent data (MUST-62, RFC 6093), and may lie beyond the
 * segment or beyond what has arrived. A pointer into data already read starts nothing. The data
 * itself stays inline: recv() returns every byte, stopping at the mark (tcp_user.c). */
static void
urg_update(struct us_stack *st, struct us_tcp_conn *c, us_seq_t up)
{
    if (c->rd_shut)
        return; /* nothing will be read: there is no one to tell */
    if (c->rcv_urg ? !us_seq_gt(up, c->rcv_up) : !us_seq_gt(up, us_tcp_read_seq(c)))
        return;
    c->rcv_up = up;
    c->rcv_urg = true;
    us_stat_inc(st, US_STAT_TCP_URG_IN);
    char a[16];
    US_TRACE(st, "tcp: %s:%u urgent data up to seq %u (urgent mode)", us_ip4_ntoa(c->raddr, a),
             (unsigned)c->rport, (unsigned)(up - c->irs));
}

/* ---- text on a SYN (RFC 9293 3.10.7.2, 3.10.7.3) --------------------------------------------- */

/* "Any other control or text should be queued for processing later": the SYN's text waits in the
 * receive ring as out-of-order data at offset 0. RCV.NXT stays at SEG.SEQ + 1, so the SYN-ACK
 * does not acknowledge it; syn_text_release delivers it when the handshake completes. At most
 * one MSS is kept, so a flood of SYNs with data pins no more than a small buffer per embryonic
 * connection (their number is bounded by the backlog); what is cut is not acknowledged and the
 * peer sends it again. Linux without TCP Fast Open keeps none of it: the peer resends it all
 * after the handshake. SYN cookies keep none either (cookie_send). A FIN on a SYN never gets
 * here: the parser drops SYN+FIN (DEVIATION noted in src/wire/tcp.c). */
static void
syn_text_queue(struct us_stack *st, struct us_tcp_conn *c, const struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    uint32_t len = (uint32_t)US_MIN(r->payload_len, (size_t)c->rcv_mss);
    if (len == 0)
        return;
    size_t w = us_ring_write_at(&c->rcvbuf, 0, r->payload, len);
    struct us_rangeset *q = w ? us_tcp_rs_get(&c->ooo) : NULL;
    if (!q || us_rangeset_add(q, 0, (uint32_t)w) < 0) {
        us_drop(st, US_DROP_TCP_NO_MEM); /* not acknowledged: the peer sends it again */
        us_tcp_rs_trim(&c->ooo);
        return;
    }
    us_stat_inc(st, US_STAT_TCP_SYN_DATA);
    if (r->flags & US_TCP_URG)
        urg_update(st, c, s->up);
}

/* RFC 3168 6.1.1: a SYN that asks for ECN (ECE and CWR both set), which we accept unless ECN is
 * off. The SYN-ACK then carries ECE (tcp_output.c). */
static bool
ecn_setup_syn(const struct us_stack *st, const struct us_tcp_repr *r)
{
    return st->cfg.tcp_ecn != US_TCP_ECN_OFF &&
           (r->flags & (US_TCP_ECE | US_TCP_CWR)) == (US_TCP_ECE | US_TCP_CWR);
}

/* ---- SYN cookies (RFC 4987 3.6) -------------------------------------------------------------- */

/* When the SYN queue is full, the listener keeps no state: the connection's essentials ride in
 * our ISS and come back in the ACK. ISS = 5-bit time slot (64 s) | 3-bit MSS index | 24-bit keyed
 * hash of the 4-tuple, the peer's ISN and the slot. Window scale, SACK-permitted and ECN ride in
 * the low 6 bits of our TSval when the peer uses timestamps (as Linux does); without timestamps a
 * cookie connection has none of them. */
static const uint16_t cookie_mss[8] = {216, 536, 1200, 1360, 1400, 1440, 1460, 8960};
#define COOKIE_SLOT US_SEC(64)

static uint32_t
cookie_hash(struct us_stack *st, const struct us_ip4_rx *rx, const struct us_tcp_repr *r,
            us_seq_t peer_isn, uint32_t slot)
{
    uint8_t b[20];
    us_store_be32(b, rx->ip.src);
    us_store_be32(b + 4, rx->ip.dst);
    us_store_be16(b + 8, r->src_port);
    us_store_be16(b + 10, r->dst_port);
    us_store_be32(b + 12, peer_isn);
    us_store_be32(b + 16, slot);
    return (uint32_t)us_siphash24(&st->tcp->cookie_key, b, sizeof(b)) & 0xffffff;
}

/* Text on the SYN is not kept (there is no state to keep it in) and not acknowledged: the
 * SYN-ACK acknowledges SEG.SEQ + 1 only, so the peer sends the text again after the handshake. */
static void
cookie_send(struct us_stack *st, struct us_tcp_conn *l, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    struct us_tcp_conn tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.laddr = s->rx->ip.dst;
    tmp.raddr = s->rx->ip.src;
    tmp.lport = l->lport;
    tmp.rport = r->src_port;
    tmp.rcvbuf.cap = st->cfg.tcp_rcvbuf;
    tmp.rcvbuf_max = l->rcvbuf_max;
    tmp.irs = r->seq;
    tmp.rcv_nxt = r->seq + 1;
    tmp.rcv_adv = tmp.rcv_nxt;
    us_tcp_syn_options(st, &tmp);
    syn_negotiate(st, &tmp, r, s->now);
    tmp.ecn_ok = tmp.ts_ok && ecn_setup_syn(st, r); /* no timestamp, no room to keep it */
    uint32_t slot = (uint32_t)(s->now / COOKIE_SLOT);
    uint32_t mi = 0;
    uint16_t peer = r->has_mss ? r->mss : 536;
    for (uint32_t i = 0; i < 8; i++)
        if (cookie_mss[i] <= peer && cookie_mss[i] <= tmp.rcv_mss)
            mi = i;
    tmp.iss = (slot & 31) << 27 | mi << 24 | cookie_hash(st, s->rx, r, r->seq, slot);
    if (tmp.ts_ok) { /* TSval's low 6 bits: wscale (15 = none), SACK-permitted and ECN */
        uint32_t opt = (tmp.ws_ok ? tmp.snd_wscale : 15u) | (tmp.sack_ok ? 16u : 0u) |
                       (tmp.ecn_ok ? 32u : 0u);
        uint32_t now_ms = (uint32_t)(s->now / US_NSEC_PER_MSEC);
        tmp.ts_offset = ((now_ms & ~63u) | opt) - now_ms;
    }
    us_stat_inc(st, US_STAT_TCP_SYNCOOKIES_SENT);
    l->lsn->cookie_time = s->now ? s->now : 1;
    us_tcp_send_synack(st, &tmp, s->now);
}

/* A child starts with its listener's socket options, the set Linux's sk_clone_lock copies:
 * SO_REUSEADDR, SO_LINGER, SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_NODELAY,
 * TCP_USER_TIMEOUT, TCP_CONGESTION and the buffer sizes (SO_RCVBUF fixes auto-tuning too). */
static void
child_inherit(struct us_tcp_conn *c, const struct us_tcp_conn *l)
{
    c->passive = c->used = true;
    c->reuseaddr = l->reuseaddr;
    c->linger_on = l->linger_on;
    c->linger_secs = l->linger_secs;
    c->keepalive = l->keepalive;
    c->keep_idle = l->keep_idle;
    c->keep_intvl = l->keep_intvl;
    c->keep_cnt = l->keep_cnt;
    c->nodelay = l->nodelay;
    c->user_timeout_ms = l->user_timeout_ms;
    c->cc_id = l->cc_id;
    c->rcvbuf_max = l->rcvbuf_max;
    us_ring_set_cap(&c->sndbuf, l->sndbuf.cap);
    c->sndbuf_lock = l->sndbuf_lock;
    us_ring_set_cap(&c->rcvbuf, l->rcvbuf.cap);
}

/* Checks the ACK of a cookie SYN-ACK; on success returns a new ESTABLISHED connection. */
static struct us_tcp_conn *
cookie_accept(struct us_stack *st, struct us_tcp_conn *l, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    us_seq_t iss = r->ack - 1, peer_isn = r->seq - 1;
    uint32_t now_slot = (uint32_t)(s->now / COOKIE_SLOT);
    uint32_t slot = (now_slot & ~31u) | (iss >> 27);
    if (slot > now_slot)
        slot -= 32;
    if (now_slot - slot > 1 || cookie_hash(st, s->rx, r, peer_isn, slot) != (iss & 0xffffff))
        return NULL; /* older than two slots (up to 128 s) or forged */
    if (l->lsn->acc_count >= l->lsn->backlog)
        return NULL;
    struct us_tcp_conn *c = us_tcp_conn_new(st);
    if (!c)
        return NULL;
    c->laddr = s->rx->ip.dst;
    c->raddr = s->rx->ip.src;
    c->rport = r->src_port;
    c->cookie = true;
    child_inherit(c, l);
    us_tcp_port_ref(st, c, l->lport);
    us_tcp_syn_options(st, c);
    struct us_tcp_repr syn = {.has_mss = true, .mss = cookie_mss[(iss >> 24) & 7]};
    if (r->has_ts) {
        uint32_t opt = r->ts_ecr & 63;
        syn.has_ts = true;
        syn.ts_val = r->ts_val;
        syn.has_wscale = (opt & 15) != 15;
        syn.wscale = (uint8_t)(opt & 15);
        syn.sack_ok = opt & 16;
        c->ts_offset = r->ts_ecr - (uint32_t)(s->now / US_NSEC_PER_MSEC); /* keep TSvals rising */
        c->ecn_ok = (opt & 32) && st->cfg.tcp_ecn != US_TCP_ECN_OFF;
    }
    c->irs = peer_isn;
    c->rcv_nxt = r->seq;
    syn_negotiate(st, c, &syn, s->now);
    /* the window our SYN-ACK offered (unscaled in a SYN), so data on this ACK fits */
    c->rcv_adv = c->rcv_nxt + us_tcp_syn_window(c, true);
    c->iss = iss;
    c->snd_una = c->snd_nxt = c->snd_max = r->ack;
    c->snd_buf_seq = r->ack;
    c->snd_wnd = (uint32_t)r->wnd << c->snd_wscale;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = r->seq;
    c->snd_wl2 = r->ack;
    c->last_rx = s->now;
    if (us_tcp_ehash_insert(st, c) < 0) {
        us_tcp_close_conn(st, c, 0, "duplicate");
        return NULL;
    }
    us_tcp_child_add(l, c);
    us_stat_inc(st, US_STAT_TCP_SYNCOOKIES_OK);
    us_stat_inc(st, US_STAT_TCP_PASSIVE_OPENS);
    us_tcp_set_state(st, c, US_TCPS_ESTABLISHED, "valid SYN cookie");
    us_tcp_child_established(st, c);
    return c;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) -------------------------------------------------------------- */

static void
listen_input(struct us_stack *st, struct us_tcp_conn *l, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    const struct us_ip4_rx *rx = s->rx;
    if (r->flags & US_TCP_RST)
        return; /* first: a RST to a listener is ignored */
    if (r->flags & US_TCP_ACK) {
        /* Cookies are checked only if this listener sent some lately (as Linux), so a plain
         * stray ACK keeps its usual answer and counter. */
        if (st->cfg.tcp_syncookies && !(r->flags & US_TCP_SYN) && l->lsn->cookie_time &&
            s->now - l->lsn->cookie_time < 2 * COOKIE_SLOT) {
            struct us_tcp_conn *c = cookie_accept(st, l, s);
            if (c) {
                synchronized_input(st, c, s); /* the ACK may carry data already */
                return;
            }
            us_drop(st, US_DROP_TCP_BAD_COOKIE);
        } else {
            us_drop(st, US_DROP_TCP_LISTEN_ACK);
        }
        us_tcp_send_rst_for(st, rx, r, s->now); /* second: <SEQ=SEG.ACK><CTL=RST> */
        return;
    }
    if (!(r->flags & US_TCP_SYN)) {
        us_drop(st, US_DROP_TCP_LISTEN_ACK);
        return;
    }
    struct us_tcp_listen *q = l->lsn;
    if (q->acc_count >= q->backlog) {
        us_drop(st, US_DROP_TCP_LISTEN_OVERFLOW); /* the peer retries its SYN (as Linux) */
        return;
    }
    if (q->syn_count >= q->backlog) {
        if (st->cfg.tcp_syncookies)
            cookie_send(st, l, s); /* RFC 4987 3.6: answer without keeping state */
        else
            us_drop(st, US_DROP_TCP_LISTEN_OVERFLOW);
        return;
    }
    struct us_tcp_conn *c = us_tcp_conn_new(st);
    if (!c) {
        us_drop(st, US_DROP_TCP_NO_MEM);
        return;
    }
    c->laddr = rx->ip.dst;
    c->raddr = rx->ip.src;
    c->rport = r->src_port;
    child_inherit(c, l);
    us_tcp_port_ref(st, c, l->lport);
    us_tcp_syn_options(st, c);
    c->irs = r->seq;
    c->rcv_nxt = r->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    syn_negotiate(st, c, r, s->now);
    c->ecn_ok = ecn_setup_syn(st, r);
    c->iss = us_tcp_isn(st, c->laddr, c->lport, c->raddr, c->rport, s->now);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->snd_buf_seq = c->iss + 1;
    c->recover = c->iss; /* RFC 6582 3.2 step 1, as connect does */
    c->snd_wnd = r->wnd; /* RFC 7323 2.2: a SYN's window is not scaled */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = r->seq;
    c->snd_wl2 = c->iss;
    c->last_rx = s->now;
    if (us_tcp_ehash_insert(st, c) < 0) {
        us_tcp_close_conn(st, c, 0, "duplicate");
        return;
    }
    us_tcp_child_add(l, c);
    us_stat_inc(st, US_STAT_TCP_PASSIVE_OPENS);
    us_tcp_set_state(st, c, US_TCPS_SYN_RECEIVED, "SYN received");
    syn_text_queue(st, c, s);
    us_tcp_output(st, c, s->now); /* SYN-ACK */
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ------------------------------------------------------------ */

static void process_text(struct us_stack *st, struct us_tcp_conn *c, struct seg *s);

/* "If there are other controls or text in the segment, then continue processing at the sixth
 * step": the URG bit, then the text, once the SYN is taken off. The text must fit the window our
 * SYN offered (unscaled, RFC 7323 2.2); it is acknowledged by the ACK that completes the
 * handshake. Linux keeps text on a SYN-ACK only when its own SYN used Fast Open
 * (tcp_fastopen_add_skb); otherwise it drops it unacknowledged and the peer sends it again. */
static void
syn_ack_text(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    struct us_tcp_repr *r = &s->r;
    if (r->payload_len == 0 && !(r->flags & US_TCP_URG))
        return;
    r->flags &= (uint8_t)~US_TCP_SYN;
    r->seq++;
    c->rcv_adv = c->rcv_nxt + us_tcp_syn_window(c, false); /* what our SYN offered */
    if (r->payload_len > c->rcv_adv - c->rcv_nxt)
        r->payload_len = c->rcv_adv - c->rcv_nxt; /* not acknowledged: the peer sends it again */
    s->len = seg_len(r);
    if (r->flags & US_TCP_URG)
        urg_update(st, c, s->up);
    process_text(st, c, s);
}

static void
syn_sent_input(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    bool ack = r->flags & US_TCP_ACK;
    if (ack && (us_seq_leq(r->ack, c->iss) || us_seq_gt(r->ack, c->snd_max))) {
        if (!(r->flags & US_TCP_RST))
            us_tcp_send_rst_for(st, s->rx, r, s->now);
        us_drop(st, US_DROP_TCP_BAD_ACK);
        return;
    }
    if (r->flags & US_TCP_RST) {
        if (ack) { /* RFC 5961 3.2: acceptable only if it acknowledges our SYN */
            us_stat_inc(st, US_STAT_TCP_RST_IN);
            us_tcp_close_conn(st, c, ECONNREFUSED, "connection refused (RST)");
        }
        return;
    }
    if (!(r->flags & US_TCP_SYN))
        return;
    c->irs = r->seq;
    c->rcv_nxt = r->seq + 1;
    /* The window our SYN offered holds from the peer's first byte on: our next ACK keeps it
     * (as Linux's does) instead of starting over from the whole buffer. */
    c->rcv_adv = c->rcv_nxt + us_tcp_syn_window(c, false);
    syn_negotiate(st, c, r, s->now);
    c->last_rx = s->now;
    /* RFC 3168 6.1.1: our SYN asked for ECN; only an ECN-setup SYN-ACK (ECE without CWR: a
     * peer that merely reflects the reserved bits sends both) or, in a simultaneous open, an
     * ECN-setup SYN (both) agrees. DEVIATION(RFC 3168 6.1.1: no ECT after sending a
     * non-ECN-setup SYN): a SYN resent without ECE and CWR (tcp_output.c) does not withdraw the
     * offer; the SYN-ACK decides, as on Linux, whose SYN-ACKs all keep ECE: the peer that saw
     * our first SYN and we then agree whichever of its SYN-ACKs arrives. */
    uint8_t ecn_want = ack ? US_TCP_ECE : US_TCP_ECE | US_TCP_CWR;
    c->ecn_ok = c->ecn_ok && (r->flags & (US_TCP_ECE | US_TCP_CWR)) == ecn_want;
    if (ack) {
        c->snd_una = r->ack;
        c->snd_wnd = r->wnd; /* RFC 7323 2.2: the window in a SYN-ACK is never scaled */
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = r->seq;
        c->snd_wl2 = r->ack;
        if (c->ts_ok && r->has_ts && r->ts_ecr)
            rtt_sample(st, c, (us_time_t)(uint32_t)(us_tcp_ts_now(c, s->now) - r->ts_ecr) * US_NSEC_PER_MSEC);
        else if (c->backoff == 0)
            rtt_sample(st, c, us_tcp_since_us(s->now, c->rtt_start_us));
        c->backoff = 0;
        us_tcp_timer_stop(c, US_TT_RTO);
        us_tcp_set_state(st, c, US_TCPS_ESTABLISHED, "SYN-ACK received");
        if (c->keepalive)
            us_tcp_timer_arm(st, c, US_TT_KEEP, s->now + US_SEC(c->keep_idle));
        syn_ack_text(st, c, s);
        c->ack_now = true; /* one ACK for the SYN and any text on it */
        us_tcp_output(st, c, s->now);
        return;
    }
    /* Simultaneous open: both sent SYNs; answer with SYN-ACK from ISS again. */
    c->snd_wnd = r->wnd;
    c->snd_wl1 = r->seq;
    c->snd_nxt = c->iss;
    us_tcp_set_state(st, c, US_TCPS_SYN_RECEIVED, "simultaneous open");
    syn_text_queue(st, c, s); /* "queue them for processing after ESTABLISHED" */
    us_tcp_output(st, c, s->now);
}

/* ---- synchronized states (RFC 9293 3.10.7.4) ------------------------------------------------- */

static bool
challenge_ack_ok(struct us_stack *st, us_time_t now)
{
    /* RFC 5961 7: at most tcp_challenge_ack_limit challenge ACKs per second, stack-wide. */
    struct us_tcp_globals *t = st->tcp;
    if (now - t->chal_window >= US_SEC(1)) {
        t->chal_window = now;
        t->chal_count = 0;
    }
    if (t->chal_count >= st->cfg.tcp_challenge_ack_limit)
        return false;
    t->chal_count++;
    return true;
}

static void
challenge_ack(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (challenge_ack_ok(st, now)) {
        us_stat_inc(st, US_STAT_TCP_CHALLENGE_ACK);
        us_tcp_send_ack(st, c, now);
    } else {
        us_stat_inc(st, US_STAT_TCP_CHALLENGE_ACK_LIMITED);
    }
}

/* Cuts what lies before rcv_nxt off the front of r: an old SYN, old bytes, an old FIN. */
static void
trim_front(struct us_tcp_repr *r, us_seq_t rcv_nxt)
{
    if (!us_seq_lt(r->seq, rcv_nxt))
        return;
    uint32_t cut = rcv_nxt - r->seq;
    if (r->flags & US_TCP_SYN) {
        r->flags &= (uint8_t)~US_TCP_SYN;
        cut--;
        r->seq++;
    }
    uint32_t dcut = US_MIN(cut, (uint32_t)r->payload_len);
    r->payload += dcut;
    r->payload_len -= dcut;
    r->seq += dcut;
    if (cut > dcut) /* the FIN was old too */
        r->flags &= (uint8_t)~US_TCP_FIN;
}

/* RFC 2883 4: the segment repeats bytes [start, end) the receiver already has: the ACK it
 * triggers goes at once and reports them in its first SACK block (a D-SACK; the sender learns
 * that a retransmission was spurious or that the network duplicated). One run per segment, the
 * first found, as the RFC asks for. */
static void
dsack_note(struct us_stack *st, struct us_tcp_conn *c, us_seq_t start, us_seq_t end)
{
    if (!c->sack_ok || !us_seq_lt(start, end) || st->tcp->dsack_conn == c)
        return;
    st->tcp->dsack_conn = c;
    st->tcp->dsack_start = start;
    st->tcp->dsack_end = end;
    c->ack_now = true;
}

/* The part of a data segment below RCV.NXT: bytes already received (Linux's tcp_send_dupack). */
static void
dsack_old(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r)
{
    if (r->payload_len && !(r->flags & US_TCP_SYN) && us_seq_lt(r->seq, c->rcv_nxt))
        dsack_note(st, c, r->seq, us_seq_min(r->seq + (uint32_t)r->payload_len, c->rcv_nxt));
}

static enum verdict
check_seq(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    struct us_tcp_repr *r = &s->r;
    /* RFC 7323 5.3 PAWS: an old timestamp marks an old duplicate. Except, as Linux's
     * tcp_disordered_ack, a pure duplicate ACK that was merely overtaken by a newer one. */
    bool disordered_ack = r->payload_len == 0 &&
                          !(r->flags & (US_TCP_SYN | US_TCP_FIN | US_TCP_RST)) &&
                          r->seq == c->rcv_nxt && r->ack == c->snd_una;
    if (c->ts_ok && r->has_ts && !(r->flags & US_TCP_RST) && !disordered_ack &&
        us_seq_lt(r->ts_val, c->ts_recent) &&
        (uint32_t)(s->now / US_NSEC_PER_SEC) - c->ts_recent_age < 24u * 24 * 3600) {
        us_drop(st, US_DROP_TCP_PAWS);
        dsack_old(st, c, r);
        return V_DROP_ACK;
    }
    uint32_t wnd = us_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t len = s->len;
    bool ok;
    /* DEVIATION(RFC 9293 3.10.7.4: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND): a segment without data
     * may sit at the right edge itself, as Linux's tcp_sequence allows: a sender that has
     * filled our window puts its pure ACKs there (acceptable_seq, Linux tcp_acceptable_seq),
     * and dropping them would lose their ACK fields until the window moves. */
    if (len == 0)
        ok = wnd == 0 ? r->seq == c->rcv_nxt
                      : us_seq_in(r->seq, c->rcv_nxt, c->rcv_nxt + wnd + 1);
    else if (wnd == 0)
        ok = r->seq == c->rcv_nxt; /* 3.10.7.4: still take its ACK and RST; data is trimmed */
    else
        ok = us_seq_in(r->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
             us_seq_in(r->seq + len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
    if (!ok) {
        /* TIME-WAIT: a retransmission of the peer's FIN is wholly old, so it ends here; it still
         * restarts 2*MSL (3.10.7.4 eighth; Linux tcp_timewait_state_process). */
        if (c->state == US_TCPS_TIME_WAIT && (r->flags & US_TCP_FIN) && r->seq + len == c->rcv_nxt)
            us_tcp_timer_arm(st, c, US_TT_2MSL, s->now + 2 * st->cfg.tcp_msl);
        dsack_old(st, c, r);
        us_drop(st, US_DROP_TCP_OUT_OF_WINDOW);
        return (r->flags & US_TCP_RST) ? V_DROP : V_DROP_ACK;
    }
    /* Trim to the window: old bytes in front (reported as a D-SACK), bytes past the right edge
     * behind. */
    dsack_old(st, c, r);
    trim_front(r, c->rcv_nxt);
    uint32_t room = c->rcv_nxt + wnd - r->seq;
    if (r->payload_len > room) {
        /* Bytes past the right edge (a zero-window probe, too) are not acceptable: ACK them
         * with the current window (3.10.7.4 first; Linux tcp_data_queue out_of_window). */
        r->payload_len = room;
        r->flags &= (uint8_t)~US_TCP_FIN;
        c->ack_now = true;
    }
    s->len = seg_len(r);
    return V_CONTINUE;
}

static enum verdict
check_rst(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    if (!(s->r.flags & US_TCP_RST))
        return V_CONTINUE;
    /* RFC 5961 3.2: reset only on an exact match; otherwise challenge. */
    if (s->r.seq != c->rcv_nxt) {
        challenge_ack(st, c, s->now);
        return V_DROP;
    }
    us_stat_inc(st, US_STAT_TCP_RST_IN);
    int err = 0;
    switch (c->state) {
    case US_TCPS_SYN_RECEIVED:
        err = c->passive ? 0 : ECONNREFUSED; /* passive: back to LISTEN, i.e. forget it */
        break;
    case US_TCPS_ESTABLISHED:
    case US_TCPS_FIN_WAIT_1:
    case US_TCPS_FIN_WAIT_2:
    case US_TCPS_CLOSE_WAIT:
        err = ECONNRESET;
        break;
    default:
        err = 0; /* CLOSING, LAST-ACK, TIME-WAIT: just close */
    }
    /* RFC 9293 3.10.7.4, TIME-WAIT: the RST ends the connection, not the stream the peer
     * completed with its FIN: what it sent was acknowledged and is the reader's, who reads it
     * and then end-of-file (Linux: the RST reaches only the TIME-WAIT record, the socket keeps
     * its data). A peer that lost our last ACK and retransmitted its FIN answers the second
     * ACK with this RST, often before the reader came. */
    if (c->state != US_TCPS_TIME_WAIT) {
        us_ring_consume(&c->rcvbuf, us_ring_len(&c->rcvbuf)); /* Linux drops unread data too */
        c->rcv_urg = false;                                   /* and with it the urgent data */
    }
    us_tcp_close_conn(st, c, err, "RST received");
    return V_DONE;
}

static enum verdict
check_syn(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    if (!(s->r.flags & US_TCP_SYN))
        return V_CONTINUE;
    /* RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK, whatever its seq. */
    challenge_ack(st, c, s->now);
    return V_DROP;
}

static void
enter_time_wait(struct us_stack *st, struct us_tcp_conn *c, us_time_t now, const char *why)
{
    us_tcp_set_state(st, c, US_TCPS_TIME_WAIT, why);
    for (int k = 0; k < US_TT_N; k++)
        us_tcp_timer_stop(c, k);
    us_ring_free(&c->sndbuf);
    free(c->sacked);
    c->sacked = NULL;
    us_tcp_episode_free(st, c);
    us_tcp_rack_free(c);
    if (c->fd < 0) /* an orphan: us_tcp_input makes it a TIME-WAIT record (tcp_tw.c) when done */
        c->t[US_TT_2MSL] = now + 2 * st->cfg.tcp_msl;
    else
        us_tcp_timer_arm(st, c, US_TT_2MSL, now + 2 * st->cfg.tcp_msl);
}

static bool
our_fin_acked(const struct us_tcp_conn *c)
{
    return c->fin_queued && c->snd_una == c->snd_buf_seq + (uint32_t)us_ring_len(&c->sndbuf) + 1;
}

/* New data acknowledged: advance SND.UNA, release sent bytes, time the RTT, grow cwnd. */
static void
ack_new_data(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    uint32_t acked = r->ack - c->snd_una;
    /* the SYN takes sequence space but is no data: it does not grow cwnd (RFC 5681 3.1) */
    uint32_t data_acked = c->snd_una == c->iss ? acked - 1 : acked;
    if (c->ts_ok && r->has_ts && r->ts_ecr)
        rtt_sample(st, c, (us_time_t)(uint32_t)(us_tcp_ts_now(c, s->now) - r->ts_ecr) * US_NSEC_PER_MSEC);
    else if (c->rtt_timing && us_seq_gt(r->ack, c->rtt_seq)) {
        rtt_sample(st, c, us_tcp_since_us(s->now, c->rtt_start_us));
        c->rtt_timing = false;
    }
    /* Release acknowledged bytes (SYN and FIN occupy sequence space but no buffer). */
    if (us_seq_gt(r->ack, c->snd_buf_seq)) {
        uint32_t n = US_MIN(r->ack - c->snd_buf_seq, (uint32_t)us_ring_len(&c->sndbuf));
        us_ring_consume_keep(&c->sndbuf, n);
        if (us_ring_len(&c->sndbuf) == 0 && c->sndbuf.buf && c->t[US_TT_IDLE] == US_TIME_NEVER)
            us_tcp_timer_arm(st, c, US_TT_IDLE, s->now + US_SEC(1));
        c->snd_buf_seq += n;
        c->bytes_acked += n;
    }
    if (c->sacked) {
        /* Data SACKed before (the ACK moves over it now) was delivered then: it grows cwnd
         * no more (Linux counts delivered segments). After an RTO, when ACKs jump over long
         * SACKed runs, counting it again made slow start send bursts of segments marked lost
         * that the peer had, their SACKs having been lost. */
        uint32_t before = us_rangeset_bytes(c->sacked);
        us_rangeset_shift(c->sacked, acked);
        uint32_t below = before - us_rangeset_bytes(c->sacked);
        data_acked = data_acked > below ? data_acked - below : 0;
        us_tcp_rs_trim(&c->sacked);
    }
    c->snd_una = r->ack;
    us_tcp_rack_acked(c);
    if (c->snd_urg && us_seq_geq(c->snd_una, c->snd_up))
        c->snd_urg = false; /* the urgent data arrived: segments stop carrying URG */
    if (us_seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una; /* a window probe byte was taken */
    c->backoff = 0;
    if (c->rto_loss && us_seq_geq(r->ack, c->recover))
        c->rto_loss = false; /* everything outstanding at the timeout has arrived */
    if (c->in_recovery) {
        if (us_seq_geq(r->ack, c->recover)) { /* RFC 6582 3.2 step 3: full acknowledgment */
            uint32_t flight = c->snd_max - c->snd_una;
            c->cwnd = c->sack_ok ? c->ssthresh
                                 : US_MIN(c->ssthresh, US_MAX(flight, (uint32_t)c->mss) + c->mss);
            c->in_recovery = false;
            c->tlp_lost = false;
            c->dupacks = 0;
            us_tcp_episode_recovered(c);
        } else if (c->sack_ok) {
            /* RFC 6675 and RFC 6937: the pipe sends the next hole, PRR sets cwnd
             * (us_tcp_episode_ack). */
        } else { /* partial acknowledgment: retransmit the next hole, deflate */
            us_tcp_retransmit_head(st, c, s->now);
            c->cwnd = c->cwnd > acked ? c->cwnd - acked : c->mss;
            if (acked >= c->mss)
                c->cwnd += c->mss;
        }
    } else {
        c->dupacks = 0;
        /* RFC 3168 6.1.2: no growth for the ACKs of a window reduced by an ECN-Echo (Linux's CWR
         * state) */
        if (data_acked && us_tcp_cwnd_in_use(c) && !c->ecn_cwr_wnd)
            us_tcp_cc(c)->on_ack(c, data_acked, s->now);
    }
    /* RFC 6298 5.2, 5.3; RFC 8985 7.2: the probe timeout, where one may go, in the RTO's place. */
    if (c->snd_una == c->snd_max) {
        us_tcp_timer_stop(c, US_TT_RTO);
        c->tlp_pto = c->rack_reo = false;
    } else if (!us_tcp_tlp_arm(st, c, s->now, s->now + c->rto)) {
        us_tcp_rto_arm(st, c, s->now + c->rto);
    }
}

/* RFC 2018 / RFC 6675 4: record the peer's SACK blocks in the scoreboard (relative to
 * SND.UNA). Blocks at or below SND.UNA (D-SACK) or beyond SND.MAX are ignored. Returns whether
 * the scoreboard learned something. */
static bool
sack_update(struct us_tcp_conn *c, const struct us_tcp_repr *r)
{
    bool news = false;
    for (uint8_t i = 0; i < r->n_sack; i++) {
        us_seq_t a = r->sack[i].start, b = r->sack[i].end;
        if (!us_seq_lt(a, b) || us_seq_leq(b, r->ack) || us_seq_leq(b, c->snd_una) ||
            us_seq_gt(b, c->snd_max))
            continue;
        if (us_seq_lt(a, c->snd_una))
            a = c->snd_una;
        struct us_rangeset *sb = us_tcp_rs_get(&c->sacked);
        if (!sb)
            break;
        uint32_t before = us_rangeset_bytes(sb);
        if (us_rangeset_add(sb, a - c->snd_una, b - c->snd_una) == 0 &&
            us_rangeset_bytes(sb) != before)
            news = true;
    }
    us_tcp_rs_trim(&c->sacked);
    return news;
}

/* The ACK stopped at data the peer had SACKed: it dropped that data (RFC 2018 8 lets a receiver
 * renege). The scoreboard no longer tells what the peer holds: it goes, and the retransmission
 * timer, set to what Linux's tcp_check_sack_reneging allows (SRTT / 16, at least 10 ms), resends
 * from SND.UNA unless an ACK comes first. */
static void
sack_reneged(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    us_stat_inc(st, US_STAT_TCP_SACK_RENEGING);
    free(c->sacked);
    c->sacked = NULL;
    us_tcp_rack_forget(c);
    us_tcp_rto_arm(st, c, now + US_MAX(c->srtt / 16, US_MSEC(10)));
    char a[16];
    US_TRACE(st, "tcp: %s:%u the peer dropped data it had SACKed: scoreboard cleared",
             us_ip4_ntoa(c->raddr, a), (unsigned)c->rport);
}

/* RFC 8985 7.4.1: the loss probe (the highest segment when it went out, or its last data byte
 * if it carried the FIN) has been SACKed. */
static bool
tlp_probe_sacked(const struct us_tcp_conn *c)
{
    if (!c->tlp_out || !c->sacked || !us_seq_gt(c->tlp_end, c->snd_una))
        return false;
    return c->sacked->r[c->sacked->n - 1].end + 1 >= c->tlp_end - c->snd_una;
}

/* RFC 6675 IsLost(SND.UNA): more than (DupThresh - 1) * SMSS bytes SACKed above it; or (RFC 8985
 * 6.2 in the one case we can tell without per-segment send times) SACKed data includes the loss
 * probe, which went out at least a PTO after everything below it. Only without RACK's records:
 * with them RACK alone decides (us_tcp_rack_detect), as Linux's tcp_time_to_recover. */
static bool
sack_head_lost(const struct us_tcp_conn *c)
{
    return c->sacked && (us_rangeset_bytes(c->sacked) > 2u * c->mss || tlp_probe_sacked(c));
}

/* RFC 8985 7.4.2: the loss probe repaired a lost tail. Congestion control must hear of that loss
 * as if a fast recovery had begun and ended at once (Linux: TCPLossProbeRecovery). */
void
us_tcp_tlp_repaired(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    c->tlp_out = false;
    c->ssthresh = us_tcp_cc(c)->on_loss(c, now);
    c->cwnd = US_MIN(c->cwnd, c->ssthresh);
    us_stat_inc(st, US_STAT_TCP_TLP_LOSS);
    char a[16];
    US_TRACE(st, "tcp: %s:%u the loss probe repaired a lost tail: cwnd %u ssthresh %u",
             us_ip4_ntoa(c->raddr, a), (unsigned)c->rport, (unsigned)c->cwnd,
             (unsigned)c->ssthresh);
}

/* RFC 8985 7.4: what an ACK at or past the probe says about it. A probe of new data needs no
 * verdict. A resent segment that arrived twice (a D-SACK of it, RFC 2883, or a plain duplicate
 * ACK from a receiver without D-SACK) repaired nothing. An ACK beyond it with no such sign says
 * the probe repaired a lost tail. An ACK exactly at it waits for the next. */
static void
tlp_ack(struct us_stack *st, struct us_tcp_conn *c, const struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    if (!c->tlp_out || us_seq_lt(r->ack, c->tlp_end))
        return;
    bool dsack = r->n_sack && r->sack[0].end == c->tlp_end && us_seq_leq(r->sack[0].end, r->ack);
    if (c->tlp_rtx && dsack) /* RFC 8985 7.4.1: both copies arrived: the probe was spurious */
        us_stat_inc(st, US_STAT_TCP_TLP_SPURIOUS);
    if (!c->tlp_rtx || dsack)
        c->tlp_out = false;
    else if (us_seq_gt(r->ack, c->tlp_end))
        us_tcp_tlp_repaired(st, c, s->now);
    else if (r->ack == c->snd_una && r->n_sack == 0 && s->len == 0)
        c->tlp_out = false;
}

/* Fast recovery (RFC 6675 with SACK, else RFC 6582). `timed`: the probe timeout found SACKed data
 * above holes (us_tcp_tlp_fired). */
void
us_tcp_enter_recovery(struct us_stack *st, struct us_tcp_conn *c, bool timed, us_time_t now)
{
    const struct us_cc_ops *cc = us_tcp_cc(c);
    us_tcp_episode_begin(st, c, false);
    /* RFC 3168 6.1.2: one reduction for a window's CE marks and losses together (Linux keeps the
     * ssthresh of its CWR state too). */
    if (!(c->ecn_cwr_wnd && us_seq_lt(c->snd_una, c->recover)))
        c->ssthresh = cc->on_loss(c, now);
    c->ecn_cwr_wnd = false;
    c->ecn_cwr = c->ecn_ok; /* 6.1.2: CWR after any reduction */
    c->recover = c->snd_max;
    c->in_recovery = true;
    c->high_rxt = c->snd_una;
    c->rtx_mark = c->snd_max;
    us_stat_inc(st, US_STAT_TCP_FAST_RETRANS);
    /* RFC 8985 7.1: recovery ends the probe episode. Every hole below a SACKed probe (tlp_end
     * stays its end), or, when the probe timeout found SACKed data, below the highest SACKed
     * byte, is lost for this recovery: it went out at least a PTO before, and ahead of, data
     * that has arrived (RACK's inference, RFC 8985 6.2, without per-segment send times). */
    bool by_probe = !c->rack && tlp_probe_sacked(c);
    c->tlp_out = false;
    c->tlp_lost = !c->rack && (by_probe || (timed && c->sacked));
    if (c->tlp_lost) {
        if (!by_probe)
            c->tlp_end = c->snd_una + c->sacked->r[c->sacked->n - 1].end;
        us_stat_inc(st, US_STAT_TCP_TLP_LOSS);
    }
    if (c->tlp_pto) /* a probe timeout armed before the SACKs came: the RTO again */
        us_tcp_rto_arm(st, c, now + c->rto);
    char a[16];
    if (c->sack_ok) {
        /* RFC 6937 instead of RFC 6675 5 step 4 (cwnd = ssthresh at once): cwnd follows what
         * the ACKs deliver, down to ssthresh; the pipe decides what goes out. */
        us_tcp_prr_start(c);
        US_TRACE(st, "tcp: %s:%u loss detected (%s) -> recovery, cwnd %u ssthresh %u",
                 us_ip4_ntoa(c->raddr, a), (unsigned)c->rport,
                 c->rack     ? "RACK"
                 : by_probe ? "SACK of the loss probe"
                 : timed    ? "SACKed data past holes at the probe timeout"
                            : "SACK",
                 (unsigned)c->cwnd,
                 (unsigned)c->ssthresh);
        us_tcp_output(st, c, now);
        return;
    }
    c->cwnd = c->ssthresh + 3u * c->mss; /* RFC 6582 */
    US_TRACE(st, "tcp: %s:%u 3 duplicate ACKs -> fast retransmit seq %u, cwnd %u ssthresh %u",
             us_ip4_ntoa(c->raddr, a), (unsigned)c->rport, (unsigned)(c->snd_una - c->iss),
             (unsigned)c->cwnd, (unsigned)c->ssthresh);
    us_tcp_retransmit_head(st, c, now);
}

/* RFC 5681 3.2 duplicate ACK handling with RFC 3042 limited transmit and RFC 6582 recovery. */
static void
dup_ack(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    c->dupacks++;
    us_stat_inc(st, US_STAT_TCP_DUPACKS);
    if (c->in_recovery) {
        if (!c->sack_ok)
            c->cwnd += c->mss; /* RFC 6582: inflate, a segment left the network */
        return;
    }
    if (!c->rack && (c->dupacks >= 3 || sack_head_lost(c)) && us_tcp_recover_passed(c))
        us_tcp_enter_recovery(st, c, false, s->now);
}

/* RFC 9293 3.10.7.4 eighth: a FIN beyond a hole waits with the out-of-order data until the hole
 * fills (as Linux keeps it on its out-of-order queue). Its sequence number is not stored: while
 * rcv_fin_ooo is set, the last byte of the out-of-order set's last range stands for it (a byte
 * that is never written to the ring), so SACK blocks cover the FIN as Linux's do. Its offset
 * from RCV.NXT: */
static uint32_t
held_fin_off(const struct us_tcp_conn *c)
{
    return c->ooo->r[c->ooo->n - 1].end - 1;
}

/* How many of len bytes at offset off lie before a held FIN (all of them when none is held):
 * nothing follows a FIN in the stream. */
static uint32_t
before_held_fin(const struct us_tcp_conn *c, uint32_t off, uint32_t len)
{
    if (!c->rcv_fin_ooo)
        return len;
    uint32_t f = held_fin_off(c);
    return off >= f ? 0 : US_MIN(len, f - off);
}

/* In-order bytes at the front of the out-of-order set become readable; returns how many.
 * *fin: the held FIN came in order with them (RCV.NXT is left at it, not past it). */
static uint32_t
rcv_take_front(struct us_tcp_conn *c, bool *fin)
{
    *fin = false;
    if (!c->ooo)
        return 0;
    uint32_t n = us_rangeset_pop_front(c->ooo);
    if (n && c->rcv_fin_ooo && c->ooo->n == 0) { /* that range ended with the FIN */
        c->rcv_fin_ooo = false;
        *fin = true;
        n--;
    }
    if (n) {
        us_ring_commit(&c->rcvbuf, n);
        c->rcv_nxt += n;
        c->bytes_received += n;
        us_rangeset_shift(c->ooo, n); /* the rest stays relative to RCV.NXT */
    }
    us_tcp_rs_trim(&c->ooo);
    return n;
}

/* The handshake completed: text queued from the SYN (syn_text_queue) is processed now, before
 * the segment at hand, which is cut to what it adds beyond it (it is often the same text sent
 * again). In SYN-RECEIVED nothing else reaches the out-of-order set: a segment gets past
 * check_ack only by completing the handshake. */
static void
syn_text_release(struct us_tcp_conn *c, struct seg *s)
{
    bool fin; /* never: no FIN is held before the handshake ends (process_fin runs after it) */
    if (rcv_take_front(c, &fin) == 0)
        return;
    c->ack_now = true;
    trim_front(&s->r, c->rcv_nxt);
    s->len = seg_len(&s->r);
}

/* RFC 3168 6.1.2, the sender: an acceptable ACK with ECE reduces cwnd as a loss would, once per
 * window of data: not again before SND.UNA passes `recover`, which also holds back a reduction
 * within the window of a fast recovery or an RTO. The next new data segment carries CWR. When
 * cwnd is one segment already, the retransmission timer restarts instead, so the next segment
 * waits for it (MUST). Runs before the ACK moves SND.UNA: an ACK that completes the reduced
 * window does not grow cwnd either (ack_new_data). */
static void
ecn_echo(struct us_stack *st, struct us_tcp_conn *c, const struct seg *s)
{
    if (!c->ecn_ok)
        return;
    if (c->ecn_cwr_wnd && us_seq_geq(c->snd_una, c->recover))
        c->ecn_cwr_wnd = false;
    if (!(s->r.flags & US_TCP_ECE))
        return;
    us_stat_inc(st, US_STAT_TCP_ECN_ECE_IN);
    /* (with our CWR not sent yet, or nothing in flight, it can only echo a mark already
     * answered) */
    if (c->in_recovery || !us_seq_geq(c->snd_una, c->recover) || c->ecn_cwr ||
        c->snd_max == c->snd_una)
        return;
    bool one = c->cwnd <= c->mss;
    us_tcp_ecn_reduce(c, s->now);
    c->recover = c->snd_max;
    c->ecn_cwr_wnd = true;
    c->ecn_cwr = true;
    us_stat_inc(st, US_STAT_TCP_ECN_CWND_REDUCED);
    if (one)
        us_tcp_rto_arm(st, c, s->now + c->rto);
    char a[16];
    US_TRACE(st, "tcp: %s:%u ECN-Echo: cwnd %u ssthresh %u until seq %u", us_ip4_ntoa(c->raddr, a),
             (unsigned)c->rport, (unsigned)c->cwnd, (unsigned)c->ssthresh,
             (unsigned)(c->recover - c->iss));
}

/* RFC 3168 6.1.3, the receiver: a CE mark on an acceptable segment sets ECE on every segment we
 * send until the peer's CWR; the CWR is taken first, so a CE on the CWR segment itself starts
 * the echo again. The first CE is acknowledged at once (a sender with a small cwnd waits for
 * it), and so is data with CWR, as Linux's tcp_ecn_check_ce and tcp_ecn_accept_cwr. */
static void
ecn_input(struct us_stack *st, struct us_tcp_conn *c, const struct seg *s)
{
    if (!c->ecn_ok)
        return;
    bool data = s->r.payload_len > 0;
    if (s->r.flags & US_TCP_CWR) {
        c->ecn_ece = false;
        c->ack_now |= data;
    }
    if ((s->rx->ip.tos & US_IP_ECN_MASK) == US_IP_ECN_CE) {
        us_stat_inc(st, US_STAT_TCP_ECN_CE_IN);
        c->ack_now |= data && !c->ecn_ece;
        c->ecn_ece = true;
    }
}

static enum verdict
check_ack(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    if (!(r->flags & US_TCP_ACK))
        return V_DROP;
    if (c->state == US_TCPS_SYN_RECEIVED) {
        if (!(us_seq_lt(c->snd_una, r->ack) && us_seq_leq(r->ack, c->snd_max))) {
            us_tcp_send_rst_for(st, s->rx, r, s->now);
            return V_DROP;
        }
        if (c->listener && c->listener->lsn->acc_count >= c->listener->lsn->backlog) {
            us_drop(st, US_DROP_TCP_LISTEN_OVERFLOW); /* Linux: drop, the peer retransmits */
            return V_DROP;
        }
        c->snd_wnd = (uint32_t)r->wnd << c->snd_wscale;
        c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = r->seq;
        c->snd_wl2 = r->ack;
        us_tcp_set_state(st, c, US_TCPS_ESTABLISHED, "handshake complete");
        if (c->listener)
            us_tcp_child_established(st, c);
        if (c->keepalive)
            us_tcp_timer_arm(st, c, US_TT_KEEP, s->now + US_SEC(c->keep_idle));
        syn_text_release(c, s);
        /* the SYN-ACK is acknowledged below like any data */
    }
    /* RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]. */
    if (us_seq_gt(r->ack, c->snd_max)) {
        us_drop(st, US_DROP_TCP_BAD_ACK);
        return V_DROP_ACK;
    }
    if (us_seq_lt(r->ack, c->snd_una - c->max_snd_wnd)) {
        us_drop(st, US_DROP_TCP_BAD_ACK);
        challenge_ack(st, c, s->now);
        return V_DROP;
    }
    bool window_update = false;
    uint32_t new_wnd = (uint32_t)r->wnd << c->snd_wscale;
    us_seq_t una0 = c->snd_una; /* for the loss episode: what this ACK delivered */
    uint32_t sacked0 = c->sacked ? us_rangeset_bytes(c->sacked) : 0;
    bool rtx0 = us_tcp_episode_rtx_sent(c);
    bool sack_news = c->sack_ok && r->n_sack && sack_update(c, r);
    uint32_t newly_sacked = sack_news && c->sacked ? us_rangeset_bytes(c->sacked) - sacked0 : 0;
    bool rack = c->rack != NULL; /* RFC 8985 6.2 decides; else RFC 6675 and the dupacks */
    if (!rack && sack_news && c->in_recovery && c->sacked && us_seq_gt(c->high_rxt, c->snd_una) &&
        us_seq_gt(c->snd_una + c->sacked->r[c->sacked->n - 1].end, c->rtx_mark)) {
        /* Data sent after our last retransmission has arrived, yet the holes we resent are
         * still holes: those retransmissions were lost too. Resend them now rather than wait
         * for the RTO (the idea of Linux's lost-retransmit detection; RFC 8985 does it by time). */
        c->high_rxt = c->snd_una;
        c->rtx_mark = c->snd_max;
        us_stat_inc(st, US_STAT_TCP_LOST_RETRANS);
    }
    ecn_echo(st, c, s);
    tlp_ack(st, c, s);
    if (rack)
        us_tcp_rack_ack(st, c, r, s->now);
    if (us_seq_gt(r->ack, c->snd_una)) {
        ack_new_data(st, c, s);
        if (c->sacked && c->sacked->r[0].start == 0)
            sack_reneged(st, c, s->now);
        if (!rack && sack_news && !c->in_recovery && sack_head_lost(c) &&
            us_tcp_recover_passed(c))
            us_tcp_enter_recovery(st, c, false, s->now);
    } else if (r->ack == c->snd_una && s->len == 0 && c->snd_max != c->snd_una && new_wnd != 0 &&
               (new_wnd == c->snd_wnd || sack_news)) {
        /* (a zero window makes answers to our window probes look like duplicates: they are
         * not a loss signal, and a retransmission could not go out anyway) */
        dup_ack(st, c, s);
    }
    /* Data newly SACKed was delivered too: with an ACK that also moves SND.UNA (in-order
     * delivery, RFC 5681's condition for growth) and outside fast recovery (PRR's), it grows
     * cwnd as the data newly acknowledged does, as Linux counts delivered segments
     * (tcp_may_raise_cwnd), so slow start after an RTO is not slower for the holes' SACKs.
     * ack_new_data counted the rest, SACKed data once only. */
    if (newly_sacked && us_seq_gt(c->snd_una, una0) && !c->in_recovery &&
        us_tcp_cwnd_in_use(c) && !c->ecn_cwr_wnd)
        us_tcp_cc(c)->on_ack(c, newly_sacked, s->now);
    uint32_t newly_lost = rack ? us_tcp_rack_detect(st, c, r, s->now) : 0;
    if (c->ep) {
        int64_t delivered = (int64_t)(c->snd_una - una0) +
                            (int64_t)(c->sacked ? us_rangeset_bytes(c->sacked) : 0) - sacked0;
        us_tcp_episode_ack(st, c, r, una0, rtx0, delivered > 0 ? (uint32_t)delivered : 0,
                           newly_lost);
    }
    /* Window update (3.10.7.4, SND.WL1/WL2 guard against old segments). */
    if (us_seq_lt(c->snd_wl1, r->seq) || (c->snd_wl1 == r->seq && us_seq_leq(c->snd_wl2, r->ack))) {
        window_update = new_wnd != c->snd_wnd;
        c->snd_wnd = new_wnd;
        c->max_snd_wnd = US_MAX(c->max_snd_wnd, new_wnd);
        c->snd_wl1 = r->seq;
        c->snd_wl2 = r->ack;
    }
    if (window_update && (c->snd_wnd == 0 || new_wnd == c->max_snd_wnd) && us_trace_on(st)) {
        char a[16];
        US_TRACE(st, "tcp: %s:%u peer window %s %u", us_ip4_ntoa(c->raddr, a), (unsigned)c->rport,
                 c->snd_wnd ? "opened to" : "closed:", (unsigned)c->snd_wnd);
    }
    if (window_update && c->snd_wnd > 0 && c->t[US_TT_PERSIST] != US_TIME_NEVER) {
        us_tcp_timer_stop(c, US_TT_PERSIST);
        c->backoff = 0;
    }
    switch (c->state) {
    case US_TCPS_FIN_WAIT_1:
        if (our_fin_acked(c)) {
            us_tcp_set_state(st, c, US_TCPS_FIN_WAIT_2, "our FIN acknowledged");
            if (c->fd < 0) /* orphan: don't wait forever for the peer's FIN (Linux fin_timeout) */
                us_tcp_timer_arm(st, c, US_TT_2MSL, s->now + st->cfg.tcp_fin_timeout);
        }
        break;
    case US_TCPS_CLOSING:
        if (our_fin_acked(c))
            enter_time_wait(st, c, s->now, "our FIN acknowledged");
        break;
    case US_TCPS_LAST_ACK:
        if (our_fin_acked(c)) {
            us_tcp_close_conn(st, c, 0, "our FIN acknowledged");
            return V_DONE;
        }
        break;
    default:
        break;
    }
    return V_CONTINUE;
}

/* Receive auto-tuning: if the application drained about half the buffer within one RTT, the
 * window was the limit: double the buffer, up to the socket's limit. */
static void
rcv_autotune(struct us_tcp_conn *c, us_time_t now)
{
    us_time_t rtt = c->srtt ? c->srtt : US_MSEC(100);
    if (now - c->rcv_tune_time < rtt)
        return;
    uint32_t got = c->rcv_nxt - c->rcv_tune_seq;
    if (got * 2 >= c->rcvbuf.cap && c->rcvbuf.cap < c->rcvbuf_max)
        us_ring_set_cap(&c->rcvbuf, US_MIN(c->rcvbuf.cap * 2, c->rcvbuf_max));
    c->rcv_tune_time = now;
    c->rcv_tune_seq = c->rcv_nxt;
}

/* RFC 9293 3.10.7.4 sixth, check the URG bit (only while the peer may still send). */
static void
process_urg(struct us_stack *st, struct us_tcp_conn *c, const struct seg *s)
{
    if (!(s->r.flags & US_TCP_URG))
        return;
    if (c->state == US_TCPS_ESTABLISHED || c->state == US_TCPS_FIN_WAIT_1 ||
        c->state == US_TCPS_FIN_WAIT_2)
        urg_update(st, c, s->up);
}

static void fin_arrived(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);

static void
process_text(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    if (r->payload_len == 0)
        return;
    if (c->state != US_TCPS_ESTABLISHED && c->state != US_TCPS_FIN_WAIT_1 &&
        c->state != US_TCPS_FIN_WAIT_2)
        return; /* 3.10.7.4 seventh: after the peer's FIN, text is ignored */
    uint32_t off = r->seq - c->rcv_nxt;
    uint32_t len = (uint32_t)r->payload_len;
    if (c->rd_shut) { /* SHUT_RD: accept and discard */
        if (off == 0)
            c->rcv_nxt += len;
        c->ack_now = true;
        return;
    }
    len = before_held_fin(c, off, len); /* bytes after the peer's FIN are not the stream's */
    if (off > 0) {
        /* Out of order: keep it at its offset and tell the sender at once (RFC 5681 4.2). */
        c->ack_now = true;
        if (len == 0)
            return;
        for (size_t i = 0; i < us_tcp_rs_n(c->ooo); i++) { /* bytes held already: D-SACK */
            uint32_t a = US_MAX(off, c->ooo->r[i].start), b = US_MIN(off + len, c->ooo->r[i].end);
            if (a < b) {
                dsack_note(st, c, c->rcv_nxt + a, c->rcv_nxt + b);
                break;
            }
        }
        size_t w = us_ring_write_at(&c->rcvbuf, off, r->payload, len);
        struct us_rangeset *ooo = us_tcp_rs_get(&c->ooo);
        if (w < len || !ooo || us_rangeset_add(ooo, off, off + len) < 0)
            us_drop(st, US_DROP_TCP_OOO_FULL);
        us_tcp_rs_trim(&c->ooo);
        return;
    }
    bool had_ooo = c->ooo != NULL, fin = false;
    size_t w = us_ring_write(&c->rcvbuf, r->payload, len);
    if (w < len)
        us_drop(st, US_DROP_TCP_RCVBUF_FULL);
    c->rcv_nxt += (uint32_t)w;
    c->bytes_received += w;
    if (c->ooo) {
        us_rangeset_shift(c->ooo, (uint32_t)w);
        rcv_take_front(c, &fin);
    }
    rcv_autotune(c, s->now);
    /* RFC 1122 4.2.3.2 / RFC 5681 4.2: ACK at least every second full-sized segment, at once
     * when a hole was filled, else within the delayed-ACK time. A GSO super-segment from a TAP
     * counts as the full-sized segments it carries (Linux ACKs each GRO packet likewise). */
    uint32_t segs = c->rcv_mss && len >= 2u * c->rcv_mss ? len / c->rcv_mss : 1;
    c->unacked_segs = (uint16_t)US_MIN(c->unacked_segs + segs, 0xffffu);
    if (had_ooo) {
        c->ack_now = true;
    } else if (c->unacked_segs >= 2 && len >= c->rcv_mss / 2) {
        c->ack_now = true;
    } else if (c->t[US_TT_DELACK] == US_TIME_NEVER) {
        us_tcp_timer_arm(st, c, US_TT_DELACK, s->now + st->cfg.tcp_delack);
    }
    if (fin) /* the hole before a held FIN is filled: the FIN is in order now */
        fin_arrived(st, c, s->now);
}

/* RFC 9293 3.10.7.4 eighth, a FIN in order: RCV.NXT passes it, the reader gets end-of-file
 * after the data, and the state moves on. */
static void
fin_arrived(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (c->rcv_urg && us_seq_gt(c->rcv_up, c->rcv_nxt)) {
        /* An urgent pointer past the end of the stream (3.8.5: "robust to invalid urgent
         * pointer values"): the urgent data ends with the last byte. */
        c->rcv_up = c->rcv_nxt;
        c->rcv_urg = us_seq_gt(c->rcv_up, us_tcp_read_seq(c));
    }
    if (c->ooo) { /* held beyond the FIN (a peer that moved its FIN): never part of the stream */
        free(c->ooo);
        c->ooo = NULL;
        c->rcv_fin_ooo = false;
    }
    c->rcv_nxt++;
    c->rcv_fin = true;
    c->ack_now = true;
    switch (c->state) {
    case US_TCPS_SYN_RECEIVED:
    case US_TCPS_ESTABLISHED:
        us_tcp_set_state(st, c, US_TCPS_CLOSE_WAIT, "FIN received");
        break;
    case US_TCPS_FIN_WAIT_1:
        if (our_fin_acked(c))
            enter_time_wait(st, c, now, "FIN received");
        else
            us_tcp_set_state(st, c, US_TCPS_CLOSING, "FIN received (simultaneous close)");
        break;
    case US_TCPS_FIN_WAIT_2:
        enter_time_wait(st, c, now, "FIN received");
        break;
    default:
        break;
    }
}

/* RFC 9293 3.10.7.4 eighth, a FIN beyond a hole (bare, or ending out-of-order data; off is its
 * offset from RCV.NXT): kept until the hole fills. RFC 5681 4.2: like any out-of-order
 * segment it draws an immediate duplicate ACK, whose SACK block covers it. */
static void
hold_fin(struct us_stack *st, struct us_tcp_conn *c, uint32_t off)
{
    c->ack_now = true;
    if (c->rd_shut || c->rcv_fin_ooo)
        return; /* SHUT_RD keeps nothing out of order; a FIN held already stands */
    struct us_rangeset *q = us_tcp_rs_get(&c->ooo);
    if (q && q->n > 0 && q->r[q->n - 1].end > off) {
        us_drop(st, US_DROP_TCP_OOO_FULL); /* data held beyond it: not the peer's last FIN */
        return;
    }
    if (!q || us_rangeset_add(q, off, off + 1) < 0) {
        us_drop(st, US_DROP_TCP_OOO_FULL); /* not kept: the peer sends it again */
        us_tcp_rs_trim(&c->ooo);
        return;
    }
    c->rcv_fin_ooo = true;
}

static void
process_fin(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    if (!(r->flags & US_TCP_FIN))
        return;
    if (c->rcv_fin) {
        c->ack_now = true; /* a retransmitted FIN */
        if (c->state == US_TCPS_TIME_WAIT)
            us_tcp_timer_arm(st, c, US_TT_2MSL, s->now + 2 * st->cfg.tcp_msl);
        return;
    }
    us_seq_t fin = r->seq + (uint32_t)r->payload_len;
    if (us_seq_lt(fin, c->rcv_nxt)) /* before bytes taken already: no FIN of this stream */
        c->ack_now = true;
    else if (fin != c->rcv_nxt)
        hold_fin(st, c, fin - c->rcv_nxt);
    else
        fin_arrived(st, c, s->now);
}

static void
synchronized_input(struct us_stack *st, struct us_tcp_conn *c, struct seg *s)
{
    /* Duplicate SYN from a peer whose SYN-ACK got lost: resend ours at once (as Linux). */
    if (c->state == US_TCPS_SYN_RECEIVED && (s->r.flags & US_TCP_SYN) &&
        !(s->r.flags & US_TCP_ACK) && s->r.seq == c->irs) {
        if (c->ts_ok && s->r.has_ts) { /* echo the retransmitted SYN's time, not the first's */
            c->ts_recent = s->r.ts_val;
            c->ts_recent_age = (uint32_t)(s->now / US_NSEC_PER_SEC);
        }
        us_tcp_retransmit_head(st, c, s->now);
        return;
    }
    enum verdict v = check_seq(st, c, s);
    if (v == V_CONTINUE)
        v = check_rst(st, c, s);
    if (v == V_DONE)
        return; /* c may be gone */
    if (v == V_CONTINUE)
        v = check_syn(st, c, s);
    if (v == V_CONTINUE)
        v = check_ack(st, c, s);
    if (v == V_DONE)
        return;
    if (v == V_DROP_ACK) {
        /* Like Linux's tcp_invalid_ratelimit: at most one such ACK per 500 ms for segments
         * without data, so two confused ends cannot ping-pong ACKs forever. */
        uint32_t now_ms = us_tcp_stamp_ms(s->now);
        if (s->r.payload_len == 0 && c->last_oow_ack_ms && now_ms - c->last_oow_ack_ms < 500) {
            us_stat_inc(st, US_STAT_TCP_OOW_ACK_LIMITED);
            return;
        }
        c->last_oow_ack_ms = now_ms;
        us_tcp_send_ack(st, c, s->now);
        return;
    }
    if (v == V_DROP)
        return;
    /* PAWS bookkeeping (RFC 7323 4.3): remember the timestamp of in-order segments. */
    if (c->ts_ok && s->r.has_ts && us_seq_leq(s->r.seq, c->rcv_nxt) &&
        us_seq_geq(s->r.ts_val, c->ts_recent)) {
        c->ts_recent = s->r.ts_val;
        c->ts_recent_age = (uint32_t)(s->now / US_NSEC_PER_SEC);
    }
    c->last_rx = s->now;
    c->keep_probes = 0;
    ecn_input(st, c, s);
    if (c->keepalive && c->state == US_TCPS_ESTABLISHED)
        us_tcp_timer_arm(st, c, US_TT_KEEP, s->now + US_SEC(c->keep_idle));
    process_urg(st, c, s);
    process_text(st, c, s);
    process_fin(st, c, s);
    us_tcp_check_invariants(c);
    us_tcp_output(st, c, s->now);
}

/* An orphan in TIME-WAIT becomes a record (tcp_tw.c); if it cannot, it stays a block and its
 * 2*MSL timer is queued as for any other. */
static void
time_wait_compact(struct us_stack *st, struct us_tcp_conn *c)
{
    if (!us_tcp_tw_enter(st, c))
        us_tcp_timer_arm(st, c, US_TT_2MSL, c->t[US_TT_2MSL]);
}

/* RFC 9293 3.10.7.4 / RFC 6191: a new SYN may reopen a connection in TIME-WAIT if it cannot be
 * confused with the old one: its sequence number (or timestamp) is beyond the old one's. */
static bool
time_wait_reopen(struct us_stack *st, struct us_tcp_conn *c, const struct seg *s)
{
    const struct us_tcp_repr *r = &s->r;
    if (c->state != US_TCPS_TIME_WAIT || (r->flags & (US_TCP_SYN | US_TCP_ACK | US_TCP_RST)) != US_TCP_SYN)
        return false;
    bool newer = (c->ts_ok && r->has_ts) ? us_seq_gt(r->ts_val, c->ts_recent)
                                         : us_seq_gt(r->seq, c->rcv_nxt);
    if (!newer || !us_tcp_lookup_listener(st, c->laddr, c->lport))
        return false;
    us_stat_inc(st, US_STAT_TCP_TW_REOPEN);
    us_tcp_close_conn(st, c, 0, "new SYN reuses the 4-tuple");
    return true;
}

void
us_tcp_input(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now)
{
    struct seg s; /* every field is set below (the parser fills s.r): no zeroing twice */
    s.rx = rx;
    s.now = now;
    us_stat_inc(st, US_STAT_TCP_IN_SEGS);
    int err = us_wire_tcp_parse(&s.r, rx->ip.payload, rx->ip.payload_len, rx->ip.src, rx->ip.dst,
                                !rx->l4_csum_ok);
    if (err) {
        us_drop(st, (enum us_drop_reason)err);
        return;
    }
    if (rx->to_bcast || us_ip4_is_mcast(rx->ip.dst)) {
        us_drop(st, US_DROP_TCP_BCAST); /* RFC 1122 4.2.3.10: TCP is unicast only */
        return;
    }
    s.len = seg_len(&s.r);
    s.up = s.r.seq + s.r.urg_ptr;
    struct us_tcp_conn *c = us_tcp_lookup(st, rx->ip.dst, s.r.dst_port, rx->ip.src, s.r.src_port);
    if (us_trace_on(st)) {
        char a[16];
        uint8_t f = s.r.flags;
        US_TRACE(st, "tcp: <- %s:%u [%s%s%s%s%s%s] seq %u ack %u win %u len %zu%s%s",
                 us_ip4_ntoa(rx->ip.src, a), (unsigned)s.r.src_port, f & US_TCP_SYN ? "S" : "",
                 f & US_TCP_FIN ? "F" : "", f & US_TCP_RST ? "R" : "", f & US_TCP_PSH ? "P" : "",
                 f & US_TCP_URG ? "U" : "", f & US_TCP_ACK ? "." : "",
                 (unsigned)(c ? s.r.seq - c->irs : s.r.seq),
                 (unsigned)(c ? s.r.ack - c->iss : s.r.ack), (unsigned)s.r.wnd, s.r.payload_len,
                 c ? " -> " : "", c ? us_tcp_state_name(c->state) : "");
        for (uint8_t i = 0; c && i < s.r.n_sack; i++)
            US_TRACE(st, "tcp:    sack %u-%u", (unsigned)(s.r.sack[i].start - c->iss),
                     (unsigned)(s.r.sack[i].end - c->iss));
    }
    if (!c) {
        struct us_tcp_tw *w = us_tcp_tw_lookup(st, rx->ip.dst, s.r.dst_port, rx->ip.src,
                                               s.r.src_port);
        if (w && !(c = us_tcp_tw_inflate(st, w))) {
            us_drop(st, US_DROP_TCP_NO_MEM);
            return;
        }
    }
    if (c && time_wait_reopen(st, c, &s))
        c = NULL;
    if (!c) {
        struct us_tcp_conn *l = us_tcp_lookup_listener(st, rx->ip.dst, s.r.dst_port);
        if (l) {
            listen_input(st, l, &s);
            return;
        }
        /* 3.10.7.1 CLOSED: everything but a RST gets a RST. */
        us_drop(st, US_DROP_TCP_NO_SOCKET);
        us_tcp_send_rst_for(st, rx, &s.r, now);
        return;
    }
    uint32_t id = c->id, gen = c->gen;
    bool orphan = c->fd < 0; /* (only the user's close changes that, never input) */
    if (c->state == US_TCPS_SYN_SENT)
        syn_sent_input(st, c, &s);
    else
        synchronized_input(st, c, &s);
    /* A D-SACK this segment earned went out with the ACK it triggered, or not at all: none may
     * ride on a later segment (of this or, once the block is reused, another connection). */
    st->tcp->dsack_conn = NULL;
    /* Data, a FIN, urgent data, ACKed send space: whatever the segment changed, the socket
     * layer re-checks the descriptor's readiness (a block with a descriptor is never freed by
     * input, so c is still valid). */
    if (!orphan)
        us_sock_wake(st, c->fd);
    /* An orphan that is (now, or still) in TIME-WAIT goes back to being a compact record. The
     * segment may have freed the block: look it up again. */
    if (orphan) {
        c = us_tcp_conn_by_id(st, id);
        if (c && c->gen == gen && c->state == US_TCPS_TIME_WAIT)
            time_wait_compact(st, c);
    }
}

/* ICMP errors about our segments (RFC 1122 4.2.3.9, RFC 5927 checks, RFC 1191 PMTU). */
void
us_tcp_icmp_error(struct us_stack *st, us_ip4_t laddr, uint16_t lport, us_ip4_t raddr,
                  uint16_t rport, us_seq_t seq, uint8_t type, uint8_t code, uint16_t mtu,
                  us_time_t now)
{
    struct us_tcp_conn *c = us_tcp_lookup(st, laddr, lport, raddr, rport);
    if (!c || !us_seq_in(seq, c->snd_una, c->snd_max + 1)) {
        us_drop(st, US_DROP_ICMP_NO_SOCKET); /* RFC 5927: must quote a segment in flight */
        return;
    }
    if (type == US_ICMP_DEST_UNREACH && code == US_ICMP_UNREACH_NEEDFRAG) {
        uint16_t m = mtu >= 68 ? mtu : 576; /* RFC 1191 5: old routers send 0 */
        /* RFC 9293 3.7.1: Eff.snd.MSS = MTU - 40 - the options every segment carries. c->mss
         * is payload (syn_negotiate takes the 12-byte timestamp option off it), so the same
         * comes off here, as Linux's tcp_sync_mss takes it off tcp_mtu_to_mss; comparing like
         * with like, an ICMP for an MTU the segments already fit changes nothing. */
        uint16_t mss = (uint16_t)(m - US_IP4_HDR_LEN - US_TCP_HDR_LEN);
        if (c->ts_ok)
            mss -= 12;
        if (mss < c->mss) {
            c->mss = mss;
            us_stat_inc(st, US_STAT_TCP_PMTU_LOWERED);
            c->snd_nxt = c->snd_una; /* resend what was too big */
            us_tcp_output(st, c, now);
        }
        return;
    }
    bool hard = type == US_ICMP_DEST_UNREACH &&
                (code == US_ICMP_UNREACH_PROTO || code == US_ICMP_UNREACH_PORT);
    if (c->state == US_TCPS_SYN_SENT && hard) {
        us_tcp_close_conn(st, c, ECONNREFUSED, "ICMP unreachable");
        return;
    }
    /* RFC 1122 4.2.3.9: soft errors do not abort; they explain a later timeout. */
    c->soft_err = type == US_ICMP_TIME_EXCEEDED ? EHOSTUNREACH
                  : code == US_ICMP_UNREACH_NET ? ENETUNREACH
                                                : EHOSTUNREACH;
}

void
us_tcp_icmp_error_quoted(struct us_stack *st, const struct us_icmp_err *e, us_time_t now)
{
    us_tcp_icmp_error(st, e->src, us_load_be16(e->l4), e->dst, us_load_be16(e->l4 + 2),
                      us_load_be32(e->l4 + 4), e->type, e->code, e->mtu, now);
}
