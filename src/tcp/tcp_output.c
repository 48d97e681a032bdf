/* TCP output: deciding what may be sent (windows, Nagle, SWS avoidance), building segments with
 * their options, ACKs and RSTs. Layer: transport. RFC 9293 3.8.6, 3.10.7.1; RFC 1122 4.2.3.4
 * (sender SWS), 4.2.3.3 (receiver SWS); RFC 896 (Nagle); RFC 7323, RFC 2018 (options). */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "tcp/tcp.h"

uint32_t
us_tcp_ts_now(const struct us_tcp_conn *c, us_time_t now)
{
    return (uint32_t)(now / US_NSEC_PER_MSEC) + c->ts_offset; /* RFC 7323 5.4: 1 ms clock */
}

uint16_t
us_tcp_mss_for(struct us_stack *st, us_ip4_t dst)
{
    const struct us_route *r = us_route_lookup(st, dst, NULL);
    uint16_t mtu = r ? r->ifp->mtu : 576;
    return (uint16_t)(mtu - US_IP4_HDR_LEN - US_TCP_HDR_LEN);
}

/* The window to advertise, in bytes, keeping the right edge from moving left (RFC 9293 3.8.6.2.2)
 * and from moving right by less than min(buffer/2, MSS) (RFC 1122 4.2.3.3). After SHUT_RD or
 * close, what arrives is discarded: the whole buffer counts as room, under the same rules (so
 * the window stays where it was, as Linux's does, until it may open by a useful amount). */
uint32_t
us_tcp_rcv_window(const struct us_tcp_conn *c)
{
    uint32_t space = c->rd_shut ? c->rcvbuf.cap : (uint32_t)us_ring_space(&c->rcvbuf);
    uint32_t cur = us_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t limit = 65535u << c->rcv_wscale;
    if (space > limit)
        space = limit;
    if (space <= cur)
        return cur;
    uint32_t step = US_MIN((uint32_t)(c->rcvbuf.cap / 2), (uint32_t)c->rcv_mss);
    if (space - cur < step && cur > 0)
        return cur;
    return space;
}

/* RFC 7323 2.2: the window of a SYN or SYN-ACK is not scaled, so at most 65535. Rounded down
 * to whole segments as Linux's tcp_select_initial_window does (64240 = 44 x 1460; 65160 =
 * 45 x 1448 on a SYN-ACK with timestamps): the peer's first flight then ends on a full segment,
 * not on a runt at the window's edge. The segment is our MSS, less the timestamp option once
 * it is agreed (on a SYN-ACK; a SYN cannot know). */
uint32_t
us_tcp_syn_window(const struct us_tcp_conn *c, bool synack)
{
    uint32_t w = (uint32_t)US_MIN(us_ring_space(&c->rcvbuf), (size_t)65535);
    uint32_t seg = c->rcv_mss - (synack && c->ts_ok ? 12u : 0u);
    return seg > 12 && w > seg ? w - w % seg : w;
}

/* The SACK blocks of a segment. A D-SACK the segment being processed earned (RFC 2883 4) goes
 * first, followed by the held range that contains it, if one does (4.1.2). Then RFC 2018 4: the
 * range holding the segment that triggered this ACK, and after it the most recently reported
 * ones, newest first: the out-of-order ranges in the order they were last added to
 * (us_rangeset_recent), then any others in sequence order. Blocks must not push a segment past
 * the MTU (the MSS already counts the timestamps): a full segment has no room for them, nor has
 * a TSO super-segment, whose headers the device copies onto every full segment it cuts
 * (tcp_emit then owes a pure ACK). */
static void
tcp_fill_sack(struct us_stack *st, struct us_tcp_repr *r, const struct us_tcp_conn *c, size_t len)
{
    size_t room = len < c->mss ? c->mss - len : 0;
    size_t fit = US_MIN(room >= 4 ? (room - 4) / 8 : 0, (size_t)US_TCP_MAX_SACK);
    const struct us_rangeset *ooo = c->ooo;
    size_t n_ooo = us_tcp_rs_n(c->ooo), n = 0;
    size_t order[US_RANGESET_MAX], n_order = 0;
    bool taken[US_RANGESET_MAX] = {false};
    if (st->tcp->dsack_conn == c && fit > 0) {
        us_seq_t ds = st->tcp->dsack_start, de = st->tcp->dsack_end;
        r->sack[n++] = (struct us_tcp_sack_block){ds, de};
        for (size_t i = 0; i < n_ooo; i++)
            if (us_seq_leq(c->rcv_nxt + ooo->r[i].start, ds) &&
                us_seq_leq(de, c->rcv_nxt + ooo->r[i].end)) {
                order[n_order++] = i;
                taken[i] = true;
            }
        st->tcp->dsack_conn = NULL; /* reported once */
        us_stat_inc(st, US_STAT_TCP_DSACK_OUT);
    }
    for (int k, q = 0; n_ooo > 0 && (k = us_rangeset_recent(ooo, (unsigned)q)) >= 0; q++)
        if (!taken[k]) {
            order[n_order++] = (size_t)k;
            taken[k] = true;
        }
    for (size_t i = 0; i < n_ooo; i++)
        if (!taken[i])
            order[n_order++] = i;
    for (size_t j = 0; j < n_order && n < fit; j++)
        r->sack[n++] = (struct us_tcp_sack_block){c->rcv_nxt + ooo->r[order[j]].start,
                                                  c->rcv_nxt + ooo->r[order[j]].end};
    r->n_sack = (uint8_t)n;
}

static void
tcp_fill_options(struct us_stack *st, struct us_tcp_repr *r, const struct us_tcp_conn *c,
                 bool syn, size_t len, us_time_t now)
{
    if (syn) {
        r->has_mss = true;
        r->mss = c->rcv_mss;
        /* On a SYN-ACK, offer only what the peer offered (RFC 7323 1.3, RFC 2018 2). */
        r->has_wscale = c->ws_ok;
        r->wscale = c->rcv_wscale;
        r->sack_ok = c->sack_ok;
        r->has_ts = c->ts_ok;
    } else {
        r->has_ts = c->ts_ok;
    }
    if (r->has_ts) {
        r->ts_val = us_tcp_ts_now(c, now);
        r->ts_ecr = c->ts_recent;
    }
    if (!syn && c->sack_ok && c->state >= US_TCPS_ESTABLISHED &&
        (us_tcp_rs_n(c->ooo) || st->tcp->dsack_conn == c))
        tcp_fill_sack(st, r, c, len);
}

/* RFC 9293 3.8.5: while urgent data is unacknowledged, every segment that starts before SND.UP
 * carries URG and the pointer, an offset from its own sequence number to the byte after the
 * urgent data: also a segment whose data ends before it, a pure ACK or a window probe (the pointer
 * lies beyond them). An offset past 65535 cannot be written; 65535 is sent instead as long as it
 * still points beyond everything sent, so the receiver's mark never falls inside data it has (as
 * Linux's tcp_transmit_skb). Not on a SYN or RST. */
static void
tcp_set_urg(struct us_tcp_repr *r, const struct us_tcp_conn *c)
{
    if (!c->snd_urg || (r->flags & (US_TCP_SYN | US_TCP_RST)) || !us_seq_lt(r->seq, c->snd_up))
        return;
    uint32_t off = c->snd_up - r->seq;
    if (off <= 0xffff) {
        r->urg_ptr = (uint16_t)off;
    } else if (us_seq_gt(r->seq + 0xffff, c->snd_max)) {
        r->urg_ptr = 0xffff;
    } else {
        return;
    }
    r->flags |= US_TCP_URG;
}

/* RFC 3168 6.1: the ECN flags of a segment, and the ECN field IP is to write (returned).
 * - SYN: ECE and CWR when we ask for ECN (6.1.1), but not on a SYN sent again after a timeout
 *   (6.1.1.1, as Linux's tcp_ecn_clear_syn: the peer's SYN-ACK still decides); SYN-ACK: ECE when
 *   the peer's SYN asked and we accept. Never ECT on either.
 * - Otherwise, on a connection that negotiated ECN: ECT(0) on new data only (6.1.2 ECT(0);
 *   6.1.5 not on retransmissions; not on pure ACKs, nor on a window probe, whose byte lies past
 *   the peer's window), with CWR on the first such segment after a window reduction; ECE on
 *   every segment while a CE mark waits for the peer's CWR (6.1.3). Not on a RST. */
static uint8_t
tcp_ecn_flags(struct us_stack *st, struct us_tcp_conn *c, struct us_tcp_repr *r, size_t len)
{
    if (!c->ecn_ok || (r->flags & US_TCP_RST))
        return US_IP_ECN_NOT_ECT;
    if (r->flags & US_TCP_SYN) {
        if (r->flags & US_TCP_ACK)
            r->flags |= US_TCP_ECE;
        else if (c->backoff == 0)
            r->flags |= US_TCP_ECE | US_TCP_CWR;
        else
            us_stat_inc(st, US_STAT_TCP_ECN_SYN_FALLBACK);
        return US_IP_ECN_NOT_ECT;
    }
    uint8_t ecn = US_IP_ECN_NOT_ECT;
    if (c->ecn_ece) {
        r->flags |= US_TCP_ECE;
        us_stat_inc(st, US_STAT_TCP_ECN_ECE_OUT);
    }
    if (len > 0 && us_seq_geq(r->seq, c->snd_max) && us_seq_lt(r->seq, c->snd_una + c->snd_wnd)) {
        ecn = US_IP_ECN_ECT0;
        if (c->ecn_cwr) {
            r->flags |= US_TCP_CWR;
            c->ecn_cwr = false;
            us_stat_inc(st, US_STAT_TCP_ECN_CWR_OUT);
        }
    }
    return ecn;
}

/* Builds and sends one segment: `len` data bytes from the send buffer at sequence `seq`.
 * Returns 0 or -errno. */
static int
tcp_emit(struct us_stack *st, struct us_tcp_conn *c, us_seq_t seq, uint8_t flags, size_t len,
         us_time_t now)
{
    bool syn = flags & US_TCP_SYN;
    struct us_tcp_repr r = {.src_port = c->lport, .dst_port = c->rport, .seq = seq,
                            .flags = flags};
    if (flags & US_TCP_ACK)
        r.ack = c->rcv_nxt;
    uint32_t win = syn ? us_tcp_syn_window(c, flags & US_TCP_ACK) : us_tcp_rcv_window(c);
    r.wnd = (uint16_t)US_MIN(syn ? win : win >> c->rcv_wscale, 65535u);
    tcp_set_urg(&r, c);
    uint8_t ecn = tcp_ecn_flags(st, c, &r, len);
    tcp_fill_options(st, &r, c, syn, len, now);
    size_t hl = us_wire_tcp_hdr_len(&r);
    struct us_pkt *pkt = us_pkt_alloc(st->pools, hl + len);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        if ((r.flags & US_TCP_CWR) && !syn)
            c->ecn_cwr = true; /* still owed */
        return -ENOBUFS;
    }
    /* With offload the payload stays in the send buffer: the pkt borrows it (at most two
     * pieces, the ring may wrap) and the device gathers it; otherwise it is copied out and
     * summed on the way (one pass). */
    uint8_t *h = us_pkt_put(pkt, c->tso ? hl : hl + len);
    uint32_t psum = 0;
    size_t off = seq - c->snd_buf_seq, done = 0;
    while (done < len) {
        const uint8_t *src;
        size_t run = US_MIN(us_ring_view(&c->sndbuf, off + done, &src), len - done);
        US_ASSERT(run > 0 && pkt->n_ext < 2);
        if (run == 0 || pkt->n_ext == 2)
            break;
        if (c->tso) {
            pkt->ext[pkt->n_ext].p = src;
            pkt->ext[pkt->n_ext++].len = run;
        } else {
            uint32_t s = us_csum_copy(h + hl + done, src, run, 0);
            psum += (done & 1) ? us_csum_swap(s) : s; /* a chunk at an odd offset: swapped */
        }
        done += run;
    }
    if (c->tso) {
        pkt->csum_partial = true;
        pkt->gso_size = len > c->mss ? c->mss : 0;
        pkt->l4 = h;
        pkt->l4_hdr_len = (uint16_t)hl;
        us_wire_tcp_emit_partial(&r, h, hl, len, c->laddr, c->raddr);
    } else {
        us_wire_tcp_emit_sum(&r, h, hl, len, c->laddr, c->raddr, psum);
    }
    if (flags & US_TCP_ACK) {
        /* Every segment carries the ACK: nothing left to delay. The right edge we accept up
         * to never moves left (RFC 9293 3.8.6.2.2), even when scaling truncates the window we
         * write by less than one unit: data the peer sent into the old edge is kept, as
         * FreeBSD's tcp_output does with rcv_adv. A SYN's field is unscaled, at most 65535. */
        us_seq_t edge = c->rcv_nxt + (syn ? r.wnd : (uint32_t)r.wnd << c->rcv_wscale);
        if (syn || us_seq_gt(edge, c->rcv_adv))
            c->rcv_adv = edge;
        /* SACK blocks a super-segment has no room for go on a pure ACK after it (RFC 2018 4:
         * every ACK that does not cover all data received carries them). DEVIATION: a single
         * full-sized segment goes without them and owes nothing (Linux shrinks the segment
         * instead); the next ACK or short segment carries them. */
        c->ack_now = len > c->mss && c->sack_ok &&
                     (us_tcp_rs_n(c->ooo) || st->tcp->dsack_conn == c);
        c->unacked_segs = 0;
        us_tcp_timer_stop(c, US_TT_DELACK);
    }
    us_stat_inc(st, US_STAT_TCP_OUT_SEGS);
    c->bytes_sent += len;
    if (len && c->in_recovery && c->ep)
        c->ep->prr_out += (uint32_t)len; /* RFC 6937 prr_out */
    if (len)
        c->last_snd_ms = us_tcp_stamp_ms(now); /* RFC 5681 4.1's idle clock */
    if (us_trace_on(st)) {
        char a[16];
        US_TRACE(st, "tcp: -> %s:%u [%s%s%s%s%s%s] seq %u ack %u win %u len %zu",
                 us_ip4_ntoa(c->raddr, a), (unsigned)c->rport, syn ? "S" : "",
                 flags & US_TCP_FIN ? "F" : "", flags & US_TCP_RST ? "R" : "",
                 flags & US_TCP_PSH ? "P" : "", (r.flags & US_TCP_URG) ? "U" : "",
                 flags & US_TCP_ACK ? "." : "", (unsigned)(seq - c->iss),
                 (unsigned)(r.ack - c->irs), (unsigned)win, len);
    }
    struct us_ip4_tx tx = {.src = c->laddr, .dst = c->raddr, .proto = US_IPPROTO_TCP,
                           .tos = ecn, .df = true};
    int err = us_ip4_output(st, pkt, &tx, now);
    if (err >= 0 && len && !syn && !(flags & US_TCP_RST))
        us_tcp_rack_sent(st, c, seq, (uint32_t)len, now); /* RFC 8985 6.1 */
    return err;
}

/* The sequence number of a segment without data: the highest one sent (SND.MAX), not SND.NXT
 * pulled back by a retransmission timeout: the peer may already hold those bytes and would drop
 * the segment, ACK field and all, as old; two ends in that state never hear each other's ACKs.
 * Never past the peer's window edge (a zero-window probe byte). FreeBSD's tcp_output uses
 * snd_max for pure ACKs; Linux's tcp_acceptable_seq caps at the window edge. */
static us_seq_t
acceptable_seq(const struct us_tcp_conn *c)
{
    us_seq_t s = c->snd_max, edge = c->snd_una + c->snd_wnd;
    if (us_seq_gt(s, edge))
        s = us_seq_max(edge, c->snd_nxt);
    return s;
}

void
us_tcp_send_synack(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    tcp_emit(st, c, c->iss, US_TCP_SYN | US_TCP_ACK, 0, now);
}

void
us_tcp_send_ack(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    tcp_emit(st, c, acceptable_seq(c), US_TCP_ACK, 0, now);
}

void
us_tcp_send_rst(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    /* RFC 9293 3.10.7.1 (abort): <SEQ=SND.NXT><CTL=RST>; Linux adds the ACK. */
    us_stat_inc(st, US_STAT_TCP_RST_OUT);
    tcp_emit(st, c, acceptable_seq(c), US_TCP_RST | US_TCP_ACK, 0, now);
}

void
us_tcp_send_rst_for(struct us_stack *st, const struct us_ip4_rx *rx,
                    const struct us_tcp_repr *seg, us_time_t now)
{
    /* RFC 9293 3.10.7.1: never answer a RST; never to a broadcast or multicast address. */
    if ((seg->flags & US_TCP_RST) || rx->to_bcast || us_ip4_is_mcast(rx->ip.dst))
        return;
    struct us_tcp_repr r = {.src_port = seg->dst_port, .dst_port = seg->src_port};
    if (seg->flags & US_TCP_ACK) {
        r.seq = seg->ack;
        r.flags = US_TCP_RST;
    } else {
        r.seq = 0;
        r.ack = seg->seq + (uint32_t)seg->payload_len + ((seg->flags & US_TCP_SYN) ? 1 : 0) +
                ((seg->flags & US_TCP_FIN) ? 1 : 0);
        r.flags = US_TCP_RST | US_TCP_ACK;
    }
    struct us_pkt *pkt = us_pkt_alloc(st->pools, US_TCP_HDR_LEN);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        return;
    }
    us_wire_tcp_emit(&r, us_pkt_put(pkt, US_TCP_HDR_LEN), US_TCP_HDR_LEN, 0, rx->ip.dst,
                     rx->ip.src);
    us_stat_inc(st, US_STAT_TCP_RST_OUT);
    char a[16];
    US_TRACE(st, "tcp: -> %s:%u [R] (no connection for port %u)", us_ip4_ntoa(rx->ip.src, a),
             (unsigned)seg->src_port, (unsigned)seg->dst_port);
    struct us_ip4_tx tx = {.src = rx->ip.dst, .dst = rx->ip.src, .proto = US_IPPROTO_TCP};
    us_ip4_output(st, pkt, &tx, now);
}

/* A segment went out again: the connection's count (netstat -i) and the stack's. */
static void
count_retrans(struct us_stack *st, struct us_tcp_conn *c, size_t len, us_time_t now)
{
    c->retrans++;
    us_stat_inc(st, US_STAT_TCP_RETRANS);
    us_tcp_episode_rtx(c, (uint32_t)len, now);
}

static us_seq_t
fin_seq(const struct us_tcp_conn *c)
{
    return c->snd_buf_seq + (uint32_t)us_ring_len(&c->sndbuf);
}

void
us_tcp_retransmit_head(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (c->state == US_TCPS_SYN_SENT) {
        tcp_emit(st, c, c->iss, US_TCP_SYN, 0, now);
    } else if (c->state == US_TCPS_SYN_RECEIVED) {
        tcp_emit(st, c, c->iss, US_TCP_SYN | US_TCP_ACK, 0, now);
    } else {
        us_seq_t seq = c->snd_una;
        size_t off = seq - c->snd_buf_seq;
        size_t avail = us_ring_len(&c->sndbuf) > off ? us_ring_len(&c->sndbuf) - off : 0;
        size_t len = US_MIN(avail, (size_t)c->mss);
        uint8_t flags = US_TCP_ACK;
        if (c->fin_queued && seq + len == fin_seq(c) && us_seq_gt(c->snd_max, fin_seq(c)))
            flags |= US_TCP_FIN;
        if (len == 0 && !(flags & US_TCP_FIN))
            return;
        tcp_emit(st, c, seq, flags | (len ? US_TCP_PSH : 0), len, now);
        count_retrans(st, c, len, now);
        return;
    }
    count_retrans(st, c, 0, now);
}

uint32_t
us_tcp_sack_pipe(const struct us_tcp_conn *c, us_seq_t *hole, uint32_t *hole_len)
{
    /* RFC 6675 4 with RFC 8985: what RACK marked lost and was not sent again since. */
    if (c->rack) {
        uint32_t flight = c->snd_max - c->snd_una;
        uint32_t gone = (c->sacked ? us_rangeset_bytes(c->sacked) : 0) + us_tcp_rack_lost_bytes(c);
        if (hole_len)
            *hole_len = 0;
        return flight > gone ? flight - gone : 0;
    }
    /* RFC 6675 4: pipe = bytes out - bytes SACKed - bytes lost and not yet retransmitted.
     * A hole counts as lost when more than 2 * SMSS bytes above it are SACKed (IsLost), or when
     * a loss probe sent after it was SACKed (tlp_lost). */
    uint32_t flight = c->snd_max - c->snd_una;
    if (hole_len)
        *hole_len = 0;
    if (!c->sacked)
        return flight;
    const struct us_rangeset *sb = c->sacked;
    uint32_t sacked = us_rangeset_bytes(sb);
    uint32_t hrx = us_seq_gt(c->high_rxt, c->snd_una) ? c->high_rxt - c->snd_una : 0;
    /* RFC 8985 6.2 through a loss probe: data sent after these holes has been delivered. */
    uint32_t lost_below =
        c->tlp_lost && us_seq_gt(c->tlp_end, c->snd_una) ? c->tlp_end - c->snd_una : 0;
    uint32_t above = sacked, lost = 0, prev_end = 0;
    for (uint8_t i = 0; i < sb->n; i++) {
        uint32_t hs = prev_end, he = sb->r[i].start;
        if (he > hs && (above > 2u * c->mss || he <= lost_below)) {
            uint32_t from = US_MAX(hs, hrx);
            if (he > from) {
                lost += he - from;
                if (hole_len && *hole_len == 0) {
                    *hole = c->snd_una + from;
                    *hole_len = he - from;
                }
            }
        }
        above -= sb->r[i].end - sb->r[i].start;
        prev_end = sb->r[i].end;
    }
    uint32_t gone = sacked + lost;
    return flight > gone ? flight - gone : 0;
}

/* After an RTO that kept the SACKs: the FIN has no record, so nothing marks it lost; like the
 * data not SACKed, it goes once more (after the data marked lost, as the pipe allows), unless
 * the peer SACKed it. */
static void
rto_fin_again(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    us_seq_t fs = fin_seq(c);
    if (!c->fin_queued || !us_seq_gt(c->snd_max, fs) || !us_seq_lt(c->high_rxt, c->snd_max) ||
        us_tcp_sack_pipe(c, NULL, NULL) >= c->cwnd ||
        (c->sacked && c->sacked->r[c->sacked->n - 1].end == c->snd_max - c->snd_una))
        return;
    if (tcp_emit(st, c, fs, US_TCP_ACK | US_TCP_FIN, 0, now) < 0)
        return;
    c->high_rxt = c->snd_max;
    count_retrans(st, c, 0, now);
}

/* RFC 6675 5 (NextSeg rule 1): during SACK recovery, resend lost holes while the pipe allows:
 * the segments RACK marked lost (RFC 8985 6.2), or without RACK the holes RFC 6675 calls lost. */
static void
sack_retransmit(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    if (c->rack) {
        uint32_t idx = 0, len = 0;
        us_seq_t seq = 0;
        while (us_tcp_sack_pipe(c, NULL, NULL) < c->cwnd &&
               us_tcp_rack_next_lost(c, &idx, &seq, &len)) {
            /* PSH on the end of what the application wrote, as when it first went */
            uint8_t psh = seq + len == fin_seq(c) ? US_TCP_PSH : 0;
            if (tcp_emit(st, c, seq, US_TCP_ACK | psh, len, now) < 0)
                return;
            if (us_seq_gt(seq + len, c->high_rxt))
                c->high_rxt = seq + len;
            count_retrans(st, c, len, now);
            if (c->t[US_TT_RTO] == US_TIME_NEVER)
                us_tcp_rto_arm(st, c, now + c->rto);
            if (!c->rack)
                return; /* (no memory for a record: RFC 6675 from the next ACK on) */
        }
        if (c->rto_loss && !us_tcp_rack_lost_bytes(c))
            rto_fin_again(st, c, now);
        return;
    }
    for (int k = 0; k < 256; k++) {
        us_seq_t hole = 0;
        uint32_t hlen = 0;
        uint32_t pipe = us_tcp_sack_pipe(c, &hole, &hlen);
        if (hlen == 0 || pipe >= c->cwnd)
            return;
        uint32_t len = US_MIN(hlen, (uint32_t)c->mss);
        if (tcp_emit(st, c, hole, US_TCP_ACK, len, now) < 0)
            return;
        c->high_rxt = hole + len;
        c->rtx_mark = c->snd_max;
        count_retrans(st, c, len, now);
        if (c->t[US_TT_RTO] == US_TIME_NEVER)
            us_tcp_rto_arm(st, c, now + c->rto);
    }
}

/* Sends `len` bytes at SND.NXT, with the FIN if `fin`, and moves SND.NXT (and SND.MAX) past them:
 * new data, or data again after a timeout pulled SND.NXT back. Returns 0 or -errno. */
static int
send_at_nxt(struct us_stack *st, struct us_tcp_conn *c, size_t len, bool fin, bool push,
            us_time_t now)
{
    uint8_t flags = US_TCP_ACK | (fin ? US_TCP_FIN : 0) | (push ? US_TCP_PSH : 0);
    bool is_rtx = us_seq_lt(c->snd_nxt, c->snd_max);
    int err = tcp_emit(st, c, c->snd_nxt, flags, len, now);
    if (err < 0)
        return err;
    if (is_rtx) {
        count_retrans(st, c, len, now);
    } else if (!c->ts_ok && !c->rtt_timing && len) {
        c->rtt_timing = true; /* RFC 6298 3: time one segment per RTT (Karn's rule) */
        c->rtt_seq = c->snd_nxt;
        c->rtt_start_us = us_tcp_stamp_us(now);
    }
    c->snd_nxt += (uint32_t)len + (fin ? 1 : 0);
    c->snd_max = us_seq_max(c->snd_max, c->snd_nxt);
    if (c->t[US_TT_RTO] == US_TIME_NEVER)
        us_tcp_rto_arm(st, c, now + c->rto);
    if (fin) {
        if (c->state == US_TCPS_ESTABLISHED)
            us_tcp_set_state(st, c, US_TCPS_FIN_WAIT_1, "close, FIN sent");
        else if (c->state == US_TCPS_CLOSE_WAIT)
            us_tcp_set_state(st, c, US_TCPS_LAST_ACK, "close, FIN sent");
    }
    return 0;
}

/* TSO deferral, after Linux's tcp_tso_should_defer: with a full super-segment's worth in flight
 * (so ACKs are on their way), new data that would go out as a short super-segment waits for the
 * next ACK and leaves in a fuller one: the device gets fewer, larger frames (one system call
 * each on a TAP). When the sender is app-limited (the short piece is the tail of what the
 * application wrote, and its last write fit), only under Nagle: like RFC 896, which holds a
 * short segment while data is in flight, applied to super-segments (the tail of a 256 KiB write
 * waits for the next ACK, which a full super-segment in flight makes prompt; Linux's
 * autocorking holds such a tail until the device has sent what it queued). Never for the FIN,
 * nor when the piece is a third of the window or more (Linux's tcp_tso_win_divisor). */
static bool
tso_defer(const struct us_tcp_conn *c, size_t len, size_t avail, size_t seg_max, uint32_t flight,
          uint32_t wnd, bool fin, bool is_new)
{
    if (!c->tso || !is_new || fin || len == 0 || len >= seg_max || flight < seg_max)
        return false;
    if (len == avail && !c->snd_nospace && c->nodelay)
        return false; /* app-limited, and the application asked for no delay */
    return len < wnd / 3;
}

void
us_tcp_output(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    switch (c->state) {
    case US_TCPS_CLOSED:
    case US_TCPS_LISTEN:
        return;
    case US_TCPS_SYN_SENT:
    case US_TCPS_SYN_RECEIVED:
        if (c->snd_nxt == c->iss) {
            uint8_t fl = US_TCP_SYN | (c->state == US_TCPS_SYN_RECEIVED ? US_TCP_ACK : 0);
            tcp_emit(st, c, c->iss, fl, 0, now);
            c->snd_nxt = c->iss + 1;
            c->snd_max = us_seq_max(c->snd_max, c->snd_nxt);
            if (c->t[US_TT_RTO] == US_TIME_NEVER)
                us_tcp_rto_arm(st, c, now + c->rto);
        } else if (c->ack_now) {
            us_tcp_send_ack(st, c, now);
        }
        return;
    case US_TCPS_TIME_WAIT:
        if (c->ack_now)
            us_tcp_send_ack(st, c, now);
        return;
    default:
        break;
    }
    size_t rlen = us_ring_len(&c->sndbuf);
    bool sack_rec = us_tcp_sack_recovery(c);
    if (!sack_rec && !c->fin_queued && c->snd_nxt - c->snd_buf_seq == rlen) {
        /* Everything queued has been sent (the common case after input): at most an ACK. */
        if (c->ack_now)
            us_tcp_send_ack(st, c, now);
        return;
    }
    if (sack_rec)
        sack_retransmit(st, c, now);
    if (c->snd_una == c->snd_max && us_tcp_cwnd_restart(c, now) && us_trace_on(st)) {
        char a[16];
        US_TRACE(st, "tcp: %s:%u idle for longer than the RTO: cwnd %u (restart window)",
                 us_ip4_ntoa(c->raddr, a), (unsigned)c->rport, (unsigned)c->cwnd);
    }
    /* DEVIATION(RFC 5681 2, RFC 3042): with RACK, what the peer SACKed (or RACK marked lost) is
     * out of the flight before recovery too, as in Linux's tcp_packets_in_flight: while RACK
     * waits out reo_wnd each SACK lets new data go, whose SACKs then tell a lost retransmission
     * from a late one. With FlightSize (SND.NXT - SND.UNA) a small window stalled there, and a
     * recovery that began with its retransmission alone in flight ended in an RTO when that or
     * its ACK was lost. */
    bool pipe_flight = sack_rec || (c->rack && c->sacked);
    /* RFC 3042 limited transmit: one more segment for each of the first two duplicate ACKs
     * (with the SACKed data out of the flight, their segments went already). */
    uint32_t lt = !c->in_recovery && c->dupacks < 3 && !pipe_flight ? (uint32_t)c->dupacks * c->mss
                                                                    : 0;
    /* With TSO one emit carries as many whole segments as fit in a 64 KiB IP datagram; not while
     * urgent data is outstanding: each segment needs its own urgent pointer; nor for the segment
     * that carries CWR, which belongs on one segment only (RFC 3168 6.1.2). */
    size_t seg_max = c->tso && !c->snd_urg && !c->ecn_cwr
                         ? (size_t)(65535 - US_IP4_HDR_LEN - 60) / c->mss * c->mss
                         : c->mss;
    bool sent_new = false, sent = false;
    for (int burst = 0; burst < 1024; burst++) {
        us_seq_t fs = fin_seq(c);
        size_t off = c->snd_nxt - c->snd_buf_seq;
        if (us_seq_gt(c->snd_nxt, fs))
            break; /* FIN already sent */
        size_t avail = rlen - off;
        uint32_t flight = pipe_flight && c->snd_nxt == c->snd_max ? us_tcp_sack_pipe(c, NULL, NULL)
                                                                   : c->snd_nxt - c->snd_una;
        uint32_t wnd = US_MIN(c->snd_wnd, c->cwnd + lt);
        size_t usable = wnd > flight ? wnd - flight : 0;
        /* RFC 9293 3.8.6 / RFC 6675 5 NextSeg (3): the peer's window bounds the sequence space,
         * SND.UNA + SND.WND, not the pipe; with SACKed data in recovery the pipe is smaller than
         * SND.NXT - SND.UNA, and new data past the right edge would only be dropped. */
        us_seq_t edge = c->snd_una + c->snd_wnd;
        usable = US_MIN(usable, us_seq_gt(edge, c->snd_nxt) ? (size_t)(edge - c->snd_nxt) : 0);
        size_t len = US_MIN(US_MIN(avail, usable), seg_max);
        bool fin = c->fin_queued && off + len == rlen;
        if (len == 0 && !fin)
            break;
        if (len > 0 && len < c->mss && len < avail) {
            /* Window-limited short segment: RFC 1122 4.2.3.4 sender SWS avoidance. With nothing
             * in flight no ACK will come to move the window, so send it now: RFC 1122's
             * override timeout, at zero (BSD sends it when the persist timer fires). */
            if (len < c->max_snd_wnd / 2 && flight > 0)
                break;
        }
        if (len > 0 && len == avail && len < c->mss && !fin && !c->nodelay && !c->snd_urg &&
            flight > 0)
            break; /* RFC 896 (Nagle): one small segment in flight at a time; urgent data
                    * goes at once (as Linux's tcp_nagle_test) */
        bool is_new = c->snd_nxt == c->snd_max;
        if (tso_defer(c, len, avail, seg_max, flight, wnd, fin, is_new))
            break;
        if (send_at_nxt(st, c, len, fin, len && len == avail, now) < 0)
            break;
        sent_new |= is_new;
        sent = true;
        if (fin)
            break;
    }
    /* Cwnd-limited (Linux's tcp_write_xmit and tcp_tso_should_defer): what is in flight fills
     * cwnd, or data waits and cwnd, tighter than the peer's window, leaves no room for the next
     * full unit of it: a segment (cwnd is rarely a whole number of segments once a loss has
     * scaled it) or, with TSO, the super-segment deferral waits for. */
    uint32_t pipe = pipe_flight ? us_tcp_sack_pipe(c, NULL, NULL) : c->snd_nxt - c->snd_una;
    uint32_t cwnd_room = c->cwnd + lt > pipe ? c->cwnd + lt - pipe : 0;
    uint32_t peer_room = c->snd_wnd > pipe ? c->snd_wnd - pipe : 0;
    size_t unsent = rlen - (c->snd_nxt - c->snd_buf_seq);
    bool cwnd_full = pipe >= c->cwnd || (us_seq_leq(c->snd_nxt, fin_seq(c)) && unsent > 0 &&
                                         cwnd_room < US_MIN(unsent, seg_max) &&
                                         cwnd_room <= peer_room);
    if (sent || cwnd_full)
        us_tcp_cwnd_validate(c, cwnd_full);
    /* RFC 8985 7.2: new data (re)starts the probe timeout. The RTO it must not outlast is the
     * one running, or, when the slot holds an earlier probe timeout, one started now: an RTO
     * later by at most one PTO than RFC 6298 5.1 would have it (one timer slot, as Linux). */
    if (sent_new)
        us_tcp_tlp_arm(st, c, now, c->tlp_pto || c->rack_reo ? now + c->rto : c->t[US_TT_RTO]);
    /* RFC 9293 3.8.6.1: zero window with data waiting and nothing in flight: probe. */
    size_t off = c->snd_nxt - c->snd_buf_seq;
    if (c->snd_wnd == 0 && off < rlen && c->snd_nxt == c->snd_una &&
        c->t[US_TT_PERSIST] == US_TIME_NEVER && c->t[US_TT_RTO] == US_TIME_NEVER)
        us_tcp_timer_arm(st, c, US_TT_PERSIST, now + c->rto);
    if (c->ack_now)
        us_tcp_send_ack(st, c, now);
}

/* Zero-window probe: one byte at SND.UNA past the closed window (RFC 9293 3.8.6.1). If the peer
 * takes it, its ACK moves SND.UNA past SND.NXT, which input repairs. Otherwise the peer answers
 * with its current window and the persist timer backs off. */
void
us_tcp_send_probe(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    size_t off = c->snd_una - c->snd_buf_seq;
    if (off < us_ring_len(&c->sndbuf)) {
        tcp_emit(st, c, c->snd_una, US_TCP_ACK, 1, now);
        c->snd_max = us_seq_max(c->snd_max, c->snd_una + 1);
    }
}

size_t
us_tcp_probe_new_len(const struct us_tcp_conn *c)
{
    size_t rlen = us_ring_len(&c->sndbuf);
    size_t off = c->snd_nxt - c->snd_buf_seq;
    size_t len = off < rlen ? US_MIN(rlen - off, (size_t)c->mss) : 0;
    bool fits = c->snd_nxt == c->snd_max && (c->snd_max - c->snd_una) + len <= c->snd_wnd;
    return fits ? len : 0;
}

/* RFC 8985 7.3: the tail loss probe. One segment of new data if there is some and the peer's
 * window takes it (cwnd does not hold it back, nor does Nagle: Linux's tcp_send_loss_probe
 * likewise), else the last segment sent, again. Its ACK or SACK tells what became of the tail.
 * Returns 0 or -errno. */
int
us_tcp_send_loss_probe(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    size_t rlen = us_ring_len(&c->sndbuf);
    size_t off = c->snd_nxt - c->snd_buf_seq;
    size_t len = us_tcp_probe_new_len(c);
    us_seq_t seq;
    int err;
    if (len) {
        seq = c->snd_nxt;
        err = send_at_nxt(st, c, len, c->fin_queued && off + len == rlen, off + len == rlen, now);
        c->tlp_rtx = false;
    } else {
        bool fin = c->fin_queued && us_seq_gt(c->snd_max, fin_seq(c));
        us_seq_t data_end = c->snd_max - (fin ? 1u : 0u);
        len = us_seq_gt(data_end, c->snd_una) ? US_MIN(data_end - c->snd_una, (uint32_t)c->mss) : 0;
        seq = data_end - (uint32_t)len;
        uint8_t flags = US_TCP_ACK | (fin ? US_TCP_FIN : 0) | (len ? US_TCP_PSH : 0);
        err = tcp_emit(st, c, seq, flags, len, now);
        if (err == 0) {
            count_retrans(st, c, len, now);
            c->rtt_timing = false; /* Karn */
        }
        c->tlp_rtx = true;
    }
    if (err < 0)
        return err;
    c->tlp_out = true;
    c->tlp_rtt = false;
    c->tlp_end = c->snd_max; /* TLP.end_seq = SND.NXT */
    us_stat_inc(st, US_STAT_TCP_TLP_PROBES);
    char a[16];
    US_TRACE(st, "tcp: %s:%u no ACK within the probe timeout: tail loss probe, %s seq %u len %zu",
             us_ip4_ntoa(c->raddr, a), (unsigned)c->rport,
             c->tlp_rtx ? "the last segment again" : "new data", (unsigned)(seq - c->iss), len);
    return 0;
}

/* Keepalive probe: SEG.SEQ = SND.NXT - 1 and no data, which any live peer must ACK
 * (RFC 1122 4.2.3.6). */
void
us_tcp_send_keepalive(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    tcp_emit(st, c, c->snd_nxt - 1, US_TCP_ACK, 0, now);
}
