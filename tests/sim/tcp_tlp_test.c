/* Tail loss probes (RFC 8985 7) over a lossy link. Request/response traffic: each message is a
 * few segments, so a lost segment is often the last of its burst and no later one reports it.
 * The same seeds run with probes on and off: with them on, far fewer of those losses wait for a
 * retransmission timeout, and every byte of every request and response still arrives exactly.
 * SIM_SEEDS=n changes the number of seeds (default 6); SIM_SEED=n replays one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"

#define EXCHANGES 150

struct rr_stats {
    uint64_t rto, probes, tlp_loss;
    us_time_t elapsed;
};

static uint64_t
both(const struct simtcp_pair *p, const char *name)
{
    return simtcp_stat(&p->s, 0, name) + simtcp_stat(&p->s, 1, name);
}

/* Sends n bytes of stream sid from offset off on (side, fd); the send buffer takes them all. */
static void
rr_send(struct simtcp_pair *p, int side, int fd, uint64_t sid, uint64_t off, size_t n)
{
    static uint8_t buf[8192];
    ck_assert_uint_le(n, sizeof(buf));
    simtcp_gen(sid, off, buf, n);
    ck_assert_int_eq(us_sendto(p->s.st[side], fd, buf, n, 0, NULL, p->s.now), (ssize_t)n);
}

/* Runs the clock until (side, fd) has read n bytes, comparing them with stream sid at off. */
static void
rr_recv(struct simtcp_pair *p, int side, int fd, uint64_t sid, uint64_t off, size_t n)
{
    static uint8_t in[8192], want[8192];
    size_t got = 0;
    us_time_t end = p->s.now + US_SEC(60);
    while (got < n) {
        ck_assert_msg(p->s.now < end, "seed %llu: stalled at %zu of %zu bytes (side %d)",
                      (unsigned long long)p->seed, got, n, side);
        ssize_t r = us_recvfrom(p->s.st[side], fd, in, n - got, 0, NULL, NULL, p->s.now);
        if (r == -EAGAIN) {
            sim_run(&p->s, US_MSEC(1));
            continue;
        }
        ck_assert_msg(r > 0, "seed %llu: recv returned %zd", (unsigned long long)p->seed, r);
        simtcp_gen(sid, off + got, want, (size_t)r);
        ck_assert_msg(memcmp(in, want, (size_t)r) == 0, "seed %llu: stream %llu differs near %llu",
                      (unsigned long long)p->seed, (unsigned long long)sid,
                      (unsigned long long)(off + got));
        got += (size_t)r;
    }
}

static struct rr_stats
run(uint64_t seed, bool tlp)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_tlp = tlp;
    struct us_impair imp = {.loss = 0.03, .delay = US_MSEC(5)};
    struct simtcp_pair p;
    simtcp_connect(&p, &imp, seed, 0, &cfg, US_CC_CUBIC);
    uint64_t rto0 = both(&p, "TCP_RTO");
    us_time_t t0 = p.s.now;
    uint64_t qoff = 0, roff = 0;
    for (unsigned k = 0; k < EXCHANGES; k++) {
        size_t q = 100 + (k * 37) % 300;    /* request: one segment */
        size_t r = 1000 + (k * 1237) % 6000; /* response: one to five segments */
        rr_send(&p, 0, p.cfd, 1, qoff, q);
        rr_recv(&p, 1, p.sfd, 1, qoff, q);
        rr_send(&p, 1, p.sfd, 2, roff, r);
        rr_recv(&p, 0, p.cfd, 2, roff, r);
        qoff += q;
        roff += r;
    }
    struct rr_stats out = {both(&p, "TCP_RTO") - rto0, both(&p, "TCP_TLP_PROBES"),
                           both(&p, "TCP_TLP_LOSS"), p.s.now - t0};
    sim_run(&p.s, US_SEC(5)); /* the last ACK may have been lost too */
    struct us_tcp_info ta, tb;
    ck_assert_int_eq(us_tcp_get_info(p.s.st[0], p.cfd, &ta), 0);
    ck_assert_int_eq(us_tcp_get_info(p.s.st[1], p.sfd, &tb), 0);
    ck_assert_uint_eq(ta.bytes_acked, qoff);
    ck_assert_uint_eq(tb.bytes_acked, roff);
    simtcp_close_all(&p);
    sim_run(&p.s, US_SEC(30));
    ck_assert_uint_eq(simtcp_count(&p.s, 1, NULL), 0);
    simtcp_finish(&p.s);
    return out;
}

START_TEST(request_response_tail_loss)
{
    unsigned n = simtcp_nseeds(6);
    struct rr_stats on_sum = {0}, off_sum = {0};
    for (unsigned i = 0; i < n; i++) {
        uint64_t seed = simtcp_seed_at(i);
        struct rr_stats on = run(seed, true), off = run(seed, false);
        printf("tlp seed %llu: on: %llu RTOs, %llu probes, %llu losses found by them, %.2f s; "
               "off: %llu RTOs, %.2f s\n",
               (unsigned long long)seed, (unsigned long long)on.rto,
               (unsigned long long)on.probes, (unsigned long long)on.tlp_loss,
               (double)on.elapsed / 1e9, (unsigned long long)off.rto,
               (double)off.elapsed / 1e9);
        ck_assert_msg(off.probes == 0 && off.tlp_loss == 0, "seed %llu: probes with TLP off",
                      (unsigned long long)seed);
        ck_assert_msg(on.rto <= off.rto, "seed %llu: %llu RTOs with TLP, %llu without",
                      (unsigned long long)seed, (unsigned long long)on.rto,
                      (unsigned long long)off.rto);
        on_sum.rto += on.rto;
        on_sum.probes += on.probes;
        on_sum.tlp_loss += on.tlp_loss;
        off_sum.rto += off.rto;
    }
    /* "far fewer": at most a third of the timeouts, with losses actually found by probes */
    ck_assert_msg(off_sum.rto >= 3 * n, "only %llu RTOs without TLP: the link lost too little",
                  (unsigned long long)off_sum.rto);
    ck_assert_msg(3 * on_sum.rto <= off_sum.rto, "%llu RTOs with TLP, %llu without",
                  (unsigned long long)on_sum.rto, (unsigned long long)off_sum.rto);
    ck_assert_uint_gt(on_sum.probes, 0);
    ck_assert_uint_gt(on_sum.tlp_loss, 0);
}
END_TEST

/* A clean link (10 ms RTT) whose receiver delays its ACKs: after each bulk transfer (ACKed every
 * second segment), three short segments (more than one MSS in all, each under half of one) that
 * the receiver (RFC 1122 4.2.3.2, as Linux) answers only when its 40 ms delayed-ACK timer fires.
 * That ACK is late, more than 2 * SRTT after the last segment, but not lost: no probe may go
 * (RFC 8985 7.2 with the peer's delayed-ACK allowance), nor anything be sent twice. */
START_TEST(no_probe_for_delayed_ack)
{
    unsigned n = simtcp_nseeds(3);
    for (unsigned i = 0; i < n; i++) {
        uint64_t seed = simtcp_seed_at(i);
        struct us_impair imp = {.delay = US_MSEC(5)};
        struct simtcp_pair p;
        simtcp_connect(&p, &imp, seed, 0, NULL, US_CC_CUBIC);
        ck_assert_int_eq(us_setsockopt(p.s.st[0], p.cfd, US_TCP_NODELAY, 1), 0);
        uint64_t off = 0;
        for (unsigned k = 0; k < 20; k++) {
            size_t bulk = 4096 + (k * 797) % 4096;
            rr_send(&p, 0, p.cfd, 1, off, bulk);
            rr_recv(&p, 1, p.sfd, 1, off, bulk);
            off += bulk;
            sim_run(&p.s, US_MSEC(30)); /* everything ACKed: SRTT about 10 ms */
            for (unsigned j = 0; j < 3; j++) {
                rr_send(&p, 0, p.cfd, 1, off + 600 * j, 600);
                sim_run(&p.s, US_MSEC(1));
            }
            rr_recv(&p, 1, p.sfd, 1, off, 1800);
            off += 1800;
            sim_run(&p.s, US_MSEC(100)); /* the delayed ACK, and any probe, come within this */
        }
        struct us_tcp_info ta;
        ck_assert_int_eq(us_tcp_get_info(p.s.st[0], p.cfd, &ta), 0);
        printf("delayed-ACK peer, seed %llu: srtt %lld us, %llu probes, %llu retransmissions\n",
               (unsigned long long)seed, (long long)(ta.srtt / 1000),
               (unsigned long long)both(&p, "TCP_TLP_PROBES"),
               (unsigned long long)both(&p, "TCP_RETRANS"));
        ck_assert_uint_eq(ta.bytes_acked, off);
        ck_assert_uint_eq(both(&p, "TCP_TLP_PROBES"), 0);
        ck_assert_uint_eq(both(&p, "TCP_RETRANS"), 0);
        ck_assert_uint_eq(both(&p, "TCP_RTO"), 0);
        simtcp_close_all(&p);
        simtcp_finish(&p.s);
    }
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_tlp");
    TCase *tc = tcase_create("tlp");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, request_response_tail_loss);
    tcase_add_test(tc, no_probe_for_delayed_ack);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
