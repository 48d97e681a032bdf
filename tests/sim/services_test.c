/* The built-in services (apps/services.c) on stack B, driven only by the readiness interface
 * (us_ready_dispatch after every simulation step, us_services_run for connections that used up
 * their burst), as the daemon drives them; stack A is the client. With 300 idle connections
 * open: TCP echo of 1 MiB is byte-exact, chargen sends RFC 864's pattern and its connection ends
 * when the client closes, discard answers a half-close with its FIN, UDP echo answers; and
 * when nothing happens, B's ready list is empty (idle connections are never looked at). */
#include <errno.h>
#include <string.h>

#include "lib/simtcp.h"
#include "lib/svcharness.h"
#include "lib/testutil.h"

#define IDLE 300

struct t {
    struct sim s;
    struct us_services *svc;
};

static bool
serve(void *ctx)
{
    struct t *t = ctx;
    svc_serve(t->svc, t->s.st[1], t->s.now);
    return false;
}

/* Runs `dur` of virtual time, serving B after every step. */
static void
tick(struct t *t, us_time_t dur)
{
    sim_run_until(&t->s, dur, serve, t);
}

/* Runs until A's fd shows one of ev (at most 10 s of virtual time). */
static void
wait_ev(struct t *t, int fd, int ev)
{
    for (int i = 0; i < 10000 && !(us_sock_poll(t->s.st[0], fd) & ev); i++)
        tick(t, US_MSEC(1));
    ck_assert_msg(us_sock_poll(t->s.st[0], fd) & ev, "fd %d: events %#x, waited for %#x", fd,
                  us_sock_poll(t->s.st[0], fd), ev);
}

static int
connect_to(struct t *t, uint16_t port)
{
    struct us_stack *a = t->s.st[0];
    int fd = us_socket(a, US_SOCK_STREAM);
    ck_assert_int_ge(fd, 0);
    struct us_sockaddr to = {SIM_B_IP, port};
    ck_assert_int_eq(us_connect(a, fd, &to, t->s.now), -EINPROGRESS);
    wait_ev(t, fd, US_POLLOUT | US_POLLERR);
    ck_assert_int_eq(us_sock_error(a, fd), 0);
    return fd;
}

/* B's sockets with a descriptor (listeners and served connections). */
static size_t
b_open(struct t *t)
{
    size_t n = us_sock_list(t->s.st[1], NULL, 0), k = 0;
    struct us_sock_info *si = calloc(n ? n : 1, sizeof(*si));
    ck_assert_ptr_nonnull(si);
    n = us_sock_list(t->s.st[1], si, n);
    for (size_t i = 0; i < n; i++)
        k += si[i].fd >= 0;
    free(si);
    return k;
}

START_TEST(services_on_readiness)
{
    struct t t;
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.max_sockets = 2 * IDLE;
    sim_init(&t.s, NULL, 7, 0, &cfg);
    ck_assert_int_eq(us_services_start(&t.svc, t.s.st[1], "echo,discard,chargen", t.s.now), 0);
    struct us_stack *a = t.s.st[0];
    size_t listeners = b_open(&t); /* 3 UDP + 3 TCP */
    ck_assert_uint_eq(listeners, 6);

    int idle[IDLE];
    for (int i = 0; i < IDLE; i++)
        idle[i] = connect_to(&t, 9);
    tick(&t, US_SEC(2));
    ck_assert_uint_eq(b_open(&t), listeners + IDLE); /* all accepted */
    ck_assert(!us_ready_pending(t.s.st[1]));         /* and none of them is looked at */

    /* TCP echo, 1 MiB, byte-exact */
    int e = connect_to(&t, 7);
    static uint8_t out[1 << 20], in[1 << 20];
    simtcp_gen(1, 0, out, sizeof(out));
    size_t sent = 0, got = 0;
    for (int round = 0; got < sizeof(in) && round < 100000; round++) {
        ssize_t w = sent < sizeof(out) ? us_sendto(a, e, out + sent, sizeof(out) - sent, 0, NULL,
                                                   t.s.now)
                                       : 0;
        if (w > 0)
            sent += (size_t)w;
        ssize_t r;
        while ((r = us_recvfrom(a, e, in + got, sizeof(in) - got, 0, NULL, NULL, t.s.now)) > 0)
            got += (size_t)r;
        tick(&t, US_MSEC(1));
    }
    ck_assert_uint_eq(got, sizeof(in));
    ck_assert(memcmp(in, out, sizeof(in)) == 0);
    ck_assert_int_eq(us_shutdown(a, e, US_SHUT_WR, t.s.now), 0);
    wait_ev(&t, e, US_POLLIN);
    char c;
    ck_assert_int_eq(us_recvfrom(a, e, &c, 1, 0, NULL, NULL, t.s.now), 0); /* the echo's FIN */
    us_close(a, e, t.s.now);

    /* chargen: RFC 864's rotating 72-character lines */
    int g = connect_to(&t, 19);
    static char line[74 * 40];
    size_t have = 0;
    while (have < sizeof(line)) {
        wait_ev(&t, g, US_POLLIN);
        ssize_t r = us_recvfrom(a, g, line + have, sizeof(line) - have, 0, NULL, NULL, t.s.now);
        ck_assert_int_gt(r, 0);
        have += (size_t)r;
    }
    for (size_t i = 0; i < sizeof(line); i++) {
        size_t l = i / 74, col = i % 74;
        char want = col < 72 ? (char)(' ' + (l + col) % 95) : col == 72 ? '\r' : '\n';
        ck_assert_msg(line[i] == want, "chargen byte %zu", i);
    }
    us_setsockopt(a, g, US_SO_LINGER, 0);
    us_close(a, g, t.s.now); /* RST: B's chargen connection must end (POLLERR) */
    tick(&t, US_MSEC(100));
    ck_assert_uint_eq(b_open(&t), listeners + IDLE);

    /* discard: a half-close is answered with B's FIN */
    ck_assert_int_eq(us_sendto(a, idle[5], "dropped", 7, 0, NULL, t.s.now), 7);
    ck_assert_int_eq(us_shutdown(a, idle[5], US_SHUT_WR, t.s.now), 0);
    wait_ev(&t, idle[5], US_POLLIN);
    ck_assert_int_eq(us_recvfrom(a, idle[5], &c, 1, 0, NULL, NULL, t.s.now), 0);

    /* UDP echo */
    int u = us_socket(a, US_SOCK_DGRAM);
    struct us_sockaddr to = {SIM_B_IP, 7};
    ck_assert_int_eq(us_sendto(a, u, "ping", 4, 0, &to, t.s.now), 4);
    wait_ev(&t, u, US_POLLIN);
    char buf[8];
    ck_assert_int_eq(us_recvfrom(a, u, buf, sizeof(buf), 0, NULL, NULL, t.s.now), 4);
    ck_assert_mem_eq(buf, "ping", 4);
    us_close(a, u, t.s.now);

    /* at rest again: nothing on B's ready list */
    tick(&t, US_SEC(1));
    ck_assert(!us_ready_pending(t.s.st[1]));
    ck_assert_uint_eq(us_services_next_deadline(t.svc), US_TIME_NEVER);

    for (int i = 0; i < IDLE; i++)
        us_close(a, idle[i], t.s.now);
    tick(&t, US_SEC(2));
    ck_assert_uint_eq(b_open(&t), listeners); /* every served connection ended with its client */
    us_services_stop(t.svc, t.s.st[1], t.s.now);
    simtcp_finish(&t.s); /* no socket or buffer left; frees the simulation */
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("services");
    TCase *tc = tcase_create("services");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, services_on_readiness);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
