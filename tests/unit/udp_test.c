/* UDP unit tests (RFC 768, RFC 1122 4.1.3): checksum rules, length field, demultiplexing,
 * port unreachable, receive buffer limit, ephemeral ports and bind errors. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"

static uint8_t frame[OS_MAX_FRAME];
#define UDP_OFF (US_ETH_HDR_LEN + US_IP4_HDR_LEN)

static size_t
udp_frame(us_ip4_t src, uint16_t sport, uint16_t dport, const char *msg)
{
    return os_build_udp(frame, src, OS_IP, sport, dport, msg, strlen(msg));
}

static void
expect_recv(struct onestack *o, int fd, const char *msg)
{
    char buf[256];
    struct us_sockaddr from;
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, &from, NULL, o->now),
                     (ssize_t)strlen(msg));
    ck_assert_mem_eq(buf, msg, strlen(msg));
}

static void
expect_empty(struct onestack *o, int fd)
{
    char buf[4];
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, NULL, NULL, o->now), -EAGAIN);
}

START_TEST(checksum_rules)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    size_t n = udp_frame(OS_PEER_IP, 4000, 7, "nocsum");
    us_store_be16(frame + UDP_OFF + 6, 0); /* RFC 768: none computed */
    os_input(&o, frame, n);
    expect_recv(&o, fd, "nocsum");
    n = udp_frame(OS_PEER_IP, 4000, 7, "badcsum");
    frame[UDP_OFF + 6] ^= 0x40;
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_BAD_CSUM), 1);
    expect_empty(&o, fd);
    /* the same datagram from another source fails the pseudo-header sum */
    n = udp_frame(OS_PEER_IP, 4000, 7, "pseudo");
    us_store_be32(frame + US_ETH_HDR_LEN + 12, US_IP4(192, 0, 2, 50));
    os_fix_ip_csum(frame);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_BAD_CSUM), 2);
    ck_assert_uint_eq(us_drop_total(o.st), 2);
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(driver_vouched_checksum)
{
    /* A TAP in vnet mode hands over frames whose checksum the kernel left to offload (the
     * field holds only the pseudo-header sum): with US_RX_L4_CSUM_OK the stack takes them
     * unverified; without it the same frame is a bad checksum. */
    struct onestack o;
    os_init(&o, NULL, 0);
    os_clear(&o);
    int fd = os_udp_bound(&o, 7);
    size_t n = udp_frame(OS_PEER_IP, 4000, 7, "partial");
    us_store_be16(frame + UDP_OFF + 6, 0x1234); /* not the sum of this datagram */
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_BAD_CSUM), 1);
    expect_empty(&o, fd);
    us_input_flags(o.st, o.ifp, frame, n, US_RX_L4_CSUM_OK, o.now);
    expect_recv(&o, fd, "partial");
    /* The IP header checksum is still checked: the flag covers TCP and UDP only. */
    n = udp_frame(OS_PEER_IP, 4000, 7, "badip");
    frame[US_ETH_HDR_LEN + 10] ^= 0x01;
    us_input_flags(o.st, o.ifp, frame, n, US_RX_L4_CSUM_OK, o.now);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_CSUM), 1);
    expect_empty(&o, fd);
    ck_assert_uint_eq(us_drop_total(o.st), 2);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(length_field)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    size_t n = udp_frame(OS_PEER_IP, 4000, 7, "abc");
    us_store_be16(frame + UDP_OFF + 4, 7); /* below the header */
    os_input(&o, frame, n);
    n = udp_frame(OS_PEER_IP, 4000, 7, "abc");
    us_store_be16(frame + UDP_OFF + 4, 12); /* past the IP payload */
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_BAD_LEN), 2);
    /* shorter than a UDP header */
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_UDP);
    n = os_build_ip(frame, NULL, &r, "\x0f\xa0\x00\x07\x00", 5);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_TRUNCATED), 1);
    /* bytes past the UDP length (inside the IP payload) are ignored */
    static uint8_t seg[64];
    size_t sl = os_build_udp_seg(seg, OS_PEER_IP, OS_IP, 4000, 7, "abc", 3);
    memcpy(seg + sl, "XYZW", 4);
    n = os_build_ip(frame, NULL, &r, seg, sl + 4);
    os_input(&o, frame, n);
    expect_recv(&o, fd, "abc");
    ck_assert_uint_eq(us_drop_total(o.st), 3);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(demux_best_match)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int wild = os_udp_bound(&o, 7);
    int addr = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr a = {OS_IP, 8};
    ck_assert_int_eq(us_bind(o.st, addr, &a), 0);
    int conn = us_socket(o.st, US_SOCK_DGRAM);
    a.port = 9;
    ck_assert_int_eq(us_bind(o.st, conn, &a), 0);
    struct us_sockaddr peer = {OS_PEER_IP, 5000};
    ck_assert_int_eq(us_connect(o.st, conn, &peer, o.now), 0);
    /* the wildcard socket hears anyone, also via broadcast */
    os_input(&o, frame, udp_frame(US_IP4(192, 0, 2, 40), 1, 7, "w1"));
    size_t n = os_build_udp(frame, OS_PEER_IP, OS_BCAST_IP, 1, 7, "w2", 2);
    os_input(&o, frame, n);
    expect_recv(&o, wild, "w1");
    expect_recv(&o, wild, "w2");
    /* the address-bound one only datagrams to that address */
    os_input(&o, frame, udp_frame(OS_PEER_IP, 1, 8, "a1"));
    n = os_build_udp(frame, OS_PEER_IP, OS_BCAST_IP, 1, 8, "a2", 2);
    os_input(&o, frame, n);
    expect_recv(&o, addr, "a1");
    expect_empty(&o, addr);
    /* the connected one only its peer's exact address and port */
    os_input(&o, frame, udp_frame(OS_PEER_IP, 5000, 9, "c1"));
    os_input(&o, frame, udp_frame(OS_PEER_IP, 5001, 9, "c2"));
    os_input(&o, frame, udp_frame(US_IP4(192, 0, 2, 40), 5000, 9, "c3"));
    expect_recv(&o, conn, "c1");
    expect_empty(&o, conn);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_NO_PORT), 3);
    /* the two unicast misses get port unreachable; the broadcast one does not */
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_OUT), 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_SUPPRESSED), 1);
    us_close(o.st, wild, o.now);
    us_close(o.st, addr, o.now);
    us_close(o.st, conn, o.now);
    os_clear(&o);
    os_finish(&o);
}
END_TEST

START_TEST(closed_port_unreachable)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    size_t n = udp_frame(OS_PEER_IP, 4000, 9, "knock knock");
    os_input(&o, frame, n);
    ck_assert_uint_eq(os_pending(&o), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_peer_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(p.ip.dst, OS_PEER_IP);
    ck_assert_uint_eq(p.icmp.type, US_ICMP_DEST_UNREACH);
    ck_assert_uint_eq(p.icmp.code, US_ICMP_UNREACH_PORT);
    ck_assert_uint_eq(p.icmp.data_len, n - US_ETH_HDR_LEN);
    ck_assert_mem_eq(p.icmp.data, frame + US_ETH_HDR_LEN, n - US_ETH_HDR_LEN);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_NO_PORT), 1);
    ck_assert_uint_eq(us_drop_total(o.st), 1);
    os_finish(&o);
}
END_TEST

START_TEST(receive_buffer_limit)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_RCVBUF, 1), 0); /* raised to the 256 floor */
    char msg[101];
    memset(msg, 'm', 100);
    msg[100] = 0;
    for (int i = 0; i < 3; i++)
        os_input(&o, frame, udp_frame(OS_PEER_IP, 4000, 7, msg));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_RCVBUF_FULL), 1);
    struct us_sock_info si;
    ck_assert_uint_eq(us_sock_list(o.st, &si, 1), 1);
    ck_assert_uint_eq(si.recv_q, 200);
    expect_recv(&o, fd, msg);
    os_input(&o, frame, udp_frame(OS_PEER_IP, 4000, 7, msg)); /* room again */
    expect_recv(&o, fd, msg);
    expect_recv(&o, fd, msg);
    expect_empty(&o, fd);
    ck_assert_uint_eq(us_drop_total(o.st), 1);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

/* Out of packet buffers is not a full socket: the drop is counted as what it is. */
START_TEST(no_buffer_is_not_rcvbuf_full)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.pkt_small_max = 2;
    cfg.pkt_large_max = 0;
    struct onestack o;
    os_start(&o, &cfg);
    int fd = os_udp_bound(&o, 7);
    for (int i = 0; i < 3; i++) /* two fit in the pool, the third finds none */
        os_input(&o, frame, udp_frame(OS_PEER_IP, 4000, 7, "x"));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_NO_BUFFER), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_RCVBUF_FULL), 0);
    expect_recv(&o, fd, "x");
    expect_recv(&o, fd, "x");
    expect_empty(&o, fd);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(ephemeral_ports)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fds[8];
    uint16_t ports[8];
    int steps_of_one = 0;
    for (int i = 0; i < 8; i++) {
        fds[i] = us_socket(o.st, US_SOCK_DGRAM);
        struct us_sockaddr to = {OS_PEER_IP, 7};
        ck_assert_int_eq(us_sendto(o.st, fds[i], "e", 1, 0, &to, o.now), 1);
        struct us_sockaddr me;
        ck_assert_int_eq(us_getsockname(o.st, fds[i], &me), 0);
        ck_assert_uint_ge(me.port, 32768);
        ck_assert_uint_le(me.port, 60999);
        ck_assert_uint_eq(os_take_ip(&o).udp.src_port, me.port);
        ports[i] = me.port;
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(ports[j], me.port);
        if (i && me.port == ports[i - 1] + 1)
            steps_of_one++;
    }
    ck_assert_int_lt(steps_of_one, 7);
    for (int i = 0; i < 8; i++)
        us_close(o.st, fds[i], o.now);
    os_finish(&o);

    /* a tiny range: every port used once, then -EAGAIN */
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.ephemeral_lo = 40000;
    cfg.ephemeral_hi = 40003;
    os_init(&o, &cfg, 0);
    unsigned seen = 0;
    for (int i = 0; i < 4; i++) {
        int fd = us_socket(o.st, US_SOCK_DGRAM);
        struct us_sockaddr any = {0, 0};
        ck_assert_int_eq(us_bind(o.st, fd, &any), 0);
        struct us_sockaddr me;
        us_getsockname(o.st, fd, &me);
        ck_assert_uint_ge(me.port, 40000);
        ck_assert_uint_le(me.port, 40003);
        seen |= 1u << (me.port - 40000);
    }
    ck_assert_uint_eq(seen, 0xf);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr any = {0, 0};
    ck_assert_int_eq(us_bind(o.st, fd, &any), -EAGAIN);
    os_finish(&o); /* us_stack_free closes the sockets */
}
END_TEST

START_TEST(bind_errors)
{
    struct onestack o;
    os_init(&o, NULL, 0);
    int a = os_udp_bound(&o, 7);
    int b = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr s = {0, 7};
    ck_assert_int_eq(us_bind(o.st, b, &s), -EADDRINUSE);
    s.addr = OS_IP;
    ck_assert_int_eq(us_bind(o.st, b, &s), -EADDRINUSE); /* specific vs wildcard */
    s.addr = US_IP4(192, 0, 2, 77);
    ck_assert_int_eq(us_bind(o.st, b, &s), -EADDRNOTAVAIL);
    s.addr = OS_IP;
    s.port = 8;
    ck_assert_int_eq(us_bind(o.st, b, &s), 0);
    ck_assert_int_eq(us_bind(o.st, b, &s), -EINVAL); /* already bound */
    /* a ping socket may use the same number: another protocol */
    int p = us_socket(o.st, US_SOCK_PING);
    s.port = 7;
    ck_assert_int_eq(us_bind(o.st, p, &s), 0);
    /* closing frees the port */
    us_close(o.st, a, o.now);
    int c = us_socket(o.st, US_SOCK_DGRAM);
    s.addr = 0;
    ck_assert_int_eq(us_bind(o.st, c, &s), 0);
    us_close(o.st, b, o.now);
    us_close(o.st, c, o.now);
    us_close(o.st, p, o.now);
    os_finish(&o);
}
END_TEST

/* SO_REUSEADDR (Linux's UDP rule): a port is shared only when every socket on it set it; a
 * connected socket takes its peer's datagrams, the last bound unconnected one the rest. */
START_TEST(reuseaddr_shares_port)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int a = us_socket(o.st, US_SOCK_DGRAM);
    int b = us_socket(o.st, US_SOCK_DGRAM);
    int c = us_socket(o.st, US_SOCK_DGRAM);
    int v = -1;
    ck_assert_int_eq(us_getsockopt(o.st, a, US_SO_REUSEADDR, &v), 0);
    ck_assert_int_eq(v, 0);
    struct us_sockaddr s = {0, 5201};
    ck_assert_int_eq(us_bind(o.st, a, &s), 0);
    ck_assert_int_eq(us_setsockopt(o.st, b, US_SO_REUSEADDR, 1), 0);
    ck_assert_int_eq(us_bind(o.st, b, &s), -EADDRINUSE); /* a did not set it */
    us_close(o.st, a, o.now);
    a = us_socket(o.st, US_SOCK_DGRAM);
    ck_assert_int_eq(us_setsockopt(o.st, a, US_SO_REUSEADDR, 1), 0);
    ck_assert_int_eq(us_getsockopt(o.st, a, US_SO_REUSEADDR, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(us_bind(o.st, a, &s), 0);
    struct us_sockaddr peer = {OS_PEER_IP, 6000};
    ck_assert_int_eq(us_connect(o.st, a, &peer, o.now), 0);
    ck_assert_int_eq(us_bind(o.st, b, &s), 0); /* both set it */
    ck_assert_int_eq(us_bind(o.st, c, &s), -EADDRINUSE); /* c did not */
    os_input(&o, frame, udp_frame(OS_PEER_IP, 6000, 5201, "p1"));
    os_input(&o, frame, udp_frame(OS_PEER_IP, 6001, 5201, "p2"));
    expect_recv(&o, a, "p1");
    expect_empty(&o, a);
    expect_recv(&o, b, "p2");
    expect_empty(&o, b);
    us_close(o.st, a, o.now);
    us_close(o.st, b, o.now);
    us_close(o.st, c, o.now);
    os_clear(&o);
    os_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("udp");
    TCase *tc = tcase_create("udp");
    tcase_add_test(tc, checksum_rules);
    tcase_add_test(tc, driver_vouched_checksum);
    tcase_add_test(tc, length_field);
    tcase_add_test(tc, demux_best_match);
    tcase_add_test(tc, closed_port_unreachable);
    tcase_add_test(tc, receive_buffer_limit);
    tcase_add_test(tc, no_buffer_is_not_rcvbuf_full);
    tcase_add_test(tc, ephemeral_ports);
    tcase_add_test(tc, bind_errors);
    tcase_add_test(tc, reuseaddr_shares_port);
    tcase_add_test(tc, reuseaddr_shares_port);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
