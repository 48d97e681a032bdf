/* In-memory link and impairments: determinism from the seed, each impairment alone (loss, dup,
 * reorder, corrupt, delay/jitter, rate, blackout), the delay queue, and the spec parser.
 * Statistical bounds are wide (many standard deviations) but a broken impairment fails them.
 * Frames carry a 32-bit sequence number in their first bytes so the tests can follow them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "drivers/wire.h"
#include "lib/testutil.h"

/* ---- a recording receiver ------------------------------------------------------------------- */

#define REC_MAX 300000

struct rec {
    size_t n;
    int end[REC_MAX];
    uint32_t seq[REC_MAX];
    us_time_t at[REC_MAX];
    uint64_t hash[REC_MAX];
    uint8_t last[2048];
    size_t last_len;
};

static struct rec rx_rec; /* test-local; each test resets it */
static int rx_ends[2] = {0, 1};

static uint64_t
fnv(const uint8_t *b, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static uint32_t
ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
record_rx(void *ctx, const uint8_t *frame, size_t len, us_time_t now)
{
    struct rec *r = &rx_rec;
    ck_assert_uint_lt(r->n, REC_MAX);
    r->end[r->n] = *(int *)ctx;
    r->seq[r->n] = len >= 4 ? ld32(frame) : 0;
    r->at[r->n] = now;
    r->hash[r->n] = fnv(frame, len);
    if (len <= sizeof(r->last)) {
        memcpy(r->last, frame, len);
        r->last_len = len;
    }
    r->n++;
}

static void
make_frame(uint8_t *f, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seq);
    f[0] = (uint8_t)(seq >> 24);
    f[1] = (uint8_t)(seq >> 16);
    f[2] = (uint8_t)(seq >> 8);
    f[3] = (uint8_t)seq;
}

static void
send_at(struct us_wire_link *l, int end, us_time_t now, uint32_t seq, size_t len)
{
    uint8_t f[2048];
    make_frame(f, len, seq);
    us_wire_link_set_now(l, now);
    ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, end), f, len), 0);
}

/* Delivers everything still queued, stepping the clock to each due time. */
static void
drain(struct us_wire_link *l)
{
    us_time_t t;
    while ((t = us_wire_link_next_due(l)) != US_TIME_NEVER)
        us_wire_link_deliver(l, t, record_rx, &rx_ends[0], &rx_ends[1]);
}

/* Sends n frames from end 0, one every step ns starting at 0, delivering as time passes. */
static void
run_stream(struct us_wire_link *l, uint32_t n, us_time_t step, size_t len)
{
    for (uint32_t i = 0; i < n; i++) {
        us_time_t now = (us_time_t)i * step;
        us_wire_link_deliver(l, now, record_rx, &rx_ends[0], &rx_ends[1]);
        send_at(l, 0, now, i, len);
    }
    drain(l);
}

static struct us_wire_link *
link_from(const char *spec, uint64_t seed)
{
    struct us_impair imp;
    ck_assert_int_eq(us_impair_parse(&imp, &seed, spec), 0);
    struct us_wire_link *l = us_wire_link_new(&imp, seed);
    ck_assert_ptr_nonnull(l);
    memset(&rx_rec, 0, sizeof(rx_rec));
    return l;
}

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST(test_perfect_link)
{
    struct us_wire_link *l = link_from("", 1);
    ck_assert_int_eq(us_wire_link_next_due(l), US_TIME_NEVER);
    send_at(l, 0, 100, 1, 60);
    send_at(l, 1, 100, 2, 60);
    send_at(l, 0, 100, 3, 60);
    ck_assert_int_eq(us_wire_link_next_due(l), 100);
    ck_assert_uint_eq(us_wire_link_deliver(l, 99, record_rx, &rx_ends[0], &rx_ends[1]), 0);
    ck_assert_uint_eq(us_wire_link_deliver(l, 100, record_rx, &rx_ends[0], &rx_ends[1]), 3);
    /* In order; frames from end 0 arrive at end 1 and vice versa. */
    ck_assert_uint_eq(rx_rec.seq[0], 1);
    ck_assert_int_eq(rx_rec.end[0], 1);
    ck_assert_uint_eq(rx_rec.seq[1], 2);
    ck_assert_int_eq(rx_rec.end[1], 0);
    ck_assert_uint_eq(rx_rec.seq[2], 3);
    ck_assert_int_eq(rx_rec.at[2], 100);
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->sent, 2);
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->delivered, 2);
    ck_assert_uint_eq(us_wire_link_stats(l, 1)->delivered, 1);
    ck_assert_int_eq(us_wire_link_next_due(l), US_TIME_NEVER);
    ck_assert_ptr_null(us_wire_link_end(l, 2));
    ck_assert_ptr_null(us_wire_link_stats(l, -1));
    us_wire_link_free(l);
}
END_TEST

/* The delivery sequence (time, end, frame hash) of an impaired run, hashed. */
static uint64_t
impaired_run(uint64_t seed)
{
    struct us_wire_link *l =
        link_from("loss=0.1,dup=0.05,reorder=0.1,corrupt=0.05,delay=1ms,jitter=500us", seed);
    uint64_t h = 1469598103934665603u;
    run_stream(l, 3000, US_MSEC(1) / 10, 100);
    for (size_t i = 0; i < rx_rec.n; i++) {
        uint64_t item[3] = {(uint64_t)rx_rec.at[i], rx_rec.hash[i], (uint64_t)rx_rec.end[i]};
        h = (h ^ fnv((const uint8_t *)item, sizeof(item))) * 1099511628211u;
    }
    us_wire_link_free(l);
    return h;
}

START_TEST(test_determinism)
{
    uint64_t a = impaired_run(7), b = impaired_run(7), c = impaired_run(8);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_ne(a, c);
}
END_TEST

START_TEST(test_loss_fraction)
{
    struct us_wire_link *l = link_from("loss=0.1", 42);
    const struct us_wire_stats *st = us_wire_link_stats(l, 0);
    run_stream(l, 100000, 1000, 64);
    /* Expect 90000 delivered, sigma ~95: +-1000 is over ten sigma. */
    ck_assert_uint_gt(rx_rec.n, 89000);
    ck_assert_uint_lt(rx_rec.n, 91000);
    ck_assert_uint_eq(st->sent, 100000);
    ck_assert_uint_eq(st->delivered, rx_rec.n);
    ck_assert_uint_eq(st->lost + st->delivered, st->sent);
    for (size_t i = 1; i < rx_rec.n; i++) /* no reordering from loss alone */
        ck_assert_uint_lt(rx_rec.seq[i - 1], rx_rec.seq[i]);
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_dup)
{
    struct us_wire_link *l = link_from("dup=0.2", 3);
    const struct us_wire_stats *st = us_wire_link_stats(l, 0);
    size_t pairs = 0;
    run_stream(l, 10000, 1000, 64);
    ck_assert_uint_eq(rx_rec.n, 10000 + st->duplicated);
    ck_assert_uint_gt(st->duplicated, 1700);
    ck_assert_uint_lt(st->duplicated, 2300);
    for (size_t i = 1; i < rx_rec.n; i++) {
        ck_assert_uint_le(rx_rec.seq[i - 1], rx_rec.seq[i]);
        if (rx_rec.seq[i - 1] == rx_rec.seq[i]) {
            ck_assert_uint_eq(rx_rec.hash[i - 1], rx_rec.hash[i]); /* identical copies */
            pairs++;
        }
    }
    ck_assert_uint_eq(pairs, st->duplicated);
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_reorder)
{
    struct us_wire_link *l = link_from("reorder=0.1,reorder_gap=50us", 5);
    const struct us_wire_stats *st = us_wire_link_stats(l, 0);
    size_t inversions = 0;
    run_stream(l, 5000, 10000 /* 10 us */, 64);
    ck_assert_uint_eq(rx_rec.n, 5000); /* nothing lost */
    for (size_t i = 1; i < rx_rec.n; i++)
        if (rx_rec.seq[i - 1] > rx_rec.seq[i])
            inversions++;
    ck_assert_uint_gt(st->reordered, 350);
    ck_assert_uint_lt(st->reordered, 650);
    ck_assert_uint_gt(inversions, 300);
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_corrupt_one_bit)
{
    struct us_wire_link *l = link_from("corrupt=1", 9);
    uint8_t orig[200];
    int bytes_seen[200] = {0};
    for (uint32_t i = 0; i < 2000; i++) {
        send_at(l, 0, (us_time_t)i, i, sizeof(orig));
        ck_assert_uint_eq(us_wire_link_deliver(l, (us_time_t)i, record_rx, &rx_ends[0],
                                               &rx_ends[1]), 1);
        make_frame(orig, sizeof(orig), i);
        ck_assert_uint_eq(rx_rec.last_len, sizeof(orig));
        int bits = 0, where = -1;
        for (size_t b = 0; b < sizeof(orig); b++) {
            uint8_t x = orig[b] ^ rx_rec.last[b];
            if (x) {
                bits += __builtin_popcount(x);
                where = (int)b;
            }
        }
        ck_assert_int_eq(bits, 1);
        ck_assert_int_ge(where, 14); /* never the Ethernet header */
        bytes_seen[where]++;
    }
    int covered = 0;
    for (size_t b = 0; b < sizeof(orig); b++)
        covered += bytes_seen[b] > 0;
    ck_assert_int_gt(covered, 176); /* the byte is random: nearly all of the 186 get hit */
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->corrupted, 2000);
    us_wire_link_free(l);
}
END_TEST

/* What the FCS would catch never arrives damaged: ARP frames (no checksum, not forwarded) and
 * frames with nothing past the Ethernet header go through intact even at corrupt=1; IPv4
 * frames, beside them, are damaged after the header. */
START_TEST(test_corrupt_spares_arp)
{
    struct us_wire_link *l = link_from("corrupt=1", 11);
    uint8_t f[60];
    for (uint32_t i = 0; i < 600; i++) {
        size_t len = i % 3 == 2 ? 14 : sizeof(f);
        make_frame(f, len, i);
        f[12] = 0x08;
        f[13] = i % 3 == 0 ? 0x06 : 0x00; /* ARP, IPv4, IPv4 header only */
        us_wire_link_set_now(l, (us_time_t)i);
        ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, len), 0);
        ck_assert_uint_eq(us_wire_link_deliver(l, (us_time_t)i, record_rx, &rx_ends[0],
                                               &rx_ends[1]), 1);
        ck_assert_uint_eq(rx_rec.last_len, len);
        ck_assert_int_eq(memcmp(rx_rec.last, f, 14), 0);
        bool same = memcmp(rx_rec.last, f, len) == 0;
        ck_assert_msg(same == (i % 3 != 1), "frame %u (type %02x%02x, %zu bytes)", i, f[12],
                      f[13], len);
    }
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->corrupted, 200);
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->delivered, 600);
    us_wire_link_free(l);
}
END_TEST

/* The ones' complement sum of an IPv4 header (0xffff when its checksum is right). */
static unsigned
ip_hdr_sum(const uint8_t *h)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)h[i] << 8 | h[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* An Ethernet frame with an IPv4 header whose TOS octet is tos, checksum right. */
static size_t
ip_frame(uint8_t *f, uint8_t tos, uint32_t seq)
{
    make_frame(f, 80, seq);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t h[20] = {0x45, tos, 0, 66, (uint8_t)(seq >> 8), (uint8_t)seq, 0x40, 0, 64, 6, 0, 0,
                     192, 0, 2, 1, 192, 0, 2, 2};
    unsigned c = ~ip_hdr_sum(h) & 0xffffu;
    h[10] = (uint8_t)(c >> 8);
    h[11] = (uint8_t)c;
    memcpy(f + 14, h, 20);
    return 80;
}

/* ce marks an ECN-capable IPv4 packet (ECT(0) or ECT(1)) CE and mends its header checksum, as a
 * router does (RFC 3168 5); not-ECT, CE already, ARP and short frames pass untouched. At 0.5
 * about half the ECN-capable packets are marked. */
START_TEST(test_ce_marks)
{
    struct us_wire_link *l = link_from("ce=1", 5);
    static const uint8_t tos[] = {0x02, 0x01, 0x00, 0x03, 0xb8 | 0x02, 0xb8};
    uint8_t f[80];
    for (uint32_t i = 0; i < US_ARRAY_LEN(tos); i++) {
        size_t len = ip_frame(f, tos[i], i);
        us_wire_link_set_now(l, (us_time_t)i);
        ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, len), 0);
        ck_assert_uint_eq(us_wire_link_deliver(l, (us_time_t)i, record_rx, &rx_ends[0],
                                               &rx_ends[1]), 1);
        bool ect = (tos[i] & 3) == 1 || (tos[i] & 3) == 2;
        ck_assert_uint_eq(rx_rec.last[15], ect ? tos[i] | 3 : tos[i]);
        ck_assert_uint_eq(ip_hdr_sum(rx_rec.last + 14), 0xffff);
        f[15] = rx_rec.last[15];
        f[24] = rx_rec.last[24];
        f[25] = rx_rec.last[25];
        ck_assert_int_eq(memcmp(rx_rec.last, f, len), 0); /* nothing else changed */
    }
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->ce_marked, 3);
    /* ARP carrying the same bytes, and an IPv4 frame too short for a header */
    size_t len = ip_frame(f, 0x02, 99);
    f[13] = 0x06;
    us_wire_link_set_now(l, 10);
    ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, len), 0);
    drain(l);
    ck_assert_int_eq(memcmp(rx_rec.last, f, len), 0);
    f[13] = 0x00;
    ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, 30), 0);
    drain(l);
    ck_assert_int_eq(memcmp(rx_rec.last, f, 30), 0);
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->ce_marked, 3);
    us_wire_link_free(l);

    l = link_from("ce=0.5", 6);
    for (uint32_t i = 0; i < 2000; i++) {
        len = ip_frame(f, 0x02, i);
        us_wire_link_set_now(l, (us_time_t)i);
        ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, len), 0);
    }
    memset(&rx_rec, 0, sizeof(rx_rec));
    drain(l);
    ck_assert_uint_eq(rx_rec.n, 2000);
    uint64_t marked = us_wire_link_stats(l, 0)->ce_marked;
    ck_assert_uint_gt(marked, 850);
    ck_assert_uint_lt(marked, 1150);
    us_wire_link_free(l);
}
END_TEST

/* Bit errors on the wire (biterr) hit any byte of any frame, ARP and the Ethernet header
 * included, and the receiving end's FCS check drops every damaged frame, as a NIC does: at
 * biterr=1 nothing is delivered and all of it is counted in fcs_drops; at 0.3 with duplicates
 * the books balance and every frame that arrives is exactly the frame sent. */
START_TEST(test_biterr_fcs)
{
    /* IEEE 802.3's CRC-32: the check value of "123456789", and a frame with its FCS appended
     * leaves the residue 0x2144df1c (the receiver's "magic number" check). */
    ck_assert_uint_eq(us_wire_fcs((const uint8_t *)"123456789", 9), 0xcbf43926u);
    uint8_t f[64];
    make_frame(f, 60, 5);
    uint32_t fcs = us_wire_fcs(f, 60);
    for (int i = 0; i < 4; i++)
        f[60 + i] = (uint8_t)(fcs >> (8 * i));
    ck_assert_uint_eq(us_wire_fcs(f, 64), 0x2144df1cu);

    struct us_wire_link *l = link_from("biterr=1", 13);
    for (uint32_t i = 0; i < 300; i++) {
        size_t len = i % 3 == 2 ? 14 : 60;
        make_frame(f, len, i);
        f[12] = 0x08;
        f[13] = i % 3 == 0 ? 0x06 : 0x00; /* ARP, IPv4, a bare Ethernet header */
        us_wire_link_set_now(l, (us_time_t)i);
        ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, len), 0);
        ck_assert_uint_eq(us_wire_link_deliver(l, (us_time_t)i, record_rx, &rx_ends[0],
                                               &rx_ends[1]), 0);
    }
    const struct us_wire_stats *st = us_wire_link_stats(l, 0);
    ck_assert_uint_eq(rx_rec.n, 0);
    ck_assert_uint_eq(st->biterrs, 300);
    ck_assert_uint_eq(st->fcs_drops, 300);
    ck_assert_uint_eq(st->delivered, 0);
    us_wire_link_free(l);

    l = link_from("biterr=0.3,dup=0.2,loss=0.1,seed=21", 0);
    uint64_t sent_hash[3000];
    for (uint32_t i = 0; i < 3000; i++) {
        make_frame(f, 60, i);
        f[12] = 0x08;
        f[13] = i & 1 ? 0x06 : 0x00;
        sent_hash[i] = fnv(f, 60);
        us_wire_link_set_now(l, (us_time_t)i);
        ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), f, 60), 0);
        us_wire_link_deliver(l, (us_time_t)i, record_rx, &rx_ends[0], &rx_ends[1]);
    }
    drain(l);
    st = us_wire_link_stats(l, 0);
    for (size_t k = 0; k < rx_rec.n; k++) { /* intact: the first 4 bytes name the frame */
        ck_assert_uint_lt(rx_rec.seq[k], 3000);
        ck_assert_msg(rx_rec.hash[k] == sent_hash[rx_rec.seq[k]], "frame %u arrived damaged",
                      rx_rec.seq[k]);
    }
    ck_assert_uint_gt(st->fcs_drops, 600);
    ck_assert_uint_lt(st->fcs_drops, 1300);
    ck_assert_uint_eq(st->delivered, rx_rec.n);
    /* every copy ends delivered, lost or FCS-dropped */
    ck_assert_uint_eq(st->sent + st->duplicated, st->delivered + st->lost + st->fcs_drops);
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_delay_and_jitter)
{
    struct us_wire_link *l = link_from("delay=5ms", 1);
    send_at(l, 0, US_MSEC(10), 1, 60);
    ck_assert_int_eq(us_wire_link_next_due(l), US_MSEC(15));
    ck_assert_uint_eq(us_wire_link_deliver(l, US_MSEC(15) - 1, record_rx, &rx_ends[0],
                                           &rx_ends[1]), 0);
    ck_assert_uint_eq(us_wire_link_deliver(l, US_MSEC(15), record_rx, &rx_ends[0],
                                           &rx_ends[1]), 1);
    us_wire_link_free(l);

    l = link_from("delay=2ms,jitter=1ms", 1);
    us_time_t lo = US_TIME_NEVER, hi = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        send_at(l, 0, 0, i, 60);
        us_time_t due = us_wire_link_next_due(l);
        us_wire_link_deliver(l, due, record_rx, &rx_ends[0], &rx_ends[1]);
        ck_assert_int_ge(due, US_MSEC(2));
        ck_assert_int_le(due, US_MSEC(3));
        lo = US_MIN(lo, due);
        hi = US_MAX(hi, due);
    }
    ck_assert_int_lt(lo, US_MSEC(2) + US_MSEC(1) / 10); /* jitter spreads over the range */
    ck_assert_int_gt(hi, US_MSEC(3) - US_MSEC(1) / 10);
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_rate_limit)
{
    /* 8 Mbit/s = 1 byte per microsecond: a 1000-byte frame takes 1 ms. */
    struct us_wire_link *l = link_from("rate=8mbit,queue=5,delay=1ms", 1);
    const struct us_wire_stats *st = us_wire_link_stats(l, 0);
    for (uint32_t i = 0; i < 8; i++)
        send_at(l, 0, 0, i, 1000);
    ck_assert_uint_eq(st->queue_drops, 3);
    drain(l);
    ck_assert_uint_eq(rx_rec.n, 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(rx_rec.at[i], US_MSEC(1) * (us_time_t)(i + 1) + US_MSEC(1));
    /* Once the serialiser is idle a frame goes straight through. */
    send_at(l, 0, US_MSEC(100), 9, 500);
    ck_assert_int_eq(us_wire_link_next_due(l), US_MSEC(100) + US_MSEC(1) / 2 + US_MSEC(1));
    /* Frames leave as earlier ones finish: at 100.5 ms the queue has room again. */
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_blackout)
{
    struct us_wire_link *l = link_from("blackout_start=1ms,blackout_len=1ms", 1);
    send_at(l, 0, US_MSEC(1) / 2, 1, 60);
    send_at(l, 0, US_MSEC(1), 2, 60);
    send_at(l, 0, US_MSEC(2) - 1, 3, 60);
    send_at(l, 0, US_MSEC(2), 4, 60);
    drain(l);
    ck_assert_uint_eq(rx_rec.n, 2);
    ck_assert_uint_eq(rx_rec.seq[0], 1);
    ck_assert_uint_eq(rx_rec.seq[1], 4);
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->blackout, 2);
    us_wire_link_free(l);
}
END_TEST

/* A blackout every period: 10 ms of every 100 ms from 5 ms on, on a frame sent every 1 ms. */
START_TEST(test_blackout_every)
{
    struct us_wire_link *l =
        link_from("blackout_start=5ms,blackout_len=10ms,blackout_every=100ms", 1);
    run_stream(l, 1000, US_MSEC(1), 60);
    /* frames 5..14, 105..114, ..., 905..914 are dropped: 10 in each of 10 periods */
    ck_assert_uint_eq(us_wire_link_stats(l, 0)->blackout, 100);
    ck_assert_uint_eq(rx_rec.n, 900);
    for (size_t i = 0; i < rx_rec.n; i++) {
        uint32_t into = rx_rec.seq[i] >= 5 ? (rx_rec.seq[i] - 5) % 100 : 99;
        ck_assert_uint_ge(into, 10);
    }
    us_wire_link_free(l);
}
END_TEST

/* netem's "delay 10ms reorder 2%": a frame that comes out early skips the delay and overtakes
 * the frames sent in the 10 ms before it; the others keep their order and their delay. */
START_TEST(test_early)
{
    struct us_wire_link *l = link_from("delay=10ms,early=0.02", 3);
    const struct us_wire_stats *st = us_wire_link_stats(l, 0);
    size_t early = 0, overtaken = 0;
    run_stream(l, 10000, US_MSEC(1) / 10, 64); /* one frame every 100 us */
    ck_assert_uint_eq(rx_rec.n, 10000);
    ck_assert_uint_gt(st->reordered, 130); /* 200 expected, sd 14 */
    ck_assert_uint_lt(st->reordered, 270);
    ck_assert_uint_eq(st->delayed, 10000 - st->reordered);
    uint32_t max_normal = 0;
    for (size_t i = 0; i < rx_rec.n; i++) {
        us_time_t sent = (us_time_t)rx_rec.seq[i] * (US_MSEC(1) / 10);
        if (rx_rec.at[i] - sent < US_MSEC(10)) {
            early++;
            /* out by the next 100 us step, ahead of ~100 delayed frames */
            ck_assert_int_le(rx_rec.at[i] - sent, US_MSEC(1) / 10);
            ck_assert_uint_ge(rx_rec.seq[i], max_normal);
        } else {
            ck_assert_int_eq(rx_rec.at[i] - sent, US_MSEC(10));
            ck_assert_uint_gt(rx_rec.seq[i] + 1, max_normal); /* the delayed stay in order */
            max_normal = rx_rec.seq[i] + 1;
        }
    }
    ck_assert_uint_eq(early, st->reordered);
    /* every early frame arrived before frames sent before it */
    for (size_t i = 1; i < rx_rec.n; i++)
        if (rx_rec.seq[i - 1] > rx_rec.seq[i])
            overtaken++;
    ck_assert_uint_ge(overtaken, early * 9 / 10);
    us_wire_link_free(l);
}
END_TEST

START_TEST(test_deliver_bounded)
{
    struct us_wire_link *l = link_from("", 1);
    for (uint32_t i = 0; i < US_WIRE_DELIVER_MAX + 44; i++)
        send_at(l, 0, 0, i, 60);
    ck_assert_uint_eq(us_wire_link_deliver(l, 0, record_rx, &rx_ends[0], &rx_ends[1]),
                      US_WIRE_DELIVER_MAX);
    ck_assert_uint_eq(us_wire_link_deliver(l, 0, record_rx, &rx_ends[0], &rx_ends[1]), 44);
    for (size_t i = 0; i < rx_rec.n; i++)
        ck_assert_uint_eq(rx_rec.seq[i], i);
    uint8_t big[US_DELAYQ_FRAME_MAX + 1];
    memset(big, 0, sizeof(big));
    ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), big, sizeof(big)), -EMSGSIZE);
    ck_assert_int_eq(us_wire_end_tx(us_wire_link_end(l, 0), big, sizeof(big) - 1), 0);
    us_wire_link_free(l); /* frees the queued super-frame too (ASan checks) */
}
END_TEST

START_TEST(test_no_malloc_when_warm)
{
    struct us_wire_link *l = link_from("delay=1ms,jitter=1ms,dup=0.1,reorder=0.1", 11);
    run_stream(l, 20000, 10000, 100); /* warm up: ~200 frames in flight */
    size_t warm = us_wire_link_buffers(l);
    ck_assert_uint_gt(warm, 50);
    ck_assert_uint_lt(warm, 1000);
    memset(&rx_rec, 0, sizeof(rx_rec));
    run_stream(l, 20000, 10000, 100);
    /* Same load again: at most a few more buffers for a slightly higher peak. */
    ck_assert_uint_le(us_wire_link_buffers(l), warm + warm / 4);
    us_wire_link_free(l);
}
END_TEST

/* ---- delay queue alone ---------------------------------------------------------------------- */

struct echo_ctx {
    struct us_delayq *q;
    int order[16];
    int n;
};

static void
echo_fn(void *ctx, int tag, const uint8_t *frame, size_t len, us_time_t now)
{
    struct echo_ctx *e = ctx;
    e->order[e->n++] = tag;
    if (tag == 1) /* push from inside the callback: must be safe */
        ck_assert_int_eq(us_delayq_push(e->q, frame, len, now + 10, 9), 0);
}

START_TEST(test_delayq)
{
    struct us_delayq *q = us_delayq_new(4);
    struct echo_ctx e = {.q = q};
    uint8_t f[64] = {0};

    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(us_delayq_push(q, f, sizeof(f), 50, 3), 0);
    ck_assert_int_eq(us_delayq_push(q, f, sizeof(f), 20, 1), 0);
    ck_assert_int_eq(us_delayq_push(q, f, sizeof(f), 20, 2), 0); /* same time: after tag 1 */
    ck_assert_int_eq(us_delayq_push(q, f, sizeof(f), 10, 0), 0);
    ck_assert_int_eq(us_delayq_push(q, f, sizeof(f), 10, 0), -ENOBUFS);
    ck_assert_uint_eq(us_delayq_len(q), 4);
    ck_assert_int_eq(us_delayq_next_due(q), 10);
    ck_assert_uint_eq(us_delayq_deliver(q, 20, 100, echo_fn, &e), 3);
    ck_assert_int_eq(e.order[0], 0);
    ck_assert_int_eq(e.order[1], 1);
    ck_assert_int_eq(e.order[2], 2);
    ck_assert_int_eq(us_delayq_next_due(q), 30); /* the echo */
    ck_assert_uint_eq(us_delayq_deliver(q, 100, 100, echo_fn, &e), 2);
    ck_assert_int_eq(e.order[3], 9);
    ck_assert_int_eq(e.order[4], 3);
    ck_assert_int_eq(us_delayq_next_due(q), US_TIME_NEVER);
    us_delayq_free(q);
}
END_TEST

START_TEST(test_impairer_for_daemon)
{
    /* The daemon's shape: one queue, one impairer per direction, tags for directions. */
    struct us_impair imp = {.dup = 1.0, .delay = 100};
    struct us_impairer *in = us_impairer_new(&imp, 1), *out = us_impairer_new(NULL, 2);
    struct us_delayq *q = us_delayq_new(0);
    struct echo_ctx e = {.q = q};
    uint8_t f[60] = {0};

    ck_assert_int_eq(us_delayq_push_impaired(q, in, f, sizeof(f), 0, 0), 2);
    ck_assert_int_eq(us_delayq_push_impaired(q, out, f, sizeof(f), 0, 2), 1);
    ck_assert_uint_eq(us_delayq_deliver(q, 99, 10, echo_fn, &e), 1); /* out: no delay */
    ck_assert_uint_eq(us_delayq_deliver(q, 100, 10, echo_fn, &e), 2);
    ck_assert_uint_eq(us_impairer_stats(in)->duplicated, 1);
    ck_assert_uint_eq(us_impairer_stats(out)->sent, 1);
    us_impairer_free(in);
    us_impairer_free(out);
    us_delayq_free(q);
}
END_TEST

/* ---- parser --------------------------------------------------------------------------------- */

START_TEST(test_parse_ok)
{
    struct us_impair imp;
    uint64_t seed = 0;
    ck_assert_int_eq(us_impair_parse(&imp, &seed,
                                     "loss=0.05,dup=0.01,reorder=0.02,corrupt=0.001,delay=5ms,"
                                     "jitter=1ms,rate=100mbit,seed=7"),
                     0);
    ck_assert(imp.loss == 0.05 && imp.dup == 0.01 && imp.reorder == 0.02);
    ck_assert(imp.corrupt == 0.001);
    ck_assert_int_eq(imp.delay, US_MSEC(5));
    ck_assert_int_eq(imp.jitter, US_MSEC(1));
    ck_assert_uint_eq(imp.rate_bps, 100000000u);
    ck_assert_uint_eq(seed, 7);
    ck_assert_int_eq(us_impair_parse(&imp, &seed, "delay=250us,jitter=7ns,rate=1.5kbit,queue=9,"
                                                  "blackout_start=2s,blackout_len=0.5s,"
                                                  "reorder_gap=0,biterr=0.25,"
                                                  "blackout_every=1s,early=0.02"),
                     0);
    ck_assert(imp.biterr == 0.25);
    ck_assert(imp.early == 0.02);
    ck_assert_int_eq(imp.blackout_every, US_SEC(1));
    ck_assert_int_eq(us_impair_parse(&imp, NULL, "ce=0.125"), 0);
    ck_assert(imp.ce == 0.125);
    ck_assert_int_eq(us_impair_parse(&imp, NULL, "ce=1.5"), -EINVAL);
    ck_assert_int_eq(us_impair_parse(&imp, &seed, "delay=250us,jitter=7ns,rate=1.5kbit,queue=9,"
                                                  "blackout_start=2s,blackout_len=0.5s,"
                                                  "reorder_gap=0,biterr=0.25"),
                     0);
    ck_assert_int_eq(imp.delay, 250000);
    ck_assert_int_eq(imp.jitter, 7);
    ck_assert_uint_eq(imp.rate_bps, 1500);
    ck_assert_uint_eq(imp.queue_limit, 9);
    ck_assert_int_eq(imp.blackout_start, US_SEC(2));
    ck_assert_int_eq(imp.blackout_len, US_MSEC(500));
    ck_assert(imp.loss == 0); /* reset, not merged */
    ck_assert_uint_eq(seed, 7); /* untouched without seed= */
    ck_assert_int_eq(us_impair_parse(&imp, NULL, ""), 0);
    ck_assert_int_eq(us_impair_parse(&imp, NULL, NULL), 0);
    ck_assert_int_eq(us_impair_parse(&imp, NULL, "rate=1gbit,loss=1,dup=0"), 0);
    ck_assert_uint_eq(imp.rate_bps, 1000000000u);
}
END_TEST

START_TEST(test_parse_errors)
{
    static const char *const bad[] = {
        "lose=0.1",      "loss=1.5",      "loss=-0.1",   "loss=",       "loss",
        "loss=0.1,",     ",loss=0.1",     "loss=0.1,,dup=0.1",          "loss=0.1x",
        "loss=nan",      "loss=inf",      "delay=5",     "delay=5m",    "delay=-1ms",
        "delay=5 ms",    "jitter=1h",     "rate=100",    "rate=100mb",  "rate=100mbps",
        "queue=-1",      "queue=1x",      "seed=abc",    "seed=-1",     "loss=0.1,loss=0.2",
        "=0.1",          "delay=1e30s",   "loss= 0.1",   "dup=0.5=0.1",
        "early=2",       "blackout_every=1", "blackout_every=-1s",
    };
    struct us_impair imp = {.loss = 0.25};
    uint64_t seed = 99;
    for (size_t i = 0; i < US_ARRAY_LEN(bad); i++)
        ck_assert_msg(us_impair_parse(&imp, &seed, bad[i]) == -EINVAL, "accepted '%s'", bad[i]);
    ck_assert(imp.loss == 0.25); /* untouched on error */
    ck_assert_uint_eq(seed, 99);
    ck_assert_int_eq(us_impair_parse(&imp, NULL, "seed=5"), -EINVAL); /* nowhere to put it */
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("drv_wire");
    TCase *tc = tcase_create("wire");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_perfect_link);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_loss_fraction);
    tcase_add_test(tc, test_dup);
    tcase_add_test(tc, test_reorder);
    tcase_add_test(tc, test_corrupt_one_bit);
    tcase_add_test(tc, test_corrupt_spares_arp);
    tcase_add_test(tc, test_biterr_fcs);
    tcase_add_test(tc, test_ce_marks);
    tcase_add_test(tc, test_delay_and_jitter);
    tcase_add_test(tc, test_rate_limit);
    tcase_add_test(tc, test_blackout);
    tcase_add_test(tc, test_blackout_every);
    tcase_add_test(tc, test_early);
    tcase_add_test(tc, test_deliver_bounded);
    tcase_add_test(tc, test_no_malloc_when_warm);
    tcase_add_test(tc, test_delayq);
    tcase_add_test(tc, test_impairer_for_daemon);
    tcase_add_test(tc, test_parse_ok);
    tcase_add_test(tc, test_parse_errors);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
