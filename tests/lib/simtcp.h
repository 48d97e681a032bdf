/* TCP helpers for the simulation tests: a connected pair over struct sim, byte-exact transfers
 * of a reproducible stream (compared byte by byte and hashed), drain and leak checks, counter
 * fingerprints. Every failure message names the seed (simtcp_seed) so the run replays. */
#ifndef US_TEST_SIMTCP_H
#define US_TEST_SIMTCP_H

#include "lib/sim.h"

struct simtcp_pair {
    struct sim s;
    uint64_t seed;
    int lfd, cfd, sfd; /* listener on B (port 80), client on A, accepted socket on B */
};

/* The seed of the run in progress, printed by every helper assertion. */
extern uint64_t simtcp_seed;

/* How many seeds a multi-seed test runs: SIM_SEEDS from the environment or `dflt`. SIM_SEED=n
 * replays one seed: simtcp_seed_at(i) then returns n (and simtcp_nseeds returns 1). */
unsigned simtcp_nseeds(unsigned dflt);
uint64_t simtcp_seed_at(unsigned i);
/* SIM_BIG=1 in the environment: run the larger variants. */
bool simtcp_big(void);

/* Waits (in virtual time) for us_sock_poll(st, fd) & ev. */
bool simtcp_wait(struct sim *s, int side, int fd, int ev, us_time_t limit);

/* A listener on B:80 (backlog 64) with congestion control cc, a client on A connected to it with
 * cc, accepted on B. cfg NULL: defaults. */
void simtcp_connect(struct simtcp_pair *p, const struct us_impair *imp, uint64_t seed,
                    uint16_t mtu, const struct us_config *cfg, int cc);

/* Byte i of stream `sid`: reproducible, position-dependent, cheap. */
void simtcp_gen(uint64_t sid, uint64_t off, uint8_t *buf, size_t n);

struct simtcp_dir {
    size_t total;             /* bytes to move (0: this direction idle) */
    size_t sent, got;         /* taken by send, delivered to recv */
    uint64_t hash_tx, hash_rx;/* FNV-1a 64 of the bytes sent / received */
};

/* Moves ab bytes A->B and ba bytes B->A at the same time, checking every received byte against
 * the stream and the two hashes at the end, within `limit` of virtual time. After each 1 ms step
 * checks invariants: the sender's bytes_acked never exceeds what the receiver holds in order
 * (read + queued) nor what was sent. Results in d[0] (A->B) and d[1] (B->A) if not NULL. */
void simtcp_transfer(struct simtcp_pair *p, size_t ab, size_t ba, us_time_t limit,
                     struct simtcp_dir d[2]);

/* Graceful close, client first: A closes, B reads to EOF and closes, listener closed. */
void simtcp_close_all(struct simtcp_pair *p);

/* Number of sockets (descriptors and orphans) on side i. With `only` non-NULL, also asserts that
 * every one is an orphan (fd -1) in that state. */
size_t simtcp_count(struct sim *s, int side, const char *only);

/* Runs 2*MSL plus a second, then asserts nothing remains on either stack and no packet buffer
 * is in use; frees the sim. */
void simtcp_finish(struct sim *s);

/* Hash of every stat and drop counter of both stacks, the wire stats and the clock. */
uint64_t simtcp_fingerprint(const struct sim *s);

/* Installs a trace hook on both stacks that folds every trace line (and its time) into *h. */
void simtcp_trace_hash(struct sim *s, uint64_t *h);

uint64_t simtcp_stat(const struct sim *s, int side, const char *name);
/* Sum of the TCP_* drop counters of side i (drops a clean link must never cause). */
uint64_t simtcp_tcp_drops(const struct sim *s, int side);

#endif
