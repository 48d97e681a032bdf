/* TSO send path without a copy: a TCP connection whose device takes offloads (us_tx_gso_fn)
 * hands it the headers and then the payload straight from the send buffer, as gathered pieces.
 * Two stacks joined by a frame queue: A's device gathers (and counts the pieces), B receives the
 * super-frames with US_RX_L4_CSUM_OK as a vnet TAP would. 1 MiB goes A -> B byte for byte; the
 * send buffer wraps, so some frames come in three pieces. With ECN, a CWR never rides a
 * super-segment. Also: a pkt with borrowed payload that is queued takes the bytes in first
 * (us_pktq_push). */
#include <errno.h>
#include <string.h>

#include <ustack.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "lib/testutil.h"

#define A_IP US_IP4(192, 0, 2, 1)
#define B_IP US_IP4(192, 0, 2, 2)
#define QMAX 4096
#define FRAME_MAX 70000

struct frameq {
    struct {
        uint8_t *b;
        size_t len;
        unsigned flags;
        int to; /* 0: A, 1: B */
    } f[QMAX];
    size_t head, tail;
};

static struct frameq q;
static size_t pieces_seen[4]; /* gathered writes by number of pieces */
static size_t gso_frames;
static size_t full_frames, short_frames; /* data frames from A: full super-segments or not */
static size_t drop_frame;                 /* A's data frame to lose (1 = the first); 0: none */
static size_t b_frames, b_drop;           /* B's frames so far; B's frame to lose (0: none) */
static unsigned ecn_mode;                 /* both stacks' tcp_ecn */
static size_t ce_every;                   /* mark every Nth data frame of A's CE (0: none) */
static size_t ect_frames, cwr_frames, cwr_super; /* A's data frames: ECT, with CWR, CWR on TSO */
#define SEG_MAX (65535 - 20 - 60) / 1448 * 1448 /* the largest super-segment at MSS 1448 */

static void
q_push(int to, const struct iovec *iov, int n, unsigned flags)
{
    ck_assert_uint_lt(q.tail - q.head, QMAX);
    size_t i = q.tail++ % QMAX, len = 0;
    q.f[i].b = malloc(FRAME_MAX);
    ck_assert_ptr_nonnull(q.f[i].b);
    for (int k = 0; k < n; k++) {
        ck_assert_uint_le(len + iov[k].iov_len, FRAME_MAX);
        memcpy(q.f[i].b + len, iov[k].iov_base, iov[k].iov_len);
        len += iov[k].iov_len;
    }
    q.f[i].len = len;
    q.f[i].flags = flags;
    q.f[i].to = to;
}

static int
a_tx(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    struct iovec v = {(void *)frame, len};
    q_push(1, &v, 1, 0);
    return 0;
}

static int
a_tx_gso(void *ctx, const struct iovec *iov, int n, uint16_t gso_size, uint16_t l4_off,
         uint16_t hdr_len)
{
    (void)ctx;
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, 3);
    ck_assert_uint_ge(iov[0].iov_len, hdr_len); /* every header byte in the first piece */
    ck_assert_uint_eq(l4_off, 34);
    pieces_seen[n]++;
    gso_frames += gso_size != 0;
    size_t payload = 0;
    for (int k = 0; k < n; k++)
        payload += iov[k].iov_len;
    payload -= hdr_len;
    /* Every segment the device cuts (headers copied onto each) fits the 1500-byte MTU. */
    ck_assert_msg(hdr_len - 14 + (gso_size ? gso_size : payload) <= 1500,
                  "headers %u + segment %zu over the MTU", hdr_len - 14u,
                  gso_size ? (size_t)gso_size : payload);
    full_frames += payload == SEG_MAX;
    short_frames += payload > 0 && payload < SEG_MAX;
    if (payload > 0 && full_frames + short_frames == drop_frame)
        return 0; /* lost on the way */
    q_push(1, iov, n, US_RX_L4_CSUM_OK); /* like the kernel's NEEDS_CSUM on a vnet TAP */
    uint8_t *f = q.f[(q.tail - 1) % QMAX].b;
    if (payload > 0) {
        ect_frames += (f[15] & 3) == 2;
        bool cwr = f[34 + 13] & 0x80;
        cwr_frames += cwr;
        cwr_super += cwr && gso_size != 0 && payload > gso_size;
        if (ce_every && (full_frames + short_frames) % ce_every == 0) {
            f[15] |= 3; /* a router's CE mark; the header checksum again */
            f[24] = f[25] = 0;
            uint32_t sum = 0;
            for (int k = 14; k < 34; k += 2)
                sum += (uint32_t)f[k] << 8 | f[k + 1];
            while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
            f[24] = (uint8_t)(~sum >> 8);
            f[25] = (uint8_t)~sum;
        }
    }
    return 0;
}

static int
b_tx(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    if (++b_frames == b_drop)
        return 0; /* lost on the way */
    struct iovec v = {(void *)frame, len};
    q_push(0, &v, 1, 0);
    return 0;
}

static struct us_stack *sa, *sb;
static struct us_iface *ia, *ib;
static us_time_t now;

/* Delivers queued frames (with `lagged`, only those queued before this step: a round trip, so
 * ACKs come back while more data is in flight, as on a real path; else everything, answers
 * included), then moves the clock 50 us on. */
static void
step_link(bool lagged)
{
    size_t end = q.tail;
    while (q.head != (lagged ? end : q.tail)) {
        size_t i = q.head++ % QMAX;
        if (q.f[i].to)
            us_input_flags(sb, ib, q.f[i].b, q.f[i].len, q.f[i].flags, now);
        else
            us_input(sa, ia, q.f[i].b, q.f[i].len, now);
        free(q.f[i].b);
    }
    now += 50 * 1000;
    us_poll(sa, now);
    us_poll(sb, now);
}

static void
pump(void)
{
    step_link(false);
}

static void
pump_lagged(void)
{
    step_link(true);
}

struct pair {
    int c, s, l; /* A's client socket, B's accepted one, B's listener */
};

/* Two fresh stacks, A with a TSO device; A connects to B (whose receive buffer is `rcvbuf`, 0:
 * the default), with TCP_NODELAY as given. */
static struct pair
pair_open(bool nodelay, int rcvbuf)
{
    memset(&q, 0, sizeof(q));
    memset(pieces_seen, 0, sizeof(pieces_seen));
    gso_frames = full_frames = short_frames = drop_frame = b_frames = b_drop = 0;
    now = 0;
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_ecn = ecn_mode;
    ect_frames = cwr_frames = cwr_super = 0;
    sa = us_stack_new(&cfg, 1);
    sb = us_stack_new(&cfg, 2);
    struct us_iface_conf ca = {.size = sizeof(struct us_iface_conf),
                               .name = "a", .mac = {2, 0, 0, 0, 0, 1}, .addr = A_IP,
                               .prefix_len = 24, .tx = a_tx, .tx_gso = a_tx_gso};
    struct us_iface_conf cb = {.size = sizeof(struct us_iface_conf),
                               .name = "b", .mac = {2, 0, 0, 0, 0, 2}, .addr = B_IP,
                               .prefix_len = 24, .tx = b_tx};
    ia = us_iface_add(sa, &ca, now);
    ib = us_iface_add(sb, &cb, now);
    struct pair p = {.l = us_socket(sb, US_SOCK_STREAM), .s = -1};
    struct us_sockaddr la = {0, 5000};
    ck_assert_int_eq(us_bind(sb, p.l, &la), 0);
    if (rcvbuf)
        ck_assert_int_eq(us_setsockopt(sb, p.l, US_SO_RCVBUF, rcvbuf), 0);
    ck_assert_int_eq(us_listen(sb, p.l, 4), 0);
    p.c = us_socket(sa, US_SOCK_STREAM);
    ck_assert_int_eq(us_setsockopt(sa, p.c, US_TCP_NODELAY, nodelay), 0);
    struct us_sockaddr to = {B_IP, 5000};
    ck_assert_int_eq(us_connect(sa, p.c, &to, now), -EINPROGRESS);
    for (int k = 0; k < 100 && p.s < 0; k++) {
        pump();
        p.s = us_accept(sb, p.l, NULL);
    }
    ck_assert_int_ge(p.s, 0);
    return p;
}

/* Sends `total` bytes A -> B in writes of at most `chunk`, stepping the link with `step`, and
 * checks they arrive byte for byte. */
static void
pair_transfer(struct pair *p, size_t total, size_t chunk, void (*step)(void))
{
    static uint8_t src[8 << 20], dst[8 << 20];
    ck_assert_uint_le(total, sizeof(src));
    for (size_t i = 0; i < total; i++)
        src[i] = (uint8_t)(i * 131 + (i >> 9));
    size_t sent = 0, got = 0;
    for (int k = 0; k < 200000 && got < total; k++) {
        while (sent < total) {
            ssize_t w = us_sendto(sa, p->c, src + sent, US_MIN(chunk, total - sent), 0, NULL, now);
            ck_assert(w > 0 || w == -EAGAIN);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        step();
        ssize_t r;
        while ((r = us_recvfrom(sb, p->s, dst + got, total - got, 0, NULL, NULL, now)) > 0)
            got += (size_t)r;
    }
    ck_assert_uint_eq(got, total);
    ck_assert_mem_eq(dst, src, total);
}

static void
pair_close(struct pair *p)
{
    us_close(sa, p->c, now);
    us_close(sb, p->s, now);
    us_close(sb, p->l, now);
    for (int k = 0; k < 100; k++)
        pump();
    us_stack_free(sa);
    us_stack_free(sb);
}

START_TEST(tso_payload_is_gathered)
{
    struct pair p = pair_open(false, 0);
    pair_transfer(&p, 1 << 20, 1 << 20, pump);
    ck_assert_uint_gt(gso_frames, 0);    /* super-segments were cut by the "device" */
    ck_assert_uint_gt(pieces_seen[2], 0); /* headers + payload from the send buffer */
    ck_assert_uint_gt(pieces_seen[3], 0); /* ... in two pieces where the buffer wrapped */
    for (size_t i = 0; i < us_drop_count(); i++) /* (A's gratuitous ARP is not for B) */
        ck_assert_msg(us_drop_get(sb, i) == 0 || i == US_DROP_ARP_NOT_FOR_US, "B dropped %s",
                      us_drop_name(i));
    pair_close(&p);
}
END_TEST

/* TSO deferral (tcp_output.c tso_defer): in a bulk transfer whose writes (100,000 bytes, not a
 * multiple of a super-segment) leave a short tail each time, the tail waits for the next ACK
 * under Nagle and goes out inside a full super-segment; with TCP_NODELAY an app-limited tail goes
 * at once. B's window is no limit; the link has a round trip. Returns the short data frames. */
static size_t
bulk_short_frames(bool nodelay)
{
    struct pair p = pair_open(nodelay, 4 << 20);
    pair_transfer(&p, 8 << 20, 100000, pump_lagged);
    pair_close(&p);
    ck_assert_uint_gt(full_frames, 0);
    return short_frames;
}

START_TEST(tso_defers_short_tails)
{
    size_t nagle = bulk_short_frames(false);
    size_t full_nagle = full_frames;
    size_t nodelay = bulk_short_frames(true);
    /* Under Nagle nearly every data frame is a full super-segment (short ones: slow start, where
     * less than a super-segment is in flight, and the very end). */
    ck_assert_msg(nagle * 10 < full_nagle, "%zu short frames against %zu full", nagle, full_nagle);
    ck_assert_msg(nodelay > 2 * nagle, "TCP_NODELAY: %zu short frames, Nagle %zu", nodelay, nagle);
}
END_TEST

START_TEST(tso_cwnd_grows_in_congestion_avoidance)
{
    /* One super-segment lost: recovery sets ssthresh, and congestion avoidance follows. There
     * the flight stays short of cwnd by less than a super-segment, which TSO deferral holds back
     * for a fuller one: cwnd is what is used up, so it must keep growing (NewReno: about one
     * MSS per round trip; the link's round trip is one step). */
    struct pair p = pair_open(false, 4 << 20);
    ck_assert_int_eq(us_setsockopt(sa, p.c, US_TCP_CONGESTION, US_CC_NEWRENO), 0);
    drop_frame = 20;
    pair_transfer(&p, 8 << 20, 100000, pump_lagged);
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(sa, p.c, &ti), 0);
    ck_assert_uint_gt(ti.retrans, 0);
    ck_assert_uint_lt(ti.ssthresh, UINT32_MAX);
    ck_assert_msg(ti.cwnd >= ti.ssthresh + 8u * ti.mss_snd, "cwnd %u, ssthresh %u", ti.cwnd,
                  ti.ssthresh);
    pair_close(&p);
}
END_TEST

START_TEST(tso_segments_fit_with_sack_blocks)
{
    /* Data both ways, one of B's frames lost: A holds B's data out of order while it sends
     * super-segments, so its segments would carry SACK blocks. The device copies the headers
     * onto every segment it cuts, so blocks on a super-segment would push each past the MTU
     * (a_tx_gso checks): they go on a pure ACK after it instead, and B still learns them. */
    struct pair p = pair_open(false, 4 << 20);
    b_drop = 12;
    static uint8_t back[256 << 10], got[256 << 10];
    for (size_t i = 0; i < sizeof(back); i++)
        back[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0, rcvd = 0;
    for (int k = 0; k < 2000 && sent < sizeof(back); k++) {
        ssize_t w = us_sendto(sb, p.s, back + sent, sizeof(back) - sent, 0, NULL, now);
        if (w > 0)
            sent += (size_t)w;
        pump_lagged();
    }
    pair_transfer(&p, 4 << 20, 100000, pump_lagged);
    for (int k = 0; k < 20000 && rcvd < sizeof(back); k++) {
        ssize_t r = us_recvfrom(sa, p.c, got + rcvd, sizeof(got) - rcvd, 0, NULL, NULL, now);
        if (r > 0)
            rcvd += (size_t)r;
        else
            pump_lagged();
    }
    ck_assert_uint_eq(rcvd, sizeof(back));
    ck_assert_mem_eq(got, back, sizeof(back));
    ck_assert_uint_gt(us_stat_get(sb, US_STAT_TCP_RETRANS), 0);
    pair_close(&p);
}
END_TEST

START_TEST(tso_ecn_cwr_on_one_segment)
{
    /* ECN with TSO: super-segments go ECT(0) (the device copies the IP header onto each
     * segment); after the receiver echoes a CE mark, the CWR goes on one segment alone, never
     * on a super-segment, whose headers would put it on every segment the device cuts
     * (RFC 3168 6.1.2: on the first new data segment only). */
    ecn_mode = US_TCP_ECN_ON;
    ce_every = 25;
    struct pair p = pair_open(false, 4 << 20);
    pair_transfer(&p, 8 << 20, 100000, pump_lagged);
    ecn_mode = 0;
    ce_every = 0;
    ck_assert_uint_gt(full_frames, 0);
    ck_assert_uint_eq(ect_frames, full_frames + short_frames); /* nothing is resent */
    ck_assert_uint_gt(us_stat_get(sb, US_STAT_TCP_ECN_CE_IN), 0);
    ck_assert_uint_gt(us_stat_get(sa, US_STAT_TCP_ECN_CWND_REDUCED), 0);
    ck_assert_uint_gt(cwr_frames, 0);
    ck_assert_uint_eq(cwr_frames, us_stat_get(sa, US_STAT_TCP_ECN_CWR_OUT));
    ck_assert_uint_eq(cwr_super, 0);
    ck_assert_uint_eq(us_stat_get(sa, US_STAT_TCP_RETRANS), 0);
    pair_close(&p);
}
END_TEST

START_TEST(queued_pkt_owns_its_bytes)
{
    /* A pkt that borrows payload (as TCP's with TSO) and is then queued (as ARP does while it
     * resolves) copies the payload in: the lender may change it afterwards. */
    struct us_pool pools[2];
    us_pool_init(&pools[0], US_PKT_SMALL_SIZE, 4);
    us_pool_init(&pools[1], US_PKT_LARGE_SIZE, 4);
    struct us_pkt *p = us_pkt_alloc(pools, 40 + 3000);
    ck_assert_ptr_nonnull(p);
    memset(us_pkt_put(p, 40), 'h', 40);
    uint8_t lent[3000];
    memset(lent, 'x', sizeof(lent));
    p->ext[0].p = lent;
    p->ext[0].len = 1000;
    p->ext[1].p = lent + 1000;
    p->ext[1].len = 2000;
    p->n_ext = 2;
    ck_assert_uint_eq(us_pkt_total(p), 3040);
    struct us_pktq pq = {0};
    us_pktq_push(&pq, p);
    memset(lent, 'y', sizeof(lent)); /* the lender moves on */
    ck_assert_uint_eq(p->n_ext, 0);
    ck_assert_uint_eq(p->len, 3040);
    ck_assert_uint_eq(pq.bytes, 3040);
    for (size_t i = 40; i < 3040; i++)
        ck_assert_uint_eq(p->data[i], 'x');
    us_pktq_purge(pools, &pq);
    us_pool_destroy(&pools[0]);
    us_pool_destroy(&pools[1]);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("tso");
    TCase *tc = tcase_create("gather");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tso_payload_is_gathered);
    tcase_add_test(tc, tso_defers_short_tails);
    tcase_add_test(tc, tso_cwnd_grows_in_congestion_avoidance);
    tcase_add_test(tc, tso_segments_fit_with_sack_blocks);
    tcase_add_test(tc, tso_ecn_cwr_on_one_segment);
    tcase_add_test(tc, queued_pkt_owns_its_bytes);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
