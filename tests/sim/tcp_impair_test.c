/* TCP over an impaired link, many seeds, NewReno and CUBIC: loss up to 10%, reordering,
 * duplication, corruption (must be caught by checksums, never delivered), jitter, a bottleneck
 * queue, blackouts; and CE marks with ECN. Data flows both ways at once; every received byte is compared with the
 * stream and both ends' FNV-1a hashes must agree. Afterwards: bytes_acked equals what was sent,
 * retransmission counters moved, the connection closes cleanly and nothing is left.
 * SIM_SEEDS=n changes the number of seeds (default 16); SIM_SEED=n replays one; SIM_REPORT=1
 * prints each run's virtual transfer time and retransmissions.
 * "corrupt" damages IP packets only, as what escapes a real link's FCS (drivers/wire.h); when
 * it also hit ARP, seed 1236 (profile "corrupt") poisoned A's ARP entry for B. "biterr" damages
 * any frame on the wire, and the receiving end's FCS check drops it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"

#define KB 1024u

struct profile {
    const char *name;
    struct us_impair imp;
    size_t ab, ba; /* bytes each way */
    uint16_t mtu;
};

static const struct profile profiles[] = {
    {"loss10", {.loss = 0.10, .delay = US_MSEC(2)}, 192 * KB, 96 * KB, 1500},
    {"loss3-reorder-dup", {.loss = 0.03, .reorder = 0.05, .dup = 0.03, .delay = US_MSEC(5),
                           .jitter = US_MSEC(2)}, 384 * KB, 384 * KB, 1500},
    {"corrupt", {.corrupt = 0.05, .loss = 0.01, .delay = US_MSEC(1)}, 384 * KB, 128 * KB, 1500},
    /* bit errors on the wire, ARP frames included: the receiving end's FCS drops them all */
    {"biterr", {.biterr = 0.05, .delay = US_MSEC(1)}, 256 * KB, 128 * KB, 1500},
    {"jumbo-mix", {.loss = 0.02, .reorder = 0.03, .dup = 0.02, .corrupt = 0.02,
                   .delay = US_MSEC(3)}, 768 * KB, 256 * KB, 9000},
    {"bottleneck", {.delay = US_MSEC(10), .rate_bps = 20000000, .queue_limit = 30,
                    .loss = 0.005}, 512 * KB, 256 * KB, 1500},
    /* frames sent in [150 ms, 2.15 s) vanish (the 20 Mbit/s link keeps the transfer busy past
     * it): RTO backoff, then recovery */
    {"blackout", {.delay = US_MSEC(5), .rate_bps = 20000000, .queue_limit = 200,
                  .blackout_start = US_MSEC(150), .blackout_len = US_SEC(2), .loss = 0.01},
     1024 * KB, 512 * KB, 1500},
};

static bool
b_closed(void *sim)
{
    return simtcp_count(sim, 1, NULL) == 0;
}

static void
run(const struct profile *pr, uint64_t seed, int cc)
{
    struct simtcp_pair p;
    simtcp_connect(&p, &pr->imp, seed, pr->mtu, NULL, cc);
    struct simtcp_dir d[2];
    us_time_t t0 = p.s.now;
    simtcp_transfer(&p, pr->ab, pr->ba, US_SEC(900), d);
    if (getenv("SIM_REPORT")) /* virtual time per run, to compare the stack's recovery */
        printf("%s %s seed %llu: %.3f s, retrans %llu, rto %llu\n", pr->name,
               cc == US_CC_NEWRENO ? "reno" : "cubic", (unsigned long long)seed,
               (double)(p.s.now - t0) / 1e9,
               (unsigned long long)(simtcp_stat(&p.s, 0, "TCP_RETRANS") +
                                    simtcp_stat(&p.s, 1, "TCP_RETRANS")),
               (unsigned long long)(simtcp_stat(&p.s, 0, "TCP_RTO") +
                                    simtcp_stat(&p.s, 1, "TCP_RTO")));
    struct us_tcp_info ta, tb;
    ck_assert_int_eq(us_tcp_get_info(p.s.st[0], p.cfd, &ta), 0);
    ck_assert_int_eq(us_tcp_get_info(p.s.st[1], p.sfd, &tb), 0);
    ck_assert_msg(ta.bytes_acked == pr->ab && tb.bytes_acked == pr->ba,
                  "%s seed %llu: acked %llu/%zu and %llu/%zu", pr->name,
                  (unsigned long long)seed, (unsigned long long)ta.bytes_acked, pr->ab,
                  (unsigned long long)tb.bytes_acked, pr->ba);
    ck_assert_str_eq(us_tcp_cc_name(ta.cc), cc == US_CC_NEWRENO ? "reno" : "cubic");
    const struct us_wire_stats *w0 = us_wire_link_stats(p.s.link, 0);
    const struct us_wire_stats *w1 = us_wire_link_stats(p.s.link, 1);
    uint64_t rtx = simtcp_stat(&p.s, 0, "TCP_RETRANS") + simtcp_stat(&p.s, 1, "TCP_RETRANS");
    uint64_t fast = simtcp_stat(&p.s, 0, "TCP_FAST_RETRANS") +
                    simtcp_stat(&p.s, 1, "TCP_FAST_RETRANS");
    uint64_t rto = simtcp_stat(&p.s, 0, "TCP_RTO") + simtcp_stat(&p.s, 1, "TCP_RTO");
    /* Segments with data that never arrived intact must have been sent again. Lost frames
     * alone prove nothing: they may all have been ACKs. */
    uint64_t data_lost = 0;
    for (int i = 0; i < 2; i++)
        if (p.s.data_sent[i] > p.s.data_intact[i])
            data_lost += p.s.data_sent[i] - p.s.data_intact[i];
    if (data_lost > 0)
        ck_assert_msg(rtx > 0 && ta.retrans + tb.retrans > 0,
                      "%s seed %llu: %llu data segments lost, nothing retransmitted", pr->name,
                      (unsigned long long)seed, (unsigned long long)data_lost);
    if (rtx > 0)
        ck_assert_msg(fast + rto > 0, "%s seed %llu: retransmitted without a trigger",
                      pr->name, (unsigned long long)seed);
    if (pr->imp.blackout_len)
        ck_assert_msg(rto > 0 && w0->blackout + w1->blackout > 0, "%s seed %llu: a 2 s blackout without a timeout", pr->name,
                      (unsigned long long)seed);
    if (w0->corrupted + w1->corrupted >= 8) {
        /* A flipped bit lands in the IP or TCP header or payload: whichever, the byte-exact
         * stream above proves none got through; most are caught by a checksum (a flip in the
         * IP version, length or address fields is dropped before one is checked). */
        uint64_t cs = 0;
        for (int i = 0; i < 2; i++)
            cs += simtcp_stat(&p.s, i, "TCP_BAD_CSUM") + simtcp_stat(&p.s, i, "IP_BAD_CSUM");
        ck_assert_msg(cs > 0, "%s seed %llu: %llu corrupted frames, no checksum drop", pr->name,
                      (unsigned long long)seed,
                      (unsigned long long)(w0->corrupted + w1->corrupted));
    }
    if (pr->imp.biterr > 0) {
        /* The FCS check dropped every frame damaged on the wire (none duplicated here), so no
         * damaged frame reached a stack: no checksum drop anywhere. */
        ck_assert_msg(w0->biterrs + w1->biterrs > 0, "%s seed %llu: no bit errors", pr->name,
                      (unsigned long long)seed);
        ck_assert_uint_eq(w0->fcs_drops + w1->fcs_drops, w0->biterrs + w1->biterrs);
        for (int i = 0; i < 2; i++)
            ck_assert_uint_eq(simtcp_stat(&p.s, i, "TCP_BAD_CSUM") +
                                  simtcp_stat(&p.s, i, "IP_BAD_CSUM"), 0);
    }
    simtcp_close_all(&p);
    /* FIN retransmissions over the same impaired link, for as long as B's RTO needs: lost
     * handshake ACKs inflate the first RTT sample (RFC 7323 appendix E), and after a short
     * transfer the RTO can still be 10 s or more (loss10, seed 1751: 11.4 s, then 22.7 s) */
    sim_run_until(&p.s, US_SEC(600), b_closed, &p.s);
    /* A's TIME-WAIT (or nothing: a reordered duplicate ACK can draw a RST from B, CLOSED by
     * then, which ends the TIME-WAIT early as on Linux without tcp_rfc1337) */
    ck_assert_msg(simtcp_count(&p.s, 0, "TIME-WAIT") <= 1, "%s seed %llu: more than one socket on A",
                  pr->name, (unsigned long long)seed);
    ck_assert_msg(simtcp_count(&p.s, 1, NULL) == 0, "%s seed %llu: B still has a socket",
                  pr->name, (unsigned long long)seed);
    simtcp_finish(&p.s);
}

static void
run_profile(size_t k)
{
    unsigned n = simtcp_nseeds(16);
    for (unsigned i = 0; i < n; i++)
        run(&profiles[k], simtcp_seed_at(i), (int)(i & 1) ? US_CC_NEWRENO : US_CC_CUBIC);
}

START_TEST(impaired)
{
    run_profile((size_t)_i);
}
END_TEST

/* RFC 3168 between two stacks that both ask (tcp_ecn 1), over a link that marks 2% of the
 * ECN-capable packets CE and loses none: the streams arrive byte-exact both ways with nothing
 * retransmitted; each end echoes the marks it gets with ECE, and the sender reduces its
 * window once per window of data (fewer reductions than ECEs, ssthresh set) with a CWR
 * after each, at most one. */
START_TEST(ecn_marks)
{
    struct us_impair imp = {.ce = 0.02, .delay = US_MSEC(2)};
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_ecn = US_TCP_ECN_ON;
    unsigned n = simtcp_nseeds(4);
    for (unsigned i = 0; i < n; i++) {
        uint64_t seed = simtcp_seed_at(i);
        struct simtcp_pair p;
        simtcp_connect(&p, &imp, seed, 1500, &cfg, (i & 1) ? US_CC_NEWRENO : US_CC_CUBIC);
        simtcp_transfer(&p, 2048 * KB, 1024 * KB, US_SEC(600), NULL);
        const struct us_wire_stats *w0 = us_wire_link_stats(p.s.link, 0);
        const struct us_wire_stats *w1 = us_wire_link_stats(p.s.link, 1);
        ck_assert_uint_gt(w0->ce_marked, 0);
        ck_assert_uint_gt(w1->ce_marked, 0);
        for (int side = 0; side < 2; side++) {
            uint64_t ece = simtcp_stat(&p.s, side, "TCP_ECN_ECE_IN");
            uint64_t red = simtcp_stat(&p.s, side, "TCP_ECN_CWND_REDUCED");
            uint64_t cwr = simtcp_stat(&p.s, side, "TCP_ECN_CWR_OUT");
            ck_assert_msg(simtcp_stat(&p.s, side, "TCP_ECN_NEGOTIATED") == 1 &&
                              simtcp_stat(&p.s, side, "TCP_ECN_CE_IN") > 0 &&
                              simtcp_stat(&p.s, side, "TCP_ECN_ECE_OUT") > 0 && red > 0 &&
                              red < ece && cwr <= red && cwr + 1 >= red,
                          "seed %llu side %d: ECE in %llu, reductions %llu, CWR out %llu",
                          (unsigned long long)seed, side, (unsigned long long)ece,
                          (unsigned long long)red, (unsigned long long)cwr);
            ck_assert_uint_eq(simtcp_stat(&p.s, side, "TCP_RETRANS"), 0);
        }
        struct us_tcp_info ta;
        ck_assert_int_eq(us_tcp_get_info(p.s.st[0], p.cfd, &ta), 0);
        ck_assert(ta.ecn);
        ck_assert_uint_lt(ta.ssthresh, UINT32_MAX);
        simtcp_close_all(&p);
        sim_run_until(&p.s, US_SEC(600), b_closed, &p.s);
        simtcp_finish(&p.s);
    }
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_impair");
    TCase *tc = tcase_create("impaired");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, impaired, 0, (int)(sizeof(profiles) / sizeof(profiles[0])));
    tcase_add_test(tc, ecn_marks);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
