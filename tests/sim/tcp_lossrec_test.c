/* Loss recovery over a link that reorders but loses nothing: 2% of frames held back 3 ms on a
 * 10 ms path. Duplicate ACKs and SACKs make the sender retransmit segments that were only late;
 * with timestamps (RFC 3522) or D-SACK (RFC 3708) it must see that each such episode was
 * spurious and undo its cwnd reduction, so the transfer runs as fast as on a clean link
 * (within 20%). The same seeds with a link that only delays give the baseline.
 * SIM_SEEDS=n changes the number of seeds (default 4); SIM_SEED=n replays one. */
#include <stdio.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"

#define BYTES (4u << 20)

struct result {
    us_time_t elapsed;
    uint64_t episodes, undone, spurious, retrans;
};

static uint64_t
stat(const struct simtcp_pair *p, const char *name)
{
    return simtcp_stat(&p->s, 0, name) + simtcp_stat(&p->s, 1, name);
}

static struct result
run(uint64_t seed, double reorder)
{
    struct us_impair imp = {.delay = US_MSEC(5), .reorder = reorder,
                            .reorder_gap = US_MSEC(3), .rate_bps = 100000000,
                            .queue_limit = 2000};
    struct simtcp_pair p;
    simtcp_connect(&p, &imp, seed, 0, NULL, US_CC_CUBIC);
    us_time_t t0 = p.s.now;
    simtcp_transfer(&p, BYTES, 0, US_SEC(300), NULL);
    struct result r = {p.s.now - t0, stat(&p, "TCP_FAST_RETRANS") + stat(&p, "TCP_RTO"),
                       stat(&p, "TCP_UNDO_TS") + stat(&p, "TCP_UNDO_DSACK"),
                       stat(&p, "TCP_SPURIOUS_RTX"), stat(&p, "TCP_RETRANS")};
    printf("reorder %.2f seed %llu: %.3f s, %llu loss episodes, %llu undone (%llu by timestamp), "
           "%llu of %llu retransmissions shown spurious\n",
           reorder, (unsigned long long)seed, (double)r.elapsed / 1e9,
           (unsigned long long)r.episodes, (unsigned long long)r.undone,
           (unsigned long long)stat(&p, "TCP_UNDO_TS"), (unsigned long long)r.spurious,
           (unsigned long long)r.retrans);
    ck_assert_uint_eq(stat(&p, "TCP_RTO"), 0);
    simtcp_close_all(&p);
    simtcp_finish(&p.s);
    return r;
}

START_TEST(reordering_undone)
{
    unsigned n = simtcp_nseeds(4);
    uint64_t episodes = 0, undone = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t seed = simtcp_seed_at(i);
        struct result clean = run(seed, 0), r = run(seed, 0.02);
        ck_assert_uint_eq(clean.retrans, 0);
        /* nothing was lost: every retransmission was spurious, and every episode is undone
         * (one whose retransmissions were all still on the way when the ACKs of the originals
         * came is judged by timestamp; the rest by the D-SACKs of the late copies) */
        ck_assert_msg(r.undone == r.episodes, "seed %llu: %llu of %llu episodes undone",
                      (unsigned long long)seed, (unsigned long long)r.undone,
                      (unsigned long long)r.episodes);
        ck_assert_msg(r.elapsed * 10 <= clean.elapsed * 12,
                      "seed %llu: %.3f s with reordering, %.3f s without",
                      (unsigned long long)seed, (double)r.elapsed / 1e9,
                      (double)clean.elapsed / 1e9);
        episodes += r.episodes;
        undone += r.undone;
    }
    ck_assert_msg(episodes > 0, "the link reordered too little to cause a retransmission");
    ck_assert_uint_eq(undone, episodes);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_lossrec");
    TCase *tc = tcase_create("lossrec");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, reordering_undone);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
