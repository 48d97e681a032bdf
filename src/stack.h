/* The stack object: every piece of mutable state the protocol core has (DESIGN.md 1).
 * Included by protocol code only (not by wire/ or drivers/). Also the helpers every layer uses
 * to count, drop and trace. */
#ifndef US_STACK_H
#define US_STACK_H

#include <ustack.h>

#include "arp.h"
#include "core/drop.h"
#include "core/pkt.h"
#include "core/rand.h"
#include "core/timerq.h"
#include "ip/ip.h"
#include "link/link.h"
#include "pcb.h"
#include "tcp/tcp.h"

/* Upward dispatch (STYLE.md 1): filled at stack creation, so lower layers never name the
 * handlers of the layer above (like microps' net_protocol_register, Linux's inet_protos). */
typedef void (*us_eth_proto_fn)(struct us_stack *st, struct us_iface *ifp, const uint8_t *b,
                                size_t len, unsigned rx_flags, us_time_t now);
#define US_MAX_ETH_PROTOS 4
struct us_eth_proto {
    uint16_t type;
    us_eth_proto_fn input;
};

/* Timer kinds in the stack's timer queue. */
enum us_timer_kind { US_TMR_ARP = 1, US_TMR_FRAG = 2, US_TMR_TCP = 16 /* + enum us_tcp_timer */ };

struct us_stack {
    struct us_config cfg;
    struct us_pool pools[2];
    struct us_timerq timers;
    struct us_rand rand;
    uint64_t drops[US_DROP__COUNT];
    uint64_t stats[US_STAT__COUNT];
    us_trace_fn trace;
    void *trace_ctx;

    struct us_eth_proto eth_protos[US_MAX_ETH_PROTOS];
    us_ip_proto_fn ip_protos[256];
    us_ip_err_fn ip_errs[256];

    struct us_iface ifaces[US_MAX_IFACES];
    size_t n_ifaces;
    struct us_route_table routes;
    struct us_arp_table arp;
    struct us_frag_table frag;
    struct us_icmp_state icmp;
    uint16_t ip_id;
    struct us_pcb_table pcbs;
    struct us_tcp_globals tcp;
    struct us_socket_table *socks;
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

/* Is a one of our interface addresses? Returns the interface or NULL. */
struct us_iface *us_iface_by_addr(struct us_stack *st, us_ip4_t a);

#endif
