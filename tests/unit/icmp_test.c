/* ICMP unit tests (RFC 792, RFC 1122 3.2.2): echo, broadcast echo, the "never an error about"
 * rules, the rate limit, received errors reaching the right socket, ping sockets, bad input. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "ip/ip.h"
#include "lib/onestack.h"
#include "lib/testutil.h"

static uint8_t frame[OS_MAX_FRAME];
static uint8_t msg[OS_MAX_FRAME];

START_TEST(echo_reply_mirrors_request)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    static const char data[] = "0123456789abcdefghij";
    size_t n = os_build_echo(frame, OS_PEER_IP, OS_IP, 0x4242, 7, data, 20);
    frame[US_ETH_HDR_LEN + 1] = 0x10; /* TOS */
    os_fix_ip_csum(frame);
    os_input(&o, frame, n);
    ck_assert_uint_eq(os_pending(&o), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_peer_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(p.ip.dst, OS_PEER_IP);
    ck_assert_uint_eq(p.ip.tos, 0x10);
    ck_assert_uint_eq(p.ip.ttl, 64);
    ck_assert_uint_eq(p.icmp.type, US_ICMP_ECHO_REPLY);
    ck_assert_uint_eq(p.icmp.code, 0);
    ck_assert_uint_eq(p.icmp.id, 0x4242);
    ck_assert_uint_eq(p.icmp.seq, 7);
    ck_assert_uint_eq(p.icmp.data_len, 20);
    ck_assert_mem_eq(p.icmp.data, data, 20);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ECHO_REQ_IN), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ECHO_REPLY_OUT), 1);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    os_finish(&o);
}
END_TEST

static int
tx_discard(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx;
    (void)f;
    (void)len;
    return 0;
}

START_TEST(echo_reply_source_is_address_asked)
{
    struct onestack o;
    os_start(&o, NULL);
    /* a second address on another interface; the request for it arrives on the first one */
    struct us_iface_conf c = {.size = sizeof(struct us_iface_conf),
                              .name = "os1", .mac = {0x02, 0, 0, 0, 0, 0x22},
                              .addr = US_IP4(198, 51, 100, 2), .prefix_len = 24, .tx = tx_discard};
    ck_assert_ptr_nonnull(us_iface_add(o.st, &c, o.now));
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    size_t n = os_build_echo(frame, OS_PEER_IP, US_IP4(198, 51, 100, 2), 1, 2, "x", 1);
    os_input(&o, frame, n);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_uint_eq(p.ip.src, US_IP4(198, 51, 100, 2));
    ck_assert_uint_eq(p.ip.dst, OS_PEER_IP);
    ck_assert_uint_eq(p.icmp.type, US_ICMP_ECHO_REPLY);
    os_finish(&o);
}
END_TEST

START_TEST(broadcast_echo_ignored)
{
    struct onestack o;
    os_start(&o, NULL);
    size_t n = os_build_echo(frame, OS_PEER_IP, OS_BCAST_IP, 1, 1, "x", 1);
    memcpy(frame, os_bcast_mac, US_ETH_ALEN);
    os_input(&o, frame, n);
    n = os_build_echo(frame, OS_PEER_IP, US_IP4_BROADCAST, 1, 2, "x", 1);
    memcpy(frame, os_bcast_mac, US_ETH_ALEN);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_BCAST_ECHO), 2);
    ck_assert_uint_eq(os_pending(&o), 0);
    os_finish(&o);
}
END_TEST

/* Feeds fragment 0 (MF set) of an ICMP message, so its reassembly times out. */
static void
icmp_first_fragment(struct onestack *o, uint8_t type, uint16_t id)
{
    struct us_icmp_repr m = {.type = type, .code = 0, .data = (const uint8_t *)"01234567",
                             .data_len = 8};
    size_t ml = os_build_icmp_msg(msg, &m);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_ICMP);
    r.id = id;
    r.mf = true;
    size_t n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(o, frame, n);
}

START_TEST(no_error_about_error_broadcast_or_fragment)
{
    struct onestack o;
    os_start(&o, NULL);
    o.now = US_SEC(1);
    /* reassembly of an ICMP error times out: no time exceeded about it */
    icmp_first_fragment(&o, US_ICMP_DEST_UNREACH, 1);
    /* the same for an echo request: an error is due */
    icmp_first_fragment(&o, US_ICMP_ECHO_REQUEST, 2);
    o.now = US_SEC(2);
    os_learn(&o, OS_PEER_IP, os_peer_mac); /* still known when the errors are due */
    os_advance(&o, US_SEC(29));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TIMEOUT), 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_SUPPRESSED), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_OUT), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_uint_eq(p.icmp.type, US_ICMP_TIME_EXCEEDED);
    ck_assert_uint_eq(us_load_be16(p.icmp.data + 4), 2); /* quotes datagram id 2 */
    /* about a non-initial fragment, a broadcast, a broadcast source: never */
    size_t n = os_build_udp(frame, OS_PEER_IP, OS_IP, 1, 2, "x", 1);
    struct us_ip4_rx rx = {.hdr = frame + US_ETH_HDR_LEN, .ifp = o.ifp};
    ck_assert_int_eq(us_wire_ip4_parse(&rx.ip, rx.hdr, n - US_ETH_HDR_LEN, true), 0);
    rx.ip.frag_off = 8;
    us_icmp_send_error(o.st, &rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0, o.now);
    rx.ip.frag_off = 0;
    rx.to_bcast = true;
    us_icmp_send_error(o.st, &rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0, o.now);
    rx.to_bcast = false;
    rx.ip.dst = US_IP4(224, 0, 0, 9);
    us_icmp_send_error(o.st, &rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0, o.now);
    rx.ip.dst = OS_IP;
    rx.ip.src = OS_BCAST_IP;
    us_icmp_send_error(o.st, &rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0, o.now);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_SUPPRESSED), 5);
    ck_assert_uint_eq(os_pending(&o), 0);
    /* and the unchanged datagram does get one */
    rx.ip.src = OS_PEER_IP;
    us_icmp_send_error(o.st, &rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0, o.now);
    p = os_take_ip(&o);
    ck_assert_uint_eq(p.icmp.code, US_ICMP_UNREACH_PORT);
    os_finish(&o);
}
END_TEST

/* Sends `count` datagrams to a closed port at the current time; returns errors emitted. */
static size_t
closed_port_burst(struct onestack *o, int count)
{
    size_t before = os_pending(o);
    for (int i = 0; i < count; i++) {
        size_t n = os_build_udp(frame, OS_PEER_IP, OS_IP, 5000, 9, "x", 1);
        os_input(o, frame, n);
    }
    size_t got = os_pending(o) - before;
    while (os_pending(o))
        ck_assert_uint_eq(os_take_ip(o).icmp.code, US_ICMP_UNREACH_PORT);
    return got;
}

START_TEST(error_rate_limit)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.icmp_err_rate = 2;
    cfg.icmp_err_burst = 3;
    struct onestack o;
    os_start(&o, &cfg);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    /* at time 0 exactly: the burst, then nothing */
    ck_assert_uint_eq(closed_port_burst(&o, 5), 3);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_RATELIMITED), 2);
    ck_assert_uint_eq(closed_port_burst(&o, 2), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_RATELIMITED), 4);
    /* 2 per second: one token after 500 ms */
    o.now = US_MSEC(499);
    ck_assert_uint_eq(closed_port_burst(&o, 1), 0);
    o.now = US_MSEC(500);
    ck_assert_uint_eq(closed_port_burst(&o, 3), 1);
    /* refilled to the burst, not beyond, after a long pause */
    o.now = US_SEC(20);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    ck_assert_uint_eq(closed_port_burst(&o, 10), 3);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_OUT), 7);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_RATELIMITED), 4 + 1 + 2 + 7);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_NO_PORT), 21);
    os_finish(&o);
}
END_TEST

/* Feeds back an ICMP error of (type, code) quoting the IP datagram in captured frame f. */
static void
reflect_error(struct onestack *o, const struct os_frame *f, uint8_t type, uint8_t code)
{
    struct us_icmp_repr m = {.type = type, .code = code, .data = f->b + US_ETH_HDR_LEN,
                             .data_len = 28};
    size_t ml = os_build_icmp_msg(msg, &m);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_ICMP);
    size_t n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(o, frame, n);
}

/* A fresh stack and a UDP socket connected to the peer's port 9, which answered the socket's
 * first datagram with port unreachable. */
static int
refused_socket(struct onestack *o)
{
    os_start(o, NULL);
    os_learn(o, OS_PEER_IP, os_peer_mac);
    int c = us_socket(o->st, US_SOCK_DGRAM);
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_connect(o->st, c, &to, o->now), 0);
    ck_assert_int_eq(us_sendto(o->st, c, "q", 1, 0, NULL, o->now), 1);
    reflect_error(o, os_take(o), US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT);
    return c;
}

START_TEST(port_unreachable_reaches_connected_socket)
{
    struct onestack o;
    int c = refused_socket(&o);
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_IN), 1);
    ck_assert_int_eq(us_sock_poll(o.st, c), US_POLLOUT | US_POLLERR);
    char buf[8];
    ck_assert_int_eq(us_recvfrom(o.st, c, buf, sizeof(buf), 0, NULL, NULL, o.now), -ECONNREFUSED);
    ck_assert_int_eq(us_recvfrom(o.st, c, buf, sizeof(buf), 0, NULL, NULL, o.now), -EAGAIN);
    ck_assert_int_eq(us_sock_poll(o.st, c), US_POLLOUT);
    /* an unconnected socket is not told */
    int u = us_socket(o.st, US_SOCK_DGRAM);
    ck_assert_int_eq(us_sendto(o.st, u, "q", 1, 0, &to, o.now), 1);
    reflect_error(&o, os_take(&o), US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_NO_SOCKET), 1);
    ck_assert_int_eq(us_sock_poll(o.st, u), US_POLLOUT);
    ck_assert_int_eq(us_recvfrom(o.st, u, buf, sizeof(buf), 0, NULL, NULL, o.now), -EAGAIN);
    /* an error quoting a datagram that is not ours */
    struct os_frame fake = {frame, 0};
    static uint8_t fb[128];
    fake.b = fb;
    fake.len = os_build_udp(fb, OS_PEER_IP, US_IP4(192, 0, 2, 9), 1, 2, "zz", 2);
    reflect_error(&o, &fake, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_BAD_QUOTE), 1);
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, c, o.now);
    us_close(o.st, u, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(pending_error_reported_before_queued_data)
{
    struct onestack o;
    int c = refused_socket(&o);
    /* with the error pending, a datagram from the peer is queued too */
    struct us_sockaddr me;
    ck_assert_int_eq(us_getsockname(o.st, c, &me), 0);
    size_t n = os_build_udp(frame, OS_PEER_IP, OS_IP, 9, me.port, "d1", 2);
    os_input(&o, frame, n);
    ck_assert_int_eq(us_sock_poll(o.st, c), US_POLLIN | US_POLLOUT | US_POLLERR);
    /* Linux (__skb_try_recv_datagram, __skb_recv_udp): the error first, once, even when
     * peeking; then the data, which the error did not consume */
    char buf[8];
    ck_assert_int_eq(us_recvfrom(o.st, c, buf, sizeof(buf), US_MSG_PEEK, NULL, NULL, o.now),
                     -ECONNREFUSED);
    ck_assert_int_eq(us_sock_poll(o.st, c), US_POLLIN | US_POLLOUT);
    struct us_sockaddr from;
    ck_assert_int_eq(us_recvfrom(o.st, c, buf, sizeof(buf), 0, &from, NULL, o.now), 2);
    ck_assert_mem_eq(buf, "d1", 2);
    ck_assert_uint_eq(from.addr, OS_PEER_IP);
    ck_assert_uint_eq(from.port, 9);
    ck_assert_int_eq(us_recvfrom(o.st, c, buf, sizeof(buf), 0, NULL, NULL, o.now), -EAGAIN);
    us_close(o.st, c, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(ping_socket_gets_its_reply)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int p = us_socket(o.st, US_SOCK_PING);
    uint8_t req[12] = {8, 0, 0, 0, 0, 0, 0, 5, 'p', 'i', 'n', 'g'};
    struct us_sockaddr to = {OS_PEER_IP, 0};
    ck_assert_int_eq(us_sendto(o.st, p, req, sizeof(req), 0, &to, o.now), 12);
    struct os_pkt q = os_take_ip(&o);
    ck_assert_uint_eq(q.icmp.type, US_ICMP_ECHO_REQUEST);
    ck_assert_uint_eq(q.icmp.seq, 5);
    struct us_sockaddr me;
    ck_assert_int_eq(us_getsockname(o.st, p, &me), 0);
    ck_assert_uint_eq(q.icmp.id, me.port);
    struct us_icmp_repr m = {.type = US_ICMP_ECHO_REPLY, .id = q.icmp.id, .seq = 5,
                             .data = (const uint8_t *)"ping", .data_len = 4};
    size_t ml = os_build_icmp_msg(msg, &m);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_ICMP);
    size_t n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(&o, frame, n);
    uint8_t buf[32];
    ck_assert_int_eq(us_recvfrom(o.st, p, buf, sizeof(buf), 0, NULL, NULL, o.now), 12);
    ck_assert_uint_eq(buf[0], 0);
    ck_assert_mem_eq(buf + 8, "ping", 4);
    /* a reply for another identifier finds no socket */
    m.id = (uint16_t)(q.icmp.id + 1);
    ml = os_build_icmp_msg(msg, &m);
    n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_NO_SOCKET), 1);
    us_close(o.st, p, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(bad_messages_dropped)
{
    struct onestack o;
    os_start(&o, NULL);
    size_t n = os_build_echo(frame, OS_PEER_IP, OS_IP, 1, 1, "abcd", 4);
    frame[n - 1] ^= 1; /* data no longer matches the checksum */
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_BAD_CSUM), 1);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_ICMP);
    n = os_build_ip(frame, NULL, &r, "\x08\x00\xf7", 3);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_TRUNCATED), 1);
    struct us_icmp_repr m = {.type = 13}; /* timestamp: not handled */
    size_t ml = os_build_icmp_msg(msg, &m);
    n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_BAD_TYPE), 1);
    m.type = US_ICMP_DEST_UNREACH;
    m.data = (const uint8_t *)"short";
    m.data_len = 5;
    ml = os_build_icmp_msg(msg, &m);
    n = os_build_ip(frame, NULL, &r, msg, ml);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ICMP_BAD_QUOTE), 1);
    ck_assert_uint_eq(us_drop_total(o.st), 4);
    ck_assert_uint_eq(os_pending(&o), 0);
    os_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("icmp");
    TCase *tc = tcase_create("icmp");
    tcase_add_test(tc, echo_reply_mirrors_request);
    tcase_add_test(tc, echo_reply_source_is_address_asked);
    tcase_add_test(tc, broadcast_echo_ignored);
    tcase_add_test(tc, no_error_about_error_broadcast_or_fragment);
    tcase_add_test(tc, error_rate_limit);
    tcase_add_test(tc, port_unreachable_reaches_connected_socket);
    tcase_add_test(tc, pending_error_reported_before_queued_data);
    tcase_add_test(tc, ping_socket_gets_its_reply);
    tcase_add_test(tc, bad_messages_dropped);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
