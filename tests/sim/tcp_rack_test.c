/* RACK loss detection (RFC 8985 6) between two stacks over the in-memory wire, each case against
 * the same seeds with RACK off (tcp_recovery 0: RFC 6675's rule and the duplicate-ACK count):
 * - a link that reorders by less than the reordering window (2% of frames held back 1 ms on a
 *   10 ms path; min_RTT / 4 = 2.5 ms): after the first reordering RACK resends almost nothing;
 * - a retransmission lost too, with nothing new sent after it: RACK resends it again when a
 *   later retransmission is SACKed, without a timeout; RFC 6675 waits for the RTO;
 * - a link that reorders by more than the window (held back 4 ms): the D-SACKs of the spurious
 *   retransmissions widen reo_wnd beyond min_RTT / 4.
 * Every transfer is checked byte for byte (simtcp_transfer). SIM_SEEDS=n changes the number of
 * seeds (default 4); SIM_SEED=n replays one. */
#include <stdio.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"
#include "wire/wire.h"

struct result {
    us_time_t elapsed;
    uint64_t retrans, rto, rack_lost, lost_rtx, spurious;
    struct us_tcp_info ti; /* the sender's, at the end */
};

static uint64_t
stat(const struct simtcp_pair *p, const char *name)
{
    return simtcp_stat(&p->s, 0, name) + simtcp_stat(&p->s, 1, name);
}

static struct result
run(uint64_t seed, const struct us_impair *imp, bool rack, size_t bytes,
    bool (*drop)(void *, int, const uint8_t *, size_t), void *drop_ctx)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_recovery = rack ? US_TCP_RECOVERY_RACK : 0;
    struct simtcp_pair p;
    simtcp_connect(&p, imp, seed, 0, &cfg, US_CC_CUBIC);
    p.s.drop = drop;
    p.s.drop_ctx = drop_ctx;
    us_time_t t0 = p.s.now;
    simtcp_transfer(&p, bytes, 0, US_SEC(300), NULL);
    struct result r = {p.s.now - t0, stat(&p, "TCP_RETRANS"), stat(&p, "TCP_RTO"),
                       stat(&p, "TCP_RACK_LOST"), stat(&p, "TCP_LOST_RETRANS"),
                       stat(&p, "TCP_SPURIOUS_RTX"), {0}};
    ck_assert_int_eq(us_tcp_get_info(p.s.st[0], p.cfd, &r.ti), 0);
    printf("%s seed %llu: %.3f s, %llu retransmissions (%llu spurious), %llu RTOs, %llu marked "
           "lost by RACK (%llu retransmissions), min_rtt %.2f ms, reo_wnd %.2f ms%s\n",
           rack ? "rack" : "6675", (unsigned long long)seed, (double)r.elapsed / 1e9,
           (unsigned long long)r.retrans, (unsigned long long)r.spurious,
           (unsigned long long)r.rto, (unsigned long long)r.rack_lost,
           (unsigned long long)r.lost_rtx, (double)r.ti.min_rtt / 1e6,
           (double)r.ti.reo_wnd / 1e6, r.ti.reord_seen ? ", reordering seen" : "");
    p.s.drop = NULL;
    simtcp_close_all(&p);
    simtcp_finish(&p.s);
    return r;
}

START_TEST(reordering_within_window)
{
    struct us_impair imp = {.delay = US_MSEC(5), .reorder = 0.02, .reorder_gap = US_MSEC(1),
                            .rate_bps = 100000000, .queue_limit = 2000};
    unsigned n = simtcp_nseeds(4);
    uint64_t on_sum = 0, off_sum = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t seed = simtcp_seed_at(i);
        struct result on = run(seed, &imp, true, 4u << 20, NULL, NULL);
        struct result off = run(seed, &imp, false, 4u << 20, NULL, NULL);
        /* nothing was lost: RACK learns the reordering at its first sight and resends nothing
         * more; RFC 6675 resends each segment overtaken by three */
        ck_assert_msg(on.ti.reord_seen, "seed %llu: reordering not seen",
                      (unsigned long long)seed);
        ck_assert_msg(on.retrans <= 3, "seed %llu: %llu retransmissions with RACK",
                      (unsigned long long)seed, (unsigned long long)on.retrans);
        ck_assert_uint_eq(on.rto, 0);
        on_sum += on.retrans;
        off_sum += off.retrans;
    }
    ck_assert_msg(off_sum >= 10 * n, "only %llu retransmissions without RACK: too little "
                  "reordering to tell", (unsigned long long)off_sum);
    ck_assert_msg(5 * on_sum <= off_sum, "%llu retransmissions with RACK, %llu without",
                  (unsigned long long)on_sum, (unsigned long long)off_sum);
}
END_TEST

/* Drops, from A's data, the first two transmissions of segment 30 and the first of segment 35
 * of a 40-segment transfer: by then everything is sent, so nothing new follows the
 * retransmissions of the two. */
struct dropper {
    uint32_t base, seg; /* the first data byte's sequence number, the segment size */
    bool started;
    unsigned sent30, sent35;
};

static bool
drop_rtx(void *ctx, int from, const uint8_t *f, size_t len)
{
    struct dropper *d = ctx;
    struct us_eth_repr eth;
    struct us_ip4_repr ip;
    struct us_tcp_repr tcp;
    if (from != 0 || us_wire_eth_parse(&eth, f, len) != 0 || eth.type != US_ETHERTYPE_IPV4 ||
        us_wire_ip4_parse(&ip, f + US_ETH_HDR_LEN, len - US_ETH_HDR_LEN, false) != 0 ||
        ip.proto != US_IPPROTO_TCP ||
        us_wire_tcp_parse(&tcp, ip.payload, ip.payload_len, ip.src, ip.dst, false) != 0 ||
        tcp.payload_len == 0)
        return false;
    if (!d->started) {
        d->started = true;
        d->base = tcp.seq;
        d->seg = (uint32_t)tcp.payload_len;
    }
    uint32_t off = tcp.seq - d->base;
    if (off == 30 * d->seg)
        return d->sent30++ < 2;
    if (off == 35 * d->seg)
        return d->sent35++ < 1;
    return false;
}

START_TEST(lost_retransmission_without_rto)
{
    /* (a link that only delays: the one seed decides nothing) */
    struct us_impair imp = {.delay = US_MSEC(5)};
    uint64_t seed = simtcp_seed_at(0);
    struct dropper d_on = {0}, d_off = {0};
    struct result on = run(seed, &imp, true, 40 * 1448, drop_rtx, &d_on);
    struct result off = run(seed, &imp, false, 40 * 1448, drop_rtx, &d_off);
    ck_assert_uint_eq(d_on.seg, 1448);
    ck_assert_uint_eq(d_on.sent30, 3); /* the original, the lost retransmission, the third */
    ck_assert_uint_eq(d_on.sent35, 2);
    ck_assert_uint_eq(on.rto, 0);
    ck_assert_uint_eq(on.lost_rtx, 1);
    ck_assert_uint_eq(on.retrans, 3);
    /* without RACK the lost retransmission waits for the timeout */
    ck_assert_uint_ge(off.rto, 1);
    ck_assert_msg(on.elapsed < off.elapsed, "%.3f s with RACK, %.3f s without",
                  (double)on.elapsed / 1e9, (double)off.elapsed / 1e9);
}
END_TEST

START_TEST(reo_wnd_grows_after_dsack)
{
    struct us_impair imp = {.delay = US_MSEC(5), .reorder = 0.02, .reorder_gap = US_MSEC(4),
                            .rate_bps = 100000000, .queue_limit = 2000};
    unsigned n = simtcp_nseeds(4);
    for (unsigned i = 0; i < n; i++) {
        uint64_t seed = simtcp_seed_at(i);
        struct result on = run(seed, &imp, true, 4u << 20, NULL, NULL);
        /* spurious retransmissions, shown so by D-SACK or timestamps, then a wider window */
        ck_assert_uint_gt(on.spurious, 0);
        ck_assert_int_gt(on.ti.min_rtt, US_MSEC(10));
        ck_assert_msg(on.ti.reo_wnd >= 2 * (on.ti.min_rtt / 4),
                      "seed %llu: reo_wnd %lld ns, min_rtt %lld ns", (unsigned long long)seed,
                      (long long)on.ti.reo_wnd, (long long)on.ti.min_rtt);
        ck_assert_uint_eq(on.rto, 0);
    }
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_rack");
    TCase *tc = tcase_create("rack");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, reordering_within_window);
    tcase_add_test(tc, lost_retransmission_without_rto);
    tcase_add_test(tc, reo_wnd_grows_after_dsack);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
