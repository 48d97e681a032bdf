/* ICMP: echo, error generation with the RFC 1122 3.2.2 restrictions and a rate limit, and
 * delivery of received errors to the socket they concern. Layer: internet. RFC 792, RFC 1122
 * 3.2.2, RFC 1812 4.3.2 (quote size, rate limiting). */
#include <errno.h>
#include <string.h>

#include "ip/ip.h"

/* RFC 1812 4.3.2.3: quote as much of the datagram as fits in a 576-byte error. */
#define ICMP_ERR_MAX 576

static bool
icmp_is_error_type(uint8_t type)
{
    return type == US_ICMP_DEST_UNREACH || type == US_ICMP_SOURCE_QUENCH ||
           type == US_ICMP_REDIRECT || type == US_ICMP_TIME_EXCEEDED ||
           type == US_ICMP_PARAM_PROBLEM;
}

/* Errno for an error, as Linux's icmp_err_convert maps them. 0: nothing to report. */
static int
icmp_errno(uint8_t type, uint8_t code)
{
    switch (type) {
    case US_ICMP_DEST_UNREACH:
        switch (code) {
        case US_ICMP_UNREACH_NET:
            return ENETUNREACH;
        case US_ICMP_UNREACH_PROTO:
            return ENOPROTOOPT;
        case US_ICMP_UNREACH_PORT:
            return ECONNREFUSED;
        case US_ICMP_UNREACH_NEEDFRAG:
            return EMSGSIZE;
        default:
            return EHOSTUNREACH;
        }
    case US_ICMP_TIME_EXCEEDED:
        return EHOSTUNREACH;
    case US_ICMP_PARAM_PROBLEM:
        return EPROTO;
    default:
        return 0; /* RFC 6633: source quench is ignored; redirects are not for hosts we serve */
    }
}

/* Hands an error about the quoted datagram (its IP header first) to the transport that sent it,
 * through the protocol's error handler. Returns false when the quote is not a datagram we could
 * have sent. */
static bool
icmp_notify(struct us_stack *st, uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *q,
            size_t qlen, us_time_t now)
{
    /* The quote may be cut short of the datagram's total length: parse the header alone. */
    if (qlen < US_IP4_HDR_LEN)
        return false;
    size_t hl = (size_t)(q[0] & 0x0f) * 4;
    if ((q[0] >> 4) != 4 || hl < US_IP4_HDR_LEN || qlen < hl + 8)
        return false;
    struct us_icmp_err e = {.type = type, .code = code, .mtu = mtu,
                            .src = us_load_be32(q + 12), .dst = us_load_be32(q + 16),
                            .l4 = q + hl, .l4_len = qlen - hl, .err = icmp_errno(type, code)};
    if (!us_iface_by_addr(st, e.src))
        return false;
    if (!e.err && !(type == US_ICMP_DEST_UNREACH && code == US_ICMP_UNREACH_NEEDFRAG))
        return true; /* nothing to report */
    us_ip_err_fn fn = st->ip->errs[q[9]];
    if (fn)
        fn(st, &e, now);
    return true;
}

static void
icmp_echo_reply(struct us_stack *st, const struct us_ip4_rx *rx, const struct us_icmp_repr *req,
                us_time_t now)
{
    char a[16];
    if (rx->to_bcast) {
        /* RFC 1122 3.2.2.6 allows ignoring broadcast echo; Linux does by default (smurf). */
        us_drop(st, US_DROP_ICMP_BCAST_ECHO);
        return;
    }
    size_t len = rx->ip.payload_len;
    struct us_pkt *pkt = us_pkt_alloc(st->pools, len);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        return;
    }
    struct us_icmp_repr rep = *req;
    rep.type = US_ICMP_ECHO_REPLY;
    rep.code = 0;
    us_wire_icmp_emit(&rep, us_pkt_put(pkt, len), len);
    us_stat_inc(st, US_STAT_ICMP_OUT);
    us_stat_inc(st, US_STAT_ICMP_ECHO_REPLY_OUT);
    US_TRACE(st, "icmp: echo request id %u seq %u from %s -> echo reply (%zu bytes)",
             (unsigned)req->id, (unsigned)req->seq, us_ip4_ntoa(rx->ip.src, a), len);
    struct us_ip4_tx tx = {.src = rx->ip.dst, .dst = rx->ip.src, .proto = US_IPPROTO_ICMP,
                           .tos = rx->ip.tos};
    us_ip4_output(st, pkt, &tx, now);
}

void
us_icmp_input(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now)
{
    struct us_icmp_repr m;
    us_stat_inc(st, US_STAT_ICMP_IN);
    int err = us_wire_icmp_parse(&m, rx->ip.payload, rx->ip.payload_len);
    if (err) {
        us_drop(st, (enum us_drop_reason)err);
        return;
    }
    char a[16];
    switch (m.type) {
    case US_ICMP_ECHO_REQUEST:
        us_stat_inc(st, US_STAT_ICMP_ECHO_REQ_IN);
        icmp_echo_reply(st, rx, &m, now);
        return;
    case US_ICMP_ECHO_REPLY:
        if (st->ip->icmp.echo_reply)
            st->ip->icmp.echo_reply(st, rx, &m, now); /* ping sockets */
        else
            us_drop(st, US_DROP_ICMP_NO_SOCKET);
        return;
    default:
        break;
    }
    if (!icmp_is_error_type(m.type)) {
        us_drop(st, US_DROP_ICMP_BAD_TYPE);
        return;
    }
    us_stat_inc(st, US_STAT_ICMP_ERR_IN);
    US_TRACE(st, "icmp: error type %u code %u from %s", (unsigned)m.type, (unsigned)m.code,
             us_ip4_ntoa(rx->ip.src, a));
    if (!icmp_notify(st, m.type, m.code, m.next_hop_mtu, m.data, m.data_len, now))
        us_drop(st, US_DROP_ICMP_BAD_QUOTE);
}

/* Token bucket: icmp_err_rate per second, up to icmp_err_burst at once. */
static bool
icmp_rate_ok(struct us_stack *st, us_time_t now)
{
    struct us_icmp_state *s = &st->ip->icmp;
    uint64_t cap = (uint64_t)st->cfg.icmp_err_burst * 1000;
    /* The bucket starts full (us_stack_new). An hour refills any sane bucket; the clamp keeps
     * the product below 2^64 whatever the clock's origin. */
    if (now > s->tb_last) {
        us_time_t dt = US_MIN(now - s->tb_last, US_SEC(3600));
        uint64_t add = (uint64_t)dt * st->cfg.icmp_err_rate / US_NSEC_PER_MSEC;
        s->tb_tokens_milli = US_MIN(cap, s->tb_tokens_milli + add);
    }
    s->tb_last = now;
    if (s->tb_tokens_milli < 1000)
        return false;
    s->tb_tokens_milli -= 1000;
    return true;
}

void
us_icmp_send_error(struct us_stack *st, const struct us_ip4_rx *rx, uint8_t type, uint8_t code,
                   uint16_t mtu, us_time_t now)
{
    const struct us_ip4_repr *ip = &rx->ip;
    /* RFC 1122 3.2.2: never about an ICMP error, a datagram to a broadcast or multicast
     * address, a non-initial fragment, or one whose source is not a unicast host. */
    bool about_error = ip->proto == US_IPPROTO_ICMP &&
                       (ip->payload_len < 1 || icmp_is_error_type(ip->payload[0]));
    if (about_error || rx->to_bcast || us_ip4_is_mcast(ip->dst) ||
        us_ip4_is_bcast_for(st, ip->dst) || ip->frag_off != 0 || ip->src == 0 ||
        us_ip4_is_mcast(ip->src) || us_ip4_is_bcast_for(st, ip->src)) {
        us_stat_inc(st, US_STAT_ICMP_ERR_SUPPRESSED);
        return;
    }
    if (!icmp_rate_ok(st, now)) {
        us_stat_inc(st, US_STAT_ICMP_ERR_RATELIMITED);
        return;
    }
    size_t room = ICMP_ERR_MAX - US_IP4_HDR_LEN - US_ICMP_HDR_LEN - ip->hdr_len;
    size_t qlen = ip->hdr_len + US_MIN(ip->payload_len, room);
    struct us_pkt *pkt = us_pkt_alloc(st->pools, US_ICMP_HDR_LEN + qlen);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        return;
    }
    uint8_t *out = us_pkt_put(pkt, US_ICMP_HDR_LEN + qlen);
    memcpy(out + US_ICMP_HDR_LEN, rx->hdr, ip->hdr_len);
    memcpy(out + US_ICMP_HDR_LEN + ip->hdr_len, ip->payload, qlen - ip->hdr_len);
    struct us_icmp_repr m = {.type = type, .code = code, .next_hop_mtu = mtu,
                             .data = out + US_ICMP_HDR_LEN, .data_len = qlen};
    us_wire_icmp_emit(&m, out, US_ICMP_HDR_LEN + qlen);
    us_stat_inc(st, US_STAT_ICMP_OUT);
    us_stat_inc(st, US_STAT_ICMP_ERR_OUT);
    char a[16];
    US_TRACE(st, "icmp: send error type %u code %u to %s", (unsigned)type, (unsigned)code,
             us_ip4_ntoa(ip->src, a));
    struct us_ip4_tx tx = {.src = us_iface_by_addr(st, ip->dst) ? ip->dst : 0, .dst = ip->src,
                           .proto = US_IPPROTO_ICMP};
    us_ip4_output(st, pkt, &tx, now);
}

void
us_icmp_local_error(struct us_stack *st, const uint8_t *dgram, size_t len, uint8_t type,
                    uint8_t code, us_time_t now)
{
    /* RFC 1122 3.3.1.4 / 2.3.2.1: a datagram of ours that cannot be delivered is reported to the
     * transport as if an ICMP error had come back, without sending anything. */
    if (!icmp_notify(st, type, code, 0, dgram, len, now))
        us_stat_inc(st, US_STAT_ICMP_ERR_SUPPRESSED);
}

void
us_icmp_init(struct us_stack *st)
{
    struct us_icmp_state *s = &st->ip->icmp;
    s->tb_tokens_milli = (uint64_t)st->cfg.icmp_err_burst * 1000; /* the bucket starts full */
    s->echo_reply = NULL;
}

void
us_icmp_register_echo_reply(struct us_stack *st, us_icmp_echo_fn fn)
{
    st->ip->icmp.echo_reply = fn;
}
