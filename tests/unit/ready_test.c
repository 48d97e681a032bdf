/* Readiness interface unit tests (us_sock_watch / us_ready): one stack on a virtual clock. Each
 * place where a socket's readiness can change must wake its descriptor, or a program waiting
 * on us_ready hangs: each test first brings the ready list to empty (the socket not ready), then
 * makes one thing happen and asserts the one event it must produce, with its cookie. Edge-
 * triggered watches are used where a level-triggered entry still on the list would hide a
 * missing wake-up. */
#include <errno.h>
#include <string.h>

#include "lib/onestack.h"
#include "lib/testutil.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define F US_TCP_FIN
#define R US_TCP_RST
#define P US_TCP_PSH
#define U US_TCP_URG

static uint8_t frame[OS_MAX_FRAME];
static int cookie_a, cookie_b; /* their addresses are the cookies */

/* us_ready must report exactly one event: fd with events ev and the cookie. */
static void
expect_one(struct onestack *o, int fd, unsigned ev, void *cookie)
{
    struct us_ready_event e[8];
    size_t n = us_ready(o->st, e, 8);
    ck_assert_msg(n == 1, "%zu descriptors ready, want only fd %d (first: fd %d events %#x)", n,
                  fd, n ? e[0].fd : -1, n ? e[0].events : 0u);
    ck_assert_int_eq(e[0].fd, fd);
    ck_assert_msg(e[0].events == ev, "fd %d events %#x, want %#x", fd, e[0].events, ev);
    ck_assert_ptr_eq(e[0].cookie, cookie);
}

/* Nothing ready, and the list is empty afterwards. */
static void
expect_none(struct onestack *o)
{
    struct us_ready_event e[8];
    size_t n = us_ready(o->st, e, 8);
    ck_assert_msg(n == 0, "%zu descriptors ready (first: fd %d events %#x), want none", n,
                  n ? e[0].fd : -1, n ? e[0].events : 0u);
    ck_assert(!us_ready_pending(o->st));
}

static void
udp_in(struct onestack *o, uint16_t dport, const char *msg)
{
    size_t n = os_build_udp(frame, OS_PEER_IP, OS_IP, 5000, dport, msg, strlen(msg));
    os_input(o, frame, n);
}

START_TEST(udp_level_and_edge)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    char buf[16];
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, US_WATCH_LEVEL, &cookie_a), 0);
    expect_none(&o);
    udp_in(&o, 7, "one");
    expect_one(&o, fd, US_POLLIN, &cookie_a);
    expect_one(&o, fd, US_POLLIN, &cookie_a); /* level: reported while it stays ready */
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 3);
    expect_none(&o); /* read empty: it leaves the list */
    /* edge: once per arrival */
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, US_WATCH_EDGE, &cookie_b), 0);
    expect_none(&o);
    udp_in(&o, 7, "two");
    expect_one(&o, fd, US_POLLIN, &cookie_b);
    expect_none(&o); /* still readable, but no new wake-up */
    udp_in(&o, 7, "three");
    expect_one(&o, fd, US_POLLIN, &cookie_b);
    /* registering reports a socket that is already ready (EPOLL_CTL_ADD) */
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN | US_POLLOUT, US_WATCH_LEVEL, &cookie_a), 0);
    expect_one(&o, fd, US_POLLIN | US_POLLOUT, &cookie_a);
    ck_assert_int_eq(us_sock_watch(o.st, fd, 0, US_WATCH_LEVEL, NULL), 0); /* stop watching */
    expect_none(&o);
    udp_in(&o, 7, "four");
    expect_none(&o);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, (enum us_watch_mode)7, NULL), -EINVAL);
    ck_assert_int_eq(us_sock_watch(o.st, fd + 1, US_POLLIN, US_WATCH_LEVEL, NULL), -EBADF);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(close_leaves_the_list)
{
    /* A closed descriptor is never reported, even when it was queued and its number is
     * reused at once by a socket nobody watches. */
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    int other = os_udp_bound(&o, 9);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLOUT, US_WATCH_LEVEL, &cookie_a), 0);
    ck_assert_int_eq(us_sock_watch(o.st, other, US_POLLIN, US_WATCH_LEVEL, &cookie_b), 0);
    udp_in(&o, 9, "x");
    ck_assert(us_ready_pending(o.st));
    us_close(o.st, fd, o.now);
    int again = us_socket(o.st, US_SOCK_DGRAM);
    ck_assert_int_eq(again, fd);
    expect_one(&o, other, US_POLLIN, &cookie_b);
    us_close(o.st, other, o.now);
    expect_none(&o);
    us_close(o.st, again, o.now);
    os_finish(&o);
}
END_TEST

/* reflects frame f (our datagram) back as an ICMP error of type/code from the peer */
static void
reflect_error(struct onestack *o, const struct os_frame *f, uint8_t type, uint8_t code)
{
    static uint8_t msg[128];
    struct us_icmp_repr m = {.type = type, .code = code, .data = f->b + US_ETH_HDR_LEN,
                             .data_len = 28};
    size_t ml = os_build_icmp_msg(msg, &m);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_ICMP);
    size_t n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(o, frame, n);
}

START_TEST(udp_icmp_error_is_reported)
{
    /* so_error set by an ICMP error: POLLERR is reported though only POLLIN is watched. */
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int c = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_connect(o.st, c, &to, o.now), 0);
    ck_assert_int_eq(us_sock_watch(o.st, c, US_POLLIN, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    ck_assert_int_eq(us_sendto(o.st, c, "q", 1, 0, NULL, o.now), 1);
    expect_none(&o);
    reflect_error(&o, os_take(&o), US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT);
    expect_one(&o, c, US_POLLERR, &cookie_a);
    ck_assert_int_eq(us_sock_error(o.st, c), ECONNREFUSED);
    us_close(o.st, c, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(tcp_accept_queue)
{
    /* The listener is woken when a connection completes the handshake, not at the SYN. */
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int l = os_tcp_listen(&o, 80, 4);
    ck_assert_int_eq(us_sock_watch(o.st, l, US_POLLIN, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t, S, 0, S | A, NULL);
    expect_none(&o); /* embryonic: nothing to accept */
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_one(&o, l, US_POLLIN, &cookie_a);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    expect_none(&o);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_data_fin_and_urgent)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    char buf[16];
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN | US_POLLPRI, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    os_tcp_tx(&o, &t, A | P, "abc", 3);
    expect_one(&o, fd, US_POLLIN, &cookie_a);
    expect_none(&o);
    os_tcp_tx(&o, &t, A | P, "de", 2); /* edge: each arrival wakes again */
    expect_one(&o, fd, US_POLLIN, &cookie_a);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 5);
    /* urgent data: POLLPRI with POLLIN */
    struct us_tcp_repr r = os_tcp_seg(&t, A | P | U);
    r.payload = (const uint8_t *)"!";
    r.payload_len = 1;
    r.urg_ptr = 1;
    os_tcp_send(&o, &r);
    t.seq += 1;
    expect_one(&o, fd, US_POLLIN | US_POLLPRI, &cookie_a);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 1);
    expect_none(&o);
    /* the peer's FIN: end of stream is readable */
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    expect_one(&o, fd, US_POLLIN, &cookie_a);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_send_space_on_ack)
{
    /* A full send buffer: POLLOUT comes back when an ACK frees room. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_SNDBUF, 4096), 0);
    static uint8_t data[4096];
    ck_assert_int_eq(us_sendto(o.st, fd, data, sizeof(data), 0, NULL, o.now), 4096);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLOUT, US_WATCH_LEVEL, &cookie_b), 0);
    expect_none(&o);
    struct us_tcp_repr seg;
    size_t got = 0;
    while (os_tcp_pending(&o)) {
        os_tcp_rx(&o, &t, &seg);
        got += seg.payload_len;
    }
    ck_assert_uint_ge(got, 2048); /* (Nagle holds the short tail until this is acknowledged) */
    t.ack += (uint32_t)got;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_one(&o, fd, US_POLLOUT, &cookie_b);
    expect_one(&o, fd, US_POLLOUT, &cookie_b); /* level: still writable */
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_connect_outcomes)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    /* established: writable */
    int fd = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLOUT, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    os_tcp_connect(&o, fd, 80, 65535, &t, NULL);
    expect_none(&o);
    os_tcp_tx(&o, &t, S | A, NULL, 0);
    expect_one(&o, fd, US_POLLOUT, &cookie_a);
    os_tcp_abort(&o, fd);
    /* refused: a RST answers the SYN */
    fd = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLOUT, US_WATCH_EDGE, &cookie_b), 0);
    os_tcp_connect(&o, fd, 81, 65535, &t, NULL);
    expect_none(&o);
    t.seq = 0;
    os_tcp_tx(&o, &t, R | A, NULL, 0);
    expect_one(&o, fd, US_POLLERR | US_POLLHUP, &cookie_b);
    ck_assert_int_eq(us_sock_error(o.st, fd), ECONNREFUSED);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_connect_times_out)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_syn_retries = 1;
    struct onestack o;
    os_start(&o, &cfg);
    struct os_tcp t;
    int fd = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLOUT, US_WATCH_EDGE, &cookie_a), 0);
    os_tcp_connect(&o, fd, 80, 65535, &t, NULL);
    os_advance(&o, US_SEC(2));
    os_clear(&o); /* the retransmitted SYN */
    expect_none(&o);
    os_advance(&o, US_SEC(10));
    expect_one(&o, fd, US_POLLERR | US_POLLHUP, &cookie_a);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_reset_and_keepalive_timeout)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    /* the peer resets an established connection */
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    os_tcp_tx(&o, &t, R, NULL, 0);
    expect_one(&o, fd, US_POLLIN | US_POLLERR | US_POLLHUP, &cookie_a);
    ck_assert_int_eq(us_sock_error(o.st, fd), ECONNRESET);
    us_close(o.st, fd, o.now);
    /* keepalive probes go unanswered: the timer ends the connection */
    fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_KEEPIDLE, 10), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_KEEPINTVL, 2), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_KEEPCNT, 2), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_KEEPALIVE, 1), 0);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, US_WATCH_EDGE, &cookie_b), 0);
    expect_none(&o);
    os_advance(&o, US_SEC(11));
    os_clear(&o);
    expect_none(&o); /* a probe is not an event */
    os_advance(&o, US_SEC(10));
    os_clear(&o);
    expect_one(&o, fd, US_POLLIN | US_POLLERR | US_POLLHUP, &cookie_b);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_shutdown_read)
{
    /* SHUT_RD changes no TCP state, yet the socket becomes readable (end of stream). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_RD, o.now), 0);
    expect_one(&o, fd, US_POLLIN, &cookie_a);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tcp_wake_on_fin_ack)
{
    /* The ACK of our FIN (FIN-WAIT-1 to FIN-WAIT-2) sets no US_POLL* bit: an edge watch sees
     * nothing, a US_POLLWAKE watch is reported, with no events (sockd's lingering close). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    struct us_tcp_repr seg;
    os_tcp_rx(&o, &t, &seg);
    ck_assert(seg.flags & F);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN, US_WATCH_EDGE, &cookie_a), 0);
    expect_none(&o);
    t.ack += 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_none(&o); /* FIN-WAIT-2: not readable, nothing to report */
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(o.st, fd, &ti), 0);
    ck_assert_int_eq(ti.state, US_TCPS_FIN_WAIT_2);
    os_tcp_abort(&o, fd);
    fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx(&o, &t, &seg);
    ck_assert(seg.flags & F);
    ck_assert_int_eq(us_sock_watch(o.st, fd, US_POLLIN | US_POLLWAKE, US_WATCH_EDGE, &cookie_b),
                     0);
    expect_one(&o, fd, 0, &cookie_b); /* registering looks at it once */
    expect_none(&o);
    t.ack += 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_one(&o, fd, 0, &cookie_b);
    expect_none(&o); /* edge: once per wake-up, never re-queued without events */
    ck_assert_int_eq(us_tcp_get_info(o.st, fd, &ti), 0);
    ck_assert_int_eq(ti.state, US_TCPS_FIN_WAIT_2);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(many_idle_one_ready)
{
    /* 500 watched idle sockets and one that receives: us_ready returns the one, and the idle
     * ones never enter the list (us_ready's work is the queued entries, not the open sockets). */
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.max_sockets = 600;
    struct onestack o;
    os_start(&o, &cfg);
    int fds[500];
    for (int i = 0; i < 500; i++) {
        fds[i] = os_udp_bound(&o, (uint16_t)(1000 + i));
        ck_assert_int_eq(us_sock_watch(o.st, fds[i], US_POLLIN, US_WATCH_LEVEL, &fds[i]), 0);
    }
    expect_none(&o);
    udp_in(&o, 1000 + 321, "hi");
    expect_one(&o, fds[321], US_POLLIN, &fds[321]);
    /* max is honoured; the rest waits for the next call */
    udp_in(&o, 1000 + 7, "a");
    udp_in(&o, 1000 + 9, "b");
    struct us_ready_event e[1];
    ck_assert_uint_eq(us_ready(o.st, e, 1), 1);
    ck_assert_int_eq(e[0].fd, fds[321]); /* oldest first: it was queued again first */
    ck_assert_uint_eq(us_ready(o.st, e, 1), 1);
    ck_assert_int_eq(e[0].fd, fds[7]);
    ck_assert_uint_eq(us_ready(o.st, e, 1), 1);
    ck_assert_int_eq(e[0].fd, fds[9]);
    for (int i = 0; i < 500; i++)
        us_close(o.st, fds[i], o.now);
    expect_none(&o);
    os_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("ready");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, udp_level_and_edge);
    tcase_add_test(tc, close_leaves_the_list);
    tcase_add_test(tc, udp_icmp_error_is_reported);
    tcase_add_test(tc, tcp_accept_queue);
    tcase_add_test(tc, tcp_data_fin_and_urgent);
    tcase_add_test(tc, tcp_send_space_on_ack);
    tcase_add_test(tc, tcp_connect_outcomes);
    tcase_add_test(tc, tcp_connect_times_out);
    tcase_add_test(tc, tcp_reset_and_keepalive_timeout);
    tcase_add_test(tc, tcp_shutdown_read);
    tcase_add_test(tc, tcp_wake_on_fin_ack);
    tcase_add_test(tc, many_idle_one_ready);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
