/* Core unit tests: timer queue ordering, ties, lazy re-arm, stale entries (through the stack),
 * packet pool limits and reuse, PRNG determinism. */
#include <errno.h>
#include <string.h>

#include <ustack.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "core/rand.h"
#include "core/timerq.h"
#include "lib/testutil.h"

START_TEST(timerq_orders_by_deadline_then_insertion)
{
    struct us_timerq q;
    us_timerq_init(&q);
    ck_assert_int_eq(us_timerq_next(&q), US_TIME_NEVER);
    /* 200 entries, deadlines scrambled, many ties */
    for (uint32_t i = 0; i < 200; i++)
        ck_assert_int_eq(us_timerq_add(&q, (us_time_t)((i * 37) % 10), 1, i, 0), 0);
    ck_assert_int_eq(us_timerq_next(&q), 0);
    struct us_timer_ent e;
    ck_assert(!us_timerq_pop_due(&q, -1, &e));
    us_time_t last_d = -1;
    uint32_t last_owner = 0;
    size_t popped = 0;
    for (us_time_t now = 0; now < 10; now++) {
        while (us_timerq_pop_due(&q, now, &e)) {
            ck_assert_int_eq(e.deadline, now);
            if (e.deadline == last_d)
                ck_assert_uint_gt(e.owner, last_owner); /* ties in insertion order */
            last_d = e.deadline;
            last_owner = e.owner;
            popped++;
        }
        ck_assert_int_eq(us_timerq_next(&q), now < 9 ? now + 1 : US_TIME_NEVER);
    }
    ck_assert_uint_eq(popped, 200);
    ck_assert(!us_timerq_pop_due(&q, 100, &e));
    us_timerq_destroy(&q);
}
END_TEST

START_TEST(timerq_lazy_rearm_and_limit)
{
    struct us_timerq q;
    us_timerq_init(&q);
    us_time_t t = US_TIME_NEVER, tq = US_TIME_NEVER;
    ck_assert_int_eq(us_timerq_arm(&q, &t, &tq, 100, 1, 5, 2), 0);
    ck_assert_uint_eq(q.len, 1);
    /* later: nothing pushed, only the logical deadline moves */
    for (us_time_t w = 110; w <= 200; w += 10)
        ck_assert_int_eq(us_timerq_arm(&q, &t, &tq, w, 1, 5, 2), 0);
    ck_assert_uint_eq(q.len, 1);
    ck_assert_int_eq(t, 200);
    ck_assert_int_eq(tq, 100);
    /* the entry at 100 fires early: not due, queued again at 200 */
    struct us_timer_ent e;
    ck_assert(us_timerq_pop_due(&q, 100, &e));
    ck_assert(!us_timerq_fire(&q, &e, &t, &tq, 100));
    ck_assert_uint_eq(q.len, 1);
    ck_assert_int_eq(us_timerq_next(&q), 200);
    /* earlier: a new entry; the one at 200 is then stale */
    ck_assert_int_eq(us_timerq_arm(&q, &t, &tq, 150, 1, 5, 2), 0);
    ck_assert_uint_eq(q.len, 2);
    ck_assert(us_timerq_pop_due(&q, 150, &e));
    ck_assert(us_timerq_fire(&q, &e, &t, &tq, 150));
    ck_assert_int_eq(t, US_TIME_NEVER);
    ck_assert_int_eq(tq, US_TIME_NEVER);
    ck_assert(us_timerq_pop_due(&q, 200, &e));
    ck_assert(!us_timerq_fire(&q, &e, &t, &tq, 200)); /* stale */
    /* stopped (t = NEVER) while queued: the entry pops and nothing runs */
    ck_assert_int_eq(us_timerq_arm(&q, &t, &tq, 300, 1, 5, 2), 0);
    t = US_TIME_NEVER;
    ck_assert(us_timerq_pop_due(&q, 300, &e));
    ck_assert(!us_timerq_fire(&q, &e, &t, &tq, 300));
    ck_assert_uint_eq(q.len, 0);
    /* a full heap refuses an entry and leaves tq alone */
    q.limit = 1;
    ck_assert_int_eq(us_timerq_add(&q, 400, 1, 6, 0), 0);
    ck_assert_int_eq(us_timerq_arm(&q, &t, &tq, 350, 1, 5, 2), -ENOMEM);
    ck_assert_int_eq(tq, US_TIME_NEVER);
    ck_assert_uint_eq(q.len, 1);
    us_timerq_destroy(&q);
}
END_TEST

START_TEST(timerq_keeps_fields_and_interleaves)
{
    struct us_timerq q;
    us_timerq_init(&q);
    us_timerq_add(&q, 50, 2, 7, 3);
    us_timerq_add(&q, 10, 1, 8, 4);
    struct us_timer_ent e;
    ck_assert(us_timerq_pop_due(&q, 20, &e));
    ck_assert_int_eq(e.deadline, 10);
    ck_assert_uint_eq(e.kind, 1);
    ck_assert_uint_eq(e.owner, 8);
    ck_assert_uint_eq(e.gen, 4);
    ck_assert(!us_timerq_pop_due(&q, 20, &e));
    us_timerq_add(&q, 50, 3, 9, 0); /* ties with an older entry: fires after it */
    us_timerq_add(&q, 30, 3, 10, 0);
    ck_assert(us_timerq_pop_due(&q, 60, &e));
    ck_assert_uint_eq(e.owner, 10);
    ck_assert(us_timerq_pop_due(&q, 60, &e));
    ck_assert_uint_eq(e.owner, 7);
    ck_assert(us_timerq_pop_due(&q, 60, &e));
    ck_assert_uint_eq(e.owner, 9);
    ck_assert_int_eq(us_timerq_next(&q), US_TIME_NEVER);
    us_timerq_destroy(&q);
}
END_TEST

START_TEST(timerq_gives_memory_back)
{
    /* A burst of 100,000 timers grows the heap; once they have fired, it is small again. */
    struct us_timerq q;
    us_timerq_init(&q);
    for (uint32_t i = 0; i < 100000; i++)
        ck_assert_int_eq(us_timerq_add(&q, (us_time_t)(i % 977), 1, i, 0), 0);
    ck_assert_uint_ge(q.cap, 100000);
    struct us_timer_ent e;
    size_t n = 0;
    us_time_t last = 0;
    while (us_timerq_pop_due(&q, 1000, &e)) {
        ck_assert_int_ge(e.deadline, last); /* shrinking keeps the heap in order */
        last = e.deadline;
        n++;
    }
    ck_assert_uint_eq(n, 100000);
    ck_assert_uint_le(q.cap, 128);
    us_timerq_destroy(&q);
}
END_TEST

/* Stale entries: a stack whose ARP entry is re-armed leaves old heap entries behind; they must
 * fire as no-ops. A request resolves at 0.5 s (entry re-armed for 30.5 s); the stale retry
 * entry at 1 s must not send another request. */
static size_t n_tx;
static int
count_tx(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx;
    (void)f;
    (void)len;
    n_tx++;
    return 0;
}

START_TEST(stale_timer_entries_are_skipped)
{
    struct us_stack *st = us_stack_new(NULL, 1);
    struct us_iface_conf c = {.size = sizeof(struct us_iface_conf),
                              .mac = {2, 0, 0, 0, 0, 2}, .addr = US_IP4(192, 0, 2, 2),
                              .prefix_len = 24, .tx = count_tx};
    struct us_iface *ifp = us_iface_add(st, &c, 0);
    n_tx = 0;
    int fd = us_socket(st, US_SOCK_DGRAM);
    struct us_sockaddr to = {US_IP4(192, 0, 2, 1), 7};
    ck_assert_int_eq(us_sendto(st, fd, "x", 1, 0, &to, 0), 1);
    ck_assert_uint_eq(n_tx, 1); /* the request */
    ck_assert_int_eq(us_next_deadline(st), US_SEC(1));
    uint8_t f[42] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2,
                     2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 2, 0, 0, 0, 0, 2, 192, 0, 2, 2};
    us_input(st, ifp, f, sizeof(f), US_MSEC(500));
    ck_assert_uint_eq(n_tx, 2); /* the queued datagram */
    us_poll(st, US_SEC(1));
    us_poll(st, US_SEC(2));
    ck_assert_uint_eq(n_tx, 2);
    ck_assert_int_eq(us_next_deadline(st), US_MSEC(30500));
    us_close(st, fd, US_SEC(2));
    us_poll(st, US_SEC(31));
    ck_assert_int_eq(us_next_deadline(st), US_TIME_NEVER);
    ck_assert_uint_eq(us_stat_get(st, US_STAT_ARP_EXPIRED), 1);
    us_stack_free(st);
}
END_TEST

/* Growable public structs: the library takes the size their init function wrote and refuses a
 * size it does not know (a struct from newer headers, or one never initialised). */
START_TEST(config_and_iface_sizes_checked)
{
    struct us_config cfg;
    us_config_default(&cfg);
    ck_assert_uint_eq(cfg.size, sizeof(cfg));
    struct us_stack *st = us_stack_new(&cfg, 1);
    ck_assert_ptr_nonnull(st);
    size_t bad_sizes[] = {0, sizeof(cfg) + 8, offsetof(struct us_config, ttl)};
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        cfg.size = bad_sizes[i];
        errno = 0;
        ck_assert_ptr_null(us_stack_new(&cfg, 1));
        ck_assert_int_eq(errno, EINVAL);
    }
    struct us_iface_conf c;
    memset(&c, 0xa5, sizeof(c));
    us_iface_conf_init(&c);
    ck_assert_uint_eq(c.size, sizeof(c));
    ck_assert_ptr_null(c.name);
    ck_assert_uint_eq(c.mtu, 0);
    ck_assert_ptr_null(c.tx_gso);
    c.addr = US_IP4(192, 0, 2, 2);
    c.prefix_len = 24;
    c.tx = count_tx;
    c.size = sizeof(c) + 8;
    errno = 0;
    ck_assert_ptr_null(us_iface_add(st, &c, 0));
    ck_assert_int_eq(errno, EINVAL);
    c.size = 0;
    ck_assert_ptr_null(us_iface_add(st, &c, 0));
    c.size = sizeof(c);
    ck_assert_ptr_nonnull(us_iface_add(st, &c, 0));
    us_stack_free(st);
    ck_assert_str_eq(us_version(), USTACK_VERSION_STRING);
    ck_assert_uint_eq(us_version_number(), USTACK_VERSION_HEX);
}
END_TEST

START_TEST(pool_limits_and_reuse)
{
    struct us_pool pools[2];
    us_pool_init(&pools[0], US_PKT_SMALL_SIZE, 3);
    us_pool_init(&pools[1], US_PKT_LARGE_SIZE, 1);
    struct us_pkt *p[4];
    for (int i = 0; i < 3; i++) {
        p[i] = us_pkt_alloc(pools, 100);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq(p[i]->cls, 0);
        ck_assert_uint_eq(us_pkt_headroom(p[i]), US_PKT_HEADROOM);
        ck_assert_uint_eq(p[i]->len, 0);
    }
    ck_assert_uint_eq(pools[0].in_use, 3);
    /* small exhausted: a small request spills into the large class */
    p[3] = us_pkt_alloc(pools, 100);
    ck_assert_ptr_nonnull(p[3]);
    ck_assert_uint_eq(p[3]->cls, 1);
    ck_assert_ptr_null(us_pkt_alloc(pools, 100));
    ck_assert_ptr_null(us_pkt_alloc(pools, US_PKT_LARGE_SIZE)); /* never fits */
    /* freed buffers come back, most recent first, reset */
    uint8_t *w = us_pkt_put(p[1], 10);
    memset(w, 0xaa, 10);
    p[1]->addr = 5;
    us_pkt_free(pools, p[1]);
    us_pkt_free(pools, NULL);
    ck_assert_uint_eq(pools[0].in_use, 2);
    struct us_pkt *again = us_pkt_alloc(pools, 2000 - US_PKT_HEADROOM);
    ck_assert_ptr_eq(again, p[1]);
    ck_assert_uint_eq(again->len, 0);
    ck_assert_uint_eq(again->addr, 0);
    ck_assert_uint_eq(pools[0].allocated, 3);
    /* size class boundary: exactly the small buffer after headroom */
    us_pkt_free(pools, again);
    struct us_pkt *edge = us_pkt_alloc(pools, US_PKT_SMALL_SIZE - US_PKT_HEADROOM);
    ck_assert_uint_eq(edge->cls, 0);
    ck_assert_uint_eq(us_pkt_tailroom(edge), US_PKT_SMALL_SIZE - US_PKT_HEADROOM);
    us_pkt_free(pools, edge);
    us_pkt_free(pools, p[3]);
    struct us_pkt *big = us_pkt_alloc(pools, US_PKT_SMALL_SIZE - US_PKT_HEADROOM + 1);
    ck_assert_uint_eq(big->cls, 1);
    /* queue accounting */
    struct us_pktq q = {0};
    us_pkt_put(big, 7);
    us_pktq_push(&q, big);
    us_pktq_push(&q, p[0]);
    ck_assert_uint_eq(q.count, 2);
    ck_assert_uint_eq(q.bytes, 7);
    ck_assert_ptr_eq(us_pktq_pop(&q), big);
    us_pktq_push(&q, big);
    us_pktq_push(&q, p[2]);
    us_pktq_purge(pools, &q);
    ck_assert_uint_eq(q.count, 0);
    ck_assert_uint_eq(q.bytes, 0);
    ck_assert_uint_eq(pools[0].in_use, 0);
    ck_assert_uint_eq(pools[1].in_use, 0);
    us_pool_destroy(&pools[0]);
    us_pool_destroy(&pools[1]);
}
END_TEST

START_TEST(rand_is_deterministic)
{
    struct us_rand a, b, c;
    us_rand_seed(&a, 42);
    us_rand_seed(&b, 42);
    us_rand_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = us_rand_next(&a);
        ck_assert_uint_eq(x, us_rand_next(&b));
        if (x != us_rand_next(&c))
            differ++;
    }
    ck_assert_int_ge(differ, 999);
    /* below(n) stays in range and reaches every value of a small range */
    unsigned seen = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t v = us_rand_below(&a, 5);
        ck_assert_uint_lt(v, 5);
        seen |= 1u << v;
    }
    ck_assert_uint_eq(seen, 0x1f);
    ck_assert_uint_eq(us_rand_below(&a, 1), 0);
    /* two stacks with the same seed pick the same ephemeral ports */
    uint16_t port[2];
    for (int k = 0; k < 2; k++) {
        struct us_stack *st = us_stack_new(NULL, 99);
        int fd = us_socket(st, US_SOCK_DGRAM);
        struct us_sockaddr any = {0, 0};
        ck_assert_int_eq(us_bind(st, fd, &any), 0);
        struct us_sockaddr me;
        us_getsockname(st, fd, &me);
        port[k] = me.port;
        us_stack_free(st);
    }
    ck_assert_uint_eq(port[0], port[1]);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, timerq_orders_by_deadline_then_insertion);
    tcase_add_test(tc, timerq_keeps_fields_and_interleaves);
    tcase_add_test(tc, timerq_gives_memory_back);
    tcase_add_test(tc, timerq_lazy_rearm_and_limit);
    tcase_add_test(tc, stale_timer_entries_are_skipped);
    tcase_add_test(tc, pool_limits_and_reuse);
    tcase_add_test(tc, config_and_iface_sizes_checked);
    tcase_add_test(tc, rand_is_deterministic);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
