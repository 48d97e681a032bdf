/* TCP urgent data (RFC 9293 3.8.5, 3.10.7.4 sixth step; RFC 6093) on one stack and a virtual
 * clock. Receiving: RCV.UP, urgent mode reported as US_POLLPRI, the data inline, reads stopping
 * at the mark (US_SO_ATMARK); pointers beyond the segment, advancing, stale, wrapping the
 * sequence space, on a SYN's and a SYN-ACK's text. Sending: US_MSG_OOB sets SND.UP; every segment
 * before it carries URG and the pointer (also beyond the segment, past 65535, wrapping, on window
 * probes and retransmissions), and Nagle does not hold urgent data back. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define F US_TCP_FIN
#define R US_TCP_RST
#define P US_TCP_PSH
#define U US_TCP_URG

static uint8_t data[256 * 1024];

static void
setup(struct onestack *o)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
    os_init(o, NULL, 0);
    os_clear(o);
}

/* The peer sends len bytes with URG and urgent pointer ptr (an offset from the segment's seq). */
static void
tx_urg(struct onestack *o, struct os_tcp *t, const void *bytes, size_t len, uint16_t ptr)
{
    struct us_tcp_repr r = os_tcp_seg(t, A | P | U);
    r.payload = bytes;
    r.payload_len = len;
    r.urg_ptr = ptr;
    os_tcp_send(o, &r);
    t->seq += (uint32_t)len;
}

static bool
pri(struct onestack *o, int fd)
{
    return (us_sock_poll(o->st, fd) & US_POLLPRI) != 0;
}

static int
atmark(struct onestack *o, int fd)
{
    int v = -1;
    ck_assert_int_eq(us_getsockopt(o->st, fd, US_SO_ATMARK, &v), 0);
    return v;
}

/* recv with a large buffer returns exactly these n bytes. */
static void
recv_expect(struct onestack *o, int fd, int flags, const void *want, size_t n)
{
    static uint8_t buf[8192];
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), flags, NULL, NULL, o->now), (ssize_t)n);
    ck_assert_mem_eq(buf, want, n);
}

/* ---- receiving ------------------------------------------------------------------------------- */

START_TEST(recv_inline_stops_at_mark)
{
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(atmark(&o, fd), 0);
    os_tcp_tx(&o, &t, A | P, "abc", 3);
    ck_assert(!pri(&o, fd));
    /* a Linux sender's send(b"!", MSG_OOB): URG, pointer 1 (the byte after "!") */
    tx_urg(&o, &t, "!", 1, 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 1);
    ck_assert_int_eq(us_sock_poll(o.st, fd) & (US_POLLIN | US_POLLPRI), US_POLLIN | US_POLLPRI);
    ck_assert_int_eq(atmark(&o, fd), 0);
    os_tcp_tx(&o, &t, A | P, "def", 3);
    /* out-of-band reading is not offered: the byte is inline (SO_OOBINLINE) */
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), US_MSG_OOB, NULL, NULL, o.now), -EINVAL);
    /* reads, peeking included, stop before the mark, the last urgent byte */
    recv_expect(&o, fd, US_MSG_PEEK, "abc", 3);
    recv_expect(&o, fd, 0, "abc", 3);
    ck_assert_int_eq(atmark(&o, fd), 1);
    ck_assert(pri(&o, fd));
    /* at the mark, a read starts with the urgent byte and goes on; urgent mode ends */
    recv_expect(&o, fd, 0, "!def", 4);
    ck_assert_int_eq(atmark(&o, fd), 0);
    ck_assert(!pri(&o, fd));
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), -EAGAIN);
    /* the ACK policy is unchanged: one delayed ACK for the lot */
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(recv_pointer_beyond_segment)
{
    /* The pointer may lie beyond the segment: urgent mode starts at once (MUST-32); the mark
     * is reached once the data arrives. A later pointer moves the mark on (and counts again);
     * a repeated one does not. */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    tx_urg(&o, &t, data, 10, 30); /* urgent data ends with byte 29 */
    ck_assert(pri(&o, fd));
    recv_expect(&o, fd, 0, data, 10);
    ck_assert_int_eq(atmark(&o, fd), 0);
    ck_assert(pri(&o, fd)); /* urgent data remains to be read */
    tx_urg(&o, &t, data + 10, 30, 20); /* same SEG.UP, as the sender repeats it */
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 1);
    recv_expect(&o, fd, 0, data + 10, 19);
    ck_assert_int_eq(atmark(&o, fd), 1);
    /* before the user reads on, the pointer advances: the mark moves to the new last byte */
    tx_urg(&o, &t, data + 40, 10, 5);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 2);
    ck_assert_int_eq(atmark(&o, fd), 0);
    recv_expect(&o, fd, 0, data + 29, 15); /* bytes 29..43: up to the new mark (44) */
    ck_assert_int_eq(atmark(&o, fd), 1);
    recv_expect(&o, fd, 0, data + 44, 6);
    ck_assert(!pri(&o, fd));
    ck_assert_int_eq(atmark(&o, fd), 0);
    /* a pointer into data already read starts nothing (RFC 9293 3.10.7.4: only when RCV.UP is
     * "in advance of the data consumed") */
    tx_urg(&o, &t, data + 50, 5, 0);
    ck_assert(!pri(&o, fd));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 2);
    recv_expect(&o, fd, 0, data + 50, 5);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* A passive open with the peer's ISN peer_isn (options: MSS), whose ISS (ours) is `iss` when
 * want_iss: the RFC 6528 clock (one tick per 4 us) is run forward from a first probe SYN,
 * answered and then reset, to the moment the same 4-tuple yields that ISS. rcvbuf: SO_RCVBUF of
 * the listener (0: default). Returns the accepted descriptor; the listener is closed. */
static int
open_seq(struct onestack *o, struct os_tcp *t, uint32_t peer_isn, bool want_iss, uint32_t iss,
         int rcvbuf)
{
    os_learn(o, OS_PEER_IP, os_peer_mac);
    int l = us_socket(o->st, US_SOCK_STREAM);
    if (rcvbuf)
        ck_assert_int_eq(us_setsockopt(o->st, l, US_SO_RCVBUF, rcvbuf), 0);
    struct us_sockaddr a = {0, 80};
    ck_assert_int_eq(us_bind(o->st, l, &a), 0);
    ck_assert_int_eq(us_listen(o->st, l, 4), 0);
    *t = (struct os_tcp){.port = 80, .pport = 40000, .seq = peer_isn, .wnd = 65535};
    struct us_tcp_repr syn = os_tcp_seg(t, S), sa;
    syn.has_mss = true;
    syn.mss = 1460;
    if (want_iss) {
        os_tcp_send(o, &syn);
        os_tcp_rx(o, t, &sa);
        t->seq = peer_isn + 1;
        os_tcp_tx(o, t, R, NULL, 0);
        ck_assert_str_eq(os_tcp_state(o, -1, t), "");
        os_advance(o, (us_time_t)(uint32_t)(iss - sa.seq) * 4000);
        os_clear(o);
        t->seq = peer_isn;
    }
    os_tcp_send(o, &syn);
    t->seq = peer_isn + 1;
    os_tcp_rx(o, t, &sa);
    ck_assert_uint_eq(sa.flags, S | A);
    if (want_iss)
        ck_assert_uint_eq(sa.seq, iss);
    t->ack = sa.seq + 1;
    os_tcp_tx(o, t, A, NULL, 0);
    int fd = us_accept(o->st, l, NULL);
    ck_assert_int_ge(fd, 0);
    us_close(o->st, l, o->now);
    return fd;
}

START_TEST(recv_urgent_on_zero_window)
{
    /* MUST-66: with the window closed, a segment's text is not taken but its URG is. */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = open_seq(&o, &t, 1000, false, 0, 2920); /* a window of two segments */
    os_tcp_tx(&o, &t, A, data, 1460);
    os_tcp_tx(&o, &t, A, data + 1460, 1460);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq);
    ck_assert_uint_eq(r.wnd, 0);
    ck_assert(!pri(&o, fd));
    tx_urg(&o, &t, "!", 1, 1);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.ack, t.seq - 1); /* the byte itself was not taken */
    ck_assert(pri(&o, fd));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 1);
    /* the reader drains the window; the peer sends the byte again; it is the mark */
    static uint8_t buf[4096];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 2920);
    ck_assert_int_eq(atmark(&o, fd), 1);
    os_clear(&o);
    t.seq--;
    tx_urg(&o, &t, "!", 1, 1);
    recv_expect(&o, fd, 0, "!", 1);
    ck_assert(!pri(&o, fd));
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(recv_pointer_wraps)
{
    /* Data and pointer across 2^32: SEG.UP = 0xfffffff1 + 35 wraps to 0x14. */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = open_seq(&o, &t, 0xfffffff0u, false, 0, 0);
    ck_assert_uint_eq(t.seq, 0xfffffff1u);
    tx_urg(&o, &t, data, 40, 35);
    ck_assert_uint_eq(t.seq, 0x19);
    ck_assert(pri(&o, fd));
    recv_expect(&o, fd, 0, data, 34);
    ck_assert_int_eq(atmark(&o, fd), 1);
    recv_expect(&o, fd, 0, data + 34, 6);
    ck_assert(!pri(&o, fd));
    /* a retransmission of the same (old) segment starts nothing again */
    t.seq = 0xfffffff1u;
    tx_urg(&o, &t, data, 40, 35);
    ck_assert(!pri(&o, fd));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(recv_urgent_on_syn_text)
{
    /* URG on a SYN's queued text, and on a SYN-ACK's text (RFC 9293 3.10.7.3 "continue
     * processing at the sixth step under Section 3.10.7.4 where the URG bit is checked"). */
    struct onestack o;
    setup(&o);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int l = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr a = {0, 80};
    ck_assert_int_eq(us_bind(o.st, l, &a), 0);
    ck_assert_int_eq(us_listen(o.st, l, 4), 0);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    struct us_tcp_repr syn = os_tcp_seg(&t, S | U);
    syn.payload = (const uint8_t *)"ab!";
    syn.payload_len = 3;
    syn.urg_ptr = 4; /* from the SYN's sequence number: the byte after "!" */
    os_tcp_send(&o, &syn);
    struct us_tcp_repr sa;
    os_tcp_rx(&o, &t, &sa);
    ck_assert_uint_eq(sa.ack, 1001);
    t.seq = 1004;
    t.ack = sa.seq + 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    us_close(o.st, l, o.now);
    ck_assert(pri(&o, fd));
    recv_expect(&o, fd, 0, "ab", 2);
    ck_assert_int_eq(atmark(&o, fd), 1);
    recv_expect(&o, fd, 0, "!", 1);
    ck_assert(!pri(&o, fd));
    os_tcp_abort(&o, fd);

    fd = os_tcp_connect(&o, -1, 80, 65535, &t, NULL);
    struct us_tcp_repr sa2 = os_tcp_seg(&t, S | A | U);
    sa2.payload = (const uint8_t *)"hi!";
    sa2.payload_len = 3;
    sa2.urg_ptr = 4;
    os_tcp_send(&o, &sa2);
    os_tcp_rx_expect(&o, &t, A, t.ack, 5004, 0);
    ck_assert(pri(&o, fd));
    recv_expect(&o, fd, 0, "hi", 2);
    ck_assert_int_eq(atmark(&o, fd), 1);
    recv_expect(&o, fd, 0, "!", 1);
    ck_assert(!pri(&o, fd));
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(recv_urgent_dropped_with_data)
{
    /* Nothing left to read, nothing urgent: a RST takes the unread data (and the urgent mode)
     * with it; SHUT_RD discards both and ignores later pointers; a FIN ends the urgent data. */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    tx_urg(&o, &t, "x!", 2, 2);
    ck_assert(pri(&o, fd));
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert(!pri(&o, fd));
    ck_assert_int_eq(atmark(&o, fd), 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);

    fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    tx_urg(&o, &t, "x!", 2, 2);
    ck_assert(pri(&o, fd));
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_RD, o.now), 0);
    ck_assert(!pri(&o, fd));
    tx_urg(&o, &t, "y!", 2, 2);
    ck_assert(!pri(&o, fd));
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_IN), 2);
    os_tcp_abort(&o, fd);

    /* a pointer beyond the peer's FIN: the urgent data ends with the stream's last byte */
    fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    tx_urg(&o, &t, "ab", 2, 100);
    os_tcp_tx(&o, &t, A | F, NULL, 0);
    ck_assert(pri(&o, fd));
    recv_expect(&o, fd, 0, "a", 1);
    ck_assert_int_eq(atmark(&o, fd), 1);
    recv_expect(&o, fd, 0, "b", 1);
    ck_assert(!pri(&o, fd));
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- sending --------------------------------------------------------------------------------- */

START_TEST(send_oob_marks_last_byte)
{
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    ck_assert_int_eq(us_sendto(o.st, fd, "abc", 3, 0, NULL, o.now), 3);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = t.ack, .ack = t.seq,
                               .flags = A | P, .payload = (const uint8_t *)"abc",
                               .payload_len = 3};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    ck_assert_int_eq(us_sendto(o.st, fd, "!", 1, US_MSG_OOB, NULL, o.now), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_URG_OUT), 1);
    /* Nagle would hold this small segment while "abc" is unacknowledged: urgent data goes */
    want.seq = t.ack + 3;
    want.flags = A | P | U;
    want.payload = (const uint8_t *)"!";
    want.payload_len = 1;
    want.urg_ptr = 1; /* the byte after the urgent data (MUST-62) */
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* the retransmission timeout resends from SND.UNA: the pointer, from there, is 4 */
    os_advance(&o, US_SEC(1));
    want.seq = t.ack;
    want.payload = (const uint8_t *)"abc!";
    want.payload_len = 4;
    want.urg_ptr = 4;
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the peer's ACK of "abc" only, with data: our ACK starts at SND.UP, so it has no URG */
    t.ack += 3;
    os_tcp_tx(&o, &t, A | P, "q", 1);
    ck_assert_int_eq(us_sendto(o.st, fd, "", 0, US_MSG_OOB, NULL, o.now), 0); /* no-op */
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack + 1, t.seq, 0);
    /* once "!" is acknowledged, urgent mode is over: the next data has no URG */
    t.ack += 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), 1);
    want = (struct us_tcp_repr){.src_port = 80, .dst_port = t.pport, .seq = t.ack, .ack = t.seq,
                                .flags = A | P, .payload = (const uint8_t *)"x",
                                .payload_len = 1};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* UDP has no urgent data (Linux: EOPNOTSUPP) */
    int u = us_socket(o.st, US_SOCK_DGRAM);
    struct us_sockaddr to = {OS_PEER_IP, 9};
    ck_assert_int_eq(us_sendto(o.st, u, "u", 1, US_MSG_OOB, &to, o.now), -EOPNOTSUPP);
    int v;
    ck_assert_int_eq(us_getsockopt(o.st, u, US_SO_ATMARK, &v), -ENOPROTOOPT);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_ATMARK, 1), -ENOPROTOOPT);
    us_close(o.st, u, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(send_pointer_beyond_segment)
{
    /* A window smaller than the urgent data: each segment points beyond itself to the same
     * SND.UP, the zero-window probe included (the peer learns of urgent data it cannot take). */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS);
    t.wnd = 100;
    os_tcp_tx(&o, &t, A, NULL, 0);
    uint32_t up = t.ack + 250;
    ck_assert_int_eq(us_sendto(o.st, fd, data, 250, US_MSG_OOB, NULL, o.now), 250);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.seq, t.ack);
    ck_assert_uint_eq(r.payload_len, 100);
    ck_assert_uint_eq(r.flags & U, U);
    ck_assert_uint_eq(r.urg_ptr, 250);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* acknowledged, window closed: the persist timer's probe byte carries the pointer */
    t.ack += 100;
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_advance(&o, US_SEC(2));
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.seq, t.ack);
    ck_assert_uint_eq(r.payload_len, 1);
    ck_assert_uint_eq(r.flags & U, U);
    ck_assert_uint_eq(r.seq + r.urg_ptr, up);
    while (os_tcp_pending(&o))
        os_tcp_rx(&o, &t, &r);
    /* the window opens: the rest, pointer 150 from its start */
    t.wnd = 65535;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.seq, t.ack);
    ck_assert_uint_eq(r.payload_len, 150);
    ck_assert_uint_eq(r.flags & U, U);
    ck_assert_uint_eq(r.urg_ptr, 150);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(send_pointer_wraps)
{
    /* Our ISS just below 2^32: SND.UP wraps, the pointer is still the plain offset. */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = open_seq(&o, &t, 1000, true, 0xffffffe0u, 0);
    ck_assert_uint_eq(t.ack, 0xffffffe1u);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 40, US_MSG_OOB, NULL, o.now), 40);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = t.pport, .seq = 0xffffffe1u,
                               .ack = t.seq, .flags = A | P | U, .urg_ptr = 40,
                               .payload = data, .payload_len = 40};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    /* acknowledged across the wrap: urgent mode ends */
    t.ack = 0xffffffe1u + 40;
    ck_assert_uint_eq(t.ack, 9);
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, "z", 1, 0, NULL, o.now), 1);
    want = (struct us_tcp_repr){.src_port = 80, .dst_port = t.pport, .seq = 9, .ack = t.seq,
                                .flags = A | P, .payload = (const uint8_t *)"z",
                                .payload_len = 1};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(send_pointer_past_64k)
{
    /* Urgent data longer than 65535 bytes (MUST-31: any length). A segment more than 65535
     * bytes before SND.UP says 65535, which still points beyond everything sent; once that
     * would point into data already sent (a retransmission far behind), it carries no URG. */
    struct onestack o;
    setup(&o);
    struct os_tcp t;
    int fd = os_tcp_accepted(&o, &t, OS_OPT_MSS | OS_OPT_WS);
    const uint32_t total = 200000;
    uint32_t start = t.ack, up = start + total;
    ck_assert_int_eq(us_sendto(o.st, fd, data, total, US_MSG_OOB, NULL, o.now), (ssize_t)total);
    /* Rounds: take the whole flight, check each segment, then ACK them one by one (slow start
     * doubles the window each round), until more than 65535 bytes are in flight. */
    uint32_t acked = start, sent = start;
    size_t capped = 0;
    for (int round = 0; round < 10 && sent - acked <= 70000; round++) {
        uint32_t ends[128];
        size_t n = 0;
        struct us_tcp_repr r;
        while (os_tcp_pending(&o)) {
            os_tcp_rx(&o, &t, &r);
            ck_assert_uint_gt(r.payload_len, 0);
            ck_assert_uint_eq(r.flags & U, U);
            if (up - r.seq <= 0xffff) {
                ck_assert_uint_eq(r.urg_ptr, up - r.seq);
            } else {
                ck_assert_uint_eq(r.urg_ptr, 0xffff);
                capped++;
            }
            sent = r.seq + (uint32_t)r.payload_len;
            ck_assert_uint_lt(n, 128);
            ends[n++] = sent;
        }
        if (sent - acked > 70000)
            break;
        for (size_t i = 0; i < n; i++) {
            t.ack = acked = ends[i];
            os_tcp_tx(&o, &t, A, NULL, 0);
        }
    }
    ck_assert_uint_gt(capped, 0);
    ck_assert_uint_gt(up - acked, 0xffff);
    ck_assert_uint_ge(sent - acked, 0xffff);
    /* the timeout resends from `acked`: 65535 from there lands inside data sent, so no URG */
    os_advance(&o, US_SEC(1));
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.seq, acked);
    ck_assert_uint_gt(r.payload_len, 0);
    ck_assert_uint_eq(r.flags & U, 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("tcp_urgent");
    TCase *tc = tcase_create("receive");
    tcase_add_test(tc, recv_inline_stops_at_mark);
    tcase_add_test(tc, recv_pointer_beyond_segment);
    tcase_add_test(tc, recv_urgent_on_zero_window);
    tcase_add_test(tc, recv_pointer_wraps);
    tcase_add_test(tc, recv_urgent_on_syn_text);
    tcase_add_test(tc, recv_urgent_dropped_with_data);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("send");
    tcase_add_test(tc, send_oob_marks_last_byte);
    tcase_add_test(tc, send_pointer_beyond_segment);
    tcase_add_test(tc, send_pointer_wraps);
    tcase_add_test(tc, send_pointer_past_64k);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
