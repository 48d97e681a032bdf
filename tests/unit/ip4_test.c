/* IPv4 unit tests (RFC 791, RFC 1122 3.2.1): header errors by reason, source and destination
 * address rules, broadcasts, protocol unreachable, link padding, routing (longest prefix,
 * gateway, no route) and output fragmentation at MTU 1500 and 576. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"

static uint8_t frame[OS_MAX_FRAME];

static size_t
udp_frame(us_ip4_t src, us_ip4_t dst, uint16_t dport, const char *msg)
{
    return os_build_udp(frame, src, dst, 4000, dport, msg, strlen(msg));
}

START_TEST(header_errors_counted_by_reason)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    size_t n = udp_frame(OS_PEER_IP, OS_IP, 7, "hello");
    uint8_t *ip = frame + US_ETH_HDR_LEN;
    os_input(&o, frame, US_ETH_HDR_LEN + 19); /* shorter than a header */
    ip[0] = 0x65;                            /* version 6 */
    os_fix_ip_csum(frame);
    os_input(&o, frame, n);
    ip[0] = 0x44; /* IHL 4 */
    os_input(&o, frame, n);
    ip[0] = 0x45;
    us_store_be16(ip + 2, (uint16_t)(n - US_ETH_HDR_LEN + 1)); /* total length past the frame */
    os_fix_ip_csum(frame);
    os_input(&o, frame, n);
    us_store_be16(ip + 2, (uint16_t)(n - US_ETH_HDR_LEN));
    os_fix_ip_csum(frame);
    ip[10] ^= 1; /* checksum */
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_TRUNCATED), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_VERSION), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_HDR_LEN), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_TOTAL_LEN), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_CSUM), 1);
    /* malformed option: header of 24 bytes with an option of length 1 */
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_UDP);
    n = os_build_ip(frame, NULL, &r, "\x07\x01\x00\x00zzzzzzzz", 12);
    ip[0] = 0x46;
    os_fix_ip_csum(frame);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_OPTIONS), 1);
    /* a fragment reaching past 65535 */
    r.frag_off = 65528;
    r.mf = false;
    n = os_build_ip(frame, NULL, &r, "0123456789abcdef", 16);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_FRAG), 1);
    ck_assert_uint_eq(us_drop_total(o.st), 7);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_IN), 7);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_IN_DELIVERED), 0);
    ck_assert_uint_eq(os_pending(&o), 0);
    /* the untouched frame still goes through */
    n = udp_frame(OS_PEER_IP, OS_IP, 7, "hello");
    os_input(&o, frame, n);
    char buf[16];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 5);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(bad_source_addresses)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    static const us_ip4_t bad[] = {0, US_IP4_BROADCAST, US_IP4(224, 0, 0, 1),
                                   US_IP4(240, 0, 0, 1), US_IP4(127, 0, 0, 1), OS_IP, OS_BCAST_IP};
    for (size_t i = 0; i < US_ARRAY_LEN(bad); i++) {
        size_t n = udp_frame(bad[i], OS_IP, 7, "x");
        os_input(&o, frame, n);
        ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_SRC), i + 1);
    }
    ck_assert_uint_eq(us_drop_total(o.st), US_ARRAY_LEN(bad));
    ck_assert_int_eq(us_sock_poll(o.st, fd), US_POLLOUT);
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(destination_rules)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    size_t n = udp_frame(OS_PEER_IP, US_IP4(192, 0, 2, 3), 7, "x");
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_NOT_FOR_US), 1);
    /* directed and limited broadcast are delivered to a bound port */
    n = udp_frame(OS_PEER_IP, OS_BCAST_IP, 7, "dir");
    memcpy(frame, os_bcast_mac, US_ETH_ALEN);
    os_input(&o, frame, n);
    n = udp_frame(OS_PEER_IP, US_IP4_BROADCAST, 7, "lim");
    memcpy(frame, os_bcast_mac, US_ETH_ALEN);
    os_input(&o, frame, n);
    char buf[16];
    struct us_msginfo info;
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, &info, o.now), 3);
    ck_assert_mem_eq(buf, "dir", 3);
    ck_assert_uint_eq(info.dst, OS_BCAST_IP);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, &info, o.now), 3);
    ck_assert_mem_eq(buf, "lim", 3);
    ck_assert_uint_eq(info.dst, US_IP4_BROADCAST);
    /* ... but never answered with an ICMP error: closed port, unknown protocol */
    n = udp_frame(OS_PEER_IP, OS_BCAST_IP, 9, "x");
    os_input(&o, frame, n);
    n = udp_frame(OS_PEER_IP, US_IP4_BROADCAST, 9, "x");
    os_input(&o, frame, n);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_BCAST_IP, 200);
    n = os_build_ip(frame, os_bcast_mac, &r, "12345678", 8);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_NO_PORT), 2);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_UNKNOWN_PROTO), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_SUPPRESSED), 3);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_OUT), 0);
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

static void
assert_quote(const struct os_pkt *p, const uint8_t *dgram, size_t qlen)
{
    ck_assert_uint_eq(p->icmp.data_len, qlen);
    ck_assert_mem_eq(p->icmp.data, dgram, qlen);
}

START_TEST(protocol_unreachable)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, 200);
    size_t n = os_build_ip(frame, NULL, &r, "ABCDEFGH", 8);
    os_input(&o, frame, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_UNKNOWN_PROTO), 1);
    ck_assert_uint_eq(os_pending(&o), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_peer_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(p.ip.dst, OS_PEER_IP);
    ck_assert_uint_eq(p.ip.proto, US_IPPROTO_ICMP);
    ck_assert_uint_eq(p.icmp.type, US_ICMP_DEST_UNREACH);
    ck_assert_uint_eq(p.icmp.code, US_ICMP_UNREACH_PROTO);
    ck_assert_uint_eq(us_load_be32(p.ip.payload + 4), 0); /* unused word */
    assert_quote(&p, frame + US_ETH_HDR_LEN, 28);      /* header + 8 bytes */
    /* a long datagram is quoted up to a 576-byte error (RFC 1812 4.3.2.3) */
    static uint8_t big[1200];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    n = os_build_ip(frame, NULL, &r, big, sizeof(big));
    os_input(&o, frame, n);
    p = os_take_ip(&o);
    ck_assert_uint_eq(p.ip.hdr_len + p.ip.payload_len, 576);
    assert_quote(&p, frame + US_ETH_HDR_LEN, 576 - 28);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_OUT), 2);
    os_finish(&o);
}
END_TEST

START_TEST(ethernet_padding_ignored)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    size_t n = udp_frame(OS_PEER_IP, OS_IP, 7, "ab");
    ck_assert_uint_eq(n, 44);
    memset(frame + n, 0xee, 60 - n); /* padded to the 60-byte minimum */
    os_input(&o, frame, 60);
    char buf[16];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), US_MSG_TRUNC, NULL, NULL, o.now), 2);
    ck_assert_mem_eq(buf, "ab", 2);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

static void
assert_arp_for(struct onestack *o, us_ip4_t who)
{
    struct os_pkt p = os_take_arp(o);
    ck_assert_uint_eq(p.arp.op, US_ARP_OP_REQUEST);
    ck_assert_uint_eq(p.arp.tpa, who);
}

START_TEST(routing_longest_prefix_and_gateway)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr to = {US_IP4(8, 8, 8, 8), 53};
    ck_assert_int_eq(us_sendto(o.st, fd, "q", 1, 0, &to, o.now), -ENETUNREACH);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_NO_ROUTE), 0); /* refused before IP */
    ck_assert_int_eq(us_route_add(o.st, US_IP4(10, 0, 0, 0), 8, US_IP4(192, 0, 2, 1), o.ifp), 0);
    ck_assert_int_eq(us_route_add(o.st, US_IP4(10, 1, 0, 0), 16, US_IP4(192, 0, 2, 3), o.ifp), 0);
    ck_assert_int_eq(us_route_add(o.st, 0, 0, US_IP4(192, 0, 2, 254), o.ifp), 0);
    ck_assert_int_eq(us_route_add(o.st, US_IP4(10, 1, 9, 9), 16, US_IP4(192, 0, 2, 4), o.ifp),
                     -EEXIST);
    to.addr = US_IP4(10, 1, 2, 3);
    ck_assert_int_eq(us_sendto(o.st, fd, "a", 1, 0, &to, o.now), 1);
    assert_arp_for(&o, US_IP4(192, 0, 2, 3));
    to.addr = US_IP4(10, 2, 0, 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, &to, o.now), 1);
    assert_arp_for(&o, US_IP4(192, 0, 2, 1));
    to.addr = US_IP4(8, 8, 8, 8);
    ck_assert_int_eq(us_sendto(o.st, fd, "c", 1, 0, &to, o.now), 1);
    assert_arp_for(&o, US_IP4(192, 0, 2, 254));
    to.addr = US_IP4(192, 0, 2, 77); /* on-link beats default */
    ck_assert_int_eq(us_sendto(o.st, fd, "d", 1, 0, &to, o.now), 1);
    assert_arp_for(&o, US_IP4(192, 0, 2, 77));
    /* the gateway answers: the datagram for 8.8.8.8 leaves to the gateway's MAC */
    static const uint8_t gw_mac[US_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0xfe};
    size_t n = os_build_arp(frame, os_mac, US_ARP_OP_REPLY, gw_mac, US_IP4(192, 0, 2, 254), os_mac,
                            OS_IP);
    os_input(&o, frame, n);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, gw_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.dst, US_IP4(8, 8, 8, 8));
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(p.ip.ttl, 64);
    ck_assert_int_eq(p.udp.payload[0], 'c');
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

/* Limited broadcast goes out as an Ethernet broadcast even when a default route exists (it
 * must not be sent to the gateway). */
START_TEST(limited_broadcast_ignores_default_route)
{
    struct onestack o;
    os_start(&o, NULL);
    ck_assert_int_eq(us_route_add(o.st, 0, 0, US_IP4(192, 0, 2, 254), o.ifp), 0);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_BROADCAST, 1), 0);
    struct us_sockaddr to = {US_IP4_BROADCAST, 67};
    ck_assert_int_eq(us_sendto(o.st, fd, "dhcp?", 5, 0, &to, o.now), 5);
    ck_assert_uint_eq(os_pending(&o), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_bcast_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.dst, US_IP4_BROADCAST);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_REQ_OUT), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

/* Sends a 3000-byte datagram and checks the fragments; returns how many there were. */
static size_t
check_fragmentation(uint16_t mtu, size_t want_frags)
{
    struct onestack o;
    os_init(&o, NULL, mtu);
    os_clear(&o);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    static uint8_t msg[3000], whole[3008 + 8];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 13 + 1);
    struct us_sockaddr to = {OS_PEER_IP, 7};
    ck_assert_int_eq(us_sendto(o.st, fd, msg, sizeof(msg), 0, &to, o.now), 3000);
    ck_assert_uint_eq(os_pending(&o), want_frags);
    size_t expect_off = 0;
    uint16_t id = 0;
    for (size_t i = 0; i < want_frags; i++) {
        struct os_pkt p = os_take_ip(&o);
        size_t iplen = p.ip.hdr_len + p.ip.payload_len;
        ck_assert_uint_le(iplen, mtu ? mtu : 1500);
        ck_assert_uint_eq(p.ip.frag_off, expect_off);
        ck_assert_uint_eq(p.ip.frag_off % 8, 0);
        ck_assert(p.ip.mf == (i + 1 < want_frags));
        ck_assert(!p.ip.df);
        if (i == 0)
            id = p.ip.id;
        ck_assert_uint_eq(p.ip.id, id);
        if (i + 1 < want_frags)
            ck_assert_uint_eq(p.ip.payload_len % 8, 0);
        ck_assert_uint_le(expect_off + p.ip.payload_len, 3008);
        memcpy(whole + expect_off, p.ip.payload, p.ip.payload_len);
        expect_off += p.ip.payload_len;
    }
    ck_assert_uint_eq(expect_off, 3008);
    struct us_udp_repr u;
    ck_assert_int_eq(us_wire_udp_parse(&u, whole, 3008, OS_IP, OS_PEER_IP, true), 0);
    ck_assert_uint_eq(u.dst_port, 7);
    ck_assert_mem_eq(u.payload, msg, 3000);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_FRAG_CREATED), want_frags);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_FRAGMENTED), 1);
    /* the next datagram gets another id */
    ck_assert_int_eq(us_sendto(o.st, fd, msg, 10, 0, &to, o.now), 10);
    ck_assert_uint_ne(os_take_ip(&o).ip.id, id);
    us_close(o.st, fd, o.now);
    os_finish(&o);
    return want_frags;
}

START_TEST(output_fragmentation_1500)
{
    check_fragmentation(0, 3); /* 1480 + 1480 + 48 */
}
END_TEST

START_TEST(output_fragmentation_576)
{
    check_fragmentation(576, 6); /* 5 x 552 + 248 */
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("ip4");
    TCase *tc = tcase_create("ip4");
    tcase_add_test(tc, header_errors_counted_by_reason);
    tcase_add_test(tc, bad_source_addresses);
    tcase_add_test(tc, destination_rules);
    tcase_add_test(tc, protocol_unreachable);
    tcase_add_test(tc, ethernet_padding_ignored);
    tcase_add_test(tc, routing_longest_prefix_and_gateway);
    tcase_add_test(tc, limited_broadcast_ignores_default_route);
    tcase_add_test(tc, output_fragmentation_1500);
    tcase_add_test(tc, output_fragmentation_576);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
