/* The composition root: the one file that knows every layer. It creates and destroys them in
 * order, bottom to top (as Linux's inet_init brings up IPv4), and carries the public entry points
 * that span layers: interfaces, frame input, and time. Each layer registers its own upward
 * handlers (ethertypes, IP protocols, ICMP echo replies) and timer kinds in its init, so no layer
 * below names one above it. No I/O here. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ip/arp.h"
#include "ip/ip.h"
#include "link/link.h"
#include "ping/ping.h"
#include "socket/socket.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

/* The smallest struct us_config a caller may hand in: the struct as version 0.1 defined it.
 * Fields added later go after ephemeral_hi, and a caller built with the older, shorter struct
 * gets their defaults. */
#define US_CONFIG_SIZE_0_1 (offsetof(struct us_config, ephemeral_hi) + sizeof(uint16_t))

struct us_stack *
us_stack_new(const struct us_config *cfg, uint64_t seed)
{
    struct us_config c;
    us_config_default(&c);
    if (cfg) {
        if (cfg->size < US_CONFIG_SIZE_0_1 || cfg->size > sizeof(c)) {
            errno = EINVAL; /* not from us_config_default, or from newer headers */
            return NULL;
        }
        memcpy(&c, cfg, cfg->size);
        c.size = sizeof(c);
    }
    if (c.ephemeral_lo == 0 || c.ephemeral_hi < c.ephemeral_lo || c.tcp_ecn > US_TCP_ECN_PASSIVE) {
        errno = EINVAL;
        return NULL;
    }
    struct us_stack *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cfg = c;
    us_pool_init(&st->pools[0], US_PKT_SMALL_SIZE, st->cfg.pkt_small_max);
    us_pool_init(&st->pools[1], US_PKT_LARGE_SIZE, st->cfg.pkt_large_max);
    us_timerq_init(&st->timers);
    us_rand_seed(&st->rand, seed);
    /* The layers, bottom to top, as the textbook draws them. */
    if (us_link_init(st) < 0 || us_ip_init(st) < 0 || us_arp_init(st) < 0 ||
        us_udp_init(st) < 0 || us_tcp_init(st) < 0 || us_socket_table_init(st) < 0) {
        us_stack_free(st);
        return NULL;
    }
    us_ping_init(st);
    return st;
}

void
us_stack_free(struct us_stack *st)
{
    if (!st)
        return;
    /* Top to bottom: closing the sockets returns their buffers to the pools. */
    us_socket_table_destroy(st);
    us_tcp_destroy(st);
    us_udp_destroy(st);
    us_arp_destroy(st);
    us_ip_destroy(st);
    us_link_destroy(st);
    us_timerq_destroy(&st->timers);
    us_pool_destroy(&st->pools[0]);
    us_pool_destroy(&st->pools[1]);
    free(st);
}

void
us_iface_conf_init(struct us_iface_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->size = sizeof(*conf);
}

struct us_iface *
us_iface_add(struct us_stack *st, const struct us_iface_conf *conf, us_time_t now)
{
    /* Only 0.1's struct exists yet; a longer one comes from newer headers than this library. */
    if (conf->size != sizeof(*conf)) {
        errno = EINVAL;
        return NULL;
    }
    /* It acts (an announcement goes out), so it takes the time like every acting call: what
     * was due before it happens first, in order, as in us_input. */
    us_poll(st, now);
    struct us_iface *ifp = us_link_iface_add(st, conf);
    if (!ifp)
        return NULL;
    if (conf->prefix_len < 32)
        us_route_add(st, conf->addr & ifp->mask, conf->prefix_len, 0, ifp);
    char a[16];
    US_TRACE(st, "link: %s up, %s/%u mtu %u", ifp->name, us_ip4_ntoa(ifp->addr, a),
             (unsigned)ifp->prefix_len, (unsigned)ifp->mtu);
    us_arp_announce(st, ifp);
    return ifp;
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

void
us_poll(struct us_stack *st, us_time_t now)
{
    us_tcp_poll(st, now);
    us_timers_run(st, now);
}

us_time_t
us_next_deadline(struct us_stack *st)
{
    return US_MIN(us_timerq_next(&st->timers), us_tcp_next_deadline(st));
}
