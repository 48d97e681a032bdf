/* ARP unit tests (RFC 826, RFC 1122 2.3.2): replies, learning rules, merge, bad senders,
 * resolution with a bounded queue, retries and failure, expiry, unicast probes, cache limits.
 * One stack, crafted frames, exact frames and counters. */
#include <errno.h>
#include <string.h>

#include "ip/arp.h"
#include "core/drop.h"
#include "lib/onestack.h"
#include "core/core.h" /* the timer heap's length and limit */
#include "lib/testutil.h"

static const uint8_t zero_mac[US_ETH_ALEN];
static const uint8_t mac_b[US_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x0b};
#define IP_B US_IP4(192, 0, 2, 11)
#define IP_C US_IP4(192, 0, 2, 12)

static void
assert_frame(const struct os_frame *f, const uint8_t *want, size_t len)
{
    ck_assert_uint_eq(f->len, len);
    ck_assert_mem_eq(f->b, want, len);
}

/* A UDP socket that sends `n` one-byte datagrams "0", "1", ... to ip:9. */
static int
send_udp(struct onestack *o, us_ip4_t ip, int n)
{
    int fd = us_socket(o->st, US_SOCK_DGRAM);
    ck_assert_int_ge(fd, 0);
    struct us_sockaddr to = {ip, 9};
    for (int i = 0; i < n; i++) {
        char c = (char)('0' + i);
        ck_assert_int_eq(us_sendto(o->st, fd, &c, 1, 0, &to, o->now), 1);
    }
    return fd;
}

static void
assert_udp_to(struct onestack *o, const uint8_t mac[US_ETH_ALEN], us_ip4_t ip, char payload)
{
    struct os_pkt p = os_take_ip(o);
    ck_assert_mem_eq(p.eth.dst, mac, US_ETH_ALEN);
    ck_assert_uint_eq(p.ip.dst, ip);
    ck_assert_uint_eq(p.ip.proto, US_IPPROTO_UDP);
    ck_assert_uint_eq(p.udp.payload_len, 1);
    ck_assert_int_eq(p.udp.payload[0], payload);
}

static void
assert_request(struct onestack *o, const uint8_t eth_dst[US_ETH_ALEN], us_ip4_t tpa)
{
    uint8_t want[64];
    size_t n = os_build_arp(want, eth_dst, US_ARP_OP_REQUEST, os_mac, OS_IP, zero_mac, tpa);
    assert_frame(os_take(o), want, n);
}

START_TEST(gratuitous_at_iface_add)
{
    struct onestack o;
    os_init(&o, NULL, 0);
    uint8_t want[64];
    size_t n = os_build_arp(want, os_bcast_mac, US_ARP_OP_REQUEST, os_mac, OS_IP, zero_mac, OS_IP);
    ck_assert_uint_eq(os_pending(&o), 1);
    assert_frame(os_take(&o), want, n);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_GRATUITOUS_OUT), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ETH_OUT), 1);
    os_finish(&o);
}
END_TEST

/* Second interface's transmit callback: notes how many frames the first one had sent. */
struct second_tx {
    struct onestack *o;
    size_t first_sent; /* o->n_out when the second interface sent its frame */
    size_t frames;
};

static int
second_tx(void *ctx, const uint8_t *f, size_t len)
{
    struct second_tx *t = ctx;
    (void)f;
    (void)len;
    t->first_sent = t->o->n_out;
    t->frames++;
    return 0;
}

START_TEST(iface_add_fires_due_timers_first)
{
    /* us_iface_add takes the time like every call that sends: the ARP retry due before it goes
     * out first (on the first interface), then the new interface's announcement. */
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_sendto(o.st, fd, "a", 1, 0, &to, o.now), 1);
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    size_t before = o.n_out;
    o.now += US_SEC(1); /* the retry is due; nobody has polled */
    struct second_tx t = {&o, 0, 0};
    struct us_iface_conf c;
    us_iface_conf_init(&c);
    c.name = "os1";
    c.mac[0] = 0x02;
    c.mac[5] = 0x22;
    c.addr = US_IP4(198, 51, 100, 2);
    c.prefix_len = 24;
    c.tx = second_tx;
    c.tx_ctx = &t;
    ck_assert_ptr_nonnull(us_iface_add(o.st, &c, o.now));
    ck_assert_uint_eq(t.frames, 1);            /* the announcement */
    ck_assert_uint_eq(t.first_sent, before + 1); /* after the retry */
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(request_for_us_replied_and_learned)
{
    struct onestack o;
    os_start(&o, NULL);
    uint8_t f[64], want[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_PEER_IP, zero_mac,
                            OS_IP);
    os_input(&o, f, n);
    n = os_build_arp(want, os_peer_mac, US_ARP_OP_REPLY, os_mac, OS_IP, os_peer_mac, OS_PEER_IP);
    ck_assert_uint_eq(os_pending(&o), 1);
    assert_frame(os_take(&o), want, n);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_REPLY_OUT), 1);
    const struct us_arp_entry *e = us_arp_lookup(o.st, OS_PEER_IP);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->state, US_ARP_REACHABLE);
    ck_assert_mem_eq(e->mac, os_peer_mac, US_ETH_ALEN);
    /* learned: a datagram to the asker leaves at once, no request */
    int fd = send_udp(&o, OS_PEER_IP, 1);
    ck_assert_uint_eq(os_pending(&o), 1);
    assert_udp_to(&o, os_peer_mac, OS_PEER_IP, '0');
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_REQ_OUT), 0);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(request_for_other_ignored)
{
    struct onestack o;
    os_start(&o, NULL);
    uint8_t f[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_PEER_IP, zero_mac,
                            US_IP4(192, 0, 2, 77));
    os_input(&o, f, n);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_NOT_FOR_US), 1);
    ck_assert_uint_eq(us_drop_total(o.st), 1);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    os_finish(&o);
}
END_TEST

START_TEST(unsolicited_reply_not_learned)
{
    struct onestack o;
    os_start(&o, NULL);
    uint8_t f[64];
    /* gratuitous reply (target = sender), broadcast */
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP,
                            os_bcast_mac, OS_PEER_IP);
    os_input(&o, f, n);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_NOT_FOR_US), 1);
    /* a reply addressed to us that answers nothing we asked (Linux: arp_accept=0) */
    n = os_build_arp(f, os_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP, os_mac, OS_IP);
    os_input(&o, f, n);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(os_pending(&o), 0);
    os_finish(&o);
}
END_TEST

START_TEST(merge_updates_existing)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    o.now = US_SEC(5);
    /* the peer moves to mac_b and announces it with a gratuitous request (not for us) */
    uint8_t f[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, mac_b, OS_PEER_IP, zero_mac,
                            OS_PEER_IP);
    os_input(&o, f, n);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_NOT_FOR_US), 0);
    const struct us_arp_entry *e = us_arp_lookup(o.st, OS_PEER_IP);
    ck_assert_ptr_nonnull(e);
    ck_assert_mem_eq(e->mac, mac_b, US_ETH_ALEN);
    ck_assert_int_eq(e->confirmed, US_SEC(5));
    int fd = send_udp(&o, OS_PEER_IP, 1);
    assert_udp_to(&o, mac_b, OS_PEER_IP, '0');
    /* a request for someone else from a known sender also refreshes it */
    o.now = US_SEC(6);
    n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_PEER_IP, zero_mac,
                     US_IP4(192, 0, 2, 99));
    os_input(&o, f, n);
    e = us_arp_lookup(o.st, OS_PEER_IP);
    ck_assert_mem_eq(e->mac, os_peer_mac, US_ETH_ALEN);
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(bad_sender_dropped)
{
    struct onestack o;
    os_start(&o, NULL);
    static const uint8_t mcast[US_ETH_ALEN] = {0x01, 0x00, 0x5e, 0, 0, 1};
    uint8_t f[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_bcast_mac, OS_PEER_IP,
                            zero_mac, OS_IP);
    /* ethernet already refuses a group source; put a good one in the eth header */
    memcpy(f + 6, os_peer_mac, US_ETH_ALEN);
    os_input(&o, f, n);
    n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, mcast, OS_PEER_IP, zero_mac, OS_IP);
    memcpy(f + 6, os_peer_mac, US_ETH_ALEN);
    os_input(&o, f, n);
    /* our own IP claimed by someone else */
    n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_IP, zero_mac, OS_IP);
    os_input(&o, f, n);
    /* a broadcast or multicast sender address */
    n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_BCAST_IP, zero_mac,
                     OS_IP);
    os_input(&o, f, n);
    n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, US_IP4(224, 0, 0, 1),
                     zero_mac, OS_IP);
    os_input(&o, f, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_BAD_SENDER), 5);
    ck_assert_uint_eq(us_drop_total(o.st), 5);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_IP));
    os_finish(&o);
}
END_TEST

START_TEST(malformed_counted)
{
    struct onestack o;
    os_start(&o, NULL);
    uint8_t f[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_PEER_IP, zero_mac,
                            OS_IP);
    os_input(&o, f, n - 1);
    f[14 + 7] = 3; /* op */
    os_input(&o, f, n);
    f[14 + 7] = 1;
    f[14 + 4] = 8; /* hlen */
    os_input(&o, f, n);
    f[14 + 4] = 6;
    f[14 + 2] = 0x86; /* ptype */
    os_input(&o, f, n);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_TRUNCATED), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_BAD_OP), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_BAD_HW), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_BAD_PROTO), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_IN), 4);
    ck_assert_uint_eq(os_pending(&o), 0);
    os_finish(&o);
}
END_TEST

START_TEST(resolution_queues_and_flushes_in_order)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = send_udp(&o, OS_PEER_IP, 3);
    ck_assert_uint_eq(os_pending(&o), 1);
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    const struct us_arp_entry *e = us_arp_lookup(o.st, OS_PEER_IP);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->state, US_ARP_INCOMPLETE);
    ck_assert_uint_eq(e->pending.count, 3);
    o.now = US_MSEC(200);
    uint8_t f[64];
    size_t n = os_build_arp(f, os_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP, os_mac, OS_IP);
    os_input(&o, f, n);
    ck_assert_uint_eq(os_pending(&o), 3);
    for (int i = 0; i < 3; i++)
        assert_udp_to(&o, os_peer_mac, OS_PEER_IP, (char)('0' + i));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_RESOLVED), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_REQ_OUT), 1);
    /* no retry once resolved */
    os_advance(&o, US_SEC(2));
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(queue_bound_drops_oldest)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.arp_queue_per_entry = 2;
    struct onestack o;
    os_start(&o, &cfg);
    int fd = send_udp(&o, OS_PEER_IP, 5);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_QUEUE_FULL), 3);
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    uint8_t f[64];
    size_t n = os_build_arp(f, os_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP, os_mac, OS_IP);
    os_input(&o, f, n);
    ck_assert_uint_eq(os_pending(&o), 2);
    assert_udp_to(&o, os_peer_mac, OS_PEER_IP, '3');
    assert_udp_to(&o, os_peer_mac, OS_PEER_IP, '4');
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(retries_then_unreachable)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "a", 1, 0, NULL, o.now), 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, NULL, o.now), 1);
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    os_advance(&o, US_MSEC(999));
    ck_assert_uint_eq(os_pending(&o), 0);
    os_advance(&o, US_MSEC(1));
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    os_advance(&o, US_SEC(1));
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    os_advance(&o, US_MSEC(999));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_UNRESOLVED), 0);
    ck_assert_int_eq(us_sock_poll(o.st, fd), US_POLLOUT);
    os_advance(&o, US_MSEC(1));
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_REQ_OUT), 3);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_UNRESOLVED), 2);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_int_eq(us_sock_poll(o.st, fd), US_POLLOUT | US_POLLERR);
    char buf[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), -EHOSTUNREACH);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), -EAGAIN);
    /* nothing went on the wire about it */
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ICMP_OUT), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(unused_entry_expires)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    os_advance(&o, US_SEC(30) - 1);
    ck_assert_ptr_nonnull(us_arp_lookup(o.st, OS_PEER_IP));
    os_advance(&o, 1);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_EXPIRED), 1);
    ck_assert_uint_eq(os_pending(&o), 0); /* no probe for an unused entry */
    int fd = send_udp(&o, OS_PEER_IP, 1);
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(used_entry_probed_unicast)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    o.now = US_SEC(10);
    int fd = send_udp(&o, OS_PEER_IP, 1);
    assert_udp_to(&o, os_peer_mac, OS_PEER_IP, '0');
    os_advance(&o, US_SEC(20));
    assert_request(&o, os_peer_mac, OS_PEER_IP); /* unicast re-confirmation */
    ck_assert_uint_eq(os_pending(&o), 0);
    /* the peer answers: reachable again, no further probes */
    uint8_t f[64];
    size_t n = os_build_arp(f, os_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP, os_mac, OS_IP);
    os_input(&o, f, n);
    ck_assert_int_eq(us_arp_lookup(o.st, OS_PEER_IP)->state, US_ARP_REACHABLE);
    os_advance(&o, US_SEC(5));
    ck_assert_uint_eq(os_pending(&o), 0);
    /* used again; this time the probes go unanswered */
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, &to, o.now), 1);
    assert_udp_to(&o, os_peer_mac, OS_PEER_IP, 'x');
    os_advance(&o, US_SEC(25));
    assert_request(&o, os_peer_mac, OS_PEER_IP);
    os_advance(&o, US_SEC(2));
    assert_request(&o, os_peer_mac, OS_PEER_IP);
    assert_request(&o, os_peer_mac, OS_PEER_IP);
    ck_assert_ptr_nonnull(us_arp_lookup(o.st, OS_PEER_IP));
    os_advance(&o, US_SEC(1));
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_EXPIRED), 1);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(cache_full_strangers_do_not_evict)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.arp_entries = 2;
    struct onestack o;
    os_start(&o, &cfg);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    os_learn(&o, IP_B, mac_b);
    /* a stranger asks for us: answered, but not learned, and nobody evicted */
    static const uint8_t mac_c[US_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x0c};
    uint8_t f[64], want[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, mac_c, IP_C, zero_mac, OS_IP);
    os_input(&o, f, n);
    n = os_build_arp(want, mac_c, US_ARP_OP_REPLY, os_mac, OS_IP, mac_c, IP_C);
    assert_frame(os_take(&o), want, n);
    ck_assert_ptr_null(us_arp_lookup(o.st, IP_C));
    ck_assert_ptr_nonnull(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_ptr_nonnull(us_arp_lookup(o.st, IP_B));
    /* our own traffic to a third host may evict the oldest resolved entry */
    o.now = US_SEC(1);
    n = os_build_arp(f, os_mac, US_ARP_OP_REPLY, mac_b, IP_B, os_mac, OS_IP);
    os_input(&o, f, n); /* B confirmed later than the peer */
    int fd = send_udp(&o, IP_C, 1);
    assert_request(&o, os_bcast_mac, IP_C);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_ptr_nonnull(us_arp_lookup(o.st, IP_B));
    /* both slots resolving: a fourth destination finds no room */
    ck_assert_int_eq(us_sendto(o.st, fd, "z", 1, 0, &(struct us_sockaddr){IP_B, 9}, o.now), 1);
    assert_udp_to(&o, mac_b, IP_B, 'z');
    int fd2 = send_udp(&o, OS_PEER_IP, 1); /* evicts B (resolved), C still resolving */
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    int fd3 = send_udp(&o, US_IP4(192, 0, 2, 13), 1);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_CACHE_FULL), 1);
    ck_assert_uint_eq(os_pending(&o), 0);
    us_close(o.st, fd, o.now);
    us_close(o.st, fd2, o.now);
    us_close(o.st, fd3, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(reconfirm_does_not_grow_timer_heap)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    size_t heap = o.st->timers.len;
    ck_assert_uint_ge(heap, 1);
    /* the peer answers us 1000 times in 10 s: every reply re-confirms the entry */
    uint8_t f[64];
    size_t n = os_build_arp(f, os_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP, os_mac, OS_IP);
    for (int i = 0; i < 1000; i++) {
        o.now += US_MSEC(10);
        os_input(&o, f, n);
    }
    ck_assert_uint_eq(o.st->timers.len, heap);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_int_eq(us_arp_lookup(o.st, OS_PEER_IP)->confirmed, US_SEC(10));
    /* used after the last confirmation: the unicast probe goes 30 s after it, not before */
    int fd = send_udp(&o, OS_PEER_IP, 1);
    assert_udp_to(&o, os_peer_mac, OS_PEER_IP, '0');
    os_advance(&o, US_SEC(30) - 1);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_int_eq(us_arp_lookup(o.st, OS_PEER_IP)->state, US_ARP_REACHABLE);
    os_advance(&o, 1);
    assert_request(&o, os_peer_mac, OS_PEER_IP);
    ck_assert_int_eq(us_arp_lookup(o.st, OS_PEER_IP)->state, US_ARP_PROBE);
    /* answered 100 ms later, then unused: it expires 30 s after that answer, to the ns */
    os_advance(&o, US_MSEC(100));
    os_input(&o, f, n);
    us_time_t answered = o.now;
    ck_assert_int_eq(us_arp_lookup(o.st, OS_PEER_IP)->state, US_ARP_REACHABLE);
    os_advance(&o, answered + US_SEC(30) - 1 - o.now);
    ck_assert_ptr_nonnull(us_arp_lookup(o.st, OS_PEER_IP));
    os_advance(&o, 1);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_ARP_EXPIRED), 1);
    ck_assert_uint_eq(os_pending(&o), 0);
    ck_assert_uint_eq(us_drop_total(o.st), 0);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

START_TEST(no_timer_memory_keeps_no_entry)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, IP_B, mac_b); /* one entry with its timer */
    ck_assert_uint_ge(o.st->timers.len, 1);
    o.st->timers.limit = o.st->timers.len; /* the heap can take no more */
    /* resolving: an INCOMPLETE entry without a timer would wait forever; none is kept */
    int fd = send_udp(&o, OS_PEER_IP, 1);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_NO_TIMER), 1);
    ck_assert_uint_eq(os_pending(&o), 0); /* no request for an entry we could not keep */
    /* learning from a request: still answered, but not learned */
    uint8_t f[64], want[64];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, os_peer_mac, OS_PEER_IP, zero_mac,
                            OS_IP);
    os_input(&o, f, n);
    n = os_build_arp(want, os_peer_mac, US_ARP_OP_REPLY, os_mac, OS_IP, os_peer_mac, OS_PEER_IP);
    assert_frame(os_take(&o), want, n);
    ck_assert_ptr_null(us_arp_lookup(o.st, OS_PEER_IP));
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_ARP_NO_TIMER), 2);
    ck_assert_uint_eq(us_drop_total(o.st), 2);
    /* with room again, resolution works as usual */
    o.st->timers.limit = 0;
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, &(struct us_sockaddr){OS_PEER_IP, 9}, o.now),
                     1);
    assert_request(&o, os_bcast_mac, OS_PEER_IP);
    ck_assert_int_eq(us_arp_lookup(o.st, OS_PEER_IP)->state, US_ARP_INCOMPLETE);
    us_close(o.st, fd, o.now);
    os_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *su = suite_create("arp");
    TCase *tc = tcase_create("arp");
    tcase_add_test(tc, gratuitous_at_iface_add);
    tcase_add_test(tc, iface_add_fires_due_timers_first);
    tcase_add_test(tc, request_for_us_replied_and_learned);
    tcase_add_test(tc, request_for_other_ignored);
    tcase_add_test(tc, unsolicited_reply_not_learned);
    tcase_add_test(tc, merge_updates_existing);
    tcase_add_test(tc, bad_sender_dropped);
    tcase_add_test(tc, malformed_counted);
    tcase_add_test(tc, resolution_queues_and_flushes_in_order);
    tcase_add_test(tc, queue_bound_drops_oldest);
    tcase_add_test(tc, retries_then_unreachable);
    tcase_add_test(tc, unused_entry_expires);
    tcase_add_test(tc, used_entry_probed_unicast);
    tcase_add_test(tc, cache_full_strangers_do_not_evict);
    tcase_add_test(tc, reconfirm_does_not_grow_timer_heap);
    tcase_add_test(tc, no_timer_memory_keeps_no_entry);
    suite_add_tcase(su, tc);
    return su;
}

US_TEST_MAIN()
