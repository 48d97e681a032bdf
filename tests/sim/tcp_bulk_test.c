/* TCP bulk transfer between two stacks on a clean link: byte-exact in both directions (each
 * received byte compared with the reproducible stream, FNV-1a over both ends), MTU 1500 and
 * 9000, NewReno and CUBIC, one direction at a time and both at once. The default run moves
 * 300 MiB in total; SIM_BIG=1 moves four times as much. Also: determinism (same seed, same
 * counters and trace; another seed differs). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"

#define MB (1024u * 1024u)

static size_t
big(size_t n)
{
    return simtcp_big() ? 4 * n : n;
}

static void
check_info(struct simtcp_pair *p, int side, int fd, size_t sent, size_t rcvd, uint16_t mss)
{
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(p->s.st[side], fd, &ti), 0);
    ck_assert_int_eq(ti.state, US_TCPS_ESTABLISHED);
    ck_assert_uint_eq(ti.bytes_acked, sent);
    ck_assert_uint_eq(ti.unacked, 0);
    ck_assert_uint_ge(ti.bytes_received, rcvd);
    ck_assert_uint_eq(ti.mss_snd, mss);
    ck_assert(ti.ts && ti.sack && ti.wscale);
}

/* One connection: `n` bytes A->B, then B->A, then both ways at once; a clean link retransmits
 * nothing. */
static void
bulk(uint64_t seed, uint16_t mtu, int cc, size_t n)
{
    struct simtcp_pair p;
    simtcp_connect(&p, NULL, seed, mtu, NULL, cc);
    struct simtcp_dir d[2];
    simtcp_transfer(&p, n, 0, US_SEC(600), d);
    simtcp_transfer(&p, 0, n, US_SEC(600), d);
    simtcp_transfer(&p, n / 2, n / 2, US_SEC(600), d);
    uint16_t mss = (uint16_t)((mtu ? mtu : 1500) - 40 - 12);
    size_t each = n + n / 2;
    check_info(&p, 0, p.cfd, each, each, mss);
    check_info(&p, 1, p.sfd, each, each, mss);
    struct us_tcp_info ti;
    us_tcp_get_info(p.s.st[0], p.cfd, &ti);
    ck_assert_str_eq(us_tcp_cc_name(ti.cc), cc == US_CC_NEWRENO ? "reno" : "cubic");
    ck_assert_uint_eq(simtcp_stat(&p.s, 0, "TCP_RETRANS"), 0);
    ck_assert_uint_eq(simtcp_stat(&p.s, 1, "TCP_RETRANS"), 0);
    ck_assert_uint_eq(simtcp_stat(&p.s, 0, "TCP_RTO"), 0);
    ck_assert_uint_eq(simtcp_stat(&p.s, 1, "TCP_RTO"), 0);
    ck_assert_uint_eq(simtcp_tcp_drops(&p.s, 0), 0);
    ck_assert_uint_eq(simtcp_tcp_drops(&p.s, 1), 0);
    simtcp_close_all(&p);
    sim_run(&p.s, US_SEC(1));
    ck_assert_uint_eq(simtcp_count(&p.s, 0, "TIME-WAIT"), 1);
    ck_assert_uint_eq(simtcp_count(&p.s, 1, NULL), 0);
    simtcp_finish(&p.s);
}

/* 25 MiB each way, then 12.5 MiB each way at once, per test; four tests: 300 MiB. */
START_TEST(bulk_mtu1500_cubic)
{
    bulk(1, 1500, US_CC_CUBIC, big(25 * MB));
}
END_TEST

START_TEST(bulk_mtu1500_newreno)
{
    bulk(2, 1500, US_CC_NEWRENO, big(25 * MB));
}
END_TEST

START_TEST(bulk_mtu9000_cubic)
{
    bulk(3, 9000, US_CC_CUBIC, big(25 * MB));
}
END_TEST

START_TEST(bulk_mtu9000_newreno)
{
    bulk(4, 9000, US_CC_NEWRENO, big(25 * MB));
}
END_TEST

/* A rate-limited, delayed link (10 Mbit/s, 20 ms each way): the window must grow past the
 * bandwidth-delay product and a short queue overflows in slow start, which recovery repairs. */
START_TEST(bulk_bottleneck)
{
    for (int cc = 0; cc < 2; cc++) {
        struct us_impair imp = {.delay = US_MSEC(20), .rate_bps = 10000000, .queue_limit = 64};
        struct simtcp_pair p;
        simtcp_connect(&p, &imp, 20 + (uint64_t)cc, 1500, NULL, cc);
        struct simtcp_dir d[2];
        simtcp_transfer(&p, 4 * MB, 1 * MB, US_SEC(600), d);
        struct us_tcp_info ti;
        us_tcp_get_info(p.s.st[0], p.cfd, &ti);
        ck_assert_uint_eq(ti.bytes_acked, 4 * MB);
        ck_assert_uint_gt(ti.srtt, US_MSEC(40));
        simtcp_close_all(&p);
        simtcp_finish(&p.s);
    }
}
END_TEST

/* ---- determinism ----------------------------------------------------------------------------- */

struct run_print {
    uint64_t fp, trace;
};

static struct run_print
impaired_run(uint64_t seed)
{
    struct us_impair imp = {.loss = 0.03, .dup = 0.01, .reorder = 0.03, .corrupt = 0.01,
                            .delay = US_MSEC(3), .jitter = US_MSEC(1)};
    struct run_print r = {0};
    struct simtcp_pair p;
    simtcp_connect(&p, &imp, seed, 1500, NULL, US_CC_CUBIC);
    simtcp_trace_hash(&p.s, &r.trace); /* from here on: the handshake shows in the counters */
    simtcp_transfer(&p, 512 * 1024, 256 * 1024, US_SEC(600), NULL);
    simtcp_close_all(&p);
    sim_run(&p.s, US_SEC(5));
    r.fp = simtcp_fingerprint(&p.s);
    simtcp_finish(&p.s);
    return r;
}

START_TEST(same_seed_same_run)
{
    struct run_print a = impaired_run(77), b = impaired_run(77), c = impaired_run(78);
    ck_assert_uint_ne(a.trace, 0);
    ck_assert_uint_eq(a.fp, b.fp);
    ck_assert_uint_eq(a.trace, b.trace);
    ck_assert_uint_ne(a.fp, c.fp);
    ck_assert_uint_ne(a.trace, c.trace);
}
END_TEST

/* One test case per test, so CK_RUN_CASE=<name> runs one alone. */
#define ADD(su, t) US_ADD_CASE(su, #t, t, 600)

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_bulk");
    ADD(su, bulk_mtu1500_cubic);
    ADD(su, bulk_mtu1500_newreno);
    ADD(su, bulk_mtu9000_cubic);
    ADD(su, bulk_mtu9000_newreno);
    ADD(su, bulk_bottleneck);
    ADD(su, same_seed_same_run);
    return su;
}

US_TEST_MAIN()
