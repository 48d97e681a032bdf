/* IPv4 reassembly (RFC 791 3.2, RFC 815 idea with a bounded range list, RFC 1122 3.3.2).
 * Layer: internet. Bounds: datagrams at once, bytes of buffers, ranges per datagram, a timeout.
 * Overlapping fragments drop the whole datagram (the rule RFC 5722 made for IPv6, and Linux's
 * for IPv4); an exact repeat of bytes we already hold is only a duplicate and is dropped alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"

int
us_frag_init(struct us_stack *st)
{
    int kind = us_timer_kinds_add(st, 1, us_frag_timer, NULL);
    if (kind < 0)
        return kind;
    st->ip->frag_timer_kind = (uint8_t)kind;
    st->ip->frag.n = st->cfg.frag_max_datagrams;
    st->ip->frag.d = calloc(st->ip->frag.n ? st->ip->frag.n : 1, sizeof(*st->ip->frag.d));
    return st->ip->frag.d ? 0 : -ENOMEM;
}

static void
frag_free(struct us_stack *st, struct us_frag_dgram *d)
{
    if (d->buf) {
        st->ip->frag.mem -= d->buf->cap;
        us_pkt_free(st->pools, d->buf);
    }
    d->buf = NULL;
    d->in_use = false;
    d->gen++;
}

void
us_frag_destroy(struct us_stack *st)
{
    if (!st->ip->frag.d)
        return;
    for (size_t i = 0; i < st->ip->frag.n; i++)
        if (st->ip->frag.d[i].in_use)
            frag_free(st, &st->ip->frag.d[i]);
    free(st->ip->frag.d);
    st->ip->frag.d = NULL;
}

static struct us_frag_dgram *
frag_find(struct us_stack *st, const struct us_ip4_repr *ip, bool create, us_time_t now)
{
    struct us_frag_dgram *free_slot = NULL;
    for (size_t i = 0; i < st->ip->frag.n; i++) {
        struct us_frag_dgram *d = &st->ip->frag.d[i];
        if (!d->in_use) {
            if (!free_slot)
                free_slot = d;
            continue;
        }
        if (d->src == ip->src && d->dst == ip->dst && d->id == ip->id && d->proto == ip->proto)
            return d;
    }
    if (!create)
        return NULL;
    if (!free_slot || st->ip->frag.mem + US_PKT_LARGE_SIZE > st->cfg.frag_mem_max) {
        us_drop(st, US_DROP_IP_FRAG_NO_MEM);
        return NULL;
    }
    struct us_pkt *buf = us_pkt_alloc(st->pools, US_IP4_MAX_LEN);
    if (!buf) {
        us_drop(st, US_DROP_IP_FRAG_NO_MEM);
        return NULL;
    }
    struct us_frag_dgram *d = free_slot;
    uint32_t gen = d->gen + 1;
    /* RFC 1122 3.3.2: the timer starts with the first fragment and is not restarted. A datagram
     * whose timer cannot be queued (out of memory) would never time out: it is not started. */
    if (us_timerq_add(&st->timers, now + st->cfg.frag_timeout, st->ip->frag_timer_kind,
                      (uint32_t)(d - st->ip->frag.d), gen) != 0) {
        us_pkt_free(st->pools, buf);
        us_drop(st, US_DROP_IP_FRAG_NO_MEM);
        return NULL;
    }
    memset(d, 0, sizeof(*d));
    d->gen = gen;
    d->in_use = true;
    d->src = ip->src;
    d->dst = ip->dst;
    d->id = ip->id;
    d->proto = ip->proto;
    d->buf = buf;
    st->ip->frag.mem += buf->cap;
    d->deadline = now + st->cfg.frag_timeout;
    return d;
}

enum frag_fit { FIT_NEW, FIT_DUP, FIT_OVERLAP, FIT_FULL };

/* Inserts [s,e) into the merged range list. */
static enum frag_fit
frag_add_range(struct us_frag_dgram *d, uint32_t s, uint32_t e, const uint8_t *data)
{
    size_t i = 0;
    while (i < d->n_ranges && d->ranges[i].end < s)
        i++;
    if (i < d->n_ranges && d->ranges[i].start < e && s < d->ranges[i].end) {
        /* Intersects range i: a duplicate only if wholly inside and byte-identical. */
        if (s >= d->ranges[i].start && e <= d->ranges[i].end &&
            memcmp(d->buf->data + s, data, e - s) == 0)
            return FIT_DUP;
        return FIT_OVERLAP;
    }
    if (i + 1 < d->n_ranges && d->ranges[i + 1].start < e)
        return FIT_OVERLAP;
    bool join_prev = i < d->n_ranges && d->ranges[i].end == s;
    size_t next = join_prev ? i + 1 : i;
    bool join_next = next < d->n_ranges && d->ranges[next].start == e;
    if (join_prev && join_next) {
        d->ranges[i].end = d->ranges[next].end;
        memmove(&d->ranges[next], &d->ranges[next + 1],
                (d->n_ranges - next - 1) * sizeof(d->ranges[0]));
        d->n_ranges--;
    } else if (join_prev) {
        d->ranges[i].end = e;
    } else if (join_next) {
        d->ranges[next].start = s;
    } else {
        if (d->n_ranges == US_FRAG_MAX_RANGES)
            return FIT_FULL;
        memmove(&d->ranges[i + 1], &d->ranges[i], (d->n_ranges - i) * sizeof(d->ranges[0]));
        d->ranges[i].start = s;
        d->ranges[i].end = e;
        d->n_ranges++;
    }
    memcpy(d->buf->data + s, data, e - s);
    return FIT_NEW;
}

bool
us_frag_input(struct us_stack *st, const struct us_ip4_rx *rx, struct us_ip4_rx *out,
              uint8_t *hdr_out, size_t *slot, us_time_t now)
{
    const struct us_ip4_repr *ip = &rx->ip;
    us_stat_inc(st, US_STAT_IP_FRAG_IN);
    uint32_t s = ip->frag_off, e = (uint32_t)(ip->frag_off + ip->payload_len);
    /* RFC 791: all fragments but the last carry a multiple of 8 bytes; none is empty. */
    if ((ip->mf && (ip->payload_len & 7)) || ip->payload_len == 0) {
        us_drop(st, US_DROP_IP_BAD_FRAG);
        return false;
    }
    /* RFC 791 3.2, RFC 815: the reassembled datagram is the first fragment's header and all the
     * data, within 65535 bytes. Past 65535 minus the smallest header no datagram can fit. */
    if (e > US_IP4_MAX_LEN - US_IP4_HDR_LEN) {
        us_drop(st, US_DROP_IP_FRAG_TOO_BIG);
        struct us_frag_dgram *old = frag_find(st, ip, false, now);
        if (old)
            frag_free(st, old);
        return false;
    }
    struct us_frag_dgram *d = frag_find(st, ip, true, now);
    if (!d)
        return false;
    enum us_drop_reason why = US_DROP_NONE;
    /* The header that will lead it is fragment 0's (kept from its first arrival); before that
     * has come, this one's if it is fragment 0, else the smallest. The header lengths of the
     * other fragments do not count. */
    size_t head_len = d->have_first ? d->hdr_len : s == 0 ? ip->hdr_len : US_IP4_HDR_LEN;
    uint32_t high = d->n_ranges ? US_MAX(e, d->ranges[d->n_ranges - 1].end) : e;
    if (head_len + high > US_IP4_MAX_LEN)
        why = US_DROP_IP_FRAG_TOO_BIG;
    else if ((d->have_last && (e > d->total || (!ip->mf && e != d->total))) ||
             (!ip->mf && e < (d->n_ranges ? d->ranges[d->n_ranges - 1].end : 0)))
        why = US_DROP_IP_BAD_FRAG; /* inconsistent end of datagram */
    if (why == US_DROP_NONE) {
        switch (frag_add_range(d, s, e, ip->payload)) {
        case FIT_NEW:
            break;
        case FIT_DUP:
            us_drop(st, US_DROP_IP_FRAG_OVERLAP); /* counted, datagram kept */
            return false;
        case FIT_OVERLAP:
            why = US_DROP_IP_FRAG_OVERLAP;
            break;
        case FIT_FULL:
            why = US_DROP_IP_FRAG_NO_MEM;
            break;
        }
    }
    if (why != US_DROP_NONE) {
        us_drop(st, why);
        frag_free(st, d);
        return false;
    }
    d->ecn_seen |= (uint8_t)(1u << (ip->tos & US_IP_ECN_MASK));
    if (!ip->mf) {
        d->have_last = true;
        d->total = e;
    }
    if (s == 0) {
        d->have_first = true;
        d->hdr_len = ip->hdr_len;
        memcpy(d->hdr, rx->hdr, ip->hdr_len);
        d->ifp = rx->ifp;
    }
    if (!(d->have_last && d->n_ranges == 1 && d->ranges[0].start == 0 &&
          d->ranges[0].end == d->total))
        return false;
    /* RFC 3168 5.3: a datagram whose fragments mix not-ECT with ECT or CE is dropped (as Linux's
     * ip_frag_ecn_table); CE in any fragment marks the whole datagram. */
    uint8_t ecn_or = US_IP_ECN_NOT_ECT;
    if (d->ecn_seen & (1u << US_IP_ECN_NOT_ECT) && d->ecn_seen != 1u << US_IP_ECN_NOT_ECT) {
        us_drop(st, US_DROP_IP_FRAG_ECN);
        frag_free(st, d);
        return false;
    }
    if (d->ecn_seen & (1u << US_IP_ECN_CE))
        ecn_or = US_IP_ECN_CE;
    /* Complete. The header handed up is the first fragment's, rewritten as unfragmented. */
    *out = *rx;
    out->ip.mf = false;
    out->ip.frag_off = 0;
    out->ip.hdr_len = d->hdr_len;
    out->ip.payload = d->buf->data;
    out->ip.payload_len = d->total;
    out->ifp = d->ifp;
    out->l4_csum_ok = false; /* vouched for one fragment at most, never the whole */
    memcpy(hdr_out, d->hdr, d->hdr_len);
    hdr_out[1] |= ecn_or;
    out->ip.tos = hdr_out[1];
    us_store_be16(hdr_out + 2, (uint16_t)(d->hdr_len + d->total));
    us_store_be16(hdr_out + 6, 0);
    us_store_be16(hdr_out + 10, 0);
    us_store_be16(hdr_out + 10, us_csum_finish(us_csum_add(0, hdr_out, d->hdr_len)));
    out->hdr = hdr_out;
    *slot = (size_t)(d - st->ip->frag.d);
    us_stat_inc(st, US_STAT_IP_REASM_OK);
    char a[16];
    US_TRACE(st, "ip: reassembled %zu-byte datagram from %s id %u", d->hdr_len + d->total,
             us_ip4_ntoa(d->src, a), (unsigned)d->id);
    return true;
}

void
us_frag_release(struct us_stack *st, size_t slot)
{
    if (slot < st->ip->frag.n && st->ip->frag.d[slot].in_use)
        frag_free(st, &st->ip->frag.d[slot]);
}

void
us_frag_timer(struct us_stack *st, const struct us_timer_ent *e, us_time_t now)
{
    uint32_t idx = e->owner, gen = e->gen;
    if (idx >= st->ip->frag.n)
        return;
    struct us_frag_dgram *d = &st->ip->frag.d[idx];
    if (!d->in_use || d->gen != gen)
        return;
    us_drop(st, US_DROP_IP_FRAG_TIMEOUT);
    if (d->have_first) {
        /* RFC 1122 3.3.2: time exceeded (reassembly) only if fragment 0 arrived. */
        struct us_ip4_rx rx = {.hdr = d->hdr, .ifp = d->ifp};
        rx.ip.src = d->src;
        rx.ip.dst = d->dst;
        rx.ip.proto = d->proto;
        rx.ip.id = d->id;
        rx.ip.hdr_len = d->hdr_len;
        rx.ip.payload = d->buf->data;
        rx.ip.payload_len = d->ranges[0].start == 0 ? d->ranges[0].end : 0;
        us_icmp_send_error(st, &rx, US_ICMP_TIME_EXCEEDED, US_ICMP_TIMXCEED_REASM, 0, now);
    }
    frag_free(st, d);
}
