/* TCP between two stacks over the in-memory wire: handshake, transfer byte-exact in both
 * directions with and without impairments, every close path, churn without leaks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/drop.h"
#include "lib/sim.h"
#include "lib/testutil.h"

struct pair {
    struct sim s;
    int lfd, cfd, sfd; /* listener on B, client on A, accepted server socket on B */
};

static bool
poll_has(struct us_stack *st, int fd, int ev)
{
    int m = us_sock_poll(st, fd);
    return m >= 0 && (m & ev);
}

struct wait_ctx {
    struct us_stack *st;
    int fd, ev;
};

static bool
wait_cond(void *ctx)
{
    struct wait_ctx *w = ctx;
    return poll_has(w->st, w->fd, w->ev);
}

static void
connect_pair(struct pair *p, const struct us_impair *imp, uint64_t seed, uint16_t mtu)
{
    sim_init(&p->s, imp, seed, mtu, NULL);
    struct us_stack *a = p->s.st[0], *b = p->s.st[1];
    p->lfd = us_socket(b, US_SOCK_STREAM);
    struct us_sockaddr la = {0, 80};
    ck_assert_int_eq(us_bind(b, p->lfd, &la), 0);
    ck_assert_int_eq(us_listen(b, p->lfd, 16), 0);
    p->cfd = us_socket(a, US_SOCK_STREAM);
    struct us_sockaddr to = {SIM_B_IP, 80};
    ck_assert_int_eq(us_connect(a, p->cfd, &to, p->s.now), -EINPROGRESS);
    struct wait_ctx w = {a, p->cfd, US_POLLOUT | US_POLLERR};
    ck_assert(sim_run_until(&p->s, US_SEC(30), wait_cond, &w));
    ck_assert_int_eq(us_sock_error(a, p->cfd), 0);
    struct wait_ctx wl = {b, p->lfd, US_POLLIN};
    ck_assert(sim_run_until(&p->s, US_SEC(30), wait_cond, &wl));
    struct us_sockaddr peer;
    p->sfd = us_accept(b, p->lfd, &peer);
    ck_assert_int_ge(p->sfd, 0);
    ck_assert_uint_eq(peer.addr, SIM_A_IP);
}

static uint64_t
fnv(uint64_t h, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Sends `total` bytes from (st_tx, ftx) to (st_rx, frx), checking the received stream equals
 * the sent one (FNV-1a over both). */
static void
transfer(struct pair *p, int from, size_t total, us_time_t limit)
{
    struct us_stack *tx = p->s.st[from], *rx = p->s.st[1 - from];
    int ftx = from == 0 ? p->cfd : p->sfd, frx = from == 0 ? p->sfd : p->cfd;
    static uint8_t buf[65536], in[65536];
    size_t sent = 0, got = 0;
    uint64_t hs = 0xcbf29ce484222325ull, hr = hs;
    us_time_t end = p->s.now + limit;
    uint32_t x = 12345;
    while (got < total) {
        ck_assert_msg(p->s.now < end, "transfer stalled at %zu/%zu bytes", got, total);
        while (sent < total) {
            size_t n = US_MIN(sizeof(buf), total - sent);
            for (size_t i = 0; i < n; i++) {
                x = x * 1103515245u + 12345u;
                buf[i] = (uint8_t)(x >> 16);
            }
            ssize_t w = us_sendto(tx, ftx, buf, n, 0, NULL, p->s.now);
            if (w == -EAGAIN) {
                x = 12345; /* regenerate deterministically below */
                break;
            }
            ck_assert_int_gt(w, 0);
            hs = fnv(hs, buf, (size_t)w);
            sent += (size_t)w;
            /* rewind the generator for bytes not taken */
            x = 12345;
            {
                /* recompute generator state up to `sent` */
                uint32_t y = 12345;
                for (size_t i = 0; i < sent; i++)
                    y = y * 1103515245u + 12345u;
                x = y;
            }
            if ((size_t)w < n)
                break;
        }
        sim_run(&p->s, US_MSEC(1));
        ssize_t r;
        while ((r = us_recvfrom(rx, frx, in, sizeof(in), 0, NULL, NULL, p->s.now)) > 0) {
            hr = fnv(hr, in, (size_t)r);
            got += (size_t)r;
        }
        ck_assert_msg(r == -EAGAIN || r > 0, "recv error %zd", r);
    }
    ck_assert_uint_eq(got, total);
    ck_assert_uint_eq(hs, hr);
}

START_TEST(handshake_and_small_exchange)
{
    struct pair p;
    connect_pair(&p, NULL, 1, 0);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    ck_assert_int_eq(us_sendto(a, p.cfd, "hello", 5, 0, NULL, p.s.now), 5);
    struct wait_ctx w = {b, p.sfd, US_POLLIN};
    ck_assert(sim_run_until(&p.s, US_SEC(1), wait_cond, &w));
    char buf[16];
    ck_assert_int_eq(us_recvfrom(b, p.sfd, buf, sizeof(buf), 0, NULL, NULL, p.s.now), 5);
    ck_assert_mem_eq(buf, "hello", 5);
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(a, p.cfd, &ti), 0);
    ck_assert(ti.ts && ti.sack && ti.wscale);
    ck_assert_uint_eq(ti.mss_snd, 1448); /* 1460 less the timestamp option, as Linux */
    /* graceful close: client first -> client TIME-WAIT */
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    struct wait_ctx we = {b, p.sfd, US_POLLIN};
    ck_assert(sim_run_until(&p.s, US_SEC(1), wait_cond, &we));
    ck_assert_int_eq(us_recvfrom(b, p.sfd, buf, sizeof(buf), 0, NULL, NULL, p.s.now), 0); /* EOF */
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    sim_run(&p.s, US_SEC(1));
    struct us_sock_info si[4];
    size_t n = us_sock_list(a, si, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(us_tcp_state_name(si[0].state), "TIME-WAIT");
    sim_run(&p.s, US_SEC(61));
    ck_assert_uint_eq(us_sock_list(a, si, 4), 0);
    us_close(b, p.lfd, p.s.now);
    ck_assert(sim_free(&p.s));
}
END_TEST

START_TEST(bulk_both_directions)
{
    struct pair p;
    connect_pair(&p, NULL, 2, 0);
    transfer(&p, 0, 8u << 20, US_SEC(60));
    transfer(&p, 1, 8u << 20, US_SEC(60));
    us_close(p.s.st[0], p.cfd, p.s.now);
    us_close(p.s.st[1], p.sfd, p.s.now);
    us_close(p.s.st[1], p.lfd, p.s.now);
    sim_run(&p.s, US_SEC(120));
    ck_assert(sim_free(&p.s));
}
END_TEST

START_TEST(sndbuf_autotuning)
{
    /* The send buffer grows with the window (2 x min(cwnd, peer window), up to tcp_sndbuf_max,
     * 1 MiB by default)
     * so one connection can keep more than the initial 256 KiB in flight; a socket whose
     * SO_SNDBUF was set keeps that size. */
    struct pair p;
    connect_pair(&p, NULL, 3, 0);
    struct us_stack *a = p.s.st[0];
    int v = 0;
    ck_assert_int_eq(us_getsockopt(a, p.cfd, US_SO_SNDBUF, &v), 0);
    ck_assert_int_eq(v, 256 * 1024);
    transfer(&p, 0, 16u << 20, US_SEC(60));
    ck_assert_int_eq(us_getsockopt(a, p.cfd, US_SO_SNDBUF, &v), 0);
    ck_assert_int_gt(v, 256 * 1024);
    ck_assert_int_le(v, 1024 * 1024);
    ck_assert_int_eq(us_setsockopt(a, p.cfd, US_SO_SNDBUF, 100000), 0);
    transfer(&p, 0, 4u << 20, US_SEC(60));
    ck_assert_int_eq(us_getsockopt(a, p.cfd, US_SO_SNDBUF, &v), 0);
    ck_assert_int_eq(v, 100000);
    us_close(p.s.st[0], p.cfd, p.s.now);
    us_close(p.s.st[1], p.sfd, p.s.now);
    us_close(p.s.st[1], p.lfd, p.s.now);
    sim_run(&p.s, US_SEC(120));
    ck_assert(sim_free(&p.s));
}
END_TEST

START_TEST(bulk_lossy)
{
    struct us_impair imp = {.loss = 0.02, .reorder = 0.02, .dup = 0.01, .delay = US_MSEC(5)};
    struct pair p;
    connect_pair(&p, &imp, 3, 0);
    transfer(&p, 0, 4u << 20, US_SEC(600));
    transfer(&p, 1, 4u << 20, US_SEC(600));
    us_close(p.s.st[0], p.cfd, p.s.now);
    us_close(p.s.st[1], p.sfd, p.s.now);
    us_close(p.s.st[1], p.lfd, p.s.now);
    sim_run(&p.s, US_SEC(200));
    ck_assert(sim_free(&p.s));
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp");
    TCase *tc = tcase_create("tcp");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, handshake_and_small_exchange);
    tcase_add_test(tc, bulk_both_directions);
    tcase_add_test(tc, sndbuf_autotuning);
    tcase_add_test(tc, bulk_lossy);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
