/* The shared services of the stack object: configuration defaults, the timer dispatch table,
 * counters and drop reasons, trace, and pool occupancy. Layer: core. No I/O, names no protocol. */
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
us_config_default(struct us_config *c)
{
    memset(c, 0, sizeof(*c));
    c->size = sizeof(*c);
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
    /* Linux's default: answer ECN but do not ask for it. An ECN-setup SYN that a middlebox
     * drops costs a SYN timeout (RFC 3168 6.1.1.1); a server that answers costs nothing. */
    c->tcp_ecn = US_TCP_ECN_PASSIVE;
    c->tcp_recovery = US_TCP_RECOVERY_RACK; /* as Linux since 4.18 */
}

int
us_timer_kinds_add(struct us_stack *st, unsigned n, us_timer_fire_fn fire, us_timer_live_fn live)
{
    /* kind 0 stays unused, so a zeroed entry never names a handler */
    unsigned first = st->n_timer_kinds ? st->n_timer_kinds : 1;
    if (n == 0 || first + n > US_TIMER_KINDS)
        return -ENOSPC;
    for (unsigned k = first; k < first + n; k++)
        st->timer_kinds[k] = (struct us_timer_kind){fire, live};
    st->n_timer_kinds = first + n;
    return (int)first;
}

static bool
timer_live(void *ctx, const struct us_timer_ent *e)
{
    struct us_stack *st = ctx;
    us_timer_live_fn live = st->timer_kinds[e->kind].live;
    return live ? live(st, e) : true;
}

void
us_timers_run(struct us_stack *st, us_time_t now)
{
    if (us_timerq_should_purge(&st->timers))
        us_timerq_purge(&st->timers, timer_live, st);
    if (us_timerq_next(&st->timers) > now)
        return; /* the common case: nothing due */
    struct us_timer_ent e;
    while (us_timerq_pop_due(&st->timers, now, &e)) {
        US_ASSERT(e.kind > 0 && e.kind < st->n_timer_kinds);
        if (e.kind > 0 && e.kind < st->n_timer_kinds)
            st->timer_kinds[e.kind].fire(st, &e, now);
    }
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

/* Entry i of a name table of n, "?" past its end. */
static const char *
name_at(const char *const *table, size_t n, size_t i)
{
    return i < n ? table[i] : "?";
}

size_t
us_drop_count(void)
{
    return US_DROP__COUNT;
}

const char *
us_drop_name(size_t i)
{
    return name_at(drop_names, US_DROP__COUNT, i);
}

const char *
us_drop_text(size_t i)
{
    return name_at(drop_texts, US_DROP__COUNT, i);
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
    return name_at(stat_names, US_STAT__COUNT, i);
}

const char *
us_stat_text(size_t i)
{
    return name_at(stat_texts, US_STAT__COUNT, i);
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
