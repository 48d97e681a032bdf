/* The stack object and the services every layer shares: configuration, packet pools, the timer
 * queue and its dispatch table, the random generator, counters and drop reasons, and trace.
 * Layer: core (the bottom). It names no protocol: each layer's own state is a struct that layer's
 * header defines, reached through the pointer below that the layer's init fills in. */
#ifndef US_CORE_CORE_H
#define US_CORE_CORE_H

#include <ustack.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "core/rand.h"
#include "core/timerq.h"

struct us_stack;

/* Timer dispatch: a layer registers the kinds of timer-queue entries it owns, with the function
 * that runs a popped entry and (optionally) one that tells whether a queued entry is still live,
 * for purging the heap (us_timerq_purge). NULL live: entries die only by firing. */
typedef void (*us_timer_fire_fn)(struct us_stack *st, const struct us_timer_ent *e,
                                 us_time_t now);
typedef bool (*us_timer_live_fn)(struct us_stack *st, const struct us_timer_ent *e);
struct us_timer_kind {
    us_timer_fire_fn fire;
    us_timer_live_fn live;
};
#define US_TIMER_KINDS 32

struct us_link;
struct us_ip;
struct us_arp_table;
struct us_pcb_table;
struct us_tcp_globals;
struct us_socket_table;

struct us_stack {
    struct us_config cfg;
    struct us_pool pools[2];
    struct us_timerq timers;
    struct us_timer_kind timer_kinds[US_TIMER_KINDS];
    unsigned n_timer_kinds;
    struct us_rand rand;
    uint64_t drops[US_DROP__COUNT];
    uint64_t stats[US_STAT__COUNT];
    us_trace_fn trace;
    void *trace_ctx;

    /* Each layer's state, allocated and freed by that layer (doc/design.md, Layers). */
    struct us_link *link;          /* link/link.h: interfaces, ethertype dispatch */
    struct us_ip *ip;              /* ip/ip.h: routes, reassembly, ICMP, protocol dispatch */
    struct us_arp_table *arp;      /* ip/arp.h */
    struct us_pcb_table *pcbs;     /* udp/pcb.h: datagram control blocks (UDP, ping) */
    struct us_tcp_globals *tcp;    /* tcp/tcp.h */
    struct us_socket_table *socks; /* socket/socket.h */
    /* Upcall the socket layer registers (us_socket_table_init): a socket's readiness may have
     * changed (data, FIN, ACKed send space, state, error, accept queue). Lower layers call it
     * through the pointer, never by name; it only queues the descriptor (socket.c). */
    void (*sock_wake)(struct us_stack *st, int fd);
};

/* Tells the socket layer that descriptor fd (if any: < 0 is none) may have changed readiness. */
static inline void
us_sock_wake(struct us_stack *st, int fd)
{
    if (fd >= 0 && st->sock_wake)
        st->sock_wake(st, fd);
}

/* Registers n consecutive timer kinds that run `fire`; returns the first, or -ENOSPC. */
int us_timer_kinds_add(struct us_stack *st, unsigned n, us_timer_fire_fn fire,
                       us_timer_live_fn live);
/* Purges dead entries when worthwhile, then runs every timer due at `now`, in deadline order.
 * Bounded: a handler may re-arm, but only for a later time. */
void us_timers_run(struct us_stack *st, us_time_t now);

static inline void
us_stat_inc(struct us_stack *st, enum us_stat s)
{
    st->stats[s]++;
}

/* Counts a drop and traces its reason. */
void us_drop(struct us_stack *st, enum us_drop_reason why);

#if defined(__GNUC__)
#define US_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define US_PRINTF(a, b)
#endif
void us_trace_emit(struct us_stack *st, const char *fmt, ...) US_PRINTF(2, 3);
/* Trace one line; formats nothing when tracing is off. */
#define US_TRACE(st, ...)                                                                          \
    do {                                                                                           \
        if ((st)->trace)                                                                           \
            us_trace_emit((st), __VA_ARGS__);                                                      \
    } while (0)

static inline bool
us_trace_on(const struct us_stack *st)
{
    return st->trace != NULL;
}

#endif
