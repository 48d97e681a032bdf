/* The stack object: creation, configuration, interfaces, time, counters and trace.
 * Layer: core (the one file that sees every layer, because it owns their state). No I/O here. */
#include "stack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socket/socket.h"
#include "udp.h"

void
us_config_default(struct us_config *c)
{
    memset(c, 0, sizeof(*c));
    c->pkt_small_max = 4096;
    c->pkt_large_max = 64;
    c->arp_entries = 256;
    c->arp_queue_per_entry = 16;
    c->arp_reachable = US_SEC(30);
    c->arp_retry = US_SEC(1);
    c->arp_retries = 3;
    c->frag_mem_max = 4u << 20;
    c->frag_max_datagrams = 64;
    c->frag_timeout = US_SEC(30); /* Linux ipfrag_time */
    c->max_sockets = 1024;
    c->udp_rcvbuf = 212992; /* Linux rmem_default */
    c->udp_sndbuf = 65507;
    c->ttl = 64;
    c->icmp_err_rate = 1000; /* Linux icmp_msgs_per_sec */
    c->icmp_err_burst = 50;
    c->ephemeral_lo = 32768; /* Linux ip_local_port_range */
    c->ephemeral_hi = 60999;
    c->tcp_sndbuf = 256 * 1024;
    c->tcp_rcvbuf = 128 * 1024;
    c->tcp_rcvbuf_max = 4 * 1024 * 1024;
    c->tcp_sndbuf_max = 1024 * 1024; /* 2x a 4 ms window at 1 Gbit/s; see ustack.h */
    c->tcp_msl = US_SEC(30); /* 2*MSL = 60 s, Linux's TCP_TIMEWAIT_LEN */
    c->tcp_rto_min = US_MSEC(200);
    c->tcp_rto_max = US_SEC(120);
    c->tcp_rto_initial = US_SEC(1); /* RFC 6298 2.1 */
    c->tcp_delack = US_MSEC(40);    /* Linux's minimum; RFC 1122 allows up to 500 ms */
    c->tcp_syn_retries = 6;    /* Linux: 127 s */
    c->tcp_synack_retries = 5; /* Linux: 63 s, so half-open connections from a flood go sooner */
    c->tcp_retries = 15;
    c->tcp_fin_timeout = US_SEC(60);
    c->tcp_max_conns = 1u << 20;
    c->tcp_default_cc = US_CC_CUBIC;
    c->tcp_challenge_ack_limit = 1000;
    c->tcp_syncookies = true;
    c->tcp_tlp = true;
    c->tcp_tlp_max_ack_delay = US_MSEC(200); /* RFC 8985 7.2 WCDelAckT; Linux: tcp_rto_min */
}

struct us_stack *
us_stack_new(const struct us_config *cfg, uint64_t seed)
{
    struct us_stack *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    if (cfg)
        st->cfg = *cfg;
    else
        us_config_default(&st->cfg);
    if (st->cfg.ephemeral_lo == 0 || st->cfg.ephemeral_hi < st->cfg.ephemeral_lo)
        goto fail_cfg;
    us_pool_init(&st->pools[0], US_PKT_SMALL_SIZE, st->cfg.pkt_small_max);
    us_pool_init(&st->pools[1], US_PKT_LARGE_SIZE, st->cfg.pkt_large_max);
    us_timerq_init(&st->timers);
    us_rand_seed(&st->rand, seed);
    st->ip_id = (uint16_t)us_rand_next(&st->rand);
    /* The layers, bottom to top, as the textbook draws them. */
    st->eth_protos[0] = (struct us_eth_proto){US_ETHERTYPE_IPV4, us_ip4_input};
    st->eth_protos[1] = (struct us_eth_proto){US_ETHERTYPE_ARP, us_arp_input};
    st->ip_protos[US_IPPROTO_ICMP] = us_icmp_input;
    st->ip_protos[US_IPPROTO_UDP] = us_udp_input;
    st->ip_protos[US_IPPROTO_TCP] = us_tcp_input;
    st->ip_errs[US_IPPROTO_UDP] = us_udp_icmp_error;
    st->ip_errs[US_IPPROTO_TCP] = us_tcp_icmp_error_quoted;
    st->ip_errs[US_IPPROTO_ICMP] = us_ping_icmp_error;
    st->icmp.tb_tokens_milli = (uint64_t)st->cfg.icmp_err_burst * 1000; /* bucket starts full */
    if (us_arp_init(st) < 0 || us_frag_init(st) < 0 || us_pcb_table_init(&st->pcbs, 256) < 0 ||
        us_socket_table_init(st) < 0 || us_tcp_init(st) < 0) {
        us_stack_free(st);
        return NULL;
    }
    return st;
fail_cfg:
    free(st);
    return NULL;
}

void
us_stack_free(struct us_stack *st)
{
    if (!st)
        return;
    us_socket_table_destroy(st); /* closes sockets, returning their buffers to the pools */
    us_tcp_destroy(st);
    us_pcb_table_destroy(&st->pcbs);
    us_frag_destroy(st);
    us_arp_destroy(st);
    us_timerq_destroy(&st->timers);
    us_pool_destroy(&st->pools[0]);
    us_pool_destroy(&st->pools[1]);
    free(st);
}

struct us_iface *
us_iface_add(struct us_stack *st, const struct us_iface_conf *conf, us_time_t now)
{
    /* It acts (an announcement goes out), so it takes the time like every acting call: what
     * was due before it happens first, in order, as in us_input. */
    us_poll(st, now);
    if (st->n_ifaces >= US_MAX_IFACES || conf->prefix_len > 32 || !conf->tx)
        return NULL;
    uint16_t mtu = conf->mtu ? conf->mtu : 1500;
    if (mtu < 68) /* RFC 791: every host must handle 68-byte datagrams unfragmented */
        return NULL;
    struct us_iface *ifp = &st->ifaces[st->n_ifaces];
    memset(ifp, 0, sizeof(*ifp));
    snprintf(ifp->name, sizeof(ifp->name), "%s", conf->name ? conf->name : "eth");
    ifp->index = (int)st->n_ifaces;
    memcpy(ifp->mac, conf->mac, US_ETH_ALEN);
    ifp->addr = conf->addr;
    ifp->prefix_len = conf->prefix_len;
    ifp->mask = conf->prefix_len ? ~(us_ip4_t)0 << (32 - conf->prefix_len) : 0;
    ifp->mtu = mtu;
    ifp->tx = conf->tx;
    ifp->tx_gso = conf->tx_gso;
    ifp->tx_ctx = conf->tx_ctx;
    st->n_ifaces++;
    if (conf->prefix_len < 32)
        us_route_add(st, conf->addr & ifp->mask, conf->prefix_len, 0, ifp);
    char a[16];
    US_TRACE(st, "link: %s up, %s/%u mtu %u", ifp->name, us_ip4_ntoa(ifp->addr, a),
             (unsigned)ifp->prefix_len, (unsigned)ifp->mtu);
    us_arp_announce(st, ifp);
    return ifp;
}

struct us_iface *
us_iface_by_addr(struct us_stack *st, us_ip4_t a)
{
    for (size_t i = 0; i < st->n_ifaces; i++)
        if (st->ifaces[i].addr == a)
            return &st->ifaces[i];
    return NULL;
}

void
us_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
         us_time_t now)
{
    us_input_flags(st, ifp, frame, len, 0, now);
}

void
us_input_flags(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
               unsigned flags, us_time_t now)
{
    us_poll(st, now); /* timers due before this frame fire first, in order */
    us_eth_input(st, ifp, frame, len, flags, now);
}

static bool
timer_live(void *ctx, const struct us_timer_ent *e)
{
    struct us_stack *st = ctx;
    if (e->kind >= US_TMR_TCP && e->kind < US_TMR_TCP + US_TT_N)
        return us_tcp_timer_live(st, e);
    return true; /* ARP and reassembly timers are cancelled only by firing */
}

void
us_poll(struct us_stack *st, us_time_t now)
{
    struct us_timer_ent e;
    if (st->tcp.timers_lost && st->tcp.timers_retry_at <= now)
        us_tcp_timers_retry(st, now);
    if (us_tcp_tw_next(&st->tcp) <= now)
        us_tcp_tw_expire(st, now);
    if (us_timerq_should_purge(&st->timers))
        us_timerq_purge(&st->timers, timer_live, st);
    if (us_timerq_next(&st->timers) > now)
        return; /* the common case: nothing due */
    /* Bounded: a handler may re-arm, but only for a later time. */
    while (us_timerq_pop_due(&st->timers, now, &e)) {
        switch (e.kind) {
        case US_TMR_ARP:
            us_arp_timer(st, &e, now);
            break;
        case US_TMR_FRAG:
            us_frag_timer(st, e.owner, e.gen, now);
            break;
        default:
            if (e.kind >= US_TMR_TCP && e.kind < US_TMR_TCP + US_TT_N)
                us_tcp_timer(st, &e, now);
            else
                US_ASSERT(!"unknown timer kind");
        }
    }
}

us_time_t
us_next_deadline(struct us_stack *st)
{
    us_time_t d = US_MIN(us_timerq_next(&st->timers), us_tcp_tw_next(&st->tcp));
    /* a timer waits to be queued (out of memory): come back when TCP wants to retry */
    return st->tcp.timers_lost ? US_MIN(d, st->tcp.timers_retry_at) : d;
}

void
us_set_trace(struct us_stack *st, us_trace_fn fn, void *ctx)
{
    st->trace = fn;
    st->trace_ctx = ctx;
}

void
us_trace_emit(struct us_stack *st, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    st->trace(st->trace_ctx, line);
}

static const char *const drop_names[] = {
#define X(name, text) #name,
    US_DROP_LIST(X)
#undef X
};
static const char *const drop_texts[] = {
#define X(name, text) text,
    US_DROP_LIST(X)
#undef X
};
static const char *const stat_names[] = {
#define X(name, text) #name,
    US_STAT_LIST(X)
#undef X
};
static const char *const stat_texts[] = {
#define X(name, text) text,
    US_STAT_LIST(X)
#undef X
};

void
us_drop(struct us_stack *st, enum us_drop_reason why)
{
    st->drops[why]++;
    US_TRACE(st, "drop: %s", drop_texts[why]);
}

size_t
us_drop_count(void)
{
    return US_DROP__COUNT;
}

const char *
us_drop_name(size_t i)
{
    return i < US_DROP__COUNT ? drop_names[i] : "?";
}

const char *
us_drop_text(size_t i)
{
    return i < US_DROP__COUNT ? drop_texts[i] : "?";
}

uint64_t
us_drop_get(const struct us_stack *st, size_t i)
{
    return i < US_DROP__COUNT ? st->drops[i] : 0;
}

uint64_t
us_drop_total(const struct us_stack *st)
{
    uint64_t t = 0;
    for (size_t i = 0; i < US_DROP__COUNT; i++)
        t += st->drops[i];
    return t;
}

size_t
us_stat_count(void)
{
    return US_STAT__COUNT;
}

const char *
us_stat_name(size_t i)
{
    return i < US_STAT__COUNT ? stat_names[i] : "?";
}

const char *
us_stat_text(size_t i)
{
    return i < US_STAT__COUNT ? stat_texts[i] : "?";
}

uint64_t
us_stat_get(const struct us_stack *st, size_t i)
{
    return i < US_STAT__COUNT ? st->stats[i] : 0;
}

void
us_pool_info(const struct us_stack *st, struct us_pool_info *out)
{
    out->small_in_use = st->pools[0].in_use;
    out->small_allocated = st->pools[0].allocated;
    out->large_in_use = st->pools[1].in_use;
    out->large_allocated = st->pools[1].allocated;
}
