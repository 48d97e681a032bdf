/* Socket API unit tests: every call's errno for bad descriptors and states, descriptor limits
 * and reuse, MSG_PEEK, poll masks, buffers freed on close, SO_BROADCAST. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"

static uint8_t frame[OS_MAX_FRAME];

START_TEST(bad_descriptors)
{
    struct onestack o;
    os_init(&o, NULL, 0);
    struct us_sockaddr a = {OS_PEER_IP, 7};
    char buf[4];
    int bad[] = {-1, 0, 5, 1 << 20};
    int closed = us_socket(o.st, US_SOCK_DGRAM);
    ck_assert_int_eq(closed, 0);
    ck_assert_int_eq(us_close(o.st, closed, o.now), 0);
    for (size_t i = 0; i < US_ARRAY_LEN(bad); i++) {
        int fd = bad[i];
        ck_assert_int_eq(us_bind(o.st, fd, &a), -EBADF);
        ck_assert_int_eq(us_connect(o.st, fd, &a, o.now), -EBADF);
        ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, &a, o.now), -EBADF);
        ck_assert_int_eq(us_recvfrom(o.st, fd, buf, 4, 0, NULL, NULL, o.now), -EBADF);
        ck_assert_int_eq(us_getsockname(o.st, fd, &a), -EBADF);
        ck_assert_int_eq(us_getpeername(o.st, fd, &a), -EBADF);
        ck_assert_int_eq(us_sock_poll(o.st, fd), -EBADF);
        ck_assert_int_eq(us_sock_error(o.st, fd), -EBADF);
        ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_BROADCAST, 1), -EBADF);
        ck_assert_int_eq(us_close(o.st, fd, o.now), -EBADF);
    }
    int tfd = us_socket(o.st, US_SOCK_STREAM); /* TCP exists now */
    ck_assert_int_ge(tfd, 0);
    ck_assert_int_eq(us_listen(o.st, 99, 1), -EBADF);
    ck_assert_int_eq(us_accept(o.st, tfd, NULL), -EINVAL); /* not listening */
    ck_assert_int_eq(us_close(o.st, tfd, o.now), 0);
    ck_assert_int_eq(us_socket(o.st, (enum us_sock_type)42), -EINVAL);
    os_finish(&o);
}
END_TEST

/* US_MSG_PROBE (Linux's MSG_PROBE): the errors a UDP send would return, and nothing sent. */
START_TEST(udp_send_probe)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr far = {US_IP4(203, 0, 113, 1), 7};
    struct us_sockaddr peer = {OS_PEER_IP, 7};
    struct us_sockaddr lim = {US_IP4_BROADCAST, 7};
    static char big[65508];
    ck_assert_int_eq(us_sendto(o.st, fd, NULL, 5, US_MSG_PROBE, &far, o.now), -ENETUNREACH);
    ck_assert_int_eq(us_sendto(o.st, fd, NULL, sizeof(big), US_MSG_PROBE, &peer, o.now),
                     -EMSGSIZE);
    ck_assert_int_eq(us_sendto(o.st, fd, NULL, 5, US_MSG_PROBE, &lim, o.now), -EACCES);
    ck_assert_int_eq(us_sendto(o.st, fd, NULL, 5, US_MSG_PROBE, &peer, o.now), 5);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "hello", 5, 0, &peer, o.now), 5);
    ck_assert_uint_eq(os_pending(&o), 1);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_finish(&o);
}
END_TEST

START_TEST(address_state_errors)
{
    struct onestack o;
    os_init(&o, NULL, 0);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr a;
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), -EDESTADDRREQ);
    ck_assert_int_eq(us_getpeername(o.st, fd, &a), -ENOTCONN);
    struct us_sockaddr zero_port = {OS_PEER_IP, 0};
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, &zero_port, o.now), -EINVAL);
    ck_assert_int_eq(us_connect(o.st, fd, &zero_port, o.now), -EINVAL);
    struct us_sockaddr far = {US_IP4(203, 0, 113, 1), 7};
    ck_assert_int_eq(us_connect(o.st, fd, &far, o.now), -ENETUNREACH);
    ck_assert_int_eq(us_getsockname(o.st, fd, &a), 0);
    ck_assert_uint_eq(a.port, 0); /* nothing bound yet */
    struct us_sockaddr peer = {OS_PEER_IP, 7};
    ck_assert_int_eq(us_connect(o.st, fd, &peer, o.now), 0);
    ck_assert_int_eq(us_getpeername(o.st, fd, &a), 0);
    ck_assert_uint_eq(a.addr, OS_PEER_IP);
    ck_assert_uint_eq(a.port, 7);
    ck_assert_int_eq(us_getsockname(o.st, fd, &a), 0);
    ck_assert_uint_ne(a.port, 0); /* connect bound an ephemeral port */
    ck_assert_int_eq(us_connect(o.st, fd, NULL, o.now), 0);
    ck_assert_int_eq(us_getpeername(o.st, fd, &a), -ENOTCONN);
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), -EDESTADDRREQ);
    ck_assert_int_eq(us_setsockopt(o.st, fd, (enum us_sockopt)99, 1), -ENOPROTOOPT);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(descriptor_limit_and_reuse)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.max_sockets = 3;
    struct onestack o;
    os_init(&o, &cfg, 0);
    ck_assert_int_eq(us_socket(o.st, US_SOCK_DGRAM), 0);
    ck_assert_int_eq(us_socket(o.st, US_SOCK_PING), 1);
    ck_assert_int_eq(us_socket(o.st, US_SOCK_DGRAM), 2);
    ck_assert_int_eq(us_socket(o.st, US_SOCK_DGRAM), -EMFILE);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_SOCK_LIMIT), 1);
    ck_assert_int_eq(us_close(o.st, 1, o.now), 0);
    ck_assert_int_eq(us_close(o.st, 0, o.now), 0);
    ck_assert_int_eq(us_socket(o.st, US_SOCK_DGRAM), 0); /* lowest first */
    ck_assert_int_eq(us_socket(o.st, US_SOCK_DGRAM), 1);
    ck_assert_int_eq(us_socket(o.st, US_SOCK_DGRAM), -EMFILE);
    struct us_sock_info si[4];
    ck_assert_uint_eq(us_sock_list(o.st, si, 4), 3);
    ck_assert_uint_eq(us_sock_list(o.st, si, 1), 3); /* count even when out is short */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(us_close(o.st, i, o.now), 0);
    ck_assert_uint_eq(us_sock_list(o.st, si, 4), 0);
    os_finish(&o);
}
END_TEST

static void
feed(struct onestack *o, uint16_t dport, const char *msg)
{
    size_t n = os_build_udp(frame, OS_PEER_IP, OS_IP, 4000, dport, msg, strlen(msg));
    os_input(o, frame, n);
}

START_TEST(peek_poll_and_close_frees)
{
    struct onestack o;
    os_init(&o, NULL, 0);
    int fd = os_udp_bound(&o, 7);
    ck_assert_int_eq(us_sock_poll(o.st, fd), US_POLLOUT);
    feed(&o, 7, "first");
    feed(&o, 7, "second");
    ck_assert_int_eq(us_sock_poll(o.st, fd), US_POLLOUT | US_POLLIN);
    char buf[16];
    struct us_sockaddr from;
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), US_MSG_PEEK, &from, NULL, o.now), 5);
    ck_assert_mem_eq(buf, "first", 5);
    ck_assert_uint_eq(from.addr, OS_PEER_IP);
    ck_assert_uint_eq(from.port, 4000);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), US_MSG_PEEK, NULL, NULL, o.now), 5);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 5);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 6);
    ck_assert_mem_eq(buf, "second", 6);
    ck_assert_int_eq(us_sock_poll(o.st, fd), US_POLLOUT);
    for (int i = 0; i < 5; i++)
        feed(&o, 7, "queued");
    struct us_pool_info pi;
    us_pool_info(o.st, &pi);
    ck_assert_uint_eq(pi.small_in_use, 5);
    ck_assert_int_eq(us_close(o.st, fd, o.now), 0);
    us_pool_info(o.st, &pi);
    ck_assert_uint_eq(pi.small_in_use, 0);
    os_finish(&o);
}
END_TEST

START_TEST(broadcast_needs_so_broadcast)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr lim = {US_IP4_BROADCAST, 7}, dir = {OS_BCAST_IP, 7};
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, &lim, o.now), -EACCES);
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, &dir, o.now), -EACCES);
    ck_assert_int_eq(us_connect(o.st, fd, &lim, o.now), -EACCES);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_BROADCAST, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, &lim, o.now), 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "d", 1, 0, &dir, o.now), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_bcast_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.dst, US_IP4_BROADCAST);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_bcast_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.dst, OS_BCAST_IP);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_REQ_OUT), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_BROADCAST, 0), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, &lim, o.now), -EACCES);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(sendto_reports_pending_error_once)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr peer = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_connect(o.st, fd, &peer, o.now), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), 1);
    os_advance(&o, US_SEC(3)); /* ARP gives up */
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), -EHOSTUNREACH);
    ck_assert_int_eq(us_sock_error(o.st, fd), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), 1);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("socket");
    TCase *tc = tcase_create("socket");
    tcase_add_test(tc, bad_descriptors);
    tcase_add_test(tc, address_state_errors);
    tcase_add_test(tc, udp_send_probe);
    tcase_add_test(tc, descriptor_limit_and_reuse);
    tcase_add_test(tc, peek_poll_and_close_frees);
    tcase_add_test(tc, broadcast_needs_so_broadcast);
    tcase_add_test(tc, sendto_reports_pending_error_once);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
