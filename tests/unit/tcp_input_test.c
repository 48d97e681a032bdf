/* TCP segment-arrival unit tests on one stack and a virtual clock: data delivery and ACK policy
 * (delayed ACK, out of order with SACK, trimming, window edges, zero window), RFC 5961 blind
 * attack checks, PAWS (RFC 7323 5), retransmission timers (RFC 6298), fast retransmit
 * (RFC 5681/6582), tail loss probes (RFC 8985 7), persist, keepalive, Nagle, and what netstat
 * reports. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"
#include "core/core.h" /* the timer heap's limit, to make a push fail */

#define S US_TCP_SYN
#define A US_TCP_ACK
#define F US_TCP_FIN
#define R US_TCP_RST
#define P US_TCP_PSH

static uint8_t data[65536]; /* the payload tests send, filled once before they run */

static void
fill_data(void)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
}

static void
expect_read(struct onestack *o, int fd, const void *want, size_t n)
{
    static uint8_t buf[65536];
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, NULL, NULL, o->now), (ssize_t)n);
    ck_assert_mem_eq(buf, want, n);
}

/* Nothing is sent for dur - 1 ns; then the clock reaches dur. */
static void
quiet_until(struct onestack *o, us_time_t dur)
{
    os_advance(o, dur - 1);
    ck_assert_uint_eq(os_tcp_pending(o), 0);
    os_advance(o, 1);
}

/* ---- data and ACK policy --------------------------------------------------------------------- */

START_TEST(delayed_ack)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    /* RFC 1122 4.2.3.2: one small segment is ACKed after the delayed-ACK time (40 ms) */
    os_tcp_tx(&o, &t, A | P, data, 100);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    quiet_until(&o, US_MSEC(40));
    struct us_tcp_repr r;
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    expect_read(&o, fd, data, 100);
    /* two full-sized segments: ACK at once after the second */
    os_tcp_tx(&o, &t, A, data, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_tx(&o, &t, A, data + 1460, 1460);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_advance(&o, US_SEC(1));
    ck_assert_uint_eq(os_tcp_pending(&o), 0); /* the delayed-ACK timer was cancelled */
    expect_read(&o, fd, data, 2920);
    /* A GSO super-segment from a TAP (three full-sized segments in one) is ACKed at once,
     * as the segments it stands for would be. */
    os_tcp_tx(&o, &t, A, data, 3 * 1460);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    expect_read(&o, fd, data, 3 * 1460);
    /* data we send carries the pending ACK: no separate one later */
    os_tcp_tx(&o, &t, A | P, "q", 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "answer", 6, 0, NULL, o.now), 6);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 6);
    os_advance(&o, US_MSEC(100));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(timer_push_fails_then_retried)
{
    /* The timer heap is full when the delayed-ACK timer is armed: the timer is not lost. The
     * stack asks to be polled by the lost timer's own deadline, retries then and every 1 ms
     * after while memory stays short, and the ACK goes out as soon as the timer is queued. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    os_advance(&o, US_SEC(2)); /* the handshake's timers have fired */
    o.st->timers.limit = o.st->timers.len; /* the heap can take no more */
    os_tcp_tx(&o, &t, A | P, data, 100);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_int_le(us_next_deadline(o.st), o.now + US_MSEC(40));
    os_advance(&o, US_MSEC(40)); /* the delayed ACK's time: still full */
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_TIMER_RETRY), 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_int_le(us_next_deadline(o.st), o.now + US_MSEC(1));
    ck_assert_int_gt(us_next_deadline(o.st), o.now); /* not a busy loop */
    os_advance(&o, US_MSEC(1));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_TIMER_RETRY), 0); /* still full */
    o.st->timers.limit = 0;
    os_advance(&o, US_MSEC(1));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_TIMER_RETRY), 1);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0); /* 2 ms late, not lost */
    expect_read(&o, fd, data, 100);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(out_of_order_sack)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    uint32_t base = t.seq;
    /* bytes 100..199 before 0..99: duplicate ACK at once with a SACK block (RFC 2018, 5681 4.2) */
    t.seq = base + 100;
    os_tcp_tx(&o, &t, A, data + 100, 100);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack, .ack = base,
                               .flags = A, .n_sack = 1, .sack = {{base + 100, base + 200}}};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 4, 0, NULL, NULL, o.now), -EAGAIN);
    /* a second island: two blocks, the newest first (RFC 2018 4) */
    t.seq = base + 300;
    os_tcp_tx(&o, &t, A, data + 300, 50);
    want.n_sack = 2;
    want.sack[1] = want.sack[0];
    want.sack[0] = (struct us_tcp_sack_block){base + 300, base + 350};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* filling the first hole: one ACK covering both, the remaining island still SACKed */
    t.seq = base;
    os_tcp_tx(&o, &t, A, data, 100);
    want.ack = base + 200;
    want.n_sack = 1;
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    t.seq = base + 200;
    os_tcp_tx(&o, &t, A, data + 200, 100);
    want.ack = base + 350;
    want.n_sack = 0;
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_read(&o, fd, data, 350);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* Sends len bytes at base + off out of order and expects the ACK at ack with the given SACK
 * blocks (n of them, as start, end offsets from base), exactly in that order. */
static void
ooo_expect_blocks(struct onestack *o, struct os_tcp *t, uint32_t base, uint32_t off, uint32_t len,
                  uint32_t ack, unsigned n, const uint32_t *blocks)
{
    t->seq = base + off;
    os_tcp_tx(o, t, A, data + off, len);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t->pport, .seq = t->ack, .ack = ack,
                               .flags = A, .n_sack = (uint8_t)n};
    for (unsigned i = 0; i < n; i++)
        want.sack[i] = (struct us_tcp_sack_block){base + blocks[2 * i], base + blocks[2 * i + 1]};
    os_tcp_expect(o, &want, OS_IGN_WND, NULL);
}

START_TEST(sack_block_order)
{
    /* RFC 2018 4: the first block holds the segment that triggered the ACK; the others repeat
     * the most recently reported blocks, newest first. Islands arriving in increasing order
     * (every other segment of a flight lost): each ACK leads with the newest, and with more
     * islands than four blocks the newest still get reported (in sequence order the sender
     * would hear only of the oldest four, again and again). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    uint32_t base = t.seq;
    ooo_expect_blocks(&o, &t, base, 100, 100, base, 1, (uint32_t[]){100, 200});
    ooo_expect_blocks(&o, &t, base, 300, 100, base, 2, (uint32_t[]){300, 400, 100, 200});
    ooo_expect_blocks(&o, &t, base, 500, 100, base, 3,
                      (uint32_t[]){500, 600, 300, 400, 100, 200});
    ooo_expect_blocks(&o, &t, base, 700, 100, base, 4,
                      (uint32_t[]){700, 800, 500, 600, 300, 400, 100, 200});
    ooo_expect_blocks(&o, &t, base, 900, 100, base, 4,
                      (uint32_t[]){900, 1000, 700, 800, 500, 600, 300, 400});
    /* out of order among the islands: 1100, then back to extend 300..400: that block first */
    ooo_expect_blocks(&o, &t, base, 1100, 100, base, 4,
                      (uint32_t[]){1100, 1200, 900, 1000, 700, 800, 500, 600});
    ooo_expect_blocks(&o, &t, base, 400, 50, base, 4,
                      (uint32_t[]){300, 450, 1100, 1200, 900, 1000, 700, 800});
    /* a segment bridging two islands (450..500) merges them: the merged block leads */
    ooo_expect_blocks(&o, &t, base, 450, 50, base, 4,
                      (uint32_t[]){300, 600, 1100, 1200, 900, 1000, 700, 800});
    /* the hole at the front filled (the ACK advances): the rest, most recent first */
    ooo_expect_blocks(&o, &t, base, 0, 100, base + 200, 4,
                      (uint32_t[]){300, 600, 1100, 1200, 900, 1000, 700, 800});
    ooo_expect_blocks(&o, &t, base, 200, 100, base + 600, 3,
                      (uint32_t[]){1100, 1200, 900, 1000, 700, 800});
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_read(&o, fd, data, 600);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(dsack_reports_duplicates)
{
    /* RFC 2883 4: a segment that repeats bytes already received is answered at once, with the
     * repeated range as the first SACK block; a repeat of out-of-order bytes is followed by the
     * block that holds them (4.1.2), before the other blocks. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_DSACK_OUT), 0);
    uint32_t base = t.seq;
    os_tcp_tx(&o, &t, A, data, 100);
    os_advance(&o, US_MSEC(500)); /* the delayed ACK */
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack,
                               .ack = base + 100, .flags = A};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* 4.1.1: the same segment again (wholly old): an ACK now, D-SACK [0, 100) */
    t.seq = base;
    os_tcp_tx(&o, &t, A, data, 100);
    want.n_sack = 1;
    want.sack[0] = (struct us_tcp_sack_block){base, base + 100};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* partly old: 50..149 reports 50..99 and takes 100..149 */
    t.seq = base + 50;
    os_tcp_tx(&o, &t, A, data + 50, 100);
    want.ack = base + 150;
    want.sack[0] = (struct us_tcp_sack_block){base + 50, base + 100};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* two islands, 300..399 and 500..599, then 520..559 again */
    t.seq = base + 300;
    os_tcp_tx(&o, &t, A, data + 300, 100);
    t.seq = base + 500;
    os_tcp_tx(&o, &t, A, data + 500, 100);
    os_clear(&o);
    t.seq = base + 520;
    os_tcp_tx(&o, &t, A, data + 520, 40);
    want.n_sack = 3;
    want.sack[0] = (struct us_tcp_sack_block){base + 520, base + 560};
    want.sack[1] = (struct us_tcp_sack_block){base + 500, base + 600};
    want.sack[2] = (struct us_tcp_sack_block){base + 300, base + 400};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* the D-SACK is reported once: the next ACK has the plain blocks, the most recently
     * reported first (RFC 2018 4) */
    t.seq = base + 150;
    os_tcp_tx(&o, &t, A, data + 150, 50);
    want.ack = base + 200;
    want.n_sack = 2;
    want.sack[0] = (struct us_tcp_sack_block){base + 500, base + 600};
    want.sack[1] = (struct us_tcp_sack_block){base + 300, base + 400};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_DSACK_OUT), 3);
    /* Old bytes on a segment that earns no ACK (an out-of-window RST carrying data): the D-SACK
     * they earned is not carried by the next segment the connection sends. */
    t.seq = base;
    os_tcp_tx(&o, &t, R | A, data, 10);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), 1);
    struct us_tcp_repr got;
    os_tcp_rx(&o, &t, &got);
    ck_assert_uint_eq(got.payload_len, 1);
    ck_assert_uint_eq(got.n_sack, 2); /* the two held ranges only */
    ck_assert_uint_eq(got.sack[0].start, base + 500);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_DSACK_OUT), 3);
    expect_read(&o, fd, data, 200);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(dsack_not_without_sack)
{
    /* Without SACK agreed, a repeat gets a plain duplicate ACK. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    uint32_t base = t.seq;
    os_tcp_tx(&o, &t, A, data, 100);
    os_advance(&o, US_MSEC(500));
    os_clear(&o);
    t.seq = base;
    os_tcp_tx(&o, &t, A, data, 100);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, base + 100);
    ck_assert_uint_eq(r.n_sack, 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_DSACK_OUT), 0);
    expect_read(&o, fd, data, 100);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(out_of_order_no_sack)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    uint32_t base = t.seq;
    t.seq = base + 10;
    os_tcp_tx(&o, &t, A, data + 10, 10);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, base);
    ck_assert_uint_eq(r.n_sack, 0);
    t.seq = base;
    os_tcp_tx(&o, &t, A, data, 10);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, base + 20);
    expect_read(&o, fd, data, 20);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(duplicate_and_overlap_trimmed)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    uint32_t base = t.seq;
    os_tcp_tx(&o, &t, A | P, data, 100);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 100, 0);
    /* an exact duplicate: ACK at once, nothing delivered twice */
    t.seq = base;
    os_tcp_tx(&o, &t, A | P, data, 100);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 100, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 1);
    /* partly left of RCV.NXT: only the new part is taken */
    t.seq = base + 50;
    os_tcp_tx(&o, &t, A | P, data + 50, 150);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 200, 0);
    expect_read(&o, fd, data, 200);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(beyond_window)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    uint32_t base = t.seq;
    /* wholly right of the window (65535): ACK and drop */
    t.seq = base + 70000;
    os_tcp_tx(&o, &t, A, data, 100);
    os_tcp_rx_expect(&o, &t, A, t.ack, base, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 1);
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 4, 0, NULL, NULL, o.now), -EAGAIN);
    t.seq = base;
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(zero_window)
{
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_RCVBUF, 4096), 0);
    struct os_tcp t;
    struct us_tcp_repr syn, r;
    os_tcp_connect(&o, fd, 80, 65535, &t, &syn);
    ck_assert_uint_eq(syn.wnd, 2920); /* whole segments of the 4 KiB buffer, as Linux */
    ck_assert_uint_eq(syn.wscale, 0); /* a 4 KiB buffer needs no scaling */
    os_tcp_synack(&o, &t, 0, OS_OPT_MSS, &syn, &r);
    ck_assert_uint_eq(r.wnd, 2920); /* the ACK keeps the window the SYN offered */
    os_tcp_tx(&o, &t, A, data, 1460);
    os_tcp_tx(&o, &t, A, data + 1460, 1460);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.wnd, 4096 - 2920);
    os_tcp_tx(&o, &t, A | P, data + 2920, 1176);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.wnd, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).recv_q, 4096);
    /* a zero-window probe: the byte is not taken, the ACK repeats the zero window */
    os_tcp_tx(&o, &t, A, "z", 1);
    t.seq--;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.wnd, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* reading opens the window: a window update goes out at once */
    expect_read(&o, fd, data, 4096);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, A);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.wnd, 4096);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(listener_rcvbuf_inherited)
{
    /* SO_RCVBUF set on a listener applies to the connections it accepts (as Linux) */
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int l = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_setsockopt(o.st, l, US_SO_RCVBUF, 4096), 0);
    struct us_sockaddr a = {0, 80};
    ck_assert_int_eq(us_bind(o.st, l, &a), 0);
    ck_assert_int_eq(us_listen(o.st, l, 4), 0);
    struct us_tcp_repr syn = {.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = S,
                              .wnd = 65535, .has_mss = true, .mss = 1460};
    os_tcp_send(&o, &syn);
    struct us_tcp_repr sa;
    os_tcp_pop(&o, &sa);
    ck_assert_uint_eq(sa.wnd, 2920); /* the 4 KiB buffer in whole segments */
    us_close(o.st, l, o.now);
    os_tcp_finish(&o);
}
END_TEST

/* ---- RFC 5961 -------------------------------------------------------------------------------- */

START_TEST(rst_exact_resets)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    os_tcp_tx(&o, &t, A | P, "lost", 4);
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), -ECONNRESET);
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), -EPIPE);
    us_close(o.st, fd, o.now);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(rst_in_window_challenged)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    struct os_tcp x = t;
    x.seq = t.seq + 1000; /* inside the window, not RCV.NXT */
    os_tcp_tx(&o, &x, R, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_CHALLENGE_ACK), 1);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    /* outside the window: ignored without a word */
    x.seq = t.seq + 100000;
    os_tcp_tx(&o, &x, R, NULL, 0);
    x.seq = t.seq - 1;
    os_tcp_tx(&o, &x, R | A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 2);
    /* the peer answers the challenge with the exact RST */
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert_int_eq(us_sock_error(o.st, fd), ECONNRESET);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_established_challenged)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    struct os_tcp x = t;
    static const uint32_t seqs[] = {0, 1000, 100000, (uint32_t)-5};
    for (size_t i = 0; i < 4; i++) {
        x.seq = t.seq + seqs[i];
        struct us_tcp_repr s = os_tcp_seg(&x, S);
        os_tcp_send(&o, &s);
        os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
        ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
        os_advance(&o, US_SEC(1)); /* out of the 500 ms limit for out-of-window ACKs */
    }
    ck_assert_uint_ge(us_stat_get(o.st, US_STAT_TCP_CHALLENGE_ACK), 2);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(bad_acks)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    /* an ACK for data never sent: ACK and drop (RFC 5961 5.2 / 3.10.7.4 fifth) */
    struct os_tcp x = t;
    x.ack = t.ack + 10;
    os_tcp_tx(&o, &x, A | P, "data", 4);
    x.seq -= 4;
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_ACK), 1);
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), -EAGAIN);
    /* an ACK older than SND.UNA - MAX.SND.WND: challenge ACK */
    x.ack = t.ack - 70000;
    os_tcp_tx(&o, &x, A | P, "data", 4);
    x.seq -= 4;
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_ACK), 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_CHALLENGE_ACK), 1);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), -EAGAIN);
    /* an old ACK within MAX.SND.WND is fine: the data is taken */
    x.ack = t.ack - 1000;
    os_tcp_tx(&o, &x, A | P, "data", 4);
    t.seq = x.seq;
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    expect_read(&o, fd, "data", 4);
    /* no segment without ACK is processed in a synchronized state */
    os_tcp_tx(&o, &t, P, "zz", 2);
    t.seq -= 2;
    os_advance(&o, US_MSEC(100));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), -EAGAIN);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(challenge_ack_limit)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_challenge_ack_limit = 2;
    struct onestack o;
    os_start(&o, &cfg);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    struct os_tcp x = t;
    x.seq = t.seq + 500;
    for (int i = 0; i < 4; i++)
        os_tcp_tx(&o, &x, R, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_CHALLENGE_ACK), 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_CHALLENGE_ACK_LIMITED), 2);
    /* the budget is per second */
    os_advance(&o, US_SEC(1));
    os_tcp_tx(&o, &x, R, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_CHALLENGE_ACK), 3);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- PAWS (RFC 7323 5) ----------------------------------------------------------------------- */

START_TEST(paws)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_TS);
    ck_assert(t.ts);
    t.ts_val = 100010;
    os_tcp_tx(&o, &t, A | P, "new", 3);
    os_advance(&o, US_MSEC(40));
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert(r.has_ts);
    ck_assert_uint_eq(r.ts_ecr, 100010);
    /* an older TSval: dropped as an old duplicate, with an ACK echoing TS.Recent */
    t.ts_val = 100005;
    os_tcp_tx(&o, &t, A | P, "old", 3);
    t.seq -= 3;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, A);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.ts_ecr, 100010);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_PAWS), 1);
    expect_read(&o, fd, "new", 3);
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 4, 0, NULL, NULL, o.now), -EAGAIN);
    /* an equal TSval is fine (same millisecond) */
    t.ts_val = 100010;
    os_tcp_tx(&o, &t, A | P, "eq", 2);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    expect_read(&o, fd, "eq", 2);
    /* a RST is not subject to PAWS */
    t.ts_val = 1;
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert_int_eq(us_sock_error(o.st, fd), ECONNRESET);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(dsack_paws)
{
    /* A segment PAWS drops (RFC 7323 5.3) is answered with the bytes of it already received as
     * a D-SACK (RFC 2883; Linux's tcp_send_dupack); one with only new bytes gets a plain ACK. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_TS | OS_OPT_SACK);
    uint32_t base = t.seq;
    t.ts_val = 100010;
    os_tcp_tx(&o, &t, A | P, "new", 3);
    os_advance(&o, US_MSEC(40));
    os_clear(&o);
    t.ts_val = 100005; /* an old duplicate: bytes 0..2 again, then one new byte */
    t.seq = base;
    os_tcp_tx(&o, &t, A | P, "newX", 4);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, base + 3);
    ck_assert_uint_eq(r.n_sack, 1);
    ck_assert_uint_eq(r.sack[0].start, base);
    ck_assert_uint_eq(r.sack[0].end, base + 3);
    t.seq = base + 3; /* only new bytes, old timestamp: dropped, no D-SACK */
    os_tcp_tx(&o, &t, A | P, "X", 1);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, base + 3);
    ck_assert_uint_eq(r.n_sack, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_PAWS), 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_DSACK_OUT), 1);
    expect_read(&o, fd, "new", 3);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- retransmission -------------------------------------------------------------------------- */

START_TEST(rto_backoff_timeout)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_retries = 3;
    struct onestack o;
    os_start(&o, &cfg);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 100);
    /* no RTT sample yet: RTO 1 s, doubling (RFC 6298 2.1, 5.5) */
    us_time_t gaps[] = {US_SEC(1), US_SEC(2), US_SEC(4)};
    for (size_t i = 0; i < 3; i++) {
        quiet_until(&o, gaps[i]);
        struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack,
                                   .ack = t.seq, .flags = A | P, .payload = data,
                                   .payload_len = 100};
        os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
    }
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.retrans, 3);
    ck_assert_int_eq(ti.rto, US_SEC(8));
    ck_assert_uint_eq(ti.cwnd, ti.mss_snd);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 100);
    os_advance(&o, US_SEC(8) - 1);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    os_advance(&o, 1);
    /* tcp_retries exhausted: RST (<SEQ=SND.NXT>) and ETIMEDOUT */
    os_tcp_rx_expect(&o, &t, R | A, t.ack + 100, t.seq, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(rto_from_rtt)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    /* RTT 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + 4*50 = 300 ms (RFC 6298 2.2) */
    ck_assert_int_eq(us_sendto(o.st, fd, "a", 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    t.ack += 1;
    os_advance(&o, US_MSEC(100));
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_int_eq(ti.srtt, US_MSEC(100));
    ck_assert_int_eq(ti.rttvar, US_MSEC(50));
    ck_assert_int_eq(ti.rto, US_MSEC(300));
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    quiet_until(&o, US_MSEC(300));
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    quiet_until(&o, US_MSEC(600));
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    /* the ACK of a retransmission gives no sample (Karn), the backoff ends */
    t.ack += 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_int_eq(ti.srtt, US_MSEC(100));
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(rto_min_floor)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    /* RTT 10 ms: 10 + 4*5 = 30 ms, raised to the 200 ms floor (tcp_rto_min) */
    ck_assert_int_eq(us_sendto(o.st, fd, "c", 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    t.ack += 1;
    os_advance(&o, US_MSEC(10));
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_int_eq(ti.srtt, US_MSEC(10));
    ck_assert_int_eq(ti.rto, US_MSEC(200));
    ck_assert_int_eq(us_sendto(o.st, fd, "d", 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    quiet_until(&o, US_MSEC(200));
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

static struct us_tcp_info tcp_info(struct onestack *o, int fd);

START_TEST(slow_start_byte_counting)
{
    /* RFC 5681 3.1 with RFC 3465 (L = 2 SMSS): an ACK for one or two segments opens cwnd by
     * what it covers, one for three or four by 2 SMSS only; a stretch ACK for more (a receiver
     * coalescing segments, as Linux's GRO does) counts everything it covers, as Linux does
     * (DEVIATION in cc.c), but never past ssthresh. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600); /* IW10 */
    ck_assert_int_eq(us_sendto(o.st, fd, data, 14600, 0, NULL, o.now), 14600);
    os_clear(&o);
    t.ack += 1460; /* one segment */
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600 + 1460);
    t.ack += 4 * 1460; /* four: L caps it */
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600 + 1460 + 2920);
    t.ack += 5 * 1460; /* a stretch ACK for five */
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600 + 1460 + 2920 + 5 * 1460);
    os_clear(&o);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* n times: the application writes one segment, it goes out alone, the peer acknowledges it. */
static void
one_segment_exchanges(struct onestack *o, struct os_tcp *t, int fd, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(us_sendto(o->st, fd, data, 1460, 0, NULL, o->now), 1460);
        ck_assert_uint_eq(os_tcp_pending(o), 1);
        os_clear(o);
        t->ack += 1460;
        os_tcp_tx(o, t, A, NULL, 0);
    }
}

START_TEST(cwnd_grows_only_when_used)
{
    /* RFC 9438 5.8 (cwnd validation, Linux's tcp_cwnd_validate): ACKs for flights that never
     * fill cwnd leave it alone; once cwnd holds data back, they grow it. Before, twenty
     * one-segment exchanges raised cwnd from 14,600 to 43,800 bytes. A fresh block's usage mark
     * is zero: the rule must hold whichever half of the sequence space the ISS falls in, so the
     * second connection starts 8,590 s later (RFC 6528's 4-microsecond clock: half the space).
     * A sequence comparison with that zero would otherwise decide the first usage window. */
    bool half[2] = {false, false};
    for (int k = 0; k < 2; k++) {
        struct onestack o;
        os_start(&o, NULL);
        os_advance(&o, k * US_SEC(8590));
        struct os_tcp t;
        int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
        half[(t.ack - 1) >> 31] = true;
        ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
        one_segment_exchanges(&o, &t, fd, 20);
        ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600);
        /* Two windows' worth: cwnd sends ten segments and holds the rest; the next ACK counts. */
        ck_assert_int_eq(us_sendto(o.st, fd, data, 29200, 0, NULL, o.now), 29200);
        ck_assert_uint_eq(os_tcp_pending(&o), 10);
        os_clear(&o);
        t.ack += 1460;
        os_tcp_tx(&o, &t, A, NULL, 0);
        ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600 + 1460);
        /* The rest acknowledged as it goes out (the nine still unacknowledged of the first ten,
         * then each burst); then one segment at a time again: cwnd stays where it is once that
         * usage window has ended. */
        for (size_t n = os_tcp_pending(&o) + 9; n > 0; n = os_tcp_pending(&o)) {
            os_clear(&o);
            t.ack += (uint32_t)(n * 1460);
            os_tcp_tx(&o, &t, A, NULL, 0);
        }
        ck_assert_uint_eq(tcp_info(&o, fd).unacked, 0);
        uint32_t grown = tcp_info(&o, fd).cwnd;
        one_segment_exchanges(&o, &t, fd, 20);
        ck_assert_uint_eq(tcp_info(&o, fd).cwnd, grown);
        os_clear(&o);
        os_tcp_abort(&o, fd);
        os_tcp_finish(&o);
    }
    ck_assert_msg(half[0] && half[1], "both halves of the sequence space: %d %d", half[0], half[1]);
}
END_TEST

/* Sends len bytes and acknowledges them all with one ACK once they are out; returns how many
 * segments the first burst had (what cwnd let go at once). */
static size_t
send_acked(struct onestack *o, struct os_tcp *t, int fd, size_t len)
{
    ck_assert_int_eq(us_sendto(o->st, fd, data, len, 0, NULL, o->now), (ssize_t)len);
    size_t first = os_tcp_pending(o), done = 0;
    while (done < len) {
        size_t n = os_tcp_pending(o);
        ck_assert_uint_gt(n, 0);
        os_clear(o);
        done += n * 1460;
        t->ack += (uint32_t)(n * 1460);
        os_tcp_tx(o, t, A, NULL, 0);
    }
    return first;
}

START_TEST(cwnd_restart_after_idle)
{
    /* RFC 5681 4.1: a sender that sent nothing for longer than the RTO starts from the restart
     * window min(IW, cwnd); within an RTO the window it grew stays. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_uint_eq(send_acked(&o, &t, fd, 14600), 10);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 29200); /* one stretch ACK for ten: counted whole */
    us_time_t rto = tcp_info(&o, fd).rto;
    os_advance(&o, rto / 2);
    ck_assert_uint_eq(send_acked(&o, &t, fd, 43800), 20);
    uint32_t grown = tcp_info(&o, fd).cwnd;
    ck_assert_uint_gt(grown, 29200);
    os_advance(&o, tcp_info(&o, fd).rto + US_MSEC(10));
    ck_assert_int_eq(us_sendto(o.st, fd, data, 43800, 0, NULL, o.now), 43800);
    ck_assert_uint_eq(os_tcp_pending(&o), 10);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 14600);
    os_clear(&o);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(fast_retransmit_newreno)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_CONGESTION, US_CC_NEWRENO), 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_str_eq(us_tcp_cc_name(ti.cc), "reno");
    ck_assert_uint_eq(ti.cwnd, 14600); /* IW10 */
    ck_assert_int_eq(us_sendto(o.st, fd, data, 14600, 0, NULL, o.now), 14600);
    uint32_t una = t.ack;
    for (int i = 0; i < 10; i++)
        os_tcp_rx_expect(&o, &t, i == 9 ? A | P : A, una + 1460u * (uint32_t)i, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the first segment is lost: three duplicate ACKs */
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_FAST_RETRANS), 0);
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = una, .ack = t.seq,
                               .flags = A | P, .payload = data, .payload_len = 1460};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_FAST_RETRANS), 1);
    us_tcp_get_info(o.st, fd, &ti);
    /* RFC 5681 (4): ssthresh = max(FlightSize/2, 2*SMSS); cwnd = ssthresh + 3*SMSS */
    ck_assert_uint_eq(ti.ssthresh, 7300);
    ck_assert_uint_eq(ti.cwnd, 7300 + 3 * 1460);
    /* a further duplicate inflates cwnd by one SMSS */
    os_tcp_tx(&o, &t, A, NULL, 0);
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.cwnd, 7300 + 4 * 1460);
    /* RFC 6582 partial ACK (first two segments): retransmit the next one, deflate */
    t.ack = una + 2920;
    os_tcp_tx(&o, &t, A, NULL, 0);
    want.seq = una + 2920;
    want.payload = data + 2920;
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.cwnd, 7300 + 4 * 1460 - 2920 + 1460);
    /* full ACK: leave recovery with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) */
    t.ack = una + 14600;
    os_tcp_tx(&o, &t, A, NULL, 0);
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.cwnd, 2920);
    ck_assert_uint_eq(ti.ssthresh, 7300);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(cwnd_grows_in_avoidance)
{
    /* Congestion avoidance after a loss: cwnd = ssthresh when SACK recovery ends (here half of
     * a 14,000-byte flight, 7,000 bytes), which is not a whole number of segments, so a full
     * flight leaves less than a segment of cwnd unused (the sender waits for room for a full
     * one). That is cwnd-limited all the same: NewReno must add about one SMSS per round trip
     * (RFC 5681 3.1). Counting only a flight that reached cwnd exactly froze it at 7,000. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_CONGESTION, US_CC_NEWRENO), 0);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    uint32_t una = t.ack;
    ck_assert_int_eq(us_sendto(o.st, fd, data, 14000, 0, NULL, o.now), 14000);
    ck_assert_uint_eq(os_tcp_pending(&o), 10);
    os_clear(&o);
    for (uint32_t i = 1; i <= 3; i++) { /* the first segment lost: three duplicate ACKs */
        struct us_tcp_repr d = os_tcp_seg(&t, A);
        d.n_sack = 1;
        d.sack[0] = (struct us_tcp_sack_block){una + 1460, una + 1460 + i * 1460};
        os_tcp_send(&o, &d);
    }
    os_clear(&o);
    t.ack = una + 14000; /* the retransmission repairs it: recovery ends, cwnd = ssthresh */
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).ssthresh, 7000);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 7000);
    /* Round trips with data always waiting: every segment is full, each round acknowledged. */
    for (int round = 0; round < 20; round++) {
        while (us_sendto(o.st, fd, data, 8000, 0, NULL, o.now) > 0)
            ;
        size_t n = os_tcp_pending(&o);
        ck_assert_uint_gt(n, 0);
        os_clear(&o);
        t.ack += (uint32_t)(n * 1460);
        os_tcp_tx(&o, &t, A, NULL, 0);
    }
    struct us_tcp_info ti = tcp_info(&o, fd);
    ck_assert_msg(ti.cwnd >= 7000 + 8 * 1460, "cwnd %u after 20 rounds", ti.cwnd);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(persist_probes)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    /* the peer closes its window */
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* probes of one byte at SND.UNA after RTO, then backing off (RFC 9293 3.8.6.1) */
    us_time_t gaps[] = {US_SEC(1), US_SEC(2), US_SEC(4), US_SEC(8)};
    for (size_t i = 0; i < 4; i++) {
        quiet_until(&o, gaps[i]);
        struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack,
                                   .ack = t.seq, .flags = A, .payload = data, .payload_len = 1};
        os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
        /* the peer still has no room */
        os_tcp_tx(&o, &t, A, NULL, 0);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
    }
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_FAST_RETRANS), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    /* the window opens: everything goes */
    t.wnd = 65535;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 100);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack += 100;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    os_advance(&o, US_SEC(100));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* Found by fuzz_stack: an orphan probing a closed window toward a peer that went silent kept
 * probing (and holding its buffers) forever. Now it gives up: silent for 2 * rto_max, or an
 * orphan after 8 probes. */
START_TEST(persist_gives_up_when_silent)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    us_close(o.st, fd, o.now); /* orphan with queued data and a closed peer window */
    os_advance(&o, US_SEC(600)); /* the peer never answers a probe */
    os_clear(&o);
    struct us_sock_info si[4];
    ck_assert_uint_eq(us_sock_list(o.st, si, 4), 0);
    ck_assert_uint_ge(us_stat_get(o.st, US_STAT_TCP_TIMEOUTS), 1);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(persist_probe_taken)
{
    /* the peer takes the probe byte: SND.UNA moves past it and the rest follows later */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10, 0, NULL, o.now), 10);
    os_advance(&o, US_SEC(1));
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 1);
    t.ack += 1;
    t.wnd = 100;
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack, .ack = t.seq,
                               .flags = A | P, .payload = data + 1, .payload_len = 9};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    t.ack += 9;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    os_advance(&o, US_SEC(100));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- keepalive ------------------------------------------------------------------------------- */

static int
keepalive_conn(struct onestack *o, struct os_tcp *t)
{
    int fd = os_tcp_accepted(o, t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o->st, fd, US_TCP_KEEPIDLE, 10), 0);
    ck_assert_int_eq(us_setsockopt(o->st, fd, US_TCP_KEEPINTVL, 2), 0);
    ck_assert_int_eq(us_setsockopt(o->st, fd, US_TCP_KEEPCNT, 3), 0);
    ck_assert_int_eq(us_setsockopt(o->st, fd, US_SO_KEEPALIVE, 1), 0);
    return fd;
}

START_TEST(keepalive_timeout)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = keepalive_conn(&o, &t);
    /* probes at idle 10 s, then every 2 s: SEG.SEQ = SND.NXT - 1, no data */
    us_time_t gaps[] = {US_SEC(10), US_SEC(2), US_SEC(2)};
    for (size_t i = 0; i < 3; i++) {
        quiet_until(&o, gaps[i]);
        os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
    }
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_KEEPALIVE_PROBES), 3);
    os_advance(&o, US_SEC(2) - 1);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    os_advance(&o, 1);
    os_tcp_rx_expect(&o, &t, R | A, t.ack, t.seq, 0);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(keepalive_answered)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = keepalive_conn(&o, &t);
    os_advance(&o, US_SEC(10));
    os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
    os_advance(&o, US_SEC(2));
    os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
    os_advance(&o, US_SEC(1));
    os_tcp_tx(&o, &t, A, NULL, 0); /* the answer */
    /* idle again from here: the next probe 10 s later, and the count starts over */
    quiet_until(&o, US_SEC(10));
    os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
    os_advance(&o, US_SEC(2));
    os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
    os_advance(&o, US_SEC(2));
    os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_advance(&o, US_SEC(5));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- Nagle (RFC 896) ------------------------------------------------------------------------- */

START_TEST(nagle)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sendto(o.st, fd, "a", 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "b", 1, 0, NULL, o.now), 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "c", 1, 0, NULL, o.now), 1);
    ck_assert_uint_eq(os_tcp_pending(&o), 0); /* one small segment in flight at a time */
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 3);
    t.ack += 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack, .ack = t.seq,
                               .flags = A | P, .payload = (const uint8_t *)"bc",
                               .payload_len = 2};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    t.ack += 2;
    os_tcp_tx(&o, &t, A, NULL, 0);
    /* TCP_NODELAY: each write goes at once */
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "d", 1, 0, NULL, o.now), 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "e", 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack + 1, t.seq, 1);
    t.ack += 2;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(nagle_full_segments)
{
    /* Nagle holds only the small tail: full segments go regardless */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 1, 0, NULL, o.now), 1);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1);
    ck_assert_int_eq(us_sendto(o.st, fd, data + 1, 3000, 0, NULL, o.now), 3000);
    os_tcp_rx_expect(&o, &t, A, t.ack + 1, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, t.ack + 1461, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0); /* 80 bytes wait */
    t.ack += 2921;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 80);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- netstat --------------------------------------------------------------------------------- */

START_TEST(netstat_queues)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int l;
    int fd = os_tcp_open_passive(&o, 80, OS_OPT_MSS, &t, &l);
    /* two more connections complete the handshake but are not accepted */
    for (uint16_t p = 40001; p <= 40002; p++) {
        struct os_tcp u = {.port = 80, .pport = p, .seq = 1000, .wnd = 65535};
        os_tcp_syn(&o, &u, S, 0, S | A, NULL);
        os_tcp_tx(&o, &u, A, NULL, 0);
    }
    struct us_sock_info li = os_sock_info(&o, l);
    ck_assert_str_eq(us_tcp_state_name(li.state), "LISTEN");
    ck_assert_uint_eq(li.recv_q, 2);
    ck_assert_uint_eq(li.local.port, 80);
    struct us_sock_info all[16];
    size_t n = us_sock_list(o.st, all, 16);
    ck_assert_uint_eq(n, 4); /* listener, accepted, two queued */
    size_t queued = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i].fd < 0) {
            ck_assert_str_eq(us_tcp_state_name(all[i].state), "ESTABLISHED");
            queued++;
        }
    ck_assert_uint_eq(queued, 2);
    /* Recv-Q: received, unread; Send-Q: sent, unacknowledged */
    os_tcp_tx(&o, &t, A | P, data, 10);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 20, 0, NULL, o.now), 20);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 20);
    struct us_sock_info si = os_sock_info(&o, fd);
    ck_assert_str_eq(us_tcp_state_name(si.state), "ESTABLISHED");
    ck_assert_uint_eq(si.recv_q, 10);
    ck_assert_uint_eq(si.send_q, 20);
    ck_assert_uint_eq(si.remote.addr, OS_PEER_IP);
    ck_assert_uint_eq(si.remote.port, 40000);
    t.ack += 5;
    os_tcp_tx(&o, &t, A, NULL, 0);
    si = os_sock_info(&o, fd);
    ck_assert_uint_eq(si.send_q, 15);
    expect_read(&o, fd, data, 10);
    ck_assert_uint_eq(os_sock_info(&o, fd).recv_q, 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.unacked, 15);
    ck_assert_uint_eq(ti.bytes_acked, 5);
    ck_assert_uint_eq(ti.bytes_received, 10);
    us_close(o.st, l, o.now); /* the two queued connections are reset */
    os_tcp_pop(&o, &(struct us_tcp_repr){0});
    os_tcp_pop(&o, &(struct us_tcp_repr){0});
    ck_assert_uint_eq(us_sock_list(o.st, all, 16), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(peer_window_limits)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    t.wnd = 3000;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10000, 0, NULL, o.now), 10000);
    uint32_t una = t.ack;
    /* two full segments fit; the 80-byte rest of the window is not worth a segment
     * (RFC 1122 4.2.3.4 sender SWS avoidance) */
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, una + 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack = una + 2920;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, una + 2920, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, una + 4380, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.snd_wnd, 3000);
    ck_assert_uint_eq(ti.unacked, 2920);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(window_scaling)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_WS);
    /* the peer's windows are scaled by 7 after the SYN; ours by 7 too (128 KiB buffer) */
    t.wnd = 10;
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.snd_wnd, 1280);
    ck_assert_uint_eq(ti.rcv_wscale, 7);
    ck_assert_uint_eq(ti.snd_wscale, 7);
    os_tcp_tx(&o, &t, A | P, data, 128);
    os_advance(&o, US_MSEC(40));
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.wnd, (131072 - 128) >> 7);
    /* a 2000-byte write: one segment of 1280 (the window; nothing in flight, so sender SWS
     * avoidance must not hold it: no ACK would ever come to release it), the rest waits */
    ck_assert_int_eq(us_sendto(o.st, fd, data, 2000, 0, NULL, o.now), 2000);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 1280);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack += 1280;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 720);
    t.ack += 720;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(timestamps_rtt)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_TS);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert(ti.ts);
    ck_assert_uint_eq(ti.mss_snd, 1448); /* 12 bytes of every segment are the TS option */
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert(r.has_ts);
    ck_assert_uint_eq(r.ts_ecr, t.ts_val);
    uint32_t tsv = r.ts_val;
    /* the echo of that TSval 70 ms later measures the RTT (RFC 7323 4.1) */
    os_advance(&o, US_MSEC(70));
    t.ack += 100;
    t.ts_val += 70;
    os_tcp_tx(&o, &t, A, NULL, 0);
    us_tcp_get_info(o.st, fd, &ti);
    /* (the handshake's ACK echoed our SYN-ACK at once: a first sample of ~0, 0.1 ms) */
    ck_assert_int_eq(ti.srtt, (7 * (US_NSEC_PER_MSEC / 10) + US_MSEC(70)) / 8);
    /* our TS clock ticks in milliseconds */
    os_advance(&o, US_MSEC(30));
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10, 0, NULL, o.now), 10);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ts_val - tsv, 100);
    ck_assert_uint_eq(r.ts_ecr, t.ts_val);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(rto_goes_back_n)
{
    /* After an RTO, cwnd is one segment: only the first is resent; each ACK then opens more
     * (RFC 5681 3.1, RFC 6298 5.4-5.6) */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_CONGESTION, US_CC_NEWRENO), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 4380, 0, NULL, o.now), 4380);
    uint32_t una = t.ack;
    for (int i = 0; i < 3; i++)
        os_tcp_rx_expect(&o, &t, i == 2 ? A | P : A, una + 1460u * (uint32_t)i, t.seq, 1460);
    os_advance(&o, US_SEC(1));
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.cwnd, 1460);
    ck_assert_uint_eq(ti.ssthresh, 2920); /* max(FlightSize / 2, 2 * SMSS) */
    /* the ACK of the first: slow start to 2 segments, both remaining ones go */
    t.ack = una + 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, una + 1460, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A | P, una + 2920, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the doubled RTO stays until a new RTT sample (RFC 6298 5.7), and Karn's rule gives none
     * from the ACK of a retransmitted segment */
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_int_eq(ti.rto, US_SEC(2));
    t.ack = una + 4380;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    os_advance(&o, US_SEC(10));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(fast_retransmit_cubic)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_str_eq(us_tcp_cc_name(ti.cc), "cubic"); /* the default */
    ck_assert_int_eq(us_sendto(o.st, fd, data, 14600, 0, NULL, o.now), 14600);
    uint32_t una = t.ack;
    for (int i = 0; i < 10; i++)
        os_tcp_rx(&o, &t, &(struct us_tcp_repr){0});
    for (int i = 0; i < 3; i++)
        os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A | P, una, t.seq, 1460);
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.ssthresh, (uint32_t)(14600 * 0.7)); /* RFC 9438 4.6: beta 0.7 */
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_FAST_RETRANS), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(user_timeout)
{
    /* TCP_USER_TIMEOUT: give up once data stayed unacknowledged that long, whatever
     * tcp_retries says */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_USER_TIMEOUT, 2500), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10, 0, NULL, o.now), 10);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 10);
    os_advance(&o, US_SEC(1));
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 10);
    os_advance(&o, US_SEC(2)); /* the RTO at 3 s finds 3 s > 2.5 s of silence */
    os_tcp_rx_expect(&o, &t, R | A, t.ack + 10, t.seq, 0);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(listen_backlog_full)
{
    struct onestack o;
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_syncookies = false; /* the plain queue rules; syn_cookies below covers the rest */
    os_start(&o, &cfg);
    int l = os_tcp_listen(&o, 80, 1);
    struct os_tcp t1 = {.port = 80, .pport = 40001, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t1, S, 0, S | A, NULL);
    /* the SYN queue (backlog 1) is full: a second SYN is dropped silently, the peer retries */
    struct os_tcp t2 = {.port = 80, .pport = 40002, .seq = 1000, .wnd = 65535};
    os_tcp_tx(&o, &t2, S, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_LISTEN_OVERFLOW), 1);
    os_tcp_tx(&o, &t1, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, l).recv_q, 1);
    /* the accept queue is full now too */
    t2.seq = 1000;
    os_tcp_tx(&o, &t2, S, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_LISTEN_OVERFLOW), 2);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    t2.seq = 1000;
    os_tcp_syn(&o, &t2, S, 0, S | A, NULL);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* RFC 4987: with the SYN queue full, a SYN is answered statelessly; the ACK that echoes the
 * cookie creates the connection; a forged ACK gets a RST. */
START_TEST(syn_cookies)
{
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 1);
    struct os_tcp t1 = {.port = 80, .pport = 40001, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t1, S, 0, S | A, NULL); /* t1 fills the SYN queue */
    struct os_tcp t2 = {.port = 80, .pport = 40002, .seq = 7000, .wnd = 65535};
    struct us_tcp_repr ck;
    os_tcp_syn(&o, &t2, S, 0, S | A, &ck); /* checks that it acknowledges 7001 */
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYNCOOKIES_SENT), 1);
    struct us_sock_info si = os_sock_info(&o, l);
    ck_assert_uint_eq(si.recv_q, 0); /* no state kept for t2 */
    /* a forged ACK (wrong cookie) from a third port: RST, no connection */
    struct os_tcp t3 = {.port = 80, .pport = 40003, .seq = 9001, .ack = ck.seq + 1, .wnd = 65535};
    os_tcp_tx(&o, &t3, A, NULL, 0);
    struct us_tcp_repr rst;
    os_tcp_rx(&o, &t3, &rst);
    ck_assert_uint_eq(rst.flags & R, R);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_COOKIE), 1);
    /* the real ACK, carrying data: established, data queued, accept() returns it */
    os_tcp_tx(&o, &t2, A | P, "hi", 2);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYNCOOKIES_OK), 1);
    struct us_sockaddr peer;
    int fd = us_accept(o.st, l, &peer);
    ck_assert_int_ge(fd, 0);
    ck_assert_uint_eq(peer.port, 40002);
    char buf[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 2);
    ck_assert_mem_eq(buf, "hi", 2);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(rst_syn_received_challenged)
{
    /* RFC 5961 3.2 applies in SYN-RECEIVED too: a RST with another in-window seq is
     * challenged, not obeyed */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t, S, 0, S | A, NULL);
    struct os_tcp x = t;
    x.seq += 100;
    os_tcp_tx(&o, &x, R, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_str_eq(os_tcp_state(&o, -1, &t), "SYN-RECEIVED");
    us_close(o.st, l, o.now);
    ck_assert_str_eq(os_tcp_state(&o, -1, &t), "");
    os_tcp_finish(&o);
}
END_TEST

/* Feeds an ICMP error from the peer quoting the last frame taken (its IP header + 8 bytes). */
static void
icmp_about_last(struct onestack *o, uint8_t type, uint8_t code, uint16_t mtu)
{
    const struct os_frame *f = &o->out[o->taken - 1];
    static uint8_t msg[256], fr[512];
    struct us_icmp_repr m = {.type = type, .code = code, .next_hop_mtu = mtu,
                             .data = f->b + US_ETH_HDR_LEN, .data_len = US_IP4_HDR_LEN + 8};
    size_t n = os_build_icmp_msg(msg, &m);
    struct us_ip4_repr ip = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_ICMP);
    os_input(o, fr, os_build_ip(fr, NULL, &ip, msg, n));
}

START_TEST(icmp_frag_needed)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 1460, 0, NULL, o.now), 1460);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 1460);
    /* RFC 1191: a router on the path has MTU 1000: resend in 960-byte segments at once */
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_NEEDFRAG, 1000);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_PMTU_LOWERED), 1);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 960);
    os_tcp_rx_expect(&o, &t, A | P, t.ack + 960, t.seq, 500);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.mss_snd, 960);
    /* an error quoting a sequence number outside the flight is ignored (RFC 5927) */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack += 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_NEEDFRAG, 600);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_PMTU_LOWERED), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* IPv4 total length of the last frame taken. */
static size_t
last_ip_len(const struct onestack *o)
{
    return o->out[o->taken - 1].len - US_ETH_HDR_LEN;
}

START_TEST(icmp_frag_needed_timestamps)
{
    /* RFC 1191 / RFC 9293 3.7.1 with timestamps on: every segment carries 12 bytes of options,
     * so a path MTU of 1000 leaves 1000 - 40 - 12 = 948 bytes of payload (Linux tcp_mtu_to_mss
     * less the TS option, as tcp_sync_mss does). No datagram may exceed the MTU; a second ICMP
     * for the same MTU is then about a segment that was too big, not about the new ones. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_TS);
    ck_assert(t.ts);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 2 * 1448, 0, NULL, o.now), 2 * 1448);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 1448);
    ck_assert_uint_eq(last_ip_len(&o), 1500);
    os_tcp_rx_expect(&o, &t, A | P, t.ack + 1448, t.seq, 1448);
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_NEEDFRAG, 1000);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_PMTU_LOWERED), 1);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.mss_snd, 948);
    /* the flight is resent in segments that fit: 948 + 12 + 20 + 20 = 1000 */
    size_t sent = 0;
    while (os_tcp_pending(&o) > 0) {
        struct us_tcp_repr r;
        os_tcp_rx(&o, &t, &r);
        ck_assert_msg(last_ip_len(&o) <= 1000, "a %zu-byte datagram after PMTU 1000",
                      last_ip_len(&o));
        ck_assert_uint_eq(r.seq, t.ack + sent);
        ck_assert_uint_le(r.payload_len, 948);
        sent += r.payload_len;
    }
    ck_assert_uint_ge(sent, 948);
    /* the same MTU again, quoting a segment that already fits: nothing more to lower */
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_NEEDFRAG, 1000);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_PMTU_LOWERED), 1);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* a smaller MTU still lowers it: 576 - 52 = 524 */
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_NEEDFRAG, 576);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_PMTU_LOWERED), 2);
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.mss_snd, 524);
    while (os_tcp_pending(&o) > 0) {
        struct us_tcp_repr r;
        os_tcp_rx(&o, &t, &r);
        ck_assert_uint_le(last_ip_len(&o), 576);
    }
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(icmp_unreachable)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    /* port unreachable for our SYN: the connect fails at once (RFC 1122 4.2.3.9 hard error) */
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    ck_assert_int_eq(us_sock_error(o.st, fd), ECONNREFUSED);
    us_close(o.st, fd, o.now);
    /* host unreachable is soft: the attempt goes on, and explains the final timeout */
    fd = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    os_tcp_pop(&o, &syn);
    icmp_about_last(&o, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_HOST, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    os_advance(&o, US_SEC(200)); /* 6 retries: 1+2+4+8+16+32+64 = 127 s */
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    ck_assert_int_eq(us_sock_error(o.st, fd), EHOSTUNREACH);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(recv_trunc_discards)
{
    /* MSG_TRUNC on a stream socket discards up to len bytes unread (Linux tcp(7)); with
     * MSG_PEEK it only counts them. The window opens as after a read. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    os_tcp_tx(&o, &t, A | P, data, 300);
    os_clear(&o);
    ck_assert_int_eq(us_recvfrom(o.st, fd, NULL, 1000, US_MSG_TRUNC | US_MSG_PEEK, NULL, NULL, o.now),
                     300);
    ck_assert_uint_eq(os_sock_info(&o, fd).recv_q, 300);
    ck_assert_int_eq(us_recvfrom(o.st, fd, NULL, 120, US_MSG_TRUNC, NULL, NULL, o.now), 120);
    ck_assert_uint_eq(os_sock_info(&o, fd).recv_q, 180);
    static uint8_t buf[512];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 180);
    ck_assert_mem_eq(buf, data + 120, 180);
    ck_assert_int_eq(us_recvfrom(o.st, fd, NULL, 10, US_MSG_TRUNC, NULL, NULL, o.now), -EAGAIN);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(read_with_hole_pending)
{
    /* reading in-order bytes while out-of-order ones wait past a hole keeps both right */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    uint32_t base = t.seq;
    os_tcp_tx(&o, &t, A, data, 100);
    t.seq = base + 200;
    os_tcp_tx(&o, &t, A, data + 200, 100);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 100, 0);
    static uint8_t buf[512];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, 50, 0, NULL, NULL, o.now), 50);
    ck_assert_mem_eq(buf, data, 50);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, 30, US_MSG_PEEK, NULL, NULL, o.now), 30);
    ck_assert_mem_eq(buf, data + 50, 30);
    t.seq = base + 100;
    os_tcp_tx(&o, &t, A, data + 100, 100);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 300, 0);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 250);
    ck_assert_mem_eq(buf, data + 50, 250);
    /* and once more with the read between the island and the fill */
    base += 300;
    t.seq = base + 1000;
    os_tcp_tx(&o, &t, A, data + 1000, 500);
    os_tcp_rx(&o, &t, &(struct us_tcp_repr){0});
    t.seq = base;
    os_tcp_tx(&o, &t, A, data, 1000);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 1500, 0);
    static uint8_t big[2048];
    ck_assert_int_eq(us_recvfrom(o.st, fd, big, sizeof(big), 0, NULL, NULL, o.now), 1500);
    ck_assert_mem_eq(big, data, 1500);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(data_after_close)
{
    /* the application closed (nothing unread); the peer still sends: acknowledged and
     * discarded as after SHUT_RD, not held by the orphan (into TIME-WAIT) */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, A | P, data, 500);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    struct us_sock_info si[4];
    ck_assert_uint_eq(us_sock_list(o.st, si, 4), 1);
    ck_assert_str_eq(us_tcp_state_name(si[0].state), "FIN-WAIT-2");
    ck_assert_uint_eq(si[0].recv_q, 0);
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_sock_list(o.st, si, 4), 1);
    ck_assert_str_eq(us_tcp_state_name(si[0].state), "TIME-WAIT");
    ck_assert_uint_eq(si[0].recv_q, 0);
    os_advance(&o, US_SEC(61));
    ck_assert_str_eq(os_tcp_state(&o, -1, &t), "");
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(send_buffer_full)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_SNDBUF, 8192), 0);
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10000, 0, NULL, o.now), 8192);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10, 0, NULL, o.now), -EAGAIN);
    ck_assert_int_eq(us_sock_poll(o.st, fd) & US_POLLOUT, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 8192);
    t.wnd = 65535;
    os_tcp_tx(&o, &t, A, NULL, 0);
    uint32_t una = t.ack;
    for (int i = 0; i < 5; i++)
        os_tcp_rx_expect(&o, &t, A, una + 1460u * (uint32_t)i, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0); /* Nagle holds the 892-byte tail */
    /* an ACK in the middle of a segment frees exactly that much */
    t.ack = una + 2500;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 8192 - 2500);
    ck_assert(us_sock_poll(o.st, fd) & US_POLLOUT); /* a quarter of the buffer is free */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the RTO resends from SND.UNA, mid-segment */
    os_advance(&o, US_SEC(1));
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = una + 2500,
                               .ack = t.seq, .flags = A, .payload = data + 2500,
                               .payload_len = 1460};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(keepalive_inherited)
{
    /* keepalive options set on the listener apply to what it accepts */
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int l = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr a = {0, 80};
    ck_assert_int_eq(us_bind(o.st, l, &a), 0);
    ck_assert_int_eq(us_setsockopt(o.st, l, US_SO_KEEPALIVE, 1), 0);
    ck_assert_int_eq(us_setsockopt(o.st, l, US_TCP_KEEPIDLE, 5), 0);
    ck_assert_int_eq(us_setsockopt(o.st, l, US_TCP_KEEPINTVL, 1), 0);
    ck_assert_int_eq(us_setsockopt(o.st, l, US_TCP_KEEPCNT, 1), 0);
    ck_assert_int_eq(us_listen(o.st, l, 4), 0);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t, S, 0, S | A, NULL);
    os_tcp_tx(&o, &t, A, NULL, 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    us_close(o.st, l, o.now);
    int v = 0;
    ck_assert_int_eq(us_getsockopt(o.st, fd, US_TCP_KEEPIDLE, &v), 0);
    ck_assert_int_eq(v, 5);
    quiet_until(&o, US_SEC(5));
    os_tcp_rx_expect(&o, &t, A, t.ack - 1, t.seq, 0);
    os_advance(&o, US_SEC(1));
    os_tcp_rx_expect(&o, &t, R | A, t.ack, t.seq, 0);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(oow_ack_rate_limit)
{
    /* ACKs for unacceptable segments without data: at most one per 500 ms (as Linux's
     * tcp_invalid_ratelimit); segments with data are always answered */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    /* (not at time 0: last_oow_ack == 0 means "never", so the limit starts after t = 0) */
    os_advance(&o, US_SEC(1));
    struct os_tcp x = t;
    x.seq = t.seq + 100000;
    os_tcp_tx(&o, &x, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    x.seq = t.seq + 100000;
    os_tcp_tx(&o, &x, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_OOW_ACK_LIMITED), 1);
    x.seq = t.seq + 100000;
    os_tcp_tx(&o, &x, A, "d", 1);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    os_advance(&o, US_MSEC(500));
    x.seq = t.seq + 100000;
    os_tcp_tx(&o, &x, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_OOW_ACK_LIMITED), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(timeout_rst_timestamp)
{
    /* the RST sent when a connection times out carries the current TSval, like every segment */
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_retries = 1;
    struct onestack o;
    os_start(&o, &cfg);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_TS);
    os_advance(&o, US_SEC(10));
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), 1);
    struct us_tcp_repr first, r;
    os_tcp_rx(&o, &t, &first);
    /* RTO 200 ms (the handshake's echo measured ~0), then 400 ms */
    os_advance(&o, US_MSEC(200));
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ts_val - first.ts_val, 200);
    os_advance(&o, US_MSEC(400));
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, R | A);
    ck_assert(r.has_ts);
    ck_assert_uint_eq(r.ts_val - first.ts_val, 600);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(window_closes_with_data_in_flight)
{
    /* the peer closes its window before acknowledging what is in flight: the sender must keep
     * probing (a retransmission or a window probe), never fall silent until it times out */
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_retries = 4;
    struct onestack o;
    os_start(&o, &cfg);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 100);
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    size_t sent = 0;
    for (int i = 0; i < 300; i++) { /* 5 minutes, far past tcp_retries' 31 s */
        os_advance(&o, US_SEC(1));
        while (os_tcp_pending(&o)) {
            struct us_tcp_repr r;
            os_tcp_rx(&o, &t, &r);
            ck_assert(!(r.flags & R));
            sent++;
            os_tcp_tx(&o, &t, A, NULL, 0); /* still no room */
        }
    }
    ck_assert_uint_ge(sent, 5);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    /* the window opens: the data goes at once */
    t.wnd = 65535;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 100);
    t.ack += 100;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(sequence_wraparound)
{
    /* the peer's sequence numbers wrap past 2^32 in the middle of out-of-order data */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 0xffffff00u, .wnd = 65535};
    os_tcp_syn(&o, &t, S, OS_OPT_MSS | OS_OPT_SACK, S | A, NULL);
    os_tcp_tx(&o, &t, A, NULL, 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    us_close(o.st, l, o.now);
    uint32_t base = t.seq; /* 0xffffff01: 255 bytes before the wrap */
    t.seq = base + 300;    /* island past the wrap */
    os_tcp_tx(&o, &t, A, data + 300, 200);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = 40000, .seq = t.ack, .ack = base,
                               .flags = A, .n_sack = 1, .sack = {{base + 300, base + 500}}};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    ck_assert_uint_lt(want.sack[0].start, 1000u); /* really wrapped */
    t.seq = base;
    os_tcp_tx(&o, &t, A, data, 300); /* crosses 2^32 itself */
    want.ack = base + 500;
    want.n_sack = 0;
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    expect_read(&o, fd, data, 500);
    /* old data from before the wrap is a duplicate */
    t.seq = base + 100;
    os_tcp_tx(&o, &t, A, data + 100, 100);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 500, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_window_edge)
{
    /* The SYN-ACK advertised 64240 (a SYN's window is never scaled, RFC 7323 2.2, and is in
     * whole segments) though the buffer holds 128 KiB: until our first scaled window, data
     * past 64240 is outside it. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    struct us_tcp_repr sa;
    os_tcp_syn(&o, &t, S, OS_OPT_MSS | OS_OPT_WS, S | A, &sa);
    ck_assert_uint_eq(sa.wnd, 64240);
    uint32_t base = t.seq;
    t.seq = base + 64240 + 100;
    os_tcp_tx(&o, &t, A, data, 100); /* completes the handshake, data beyond the window */
    os_tcp_rx_expect(&o, &t, A, t.ack, base, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 1);
    /* an unacceptable segment is dropped whole: its ACK did not complete the handshake */
    ck_assert_int_eq(us_accept(o.st, l, NULL), -EAGAIN);
    t.seq = base + 64240 - 100;
    os_tcp_tx(&o, &t, A, data, 100); /* the last 100 bytes of the window: fine */
    os_tcp_rx_expect(&o, &t, A, t.ack, base, 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- tail loss probe (RFC 8985 7) ------------------------------------------------------------ */

static void
expect_stat(struct onestack *o, enum us_stat k, uint64_t n)
{
    ck_assert_uint_eq(us_stat_get(o->st, k), n);
}

static struct us_tcp_info
tcp_info(struct onestack *o, int fd)
{
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(o->st, fd, &ti), 0);
    return ti;
}

/* An accepted SACK connection whose SRTT is 30 ms (one sample: RTTVAR 15 ms). */
static int
tlp_conn(struct onestack *o, struct os_tcp *t)
{
    int fd = os_tcp_accepted(o, t, OS_OPT_MSS | OS_OPT_SACK);
    ck_assert_int_eq(us_sendto(o->st, fd, data, 100, 0, NULL, o->now), 100);
    os_tcp_rx_expect(o, t, A | P, t->ack, t->seq, 100);
    t->ack += 100;
    os_advance(o, US_MSEC(30));
    os_tcp_tx(o, t, A, NULL, 0);
    ck_assert_int_eq(tcp_info(o, fd).srtt, US_MSEC(30));
    return fd;
}

/* Writes n full segments and takes them off the wire (the last with PSH). */
static void
tlp_burst(struct onestack *o, struct os_tcp *t, int fd, uint32_t n)
{
    uint32_t una = t->ack;
    ck_assert_int_eq(us_sendto(o->st, fd, data, n * 1460, 0, NULL, o->now), (ssize_t)(n * 1460));
    for (uint32_t i = 0; i < n; i++)
        os_tcp_rx_expect(o, t, i == n - 1 ? A | P : A, una + 1460 * i, t->seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(o), 0);
}

/* The peer's ACK (at t->ack) with one SACK block. */
static void
sack_ack(struct onestack *o, const struct os_tcp *t, uint32_t start, uint32_t end)
{
    struct us_tcp_repr r = os_tcp_seg(t, A);
    r.n_sack = 1;
    r.sack[0] = (struct us_tcp_sack_block){start, end};
    os_tcp_send(o, &r);
}

START_TEST(sack_recovery_stays_in_window)
{
    /* RFC 9293 3.8.6, RFC 6675 5 NextSeg (3): in SACK recovery the pipe leaves out SACKed data,
     * but the peer's window still bounds the sequence space at SND.UNA + SND.WND: no new data
     * past it (it would be dropped, and a pure ACK sent from there is outside the peer's window:
     * two ends in that state stalled tcp_bulk_test's bottleneck run, seed 21). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK);
    const uint32_t wnd = 10 * 1460;
    t.wnd = (uint16_t)wnd;
    os_tcp_tx(&o, &t, A, NULL, 0); /* the window: ten segments */
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 30 * 1460, 0, NULL, o.now), 30 * 1460);
    uint32_t una = t.ack;
    for (int i = 0; i < 10; i++)
        os_tcp_rx_expect(&o, &t, A, una + 1460u * (uint32_t)i, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the first segment lost: duplicate ACKs SACK the other nine, one more each time */
    for (uint32_t k = 2; k <= 10; k++) {
        sack_ack(&o, &t, una + 1460, una + 1460 * k);
        while (os_tcp_pending(&o) > 0) {
            struct us_tcp_repr r;
            os_tcp_rx(&o, &t, &r);
            ck_assert_msg((int32_t)(una + wnd - (r.seq + (uint32_t)r.payload_len)) >= 0,
                          "segment %u..%u past the peer's window edge %u", r.seq - una,
                          r.seq - una + (uint32_t)r.payload_len, wnd);
        }
    }
    ck_assert_uint_ge(us_stat_get(o.st, US_STAT_TCP_FAST_RETRANS), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(pure_ack_at_right_edge_accepted)
{
    /* A peer that has filled our window sends its pure ACKs at our right edge (Linux
     * tcp_acceptable_seq, ours too): their ACK fields count (DEVIATION, as Linux's
     * tcp_sequence; RFC 9293 3.10.7.4 would drop them). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_NODELAY, 1), 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.payload_len, 100);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 100);
    struct os_tcp edge = t;
    edge.seq = t.seq + r.wnd; /* no window scaling: the field is the window */
    edge.ack = t.ack + 100;
    os_tcp_tx(&o, &edge, A, NULL, 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 0);
    /* one past it is still outside */
    edge.seq = t.seq + r.wnd + 1;
    os_tcp_tx(&o, &edge, A, NULL, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_OUT_OF_WINDOW), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* One segment of 1000 bytes out with a 1 s RTO floor: its ACK may wait for the peer's delayed-
 * ACK timer, so the PTO adds the allowance (200 ms): the probe, the same segment again, comes at
 * 30 + 50 + 200 ms (SRTT + 50 ms is more than 2 * SRTT). Returns the descriptor; *una is the segment's sequence number. */
static int
tlp_one_probe(struct onestack *o, struct os_tcp *t, uint32_t *una)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_rto_min = US_SEC(1);
    os_start(o, &cfg);
    int fd = tlp_conn(o, t);
    *una = t->ack;
    ck_assert_int_eq(us_sendto(o->st, fd, data, 1000, 0, NULL, o->now), 1000);
    os_tcp_rx_expect(o, t, A | P, *una, t->seq, 1000);
    quiet_until(o, US_MSEC(280));
    os_tcp_rx_expect(o, t, A | P, *una, t->seq, 1000);
    expect_stat(o, US_STAT_TCP_TLP_PROBES, 1);
    expect_stat(o, US_STAT_TCP_RETRANS, 1);
    return fd;
}

/* 100 more bytes, after the 1000 of tlp_one_probe. */
static void
tlp_send_more(struct onestack *o, struct os_tcp *t, int fd, uint32_t una)
{
    ck_assert_int_eq(us_sendto(o->st, fd, data, 100, 0, NULL, o->now), 100);
    os_tcp_rx_expect(o, t, A | P, una + 1000, t->seq, 100);
}

struct trace_seen {
    int probe, recovery;
};

static void
trace_catch(void *ctx, const char *line)
{
    struct trace_seen *ts = ctx;
    if (strstr(line, "tail loss probe, the last segment again"))
        ts->probe++;
    if (strstr(line, "loss detected (SACK of the loss probe) -> recovery"))
        ts->recovery++;
}

/* A stack without RACK (tcp_recovery 0): RFC 6675 and the probe timeout's stand-in for RACK's
 * reordering timer (the DEVIATION of tcp_timer.c:tlp_allowed). */
static void
start_norack(struct onestack *o)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_recovery = 0;
    os_start(o, &cfg);
}

/* Four segments; the first two arrive and are ACKed 30 ms later (SRTT stays 30 ms); the last two
 * are lost and nothing reports them. Without RACK. */
START_TEST(tlp_tail_loss)
{
    struct onestack o;
    start_norack(&o);
    struct trace_seen seen = {0, 0};
    us_set_trace(o.st, trace_catch, &seen);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    tlp_burst(&o, &t, fd, 4);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 2920;
    os_tcp_tx(&o, &t, A, NULL, 0);
    /* PTO = SRTT + 50 ms = 80 ms after that ACK, well before its RTO (200 ms): the last segment
     * again, as the probe (no new data is waiting) */
    quiet_until(&o, US_MSEC(80));
    os_tcp_rx_expect(&o, &t, A | P, una + 3 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 1);
    ck_assert_int_eq(seen.probe, 1);
    /* the peer SACKs it: the hole below was sent before the probe and is lost; SACK recovery
     * resends it at once, though only one segment is SACKed (not the three of RFC 6675) */
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 3 * 1460, una + 4 * 1460);
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 1);
    ck_assert_int_eq(seen.recovery, 1);
    /* all ACKed: recovery ends; no timeout ever fired, none is left to fire */
    os_advance(&o, US_MSEC(30));
    t.ack = una + 4 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_advance(&o, US_SEC(3));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_RTO, 0);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 1);
    ck_assert_uint_eq(os_sock_info(&o, fd).send_q, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* The third of four segments is lost and the fourth SACKed: too little for RFC 6675 (three
 * segments). When the probe timeout fires, the hole went out a PTO ago, before data that has
 * arrived: lost (RACK's inference, RFC 8985 6.2). Recovery resends it; no probe is needed. */
START_TEST(tlp_timeout_finds_hole)
{
    struct onestack o;
    start_norack(&o);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    tlp_burst(&o, &t, fd, 4);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 2920;
    sack_ack(&o, &t, una + 3 * 1460, una + 4 * 1460);
    quiet_until(&o, US_MSEC(80));
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 1);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 0);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 4 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_advance(&o, US_SEC(3));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_RTO, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- RACK (RFC 8985 6), the default with SACK ------------------------------------------------ */

/* The peer's ACK (at t->ack) with SACK blocks (a D-SACK first, if any). */
static void
sack_acks(struct onestack *o, const struct os_tcp *t, unsigned n, const uint32_t (*b)[2])
{
    struct us_tcp_repr r = os_tcp_seg(t, A);
    r.n_sack = (uint8_t)n;
    for (unsigned i = 0; i < n; i++)
        r.sack[i] = (struct us_tcp_sack_block){b[i][0], b[i][1]};
    os_tcp_send(o, &r);
}

/* A RACK connection (the default) with SRTT and min_RTT 30 ms whose n-segment burst went out
 * 30 ms ago; *una: its first byte. */
static int
rack_start(struct onestack *o, struct os_tcp *t, uint32_t *una, uint32_t n)
{
    os_start(o, NULL);
    int fd = tlp_conn(o, t);
    *una = t->ack;
    tlp_burst(o, t, fd, n);
    os_advance(o, US_MSEC(30));
    return fd;
}

/* The peer ACKs everything up to `end` 30 ms on: nothing more goes out, nothing waits, and
 * `rtos` RTOs fired in all; the connection goes. */
static void
ack_all_quiet(struct onestack *o, struct os_tcp *t, int fd, uint32_t end, uint64_t rtos)
{
    os_advance(o, US_MSEC(30));
    t->ack = end;
    os_tcp_tx(o, t, A, NULL, 0);
    os_advance(o, US_SEC(3));
    ck_assert_uint_eq(os_tcp_pending(o), 0);
    expect_stat(o, US_STAT_TCP_RTO, rtos);
    ck_assert_uint_eq(os_sock_info(o, fd).send_q, 0);
    os_tcp_abort(o, fd);
    os_tcp_finish(o);
}

/* As ack_all_quiet, no RTO ever fired. */
static void
rack_done(struct onestack *o, struct os_tcp *t, int fd, uint32_t end)
{
    ack_all_quiet(o, t, fd, end, 0);
}

/* tlp_tail_loss with RACK: the probe is SACKed, so the hole below it (sent before it, more than
 * RACK.rtt ago) is lost (RFC 8985 7.4.1: RACK finds it; not a loss the probe repaired, 7.4.2). */
START_TEST(rack_probe_sacked)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 4);
    t.ack = una + 2920;
    os_tcp_tx(&o, &t, A, NULL, 0);
    quiet_until(&o, US_MSEC(80));
    os_tcp_rx_expect(&o, &t, A | P, una + 3 * 1460, t.seq, 1460); /* the probe */
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 3 * 1460, una + 4 * 1460);
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_RACK_LOST, 1);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 0);
    rack_done(&o, &t, fd, una + 4 * 1460);
}
END_TEST

/* RFC 8985 6.2 step 5 and the reordering timer: one segment SACKed above a hole (fewer than
 * DupThresh, no reordering seen: reo_wnd = min_RTT / 4 = 7.5 ms). The hole is lost when the
 * window has passed since RACK.segment's RTT, 7.5 ms after that ACK: the timer resends it then,
 * with no probe and no RTO. */
START_TEST(rack_reo_timer)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 4);
    t.ack = una + 2920;
    sack_ack(&o, &t, una + 3 * 1460, una + 4 * 1460);
    ck_assert_int_eq(tcp_info(&o, fd).reo_wnd, US_MSEC(30) / 4);
    quiet_until(&o, US_MSEC(30) / 4);
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_RACK_REO_TIMEOUT, 1);
    expect_stat(&o, US_STAT_TCP_RACK_LOST, 1);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 0);
    rack_done(&o, &t, fd, una + 4 * 1460);
}
END_TEST

/* A retransmission lost too: segments 1 and 2 are lost, both resent; the peer then SACKs the
 * second retransmission only. The first retransmission went out before a delivered one more
 * than RACK.rtt ago (no reordering seen, in recovery: reo_wnd 0): RACK resends it at once
 * (RFC 8985 6.2), where RFC 6675's rule and the probe (not in recovery) leave it to the RTO. */
START_TEST(rack_lost_retransmission)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 6);
    sack_ack(&o, &t, una + 2 * 1460, una + 6 * 1460); /* DupThresh SACKed: reo_wnd 0 */
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, una + 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_RACK_LOST, 2);
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 1460, una + 6 * 1460); /* the second retransmission arrived */
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_LOST_RETRANS, 1);
    expect_stat(&o, US_STAT_TCP_RACK_LOST, 3);
    rack_done(&o, &t, fd, una + 6 * 1460);
}
END_TEST

/* Reordering within reo_wnd: one segment SACKed above a hole that fills 5 ms later (inside the
 * 7.5 ms window): nothing is resent, and the late original, never resent, shows reordering
 * (RFC 8985 6.2 step 3). From then on even DupThresh SACKed segments above a hole wait for the
 * window (step 4): a hole filled 5 ms after four SACKed segments draws nothing either. */
START_TEST(rack_reordering_within_window)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 4);
    sack_ack(&o, &t, una + 1460, una + 2 * 1460);
    ck_assert(!tcp_info(&o, fd).reord_seen);
    os_advance(&o, US_MSEC(5));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack = una + 4 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert(tcp_info(&o, fd).reord_seen);
    una = t.ack;
    tlp_burst(&o, &t, fd, 5);
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 1460, una + 5 * 1460);
    os_advance(&o, US_MSEC(5));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack = una + 5 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_stat(&o, US_STAT_TCP_RETRANS, 0);
    expect_stat(&o, US_STAT_TCP_RACK_LOST, 0);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 0);
    rack_done(&o, &t, fd, una + 5 * 1460); /* (and nothing goes later) */
}
END_TEST

/* RFC 8985 6.2 step 4: a D-SACK (the peer got a segment twice: the retransmission was spurious)
 * widens reo_wnd by min_RTT / 4, once per round trip however many come in it. */
START_TEST(rack_dsack_grows_reo_wnd)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 6);
    sack_ack(&o, &t, una + 2 * 1460, una + 6 * 1460);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, una + 1460, t.seq, 1460);
    ck_assert_int_eq(tcp_info(&o, fd).reo_wnd, US_MSEC(30) / 4);
    /* the first original arrived after all (its retransmission is a duplicate), the rest is
     * still SACKed: the round lasts until SND.UNA passes SND.NXT */
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1460;
    const uint32_t d1[2][2] = {{una, una + 1460}, {una + 2 * 1460, una + 6 * 1460}};
    sack_acks(&o, &t, 2, d1);
    ck_assert_int_eq(tcp_info(&o, fd).reo_wnd, 2 * (US_MSEC(30) / 4));
    sack_acks(&o, &t, 2, d1); /* another copy, the same round: no second step */
    ck_assert_int_eq(tcp_info(&o, fd).reo_wnd, 2 * (US_MSEC(30) / 4));
    rack_done(&o, &t, fd, una + 6 * 1460);
}
END_TEST

/* Nothing answers what was sent (it is thrown away) until the first RTO fires; what the RTO
 * sends is left for the caller. */
static void
until_rto(struct onestack *o)
{
    for (int i = 0; i < 100 && us_stat_get(o->st, US_STAT_TCP_RTO) == 0; i++) {
        os_clear(o);
        os_advance(o, US_MSEC(10));
    }
    expect_stat(o, US_STAT_TCP_RTO, 1);
}

/* RFC 8985 6.3: an RTO keeps what the peer SACKed, and only what was not SACKed goes again,
 * from SND.UNA up as cwnd grows (RFC 2018's "ignore prior SACK information" would resend
 * everything; Linux keeps it too). */
START_TEST(rto_keeps_sacked)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 6);
    sack_ack(&o, &t, una + 2 * 1460, una + 4 * 1460);
    /* RACK's recovery resends segments 0 and 1; they are lost too, and nothing answers */
    until_rto(&o);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460); /* cwnd is one segment */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the peer takes it and SACKs again what it holds: cwnd two, segments 1 and 4 (2 and 3 are
     * SACKed), then 5 */
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1460;
    sack_ack(&o, &t, una + 2 * 1460, una + 4 * 1460);
    os_tcp_rx_expect(&o, &t, A, una + 1460, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, una + 4 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 5 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A | P, una + 5 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ack_all_quiet(&o, &t, fd, una + 6 * 1460, 1); /* the one above, no other */
}
END_TEST

/* After an RTO, an ACK that jumps over data SACKed before grows cwnd only by what it newly
 * delivered: the SACKed run was delivered when it was SACKed (Linux counts delivered segments).
 * Counted again, slow start would burst out segments marked lost that the peer has. */
START_TEST(rto_slow_start_counts_new_data)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 10);
    sack_ack(&o, &t, una + 2 * 1460, una + 9 * 1460);
    until_rto(&o);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1460;
    sack_ack(&o, &t, una + 2 * 1460, una + 9 * 1460);
    os_tcp_rx_expect(&o, &t, A, una + 1460, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A | P, una + 9 * 1460, t.seq, 1460);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 10 * 1460; /* segments 1 and 9 new, 2 to 8 SACKed before */
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 4 * 1460); /* 2, and 2 newly delivered */
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* After an RTO, an ACK that moves SND.UNA and SACKs new data grows cwnd by both, as Linux
 * counts delivered segments: 1 + 1 + 2 (the SACKed three, RFC 3465's limit of 2 per ACK). */
START_TEST(rto_slow_start_counts_sacked)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 10);
    until_rto(&o);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1460;
    sack_ack(&o, &t, una + 2 * 1460, una + 5 * 1460);
    ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 4 * 1460);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* RFC 2018 8: the peer drops data it SACKed (its ACK stops where that data begins). The
 * scoreboard goes, and within 10 ms (the timer Linux's tcp_check_sack_reneging sets; here
 * RACK is sooner, as the SACK of segment 3 still says it went after) the dropped segment goes
 * again, which a kept scoreboard would never resend. */
START_TEST(sack_reneging)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = rack_start(&o, &t, &una, 6);
    sack_ack(&o, &t, una + 2 * 1460, una + 4 * 1460);
    t.ack = una + 2 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_stat(&o, US_STAT_TCP_SACK_RENEGING, 1);
    for (int i = 0; i < 10 && os_tcp_pending(&o) == 0; i++)
        os_advance(&o, US_MSEC(1));
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(tlp_off)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_tlp = false;
    struct onestack o;
    os_start(&o, &cfg);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    tlp_burst(&o, &t, fd, 4);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 2920;
    os_tcp_tx(&o, &t, A, NULL, 0);
    /* as before tail loss probes: nothing until the RTO, 200 ms after the ACK; then go-back-N
     * from SND.UNA with a one-segment window */
    quiet_until(&o, US_MSEC(200));
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_RTO, 1);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 0);
    struct us_tcp_info ti = tcp_info(&o, fd);
    ck_assert_uint_eq(ti.cwnd, ti.mss_snd);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* The probe's ACK is exactly at its end: undecided (the original may have arrived) until the
 * next ACK goes past it without a D-SACK: then the probe repaired a loss and cwnd is cut
 * (RFC 8985 7.4). */
START_TEST(tlp_one_segment)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = tlp_one_probe(&o, &t, &una);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1000;
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_info ti = tcp_info(&o, fd);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX);
    uint32_t cwnd = ti.cwnd;
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 0);
    tlp_send_more(&o, &t, fd, una);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1100;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 1);
    ti = tcp_info(&o, fd);
    ck_assert_uint_eq(ti.ssthresh, 2 * ti.mss_snd); /* CUBIC: max(0.7 * flight, 2 * SMSS) */
    ck_assert_uint_lt(ti.cwnd, cwnd / 2);           /* cut to it, then this ACK's growth */
    expect_stat(&o, US_STAT_TCP_RTO, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* A probe ACKed exactly, then silence: no sign that the segment arrived twice came within a
 * whole PTO, so when the next tail needs a probe, the last one is judged to have repaired a loss
 * (the verdict RFC 8985 7.4 leaves to the next ACK). No new probe goes out: no RTT sample came
 * since the last one (RFC 8985 7.3 (2); without timestamps Karn's rule takes none from the
 * ACK of a resent segment), so the RTO stays the last resort. */
START_TEST(tlp_verdict_at_next_probe)
{
    struct onestack o;
    struct os_tcp t;
    uint32_t una;
    int fd = tlp_one_probe(&o, &t, &una);
    os_advance(&o, US_MSEC(30));
    t.ack = una + 1000;
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 0);
    tlp_send_more(&o, &t, fd, una);
    quiet_until(&o, US_MSEC(280));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 1);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 1);
    struct us_tcp_info ti = tcp_info(&o, fd);
    ck_assert_uint_eq(ti.ssthresh, 2 * ti.mss_snd);
    expect_stat(&o, US_STAT_TCP_RTO, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* The probe resent a segment that had arrived (its ACK was late): the peer's next duplicate ACK
 * says so, with a D-SACK of the probe (RFC 2883; counted as a spurious probe) or, from a
 * receiver without D-SACK, plain. No loss, no cwnd cut, not even when the next tail's probe
 * timeout comes. */
START_TEST(tlp_probe_was_spurious)
{
    for (int dsack = 0; dsack < 2; dsack++) {
        struct onestack o;
        struct os_tcp t;
        uint32_t una;
        int fd = tlp_one_probe(&o, &t, &una);
        t.ack = una + 1000;
        os_tcp_tx(&o, &t, A, NULL, 0); /* the original's ACK */
        if (dsack)
            sack_ack(&o, &t, una, una + 1000); /* the probe's */
        else
            os_tcp_tx(&o, &t, A, NULL, 0);
        expect_stat(&o, US_STAT_TCP_TLP_SPURIOUS, dsack ? 1 : 0);
        tlp_send_more(&o, &t, fd, una);
        quiet_until(&o, US_MSEC(280));
        ck_assert_uint_eq(os_tcp_pending(&o), 0); /* no RTT sample since the probe: none now */
        expect_stat(&o, US_STAT_TCP_TLP_PROBES, 1);
        expect_stat(&o, US_STAT_TCP_TLP_LOSS, 0);
        ck_assert_uint_eq(tcp_info(&o, fd).ssthresh, UINT32_MAX);
        os_tcp_abort(&o, fd);
        os_tcp_finish(&o);
    }
}
END_TEST

/* Data waits (the congestion window holds it back) and the peer's window has room: the probe is
 * one segment of that new data, past cwnd, not a retransmission; it goes after RFC 8985's
 * PTO, 2 * SRTT (60 ms), not after the 80 ms a probe that resends waits. */
START_TEST(tlp_new_data)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    ck_assert_uint_lt(tcp_info(&o, fd).cwnd, 11 * 1460);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 20 * 1460, 0, NULL, o.now), 20 * 1460);
    for (uint32_t i = 0; i < 10; i++)
        os_tcp_rx_expect(&o, &t, A, una + 1460 * i, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    quiet_until(&o, US_MSEC(60));
    os_tcp_rx_expect(&o, &t, A, una + 10 * 1460, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 1);
    expect_stat(&o, US_STAT_TCP_RETRANS, 0);
    /* everything arrived (the ACKs were slow): no loss to answer */
    os_advance(&o, US_MSEC(20));
    t.ack = una + 11 * 1460;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_gt(os_tcp_pending(&o), 0); /* the window opened: more data */
    os_clear(&o);
    expect_stat(&o, US_STAT_TCP_TLP_LOSS, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).ssthresh, UINT32_MAX);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* No probe on an idle connection, none without SACK (RFC 8985 2), and none in SACK recovery:
 * there the RTO stays the timer. */
START_TEST(tlp_not_when)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    os_advance(&o, US_SEC(5)); /* idle: everything ACKed */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* recovery: of six segments the first is lost; three SACKed above it start recovery */
    uint32_t una = t.ack;
    tlp_burst(&o, &t, fd, 6);
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 1460, una + 4 * 1460);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
    quiet_until(&o, US_MSEC(200));
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    expect_stat(&o, US_STAT_TCP_RTO, 1);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 0);
    os_tcp_abort(&o, fd);
    /* no SACK: a lost tail waits for the RTO */
    struct os_tcp t2;
    fd = os_tcp_accepted(&o, &t2, OS_OPT_MSS);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 100, 0, NULL, o.now), 100);
    os_tcp_rx_expect(&o, &t2, A | P, t2.ack, t2.seq, 100);
    t2.ack += 100;
    os_advance(&o, US_MSEC(30));
    os_tcp_tx(&o, &t2, A, NULL, 0);
    una = t2.ack;
    tlp_burst(&o, &t2, fd, 4);
    quiet_until(&o, US_MSEC(200));
    os_tcp_rx_expect(&o, &t2, A, una, t2.seq, 1460);
    expect_stat(&o, US_STAT_TCP_RTO, 2);
    expect_stat(&o, US_STAT_TCP_TLP_PROBES, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* Linux's sk_clone_lock copies the listener into each child, so an accepted socket starts with
 * the listener's options; here too, whether it came through the SYN queue or a SYN cookie. */
START_TEST(accepted_inherits_listener_options)
{
    static const struct {
        enum us_sockopt opt;
        int v;
    } inherited[] = {
        {US_SO_REUSEADDR, 1},   {US_SO_KEEPALIVE, 1},       {US_SO_LINGER, 5},
        {US_TCP_NODELAY, 1},    {US_TCP_KEEPIDLE, 100},     {US_TCP_KEEPINTVL, 10},
        {US_TCP_KEEPCNT, 3},    {US_TCP_USER_TIMEOUT, 5000}, {US_TCP_CONGESTION, US_CC_NEWRENO},
        {US_SO_RCVBUF, 8192},   {US_SO_SNDBUF, 16384},
    };
    const size_t n = sizeof(inherited) / sizeof(inherited[0]);
    for (int cookie = 0; cookie < 2; cookie++) {
        struct onestack o;
        os_start(&o, NULL);
        int l = os_tcp_listen(&o, 80, 1);
        int fresh = us_socket(o.st, US_SOCK_STREAM);
        for (size_t i = 0; i < n; i++) {
            int v = -2;
            ck_assert_int_eq(us_getsockopt(o.st, fresh, inherited[i].opt, &v), 0);
            ck_assert_int_ne(v, inherited[i].v); /* not the default, so inheriting shows */
            ck_assert_int_eq(us_setsockopt(o.st, l, inherited[i].opt, inherited[i].v), 0);
        }
        us_close(o.st, fresh, o.now);
        if (cookie) { /* another peer port fills the SYN queue: the next SYN gets a cookie */
            struct os_tcp t1 = {.port = 80, .pport = 40001, .seq = 1000, .wnd = 65535};
            os_tcp_syn(&o, &t1, S, 0, S | A, NULL);
        }
        struct os_tcp t = {.port = 80, .pport = 40000, .seq = 5000, .wnd = 65535};
        os_tcp_syn(&o, &t, S, OS_OPT_MSS, S | A, NULL);
        os_tcp_tx(&o, &t, A, NULL, 0);
        ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYNCOOKIES_OK), (uint64_t)cookie);
        int fd = us_accept(o.st, l, NULL);
        ck_assert_int_ge(fd, 0);
        for (size_t i = 0; i < n; i++) {
            int v = -2;
            ck_assert_int_eq(us_getsockopt(o.st, fd, inherited[i].opt, &v), 0);
            ck_assert_msg(v == inherited[i].v, "%s: option %d is %d, the listener's %d",
                          cookie ? "cookie" : "SYN queue", (int)inherited[i].opt, v,
                          inherited[i].v);
        }
        us_close(o.st, l, o.now);
        os_tcp_abort(&o, fd);
        os_tcp_finish(&o);
    }
}
END_TEST

/* ---- undo of spurious retransmissions (RFC 3708, RFC 4015) and PRR (RFC 6937) ---------------- */

/* Ten segments out; the first is delayed, not lost: the peer SACKs three after it (RFC 6675
 * calls the first lost) and the fast retransmit goes, cutting ssthresh. Then the original
 * arrives (the ACK covers four), then the retransmission, which the peer reports in a D-SACK
 * (RFC 2883): the only retransmission of the episode was spurious, so the cut is undone (RFC
 * 3708): ssthresh and cwnd are what they were, recovery is over. */
START_TEST(undo_by_dsack)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    uint32_t cwnd0 = tcp_info(&o, fd).cwnd;
    tlp_burst(&o, &t, fd, 10);
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 1460, una + 4 * 1460);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460); /* the fast retransmit */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    struct us_tcp_info ti = tcp_info(&o, fd);
    ck_assert_uint_lt(ti.ssthresh, cwnd0);
    expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
    os_advance(&o, US_MSEC(5));
    t.ack = una + 4 * 1460; /* the original arrived */
    os_tcp_tx(&o, &t, A, NULL, 0);
    expect_stat(&o, US_STAT_TCP_UNDO_DSACK, 0);
    ck_assert_uint_lt(tcp_info(&o, fd).ssthresh, cwnd0);
    sack_ack(&o, &t, una, una + 1460); /* the retransmission too: D-SACK below the ACK */
    expect_stat(&o, US_STAT_TCP_UNDO_DSACK, 1);
    expect_stat(&o, US_STAT_TCP_SPURIOUS_RTX, 1);
    ti = tcp_info(&o, fd);
    ck_assert_uint_eq(ti.ssthresh, UINT32_MAX);
    ck_assert_uint_ge(ti.cwnd, cwnd0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* Two retransmissions in the episode and a D-SACK for only one of them: the other may have
 * repaired a loss, so nothing is undone. */
START_TEST(undo_needs_every_retransmission)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    tlp_burst(&o, &t, fd, 10);
    os_advance(&o, US_MSEC(30));
    struct us_tcp_repr r = os_tcp_seg(&t, A); /* segments 0 and 2 missing */
    r.n_sack = 2;
    r.sack[0] = (struct us_tcp_sack_block){una + 3 * 1460, una + 6 * 1460};
    r.sack[1] = (struct us_tcp_sack_block){una + 1460, una + 2 * 1460};
    os_tcp_send(&o, &r);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460);
    os_tcp_rx_expect(&o, &t, A, una + 2 * 1460, t.seq, 1460);
    uint32_t ss = tcp_info(&o, fd).ssthresh;
    os_advance(&o, US_MSEC(5));
    t.ack = una + 2 * 1460; /* segment 0 arrived (which copy is unknown) */
    r = os_tcp_seg(&t, A);
    r.n_sack = 1;
    r.sack[0] = (struct us_tcp_sack_block){una + 3 * 1460, una + 6 * 1460};
    os_tcp_send(&o, &r);
    sack_ack(&o, &t, una, una + 1460); /* segment 0 twice: D-SACK; segment 2 never reported */
    expect_stat(&o, US_STAT_TCP_SPURIOUS_RTX, 1);
    expect_stat(&o, US_STAT_TCP_UNDO_DSACK, 0);
    ck_assert_uint_eq(tcp_info(&o, fd).ssthresh, ss);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* RFC 3522 / RFC 4015 with timestamps: three segments out and no ACK until after the RTO resent
 * the first. If the ACK then echoes the TSval of the original (it was the ACK that was late), the
 * timeout was spurious: cwnd and ssthresh come back and the rest is not sent again (SND.NXT =
 * SND.MAX). If it echoes the retransmission's, the loss was real: nothing is undone and the rest
 * goes again (go-back-N, RFC 5681 3.1). */
START_TEST(undo_rto_by_timestamp)
{
    for (int spurious = 0; spurious < 2; spurious++) {
        struct onestack o;
        os_start(&o, NULL);
        struct os_tcp t;
        int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_TS);
        uint32_t una = t.ack;
        uint32_t cwnd0 = tcp_info(&o, fd).cwnd;
        ck_assert_int_eq(us_sendto(o.st, fd, data, 3 * 1448, 0, NULL, o.now), 3 * 1448);
        struct us_tcp_repr first, r;
        os_tcp_rx(&o, &t, &first);
        ck_assert_uint_eq(first.seq, una);
        os_tcp_rx_expect(&o, &t, A, una + 1448, t.seq, 1448);
        os_tcp_rx_expect(&o, &t, A | P, una + 2 * 1448, t.seq, 1448);
        os_advance(&o, US_MSEC(200)); /* the RTO (SRTT about 0: its 200 ms floor) */
        os_tcp_rx(&o, &t, &r);
        ck_assert_uint_eq(r.seq, una);
        ck_assert_uint_gt(r.ts_val, first.ts_val);
        expect_stat(&o, US_STAT_TCP_RTO, 1);
        ck_assert_uint_eq(tcp_info(&o, fd).cwnd, 1448);
        os_advance(&o, US_MSEC(10));
        t.ack = una + 1448;
        t.ts_ecr = spurious ? first.ts_val : r.ts_val;
        os_tcp_tx(&o, &t, A, NULL, 0);
        struct us_tcp_info ti = tcp_info(&o, fd);
        if (spurious) {
            expect_stat(&o, US_STAT_TCP_UNDO_TS, 1);
            ck_assert_uint_eq(ti.ssthresh, UINT32_MAX);
            ck_assert_uint_ge(ti.cwnd, cwnd0);
            ck_assert_uint_eq(os_tcp_pending(&o), 0); /* nothing sent again */
        } else {
            expect_stat(&o, US_STAT_TCP_UNDO_TS, 0);
            ck_assert_uint_lt(ti.ssthresh, cwnd0);
            os_tcp_rx_expect(&o, &t, A, una + 1448, t.seq, 1448);
        }
        os_tcp_abort(&o, fd);
        os_tcp_finish(&o);
    }
}
END_TEST

/* Grows cwnd to 40 segments by slow start (one stretch ACK per flight); nothing left in flight. */
static void
grow_cwnd(struct onestack *o, struct os_tcp *t, int fd)
{
    for (uint32_t n = 10; n < 40; n *= 2) {
        tlp_burst(o, t, fd, n);
        os_advance(o, US_MSEC(30));
        t->ack += n * 1460;
        os_tcp_tx(o, t, A, NULL, 0);
    }
    ck_assert_uint_ge(tcp_info(o, fd).cwnd, 40 * 1460);
}

/* RFC 9937: 40 segments out, the first lost; the peer SACKs the others one per ACK. With PRR the
 * sender neither stops (RFC 6675 alone: cwnd = ssthresh at once, so silence until the pipe falls
 * below it, 9 ACKs here) nor bursts: from the fast retransmit on, what it has sent follows
 * ssthresh / RecoverFS of what was delivered, to within a segment, and the pipe ends at
 * ssthresh. */
START_TEST(prr_paces_recovery)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_SACK | OS_OPT_WS); /* window 8 MiB */
    grow_cwnd(&o, &t, fd);
    uint32_t una = t.ack;
    for (int i = 0; i < 4; i++) /* 120 segments: 40 go, the rest waits */
        ck_assert_int_eq(us_sendto(o.st, fd, data, 30 * 1460, 0, NULL, o.now), 30 * 1460);
    uint32_t flight = 0;
    while (os_tcp_pending(&o)) {
        struct us_tcp_repr r;
        os_tcp_rx(&o, &t, &r);
        flight += (uint32_t)r.payload_len;
    }
    ck_assert_uint_eq(flight % 1460, 0);
    uint32_t segs = flight / 1460;
    ck_assert_uint_ge(segs, 40);
    os_advance(&o, US_MSEC(30));
    uint32_t ssthresh = 0, sent = 0, lt = 0;
    for (uint32_t k = 1; k < segs; k++) {
        sack_ack(&o, &t, una + 1460, una + (k + 1) * 1460); /* segments 1..k */
        while (os_tcp_pending(&o)) {
            struct us_tcp_repr r;
            os_tcp_rx(&o, &t, &r);
            ck_assert_uint_eq(r.payload_len, 1460);
            sent++;
        }
        if (k < 3) { /* RFC 3042 limited transmit: one new segment per duplicate ACK */
            ck_assert_uint_eq(sent, k);
            lt = sent;
            continue;
        }
        sent = k == 3 ? sent - lt : sent;
        /* RecoverFS: the pipe when recovery began (FlightSize less the three SACKed segments
         * and the lost one) */
        uint32_t fs = flight + lt * 1460 - 4 * 1460;
        if (k == 3) { /* three segments SACKed: RACK calls the first lost */
            expect_stat(&o, US_STAT_TCP_FAST_RETRANS, 1);
            ck_assert_uint_eq(sent, 1);
            ssthresh = tcp_info(&o, fd).ssthresh;
            ck_assert_uint_eq(ssthresh, (flight + lt * 1460) * 7 / 10); /* CUBIC's beta */
            continue;
        }
        /* pipe: the resent first segment, the originals not yet SACKed, the new ones */
        uint32_t pipe = 1 + (segs - 1 - k) + lt + (sent - 1);
        if (pipe * 1460 > ssthresh + 1460) {
            uint64_t want = (uint64_t)(k - 2) * 1460 * ssthresh / fs; /* RFC 9937 sndcnt */
            ck_assert_msg((uint64_t)sent * 1460 + 1460 > want && sent * 1460ull <= want + 1460,
                          "after %u ACKs: %u segments sent, PRR allows %llu bytes", k, sent,
                          (unsigned long long)want);
        }
    }
    /* Every original is SACKed: what is out was sent since. The peer never SACKs the two
     * limited-transmit segments, so they stay in the pipe beside what recovery sent, which
     * ends near ssthresh: ssthresh of RecoverFS, less the one segment of it never delivered. */
    ck_assert_uint_le(sent * 1460, ssthresh + 1460);
    ck_assert_uint_ge(sent * 1460 + 2 * 1460, ssthresh);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* A receiver that compresses its SACKs (Linux: tcp_comp_sack_*) reports everything after a
 * lost segment in one ACK: nothing is left in flight but the fast retransmit. PRR (its
 * slow-start part, the pipe being far below ssthresh) sends new data with it, so that if the
 * retransmission is lost too, the SACKs of that data say so before the RTO. */
START_TEST(prr_sends_with_compressed_sack)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = tlp_conn(&o, &t);
    uint32_t una = t.ack;
    ck_assert_int_eq(us_sendto(o.st, fd, data, 30 * 1460, 0, NULL, o.now), 30 * 1460);
    for (uint32_t i = 0; i < 10; i++)
        os_tcp_rx_expect(&o, &t, A, una + 1460 * i, t.seq, 1460);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_advance(&o, US_MSEC(30));
    sack_ack(&o, &t, una + 1460, una + 10 * 1460);
    os_tcp_rx_expect(&o, &t, A, una, t.seq, 1460); /* the fast retransmit */
    uint32_t n = 0;
    while (os_tcp_pending(&o)) {
        struct us_tcp_repr r;
        os_tcp_rx(&o, &t, &r);
        ck_assert_uint_eq(r.seq, una + (10 + n) * 1460);
        n++;
    }
    struct us_tcp_info ti = tcp_info(&o, fd);
    /* pipe = the retransmission + n new segments = ssthresh (7 segments of 10 out, CUBIC) */
    ck_assert_uint_eq((1 + n) * 1460, ti.ssthresh / 1460 * 1460);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    fill_data(); /* forked tests inherit it */
    Suite *s = suite_create("tcp_input");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, delayed_ack);
    tcase_add_test(tc, timer_push_fails_then_retried);
    tcase_add_test(tc, out_of_order_sack);
    tcase_add_test(tc, out_of_order_no_sack);
    tcase_add_test(tc, sack_block_order);
    tcase_add_test(tc, sack_recovery_stays_in_window);
    tcase_add_test(tc, pure_ack_at_right_edge_accepted);
    tcase_add_test(tc, dsack_reports_duplicates);
    tcase_add_test(tc, dsack_not_without_sack);
    tcase_add_test(tc, duplicate_and_overlap_trimmed);
    tcase_add_test(tc, beyond_window);
    tcase_add_test(tc, zero_window);
    tcase_add_test(tc, listener_rcvbuf_inherited);
    tcase_add_test(tc, peer_window_limits);
    tcase_add_test(tc, window_scaling);
    tcase_add_test(tc, timestamps_rtt);
    tcase_add_test(tc, listen_backlog_full);
    tcase_add_test(tc, read_with_hole_pending);
    tcase_add_test(tc, recv_trunc_discards);
    tcase_add_test(tc, sequence_wraparound);
    tcase_add_test(tc, syn_window_edge);
    tcase_add_test(tc, data_after_close);
    tcase_add_test(tc, send_buffer_full);
    suite_add_tcase(s, tc);
    tc = tcase_create("rfc5961");
    tcase_add_test(tc, rst_exact_resets);
    tcase_add_test(tc, rst_in_window_challenged);
    tcase_add_test(tc, syn_established_challenged);
    tcase_add_test(tc, bad_acks);
    tcase_add_test(tc, challenge_ack_limit);
    tcase_add_test(tc, oow_ack_rate_limit);
    tcase_add_test(tc, paws);
    tcase_add_test(tc, dsack_paws);
    tcase_add_test(tc, rst_syn_received_challenged);
    suite_add_tcase(s, tc);
    tc = tcase_create("timers");
    tcase_add_test(tc, rto_backoff_timeout);
    tcase_add_test(tc, rto_from_rtt);
    tcase_add_test(tc, rto_min_floor);
    tcase_add_test(tc, rto_goes_back_n);
    tcase_add_test(tc, fast_retransmit_cubic);
    tcase_add_test(tc, user_timeout);
    tcase_add_test(tc, syn_cookies);
    tcase_add_test(tc, accepted_inherits_listener_options);
    tcase_add_test(tc, persist_gives_up_when_silent);
    tcase_add_test(tc, timeout_rst_timestamp);
    tcase_add_test(tc, icmp_frag_needed);
    tcase_add_test(tc, icmp_frag_needed_timestamps);
    tcase_add_test(tc, icmp_unreachable);
    tcase_add_test(tc, slow_start_byte_counting);
    tcase_add_test(tc, cwnd_grows_only_when_used);
    tcase_add_test(tc, cwnd_restart_after_idle);
    tcase_add_test(tc, fast_retransmit_newreno);
    tcase_add_test(tc, cwnd_grows_in_avoidance);
    tcase_add_test(tc, persist_probes);
    tcase_add_test(tc, persist_probe_taken);
    tcase_add_test(tc, window_closes_with_data_in_flight);
    tcase_add_test(tc, keepalive_timeout);
    tcase_add_test(tc, keepalive_answered);
    tcase_add_test(tc, keepalive_inherited);
    suite_add_tcase(s, tc);
    tc = tcase_create("tlp");
    tcase_add_test(tc, tlp_tail_loss);
    tcase_add_test(tc, tlp_timeout_finds_hole);
    tcase_add_test(tc, rack_probe_sacked);
    tcase_add_test(tc, rack_reo_timer);
    tcase_add_test(tc, rack_lost_retransmission);
    tcase_add_test(tc, rack_reordering_within_window);
    tcase_add_test(tc, rack_dsack_grows_reo_wnd);
    tcase_add_test(tc, rto_keeps_sacked);
    tcase_add_test(tc, sack_reneging);
    tcase_add_test(tc, rto_slow_start_counts_new_data);
    tcase_add_test(tc, rto_slow_start_counts_sacked);
    tcase_add_test(tc, tlp_off);
    tcase_add_test(tc, tlp_one_segment);
    tcase_add_test(tc, tlp_verdict_at_next_probe);
    tcase_add_test(tc, tlp_probe_was_spurious);
    tcase_add_test(tc, tlp_new_data);
    tcase_add_test(tc, tlp_not_when);
    suite_add_tcase(s, tc);
    tc = tcase_create("undo_prr");
    tcase_add_test(tc, undo_by_dsack);
    tcase_add_test(tc, undo_needs_every_retransmission);
    tcase_add_test(tc, undo_rto_by_timestamp);
    tcase_add_test(tc, prr_paces_recovery);
    tcase_add_test(tc, prr_sends_with_compressed_sack);
    suite_add_tcase(s, tc);
    tc = tcase_create("send");
    tcase_add_test(tc, nagle);
    tcase_add_test(tc, nagle_full_segments);
    tcase_add_test(tc, netstat_queues);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
