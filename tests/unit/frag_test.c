/* IPv4 reassembly unit tests (RFC 791 3.2, RFC 1122 3.3.2): orders, interleaving, duplicates,
 * overlaps, size limits, bad fragment lengths, timeout with and without fragment 0, and the
 * datagram and memory limits. Every test checks that the reassembly buffers are returned. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"
#include "core/core.h" /* the timer heap's limit, to make a push fail */

static uint8_t frame[OS_MAX_FRAME];
static uint8_t dgram[4000]; /* UDP header + payload of the test datagram */
static uint8_t payload[3000];

/* Builds a UDP datagram (peer:4000 -> us:7) with a 3000-byte payload marked by `tag`. */
static size_t
make_dgram(uint8_t tag)
{
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + tag);
    return os_build_udp_seg(dgram, OS_PEER_IP, OS_IP, 4000, 7, payload, sizeof(payload));
}

/* Feeds bytes [off, off+len) of `d` as a fragment with IP id `id`, with these driver flags. */
static unsigned frag_rx_flags;
static void
frag(struct onestack *o, uint16_t id, const uint8_t *d, size_t off, size_t len, bool mf)
{
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_UDP);
    r.id = id;
    r.frag_off = (uint16_t)off;
    r.mf = mf;
    size_t n = os_build_ip(frame, NULL, &r, d + off, len);
    us_input_flags(o->st, o->ifp, frame, n, frag_rx_flags, o->now);
}

/* 3008 bytes in three fragments: [0,1480) [1480,2960) [2960,3008). */
static void
frag_n(struct onestack *o, uint16_t id, const uint8_t *d, int which)
{
    static const size_t offs[] = {0, 1480, 2960, 3008};
    frag(o, id, d, offs[which], offs[which + 1] - offs[which], which < 2);
}

/* Like frag(), with `opt_len` bytes of NOP options in the header (a multiple of 4, <= 40). */
static void
frag_opt(struct onestack *o, uint16_t id, const uint8_t *d, size_t off, size_t len, bool mf,
         size_t opt_len)
{
    struct us_ip4_repr r = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_UDP);
    r.id = id;
    r.frag_off = (uint16_t)off;
    r.mf = mf;
    size_t n = os_build_ip(frame, NULL, &r, d + off, len);
    uint8_t *ip = frame + US_ETH_HDR_LEN;
    memmove(ip + US_IP4_HDR_LEN + opt_len, ip + US_IP4_HDR_LEN, len);
    memset(ip + US_IP4_HDR_LEN, 1 /* NOP */, opt_len);
    ip[0] = (uint8_t)(0x40 | (US_IP4_HDR_LEN + opt_len) / 4);
    us_store_be16(ip + 2, (uint16_t)(US_IP4_HDR_LEN + opt_len + len));
    os_fix_ip_csum(frame);
    os_input(o, frame, n + opt_len);
}

/* A UDP datagram (peer:4000 -> us:7) of `len` bytes in total, payload bytes i*13 + tag. */
static uint8_t big[65536];
static size_t
make_big(size_t len, uint8_t tag)
{
    static uint8_t data[65536];
    for (size_t i = 0; i + US_UDP_HDR_LEN < len; i++)
        data[i] = (uint8_t)(i * 13 + tag);
    return os_build_udp_seg(big, OS_PEER_IP, OS_IP, 4000, 7, data, len - US_UDP_HDR_LEN);
}

/* Feeds `big` (len bytes) as 1480-byte fragments, last first when `reverse`; the first fragment
 * carries first_opt bytes of options and the last last_opt. */
static void
frag_big(struct onestack *o, uint16_t id, size_t len, bool reverse, size_t first_opt,
         size_t last_opt)
{
    size_t n = (len + 1479) / 1480;
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        size_t off = i * 1480, flen = i + 1 < n ? 1480 : len - off;
        frag_opt(o, id, big, off, flen, i + 1 < n, i == 0 ? first_opt : i + 1 == n ? last_opt : 0);
    }
}

static void
expect_delivered(struct onestack *o, int fd, uint8_t tag)
{
    static uint8_t buf[4000];
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, NULL, NULL, o->now), 3000);
    make_dgram(tag);
    ck_assert_mem_eq(buf, payload, 3000);
}

static void
expect_nothing(struct onestack *o, int fd)
{
    char buf[4];
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, NULL, NULL, o->now), -EAGAIN);
}

static size_t
large_in_use(struct onestack *o)
{
    struct us_pool_info pi;
    us_pool_info(o->st, &pi);
    return pi.large_in_use;
}

START_TEST(in_order_and_reverse)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    make_dgram(1);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 0);
        frag_n(&o, 100, dgram, i);
    }
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 1);
    ck_assert_uint_eq(large_in_use(&o), 1); /* the queued datagram; reassembly buffer freed */
    expect_delivered(&o, fd, 1);
    ck_assert_uint_eq(large_in_use(&o), 0);
    make_dgram(2);
    for (int i = 2; i >= 0; i--)
        frag_n(&o, 101, dgram, i);
    expect_delivered(&o, fd, 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_FRAG_IN), 6);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 2);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    ck_assert_uint_eq(large_in_use(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(vouched_checksum_not_for_reassembled)
{
    /* A driver's US_RX_L4_CSUM_OK speaks for one frame; a reassembled datagram is checked. */
    struct onestack o;
    os_init(&o, NULL, 0);
    os_clear(&o);
    int fd = os_udp_bound(&o, 7);
    make_dgram(3);
    dgram[6] ^= 0x10; /* break the UDP checksum */
    frag_rx_flags = US_RX_L4_CSUM_OK;
    for (int i = 0; i < 3; i++)
        frag_n(&o, 102, dgram, i);
    frag_rx_flags = 0;
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_UDP_BAD_CSUM), 1);
    expect_nothing(&o, fd);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(no_timer_no_reassembly)
{
    /* A datagram whose reassembly timer cannot be queued (heap out of memory) would never time
     * out: its first fragment is refused and counted, and nothing is held. */
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    make_dgram(4);
    frag_n(&o, 102, dgram, 1); /* another datagram under way: its timer is in the heap */
    ck_assert_uint_gt(o.st->timers.len, 0);
    o.st->timers.limit = o.st->timers.len; /* the heap can take no more */
    frag_n(&o, 103, dgram, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_NO_MEM), 1);
    ck_assert_uint_eq(large_in_use(&o), 1); /* datagram 102's buffer only */
    o.st->timers.limit = 0;
    for (int i = 0; i < 3; i++) /* the whole datagram again, now with room */
        frag_n(&o, 104, dgram, i);
    expect_delivered(&o, fd, 4);
    os_advance(&o, US_SEC(60)); /* datagram 102 times out */
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TIMEOUT), 1);
    ck_assert_uint_eq(large_in_use(&o), 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_finish(&o);
}
END_TEST

START_TEST(interleaved_two_datagrams)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    static uint8_t d1[4000], d2[4000];
    make_dgram(1);
    memcpy(d1, dgram, sizeof(dgram));
    make_dgram(2);
    memcpy(d2, dgram, sizeof(dgram));
    frag_n(&o, 7, d1, 1);
    frag_n(&o, 8, d2, 2);
    frag_n(&o, 7, d1, 0);
    frag_n(&o, 8, d2, 0);
    frag_n(&o, 8, d2, 1); /* completes the second first */
    expect_delivered(&o, fd, 2);
    expect_nothing(&o, fd);
    frag_n(&o, 7, d1, 2);
    expect_delivered(&o, fd, 1);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(exact_duplicate_dropped_alone)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    make_dgram(3);
    frag_n(&o, 9, dgram, 0);
    frag_n(&o, 9, dgram, 0);
    frag(&o, 9, dgram, 8, 16, true); /* inside what we hold, same bytes */
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_OVERLAP), 2);
    frag_n(&o, 9, dgram, 1);
    frag_n(&o, 9, dgram, 2);
    expect_delivered(&o, fd, 3);
    ck_assert_uint_eq(us_drop_total(o.st), 2);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(overlap_with_different_data_drops_datagram)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    make_dgram(4);
    frag_n(&o, 10, dgram, 0);
    ck_assert_uint_eq(large_in_use(&o), 1);
    static uint8_t other[4000];
    memcpy(other, dgram, sizeof(other));
    other[1000] ^= 0xff;
    frag(&o, 10, other, 8, 1480, true); /* overlaps [0,1480) with a changed byte */
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_OVERLAP), 1);
    ck_assert_uint_eq(large_in_use(&o), 0); /* the whole datagram went */
    /* a partial overlap past the end of what we hold is an overlap too */
    frag_n(&o, 11, dgram, 1);
    frag(&o, 11, dgram, 1472, 16, true);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_OVERLAP), 2);
    ck_assert_uint_eq(large_in_use(&o), 0);
    /* what remains of datagram 10 starts a new reassembly that never completes */
    frag_n(&o, 10, dgram, 1);
    frag_n(&o, 10, dgram, 2);
    expect_nothing(&o, fd);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 0);
    os_advance(&o, US_SEC(30));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TIMEOUT), 1);
    ck_assert_uint_eq(os_pending(&o), 0); /* no fragment 0: no time exceeded */
    expect_nothing(&o, fd);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(too_big_and_bad_lengths)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    make_dgram(5);
    frag_n(&o, 12, dgram, 0);
    ck_assert_uint_eq(large_in_use(&o), 1);
    /* ends at 65528 > 65535 - 20: the reassembled datagram would be too big */
    static uint8_t tail[65536];
    frag(&o, 12, tail, 65512, 16, false);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TOO_BIG), 1);
    ck_assert_uint_eq(large_in_use(&o), 0);
    /* non-last fragment whose length is not a multiple of 8 */
    frag(&o, 13, dgram, 0, 1479, true);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_FRAG), 1);
    /* an empty fragment */
    frag(&o, 13, dgram, 8, 0, true);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_FRAG), 2);
    /* a last fragment ending before data we already hold */
    frag_n(&o, 14, dgram, 1);
    frag(&o, 14, dgram, 8, 8, false);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_BAD_FRAG), 3);
    ck_assert_uint_eq(large_in_use(&o), 0);
    ck_assert_uint_eq(us_drop_total(o.st), 4);
    expect_nothing(&o, fd);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(too_big_judged_by_first_fragment_header)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    /* 65512 bytes of data: fits behind a 20-byte header (65532), not behind a 60-byte one */
    size_t len = make_big(65512, 9);
    /* RFC 791 3.2: the reassembled header is the first fragment's. Options there make it too
     * big, whichever order the fragments come in; the other fragments' headers do not count. */
    frag_big(&o, 30, len, false, 40, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TOO_BIG), 1);
    ck_assert_uint_eq(large_in_use(&o), 0);
    frag_big(&o, 31, len, true, 40, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TOO_BIG), 2);
    ck_assert_uint_eq(large_in_use(&o), 0);
    expect_nothing(&o, fd);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 0);
    /* options only in the last fragment: the datagram is 65532 bytes and arrives whole */
    static uint8_t buf[65536];
    for (int reverse = 0; reverse < 2; reverse++) {
        frag_big(&o, (uint16_t)(32 + reverse), len, reverse, 0, 40);
        ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now),
                         (int)(len - US_UDP_HDR_LEN));
        ck_assert_mem_eq(buf, big + US_UDP_HDR_LEN, len - US_UDP_HDR_LEN);
    }
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_IP_REASM_OK), 2);
    ck_assert_uint_eq(us_drop_total(o.st), 2);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(timeout_sends_time_exceeded_only_with_first)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = os_udp_bound(&o, 7);
    make_dgram(6);
    o.now = US_SEC(1);
    frag_n(&o, 20, dgram, 0);
    uint8_t first_hdr[28];
    memcpy(first_hdr, frame + US_ETH_HDR_LEN, sizeof(first_hdr));
    o.now = US_SEC(20);
    os_learn(&o, OS_PEER_IP, os_peer_mac); /* still known at 31 s */
    frag_n(&o, 21, dgram, 1); /* another datagram, without its first fragment */
    os_advance(&o, US_SEC(11) - 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TIMEOUT), 0);
    os_advance(&o, 1); /* 31 s: 30 s after the first fragment of datagram 20 */
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TIMEOUT), 1);
    ck_assert_uint_eq(large_in_use(&o), 1);
    ck_assert_uint_eq(os_pending(&o), 1);
    struct os_pkt p = os_take_ip(&o);
    ck_assert_mem_eq(p.eth.dst, os_peer_mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.dst, OS_PEER_IP);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(p.icmp.type, US_ICMP_TIME_EXCEEDED);
    ck_assert_uint_eq(p.icmp.code, US_ICMP_TIMXCEED_REASM);
    ck_assert_uint_ge(p.icmp.data_len, 28);
    ck_assert_mem_eq(p.icmp.data, first_hdr, 28);
    os_advance(&o, US_SEC(19));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_TIMEOUT), 2);
    ck_assert_uint_eq(os_pending(&o), 1); /* only the ARP probe of the peer (used at 31 s) */
    ck_assert_uint_eq(os_take_arp(&o).arp.op, US_ARP_OP_REQUEST);
    ck_assert_uint_eq(large_in_use(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_ERR_OUT), 1);
    expect_nothing(&o, fd);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(datagram_and_memory_limits)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.frag_max_datagrams = 2;
    struct onestack o;
    os_start(&o, &cfg);
    int fd = os_udp_bound(&o, 7);
    make_dgram(7);
    frag_n(&o, 30, dgram, 0);
    frag_n(&o, 31, dgram, 0);
    frag_n(&o, 32, dgram, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_NO_MEM), 1);
    ck_assert_uint_eq(large_in_use(&o), 2);
    /* the two under way still complete, and free their slots */
    frag_n(&o, 31, dgram, 1);
    frag_n(&o, 31, dgram, 2);
    expect_delivered(&o, fd, 7);
    frag_n(&o, 32, dgram, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_NO_MEM), 1);
    ck_assert_uint_eq(large_in_use(&o), 2);
    os_advance(&o, US_SEC(30));
    ck_assert_uint_eq(large_in_use(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);

    /* byte limit: room for one reassembly buffer only */
    us_config_default(&cfg);
    cfg.frag_mem_max = 70000;
    os_init(&o, &cfg, 0);
    frag_n(&o, 40, dgram, 0);
    frag_n(&o, 41, dgram, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_NO_MEM), 1);
    ck_assert_uint_eq(large_in_use(&o), 1);
    os_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("frag");
    TCase *tc = tcase_create("frag");
    tcase_add_test(tc, in_order_and_reverse);
    tcase_add_test(tc, no_timer_no_reassembly);
    tcase_add_test(tc, vouched_checksum_not_for_reassembled);
    tcase_add_test(tc, interleaved_two_datagrams);
    tcase_add_test(tc, exact_duplicate_dropped_alone);
    tcase_add_test(tc, overlap_with_different_data_drops_datagram);
    tcase_add_test(tc, too_big_and_bad_lengths);
    tcase_add_test(tc, too_big_judged_by_first_fragment_header);
    tcase_add_test(tc, timeout_sends_time_exceeded_only_with_first);
    tcase_add_test(tc, datagram_and_memory_limits);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
