/* Simulation harness: two stacks joined by the in-memory wire, on a virtual clock. */
#ifndef US_TEST_SIM_H
#define US_TEST_SIM_H

#include <ustack.h>

#include "drivers/wire.h"

#define SIM_A_IP US_IP4(192, 0, 2, 1)
#define SIM_B_IP US_IP4(192, 0, 2, 2)

struct sim;
struct sim_end { /* what the link's callbacks get for end i */
    struct sim *s;
    int i;
};

struct sim {
    struct us_wire_link *link;
    struct us_stack *st[2];
    struct us_iface *ifp[2];
    us_time_t now;
    struct sim_end end[2];
    /* TCP segments carrying data, by sending end: handed to the wire, and delivered with their
     * IP and TCP checksums right (a duplicated frame counts twice). Fewer delivered than sent
     * means some data was lost or damaged on the way. Counted only on an impaired link (it
     * parses every frame; a benchmark on a clean link must not pay for it). */
    bool count_data;
    uint64_t data_sent[2], data_intact[2];
    /* A test's own loss: when set, a frame sent by end `from` for which drop returns true never
     * reaches the link (counted nowhere). */
    bool (*drop)(void *ctx, int from, const uint8_t *frame, size_t len);
    void *drop_ctx;
};

/* Creates stacks A (192.0.2.1) and B (192.0.2.2) on 192.0.2.0/24 with the given MTU (0: 1500),
 * impairments (NULL: none) and seed. cfg NULL uses defaults. s must not move afterwards. */
void sim_init(struct sim *s, const struct us_impair *imp, uint64_t seed, uint16_t mtu,
              const struct us_config *cfg);
/* Advances virtual time by `dur`, delivering frames and firing timers as they fall due. */
void sim_run(struct sim *s, us_time_t dur);
/* Runs until cond(ctx) holds or `limit` of virtual time passes (the clock then stands at the
 * limit); returns cond's last value. */
bool sim_run_until(struct sim *s, us_time_t limit, bool (*cond)(void *ctx), void *ctx);
/* Frees everything; checks (returns false) if any packet buffer is still in use. */
bool sim_free(struct sim *s);

#endif
