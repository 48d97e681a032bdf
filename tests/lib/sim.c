/* Simulation harness; see sim.h. */
#include "lib/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

/* Is the frame an IPv4/TCP segment with data? With verify, only if both checksums are right. */
static bool
tcp_data(const uint8_t *f, size_t len, bool verify)
{
    struct us_eth_repr eth;
    struct us_ip4_repr ip;
    struct us_tcp_repr tcp;
    if (us_wire_eth_parse(&eth, f, len) != 0 || eth.type != US_ETHERTYPE_IPV4 ||
        us_wire_ip4_parse(&ip, f + US_ETH_HDR_LEN, len - US_ETH_HDR_LEN, verify) != 0 ||
        ip.proto != US_IPPROTO_TCP || ip.mf || ip.frag_off)
        return false;
    return us_wire_tcp_parse(&tcp, ip.payload, ip.payload_len, ip.src, ip.dst, verify) == 0 &&
           tcp.payload_len > 0;
}

static int
sim_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct sim_end *e = ctx;
    if (e->s->count_data && tcp_data(frame, len, false))
        e->s->data_sent[e->i]++;
    if (e->s->drop && e->s->drop(e->s->drop_ctx, e->i, frame, len))
        return 0;
    return us_wire_end_tx(us_wire_link_end(e->s->link, e->i), frame, len);
}

/* ctx is the receiving end. */
static void
sim_rx(void *ctx, const uint8_t *frame, size_t len, us_time_t now)
{
    struct sim_end *e = ctx;
    if (e->s->count_data && tcp_data(frame, len, true))
        e->s->data_intact[1 - e->i]++;
    us_input(e->s->st[e->i], e->s->ifp[e->i], frame, len, now);
}


static void
sim_trace(void *ctx, const char *line)
{
    fprintf(stderr, "%s %s\n", (const char *)ctx, line);
}

void
sim_init(struct sim *s, const struct us_impair *imp, uint64_t seed, uint16_t mtu,
         const struct us_config *cfg)
{
    memset(s, 0, sizeof(*s));
    struct us_impair none = {0};
    s->link = us_wire_link_new(imp ? imp : &none, seed);
    s->count_data = imp != NULL;
    for (int i = 0; i < 2; i++) {
        s->st[i] = us_stack_new(cfg, seed * 2 + (uint64_t)i + 1);
        struct us_iface_conf c = {.size = sizeof(struct us_iface_conf),
                                  .name = i ? "simB" : "simA",
                                  .mac = {0x02, 0, 0, 0, 0, (uint8_t)(i + 1)},
                                  .addr = i ? SIM_B_IP : SIM_A_IP,
                                  .prefix_len = 24,
                                  .mtu = mtu,
                                  .tx = sim_tx,
                                  .tx_ctx = &s->end[i]};
        s->end[i] = (struct sim_end){s, i};
        us_wire_link_set_now(s->link, 0);
        if (getenv("SIM_TRACE")) /* SIM_TRACE=1: narrate both stacks on stderr */
            us_set_trace(s->st[i], sim_trace, (void *)(i ? "B:" : "A:"));
        s->ifp[i] = us_iface_add(s->st[i], &c, 0);
    }
}

static us_time_t
sim_next(struct sim *s)
{
    us_time_t t = us_wire_link_next_due(s->link);
    for (int i = 0; i < 2; i++) {
        us_time_t d = us_next_deadline(s->st[i]);
        if (d < t)
            t = d;
    }
    return t;
}

static void
sim_step_to(struct sim *s, us_time_t t)
{
    s->now = t;
    us_wire_link_set_now(s->link, t);
    /* ctx for end i's receiver is end i: the link delivers frames sent by end 0 to ctx1. */
    while (us_wire_link_deliver(s->link, t, sim_rx, &s->end[0], &s->end[1]) > 0)
        ;
    for (int i = 0; i < 2; i++)
        us_poll(s->st[i], t);
}

void
sim_run(struct sim *s, us_time_t dur)
{
    us_time_t end = s->now + dur;
    for (;;) {
        us_time_t t = sim_next(s);
        if (t > end)
            break;
        sim_step_to(s, t < s->now ? s->now : t);
    }
    /* Time still has to reach `end` (timers armed for later must see it pass); when the last
     * step already ran at `end`, nothing is due there any more (sim_next said so). */
    if (s->now < end)
        sim_step_to(s, end);
}

bool
sim_run_until(struct sim *s, us_time_t limit, bool (*cond)(void *ctx), void *ctx)
{
    us_time_t end = s->now + limit;
    while (!cond(ctx)) {
        us_time_t t = sim_next(s);
        if (t > end) {
            sim_step_to(s, end); /* the limit really passes: a later call starts from there */
            return cond(ctx);
        }
        sim_step_to(s, t < s->now ? s->now : t);
    }
    return true;
}

bool
sim_free(struct sim *s)
{
    bool clean = true;
    for (int i = 0; i < 2; i++) {
        struct us_pool_info pi;
        us_pool_info(s->st[i], &pi);
        if (pi.small_in_use || pi.large_in_use) {
            fprintf(stderr, "sim: stack %d holds %zu small, %zu large buffers\n", i,
                    pi.small_in_use, pi.large_in_use);
            clean = false;
        }
        us_stack_free(s->st[i]);
    }
    us_wire_link_free(s->link);
    return clean;
}
