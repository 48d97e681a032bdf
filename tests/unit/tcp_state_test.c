/* TCP state machine unit tests (RFC 9293 3.3.2, 3.10.7): one stack on a virtual clock, driven by
 * crafted segments from the peer 192.0.2.1, asserting the exact segments it emits (smoltcp
 * send!/recv! style). Opening (passive, active, simultaneous), SYN retransmission, every close
 * path, TIME-WAIT. Each test ends with no connection and no packet buffer left. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "core/core.h"
#include "tcp/tcp.h"
#include "lib/testutil.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define F US_TCP_FIN
#define R US_TCP_RST
#define P US_TCP_PSH

static void
check_state(struct onestack *o, int fd, const struct os_tcp *t, const char *want)
{
    const char *got = os_tcp_state(o, fd, t);
    ck_assert_msg(strcmp(got, want) == 0, "state %s, want %s", got, want);
}

/* ---- passive open ---------------------------------------------------------------------------- */

START_TEST(passive_open_options)
{
    /* Our SYN-ACK always carries MSS; WS, SACK-permitted and TS only when the SYN offered them
     * (RFC 7323 1.3, RFC 2018 2). */
    static const unsigned offers[] = {OS_OPT_ALL, OS_OPT_MSS, 0, OS_OPT_MSS | OS_OPT_SACK,
                                      OS_OPT_WS | OS_OPT_TS};
    for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        unsigned off = offers[i];
        struct onestack o;
        os_start(&o, NULL);
        int l = os_tcp_listen(&o, 80, 4);
        ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, l).state), "LISTEN");
        struct us_tcp_repr syn = {.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = S,
                                  .wnd = 65535, .has_mss = off & OS_OPT_MSS, .mss = 1460,
                                  .has_wscale = off & OS_OPT_WS, .wscale = 7,
                                  .sack_ok = off & OS_OPT_SACK, .has_ts = off & OS_OPT_TS,
                                  .ts_val = 777};
        os_tcp_send(&o, &syn);
        /* the window in whole segments: 44 x 1460, or 45 x 1448 with timestamps (as Linux) */
        struct us_tcp_repr want = {.src_port = 80, .dst_port = 40000, .ack = 1001,
                                   .flags = S | A, .wnd = off & OS_OPT_TS ? 65160 : 64240,
                                   .has_mss = true, .mss = 1460,
                                   .has_wscale = off & OS_OPT_WS, .wscale = 7,
                                   .sack_ok = off & OS_OPT_SACK, .has_ts = off & OS_OPT_TS,
                                   .ts_ecr = 777};
        struct us_tcp_repr sa;
        os_tcp_pop(&o, &sa);
        want.seq = sa.seq; /* our ISN */
        o.taken--;          /* and compare the same segment field by field */
        os_tcp_expect(&o, &want, 0, NULL);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
        ck_assert_int_eq(us_accept(o.st, l, NULL), -EAGAIN);
        /* the embryonic connection is an orphan in SYN-RECEIVED */
        struct os_tcp t = {.port = 80, .pport = 40000};
        check_state(&o, -1, &t, "SYN-RECEIVED");
        struct us_tcp_repr ack = {.src_port = 40000, .dst_port = 80, .seq = 1001,
                                  .ack = sa.seq + 1, .flags = A, .wnd = 1000,
                                  .has_ts = off & OS_OPT_TS, .ts_val = 778, .ts_ecr = sa.ts_val};
        os_tcp_send(&o, &ack);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
        ck_assert_uint_eq(os_sock_info(&o, l).recv_q, 1); /* accept queue */
        ck_assert(us_sock_poll(o.st, l) & US_POLLIN);
        struct us_sockaddr peer;
        int fd = us_accept(o.st, l, &peer);
        ck_assert_int_ge(fd, 0);
        ck_assert_uint_eq(peer.addr, OS_PEER_IP);
        ck_assert_uint_eq(peer.port, 40000);
        ck_assert_uint_eq(os_sock_info(&o, l).recv_q, 0);
        ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
        struct us_tcp_info ti;
        ck_assert_int_eq(us_tcp_get_info(o.st, fd, &ti), 0);
        ck_assert_int_eq(ti.wscale, !!(off & OS_OPT_WS));
        ck_assert_int_eq(ti.sack, !!(off & OS_OPT_SACK));
        ck_assert_int_eq(ti.ts, !!(off & OS_OPT_TS));
        uint32_t mss = (off & OS_OPT_MSS) ? 1460 : 536;
        ck_assert_uint_eq(ti.mss_snd, (off & OS_OPT_TS) ? mss - 12 : mss);
        ck_assert_uint_eq(ti.snd_wnd, (off & OS_OPT_WS) ? 1000u << 7 : 1000u);
        ck_assert(us_sock_poll(o.st, fd) & US_POLLOUT);
        us_setsockopt(o.st, fd, US_SO_LINGER, 0);
        us_close(o.st, fd, o.now);
        us_close(o.st, l, o.now);
        os_clear(&o);
        os_tcp_finish(&o);
    }
}
END_TEST

START_TEST(passive_rst_forgets)
{
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t, S, 0, S | A, NULL);
    /* RFC 9293 3.10.7.4 first/second: a RST in SYN-RECEIVED (passive) returns to LISTEN */
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    check_state(&o, -1, &t, "");
    ck_assert_int_eq(us_accept(o.st, l, NULL), -EAGAIN);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, l).state), "LISTEN");
    /* the late ACK now meets the listener: <SEQ=SEG.ACK><CTL=RST> */
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = 40000, .seq = t.ack, .flags = R};
    os_tcp_expect(&o, &want, 0, NULL);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_LISTEN_ACK), 1);
    /* no SYN-ACK retransmission follows: the connection is gone */
    os_advance(&o, US_SEC(10));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    us_close(o.st, l, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(passive_dup_syn)
{
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct us_tcp_repr syn = {.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = S,
                              .wnd = 65535, .has_mss = true, .mss = 1460};
    os_tcp_send(&o, &syn);
    struct us_tcp_repr sa, sa2;
    os_tcp_pop(&o, &sa);
    ck_assert_uint_eq(sa.flags, S | A);
    /* the SYN-ACK was lost: the peer's SYN again brings it back at once, same ISN */
    os_advance(&o, US_MSEC(300));
    os_tcp_send(&o, &syn);
    os_tcp_expect(&o, &sa, 0, &sa2);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* and the SYN-ACK is retransmitted on its own timer (1 s) too */
    os_advance(&o, US_MSEC(700));
    os_tcp_expect(&o, &sa, 0, NULL);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    struct us_tcp_repr ack = {.src_port = 40000, .dst_port = 80, .seq = 1001, .ack = sa.seq + 1,
                              .flags = A, .wnd = 65535};
    os_tcp_send(&o, &ack);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    us_close(o.st, l, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_received_bad_ack)
{
    /* 3.10.7.4 fifth, SYN-RECEIVED: an ACK outside (SND.UNA, SND.NXT] gets <SEQ=SEG.ACK><RST> */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_tx(&o, &t, S, NULL, 0);
    struct us_tcp_repr sa;
    os_tcp_rx(&o, &t, &sa);
    t.ack = sa.seq + 5;
    os_tcp_tx(&o, &t, A, NULL, 0);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = 40000, .seq = sa.seq + 5, .flags = R};
    os_tcp_expect(&o, &want, 0, NULL);
    check_state(&o, -1, &t, "SYN-RECEIVED");
    t.ack = sa.seq + 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    check_state(&o, -1, &t, "ESTABLISHED");
    us_close(o.st, l, o.now); /* the queued child hears a RST */
    want = (struct us_tcp_repr){.src_port = 80, .dst_port = 40000, .seq = sa.seq + 1,
                                .ack = 1001, .flags = R | A};
    os_tcp_expect(&o, &want, OS_IGN_WND, NULL);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(listener_close_rst_timestamp)
{
    /* The RST a queued child hears when its listener closes carries the clock of the close
     * (RFC 7323 3.2: TSval from the timestamp clock), not zero. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    o.now = US_SEC(7); /* the handshake at 7 s, the close at 9.5 s */
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535, .ts = true,
                       .ts_val = 4242};
    os_tcp_tx(&o, &t, S, NULL, 0);
    struct us_tcp_repr sa;
    os_tcp_rx(&o, &t, &sa);
    ck_assert(sa.has_ts);
    t.ack = sa.seq + 1;
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "ESTABLISHED");
    os_advance(&o, US_MSEC(2500));
    us_close(o.st, l, o.now);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = 40000, .seq = sa.seq + 1,
                               .ack = 1001, .flags = R | A, .has_ts = true, .ts_ecr = 4242};
    struct us_tcp_repr rst;
    os_tcp_expect(&o, &want, OS_IGN_WND, &rst);
    ck_assert_uint_eq(rst.ts_val, sa.ts_val + 2500); /* the 1 ms clock moved on by 2.5 s */
    os_tcp_finish(&o);
}
END_TEST

START_TEST(closed_port_rst)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    /* 3.10.7.1: no ACK -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
    struct us_tcp_repr syn = {.src_port = 40000, .dst_port = 81, .seq = 1000, .flags = S,
                              .wnd = 100};
    os_tcp_send(&o, &syn);
    struct us_tcp_repr want = {.src_port = 81, .dst_port = 40000, .seq = 0, .ack = 1001,
                               .flags = R | A};
    os_tcp_expect(&o, &want, 0, NULL);
    struct us_tcp_repr data = {.src_port = 40000, .dst_port = 81, .seq = 2000,
                               .flags = F | P, .wnd = 100, .payload = (const uint8_t *)"hello",
                               .payload_len = 5};
    os_tcp_send(&o, &data);
    want.ack = 2006; /* 5 bytes + FIN */
    os_tcp_expect(&o, &want, 0, NULL);
    /* with an ACK -> <SEQ=SEG.ACK><CTL=RST> */
    data.flags = A | P;
    data.ack = 0xfffffff0u;
    os_tcp_send(&o, &data);
    want = (struct us_tcp_repr){.src_port = 81, .dst_port = 40000, .seq = 0xfffffff0u,
                                .flags = R};
    os_tcp_expect(&o, &want, 0, NULL);
    /* never a RST for a RST */
    data.flags = R | A;
    os_tcp_send(&o, &data);
    data.flags = R;
    os_tcp_send(&o, &data);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_NO_SOCKET), 5);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_RST_OUT), 3);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(listener_segments)
{
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    /* ACK to a listener: <SEQ=SEG.ACK><CTL=RST> */
    struct us_tcp_repr ack = {.src_port = 40000, .dst_port = 80, .seq = 1000, .ack = 123456,
                              .flags = A, .wnd = 100};
    os_tcp_send(&o, &ack);
    struct us_tcp_repr want = {.src_port = 80, .dst_port = 40000, .seq = 123456, .flags = R};
    os_tcp_expect(&o, &want, 0, NULL);
    /* RST: ignored; neither SYN nor ACK: dropped */
    ack.flags = R;
    os_tcp_send(&o, &ack);
    ack.flags = P;
    ack.payload = (const uint8_t *)"x";
    ack.payload_len = 1;
    os_tcp_send(&o, &ack);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_LISTEN_ACK), 2);
    us_close(o.st, l, o.now);
    os_tcp_finish(&o);
}
END_TEST

/* ---- active open ----------------------------------------------------------------------------- */

START_TEST(active_open)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    ck_assert_int_eq(us_sock_poll(o.st, fd) & US_POLLOUT, 0);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    /* our SYN offers everything: MSS 1460, WS 7 (4 MiB buffer limit), SACK, TS; the window
     * unscaled, in whole segments (44 x 1460, as Linux) */
    struct us_tcp_repr want = {.src_port = syn.src_port, .dst_port = 80, .seq = syn.seq,
                               .flags = S, .wnd = 64240, .has_mss = true, .mss = 1460,
                               .has_wscale = true, .wscale = 7, .sack_ok = true, .has_ts = true,
                               .ts_ecr = 0};
    o.taken--; /* compare the same SYN field by field */
    os_tcp_expect(&o, &want, 0, NULL);
    ck_assert_uint_ge(syn.src_port, 32768);
    ck_assert_uint_le(syn.src_port, 60999);
    /* SYN-ACK with MSS and SACK only: no WS, no TS from here on */
    struct us_tcp_repr sa = {.src_port = 80, .dst_port = syn.src_port, .seq = 5000,
                             .ack = syn.seq + 1, .flags = S | A, .wnd = 20000, .has_mss = true,
                             .mss = 1000, .sack_ok = true};
    os_tcp_send(&o, &sa);
    /* the ACK keeps the window our SYN offered (as Linux) */
    want = (struct us_tcp_repr){.src_port = syn.src_port, .dst_port = 80, .seq = syn.seq + 1,
                                .ack = 5001, .flags = A, .wnd = 64240};
    os_tcp_expect(&o, &want, 0, NULL);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    ck_assert(us_sock_poll(o.st, fd) & US_POLLOUT);
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(o.st, fd, &ti), 0);
    ck_assert_uint_eq(ti.mss_snd, 1000);
    ck_assert_uint_eq(ti.snd_wnd, 20000);
    ck_assert(!ti.ts && !ti.wscale && ti.sack);
    struct us_sockaddr pn;
    ck_assert_int_eq(us_getpeername(o.st, fd, &pn), 0);
    ck_assert_uint_eq(pn.port, 80);
    /* a retransmitted SYN-ACK is answered with an ACK (old duplicate, 3.10.7.4 first) */
    os_tcp_send(&o, &sa);
    os_tcp_expect(&o, &want, 0, NULL);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(active_refused)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    struct us_tcp_repr rst = {.src_port = 80, .dst_port = syn.src_port, .seq = 0,
                              .ack = syn.seq + 1, .flags = R, .wnd = 0};
    /* RST without ACK in SYN-SENT: ignored (3.10.7.3 second) */
    os_tcp_send(&o, &rst);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    /* RST+ACK that does not acknowledge our SYN: ignored, no RST for a RST */
    rst.flags = R | A;
    rst.ack = syn.seq + 7;
    os_tcp_send(&o, &rst);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_ACK), 1);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the real refusal */
    rst.ack = syn.seq + 1;
    os_tcp_send(&o, &rst);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    int m = us_sock_poll(o.st, fd);
    ck_assert(m & US_POLLERR);
    ck_assert(m & US_POLLHUP);
    char buf[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, 4, 0, NULL, NULL, o.now), -ECONNREFUSED);
    ck_assert_int_eq(us_sock_error(o.st, fd), 0);
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, 4, 0, NULL, NULL, o.now), 0);
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EISCONN);
    /* and with us_sock_error on a second socket */
    int fd2 = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_connect(o.st, fd2, &to, o.now), -EINPROGRESS);
    os_tcp_pop(&o, &syn);
    rst.dst_port = syn.src_port;
    rst.ack = syn.seq + 1;
    os_tcp_send(&o, &rst);
    ck_assert_int_eq(us_sock_error(o.st, fd2), ECONNREFUSED);
    ck_assert_int_eq(us_sock_error(o.st, fd2), 0);
    us_close(o.st, fd, o.now);
    us_close(o.st, fd2, o.now);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(active_bad_synack)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    /* SEG.ACK =< ISS or > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, stay in SYN-SENT */
    uint32_t bad[] = {syn.seq + 2, syn.seq, syn.seq - 100};
    for (size_t i = 0; i < 3; i++) {
        struct us_tcp_repr sa = {.src_port = 80, .dst_port = syn.src_port, .seq = 5000,
                                 .ack = bad[i], .flags = S | A, .wnd = 1000};
        os_tcp_send(&o, &sa);
        struct us_tcp_repr want = {.src_port = syn.src_port, .dst_port = 80, .seq = bad[i],
                                   .flags = R};
        os_tcp_expect(&o, &want, 0, NULL);
        ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    }
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_ACK), 3);
    /* a SYN-ACK that is right still completes it */
    struct us_tcp_repr sa = {.src_port = 80, .dst_port = syn.src_port, .seq = 5000,
                             .ack = syn.seq + 1, .flags = S | A, .wnd = 1000};
    os_tcp_send(&o, &sa);
    struct us_tcp_repr ack;
    os_tcp_pop(&o, &ack);
    ck_assert_uint_eq(ack.flags, A);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(simultaneous_open)
{
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    struct os_tcp t = {.port = syn.src_port, .pport = 80, .seq = 5000, .ack = syn.seq + 1,
                       .wnd = 30000};
    /* the peer's own SYN crosses ours: SYN-RECEIVED, SYN-ACK from our ISS */
    struct us_tcp_repr psyn = os_tcp_seg(&t, S);
    psyn.has_mss = true;
    psyn.mss = 1200;
    os_tcp_send(&o, &psyn);
    t.seq++;
    struct us_tcp_repr want = {.src_port = t.port, .dst_port = 80, .seq = syn.seq, .ack = 5001,
                               .flags = S | A, .wnd = 64240, .has_mss = true, .mss = 1460};
    os_tcp_expect(&o, &want, 0, NULL);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-RECEIVED");
    ck_assert_int_eq(us_sock_poll(o.st, fd) & US_POLLOUT, 0);
    /* the peer's ACK of our SYN completes it */
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    ck_assert(us_sock_poll(o.st, fd) & US_POLLOUT);
    struct us_tcp_info ti;
    us_tcp_get_info(o.st, fd, &ti);
    ck_assert_uint_eq(ti.mss_snd, 1200);
    ck_assert_uint_eq(ti.snd_wnd, 30000);
    /* data flows */
    ck_assert_int_eq(us_sendto(o.st, fd, "hi", 2, 0, NULL, o.now), 2);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 2);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_backoff_timeout)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_syn_retries = 3;
    struct onestack o;
    os_start(&o, &cfg);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    /* RFC 6298 5.5: 1 s, 2 s, 4 s; after tcp_syn_retries retransmissions, 8 s more: give up */
    us_time_t gaps[] = {US_SEC(1), US_SEC(2), US_SEC(4)};
    for (size_t i = 0; i < 3; i++) {
        os_advance(&o, gaps[i] - US_MSEC(1));
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
        os_advance(&o, US_MSEC(1));
        os_tcp_expect(&o, &syn, OS_IGN_TS, NULL);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
    }
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_RTO), 3);
    os_advance(&o, US_SEC(8) - US_MSEC(1));
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    os_advance(&o, US_MSEC(1));
    ck_assert_uint_eq(os_tcp_pending(&o), 0); /* no RST for an unanswered SYN */
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    ck_assert(us_sock_poll(o.st, fd) & US_POLLERR);
    ck_assert_int_eq(us_sock_error(o.st, fd), ETIMEDOUT);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_TIMEOUTS), 1);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(synack_backoff_timeout)
{
    /* SYN-RECEIVED retransmits its SYN-ACK the same way and then forgets the embryo */
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.tcp_synack_retries = 2;
    struct onestack o;
    os_start(&o, &cfg);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_tx(&o, &t, S, NULL, 0);
    struct us_tcp_repr sa;
    os_tcp_rx(&o, &t, &sa);
    os_advance(&o, US_SEC(1));
    os_tcp_expect(&o, &sa, 0, NULL);
    os_advance(&o, US_SEC(2));
    os_tcp_expect(&o, &sa, 0, NULL);
    os_advance(&o, US_SEC(4) - 1);
    check_state(&o, -1, &t, "SYN-RECEIVED");
    os_advance(&o, 1);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    check_state(&o, -1, &t, "");
    ck_assert_int_eq(us_accept(o.st, l, NULL), -EAGAIN);
    us_close(o.st, l, o.now);
    os_tcp_finish(&o);
}
END_TEST

/* ---- closing --------------------------------------------------------------------------------- */

START_TEST(active_close)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-1");
    ck_assert_int_eq(us_sendto(o.st, fd, "x", 1, 0, NULL, o.now), -EPIPE);
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-2");
    /* with a descriptor FIN-WAIT-2 waits for the peer as long as it takes */
    os_advance(&o, US_SEC(200));
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-2");
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 4, 0, NULL, NULL, o.now), 0);
    os_advance(&o, US_SEC(60) - 1);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    os_advance(&o, 1);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    ck_assert_int_eq(us_sock_error(o.st, fd), 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    us_close(o.st, fd, o.now);
    os_tcp_finish(&o);
}
END_TEST

/* The peer's answer and FIN came while we sat in FIN-WAIT-2, and its RST (to our second ACK of a
 * FIN it retransmitted) before the reader: the RST ends TIME-WAIT, but the answer, acknowledged
 * already, is still read, then end-of-file, no error (Linux keeps it in the socket too). */
START_TEST(time_wait_rst_keeps_data)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, A | P, "answer", 6);
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    struct us_tcp_repr r;
    while (os_tcp_pending(&o))
        os_tcp_pop(&o, &r);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    t.seq--; /* the FIN again, answered with an ACK, which draws the peer's RST */
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED");
    char b[16];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), 6);
    ck_assert_mem_eq(b, "answer", 6);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), 0);
    ck_assert_int_eq(us_sock_error(o.st, fd), 0);
    us_close(o.st, fd, o.now);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(active_close_orphan)
{
    /* close() instead of shutdown: the orphan goes the same way; TIME-WAIT lasts 2*MSL */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "FIN-WAIT-1");
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "FIN-WAIT-2");
    os_advance(&o, US_SEC(10));
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, US_SEC(60) - 1);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, 1);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

/* An active close with every option: close(), the peer ACKs our FIN with its own (FIN-WAIT-1
 * straight to TIME-WAIT), we ACK: an orphan in TIME-WAIT. */
static void
orphan_time_wait(struct onestack *o, struct os_tcp *t)
{
    int fd = os_tcp_open_active(o, 80, OS_OPT_ALL, t);
    us_close(o->st, fd, o->now);
    os_tcp_rx_expect(o, t, F | A, t->ack, t->seq, 0);
    t->ack++;
    os_tcp_tx(o, t, F | A, NULL, 0);
    os_tcp_rx_expect(o, t, A, t->ack, t->seq, 0);
}

START_TEST(time_wait_record)
{
    /* An orphan in TIME-WAIT keeps no control block, only a compact record (tcp_tw.c) that
     * answers like the block did: a retransmitted FIN gets its ACK and restarts 2*MSL, the local
     * port stays taken for bind() without SO_REUSEADDR, and netstat still lists it. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    orphan_time_wait(&o, &t);
    check_state(&o, -1, &t, "TIME-WAIT");
    ck_assert_uint_eq(o.st->tcp->n_live, 0);
    ck_assert_uint_eq(o.st->tcp->tw_count, 1);

    int b = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr me = {0, t.port};
    ck_assert_int_eq(us_bind(o.st, b, &me), -EADDRINUSE);

    os_advance(&o, US_SEC(40));
    t.seq--; /* the peer did not hear our ACK: its FIN again */
    t.ts_val += 40000;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "TIME-WAIT");
    ck_assert_uint_eq(o.st->tcp->n_live, 1); /* the socket `b` only: the record is back */
    ck_assert_uint_eq(o.st->tcp->tw_count, 1);
    os_advance(&o, US_SEC(60) - 1); /* 2*MSL from the second FIN, not the first */
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, 1);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(o.st->tcp->tw_count, 0);
    ck_assert_int_eq(us_bind(o.st, b, &me), 0);
    us_close(o.st, b, o.now);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(time_wait_record_old_segment)
{
    /* The record enforces PAWS (RFC 7323 5.3) and the window like the block: an old duplicate
     * is answered by an ACK and leaves the record as it was; a RST with the exact sequence
     * number ends it (RFC 9293 3.10.7.4; Linux too, tcp_rfc1337 = 0). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    orphan_time_wait(&o, &t);
    os_advance(&o, US_SEC(1));
    uint64_t paws = us_drop_get(o.st, US_DROP_TCP_PAWS);
    struct us_tcp_repr old = os_tcp_seg(&t, A);
    old.seq -= 100;
    old.ts_val -= 1000; /* older than ts_recent */
    os_tcp_send(&o, &old);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_PAWS), paws + 1);
    ck_assert_uint_eq(o.st->tcp->tw_count, 1);
    ck_assert_uint_eq(o.st->tcp->n_live, 0);
    os_tcp_tx(&o, &t, R, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(o.st->tcp->tw_count, 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(orphan_fin_wait_2_timeout)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "FIN-WAIT-2");
    os_advance(&o, US_SEC(60) - 1); /* tcp_fin_timeout */
    check_state(&o, -1, &t, "FIN-WAIT-2");
    os_advance(&o, 1);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(fin_ack_together)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    /* FIN-WAIT-1: a FIN that also acknowledges ours goes straight to TIME-WAIT */
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    us_close(o.st, fd, o.now);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, US_SEC(60));
    check_state(&o, -1, &t, "");
    os_tcp_finish(&o);
}
END_TEST

START_TEST(passive_close)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int l;
    int fd = os_tcp_open_passive(&o, 80, OS_OPT_MSS, &t, &l);
    us_close(o.st, l, o.now);
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0); /* a FIN is acknowledged at once */
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSE-WAIT");
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 4, 0, NULL, NULL, o.now), 0);
    ck_assert(us_sock_poll(o.st, fd) & US_POLLIN);
    /* we may still send */
    ck_assert_int_eq(us_sendto(o.st, fd, "bye", 3, 0, NULL, o.now), 3);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 3);
    t.ack += 3;
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "LAST-ACK");
    /* an ACK of the data only changes nothing */
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "LAST-ACK");
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(last_ack_retransmit)
{
    /* LAST-ACK: the FIN is retransmitted on the RTO until acknowledged */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int l;
    int fd = os_tcp_open_passive(&o, 80, OS_OPT_MSS, &t, &l);
    us_close(o.st, l, o.now);
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    os_advance(&o, US_SEC(1));
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "");
    os_tcp_finish(&o);
}
END_TEST

START_TEST(simultaneous_close)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    /* the peer's FIN crosses ours (it has not seen ours yet) */
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack + 1, t.seq, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSING");
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    us_close(o.st, fd, o.now);
    os_advance(&o, US_SEC(60));
    check_state(&o, -1, &t, "");
    os_tcp_finish(&o);
}
END_TEST

START_TEST(half_close)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int l;
    int fd = os_tcp_open_passive(&o, 80, OS_OPT_MSS, &t, &l);
    us_close(o.st, l, o.now);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-2");
    /* the peer keeps sending: delivered, ACKed after the delayed-ACK time */
    os_tcp_tx(&o, &t, A | P, "more", 4);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 4);
    ck_assert_mem_eq(b, "more", 4);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), -EAGAIN);
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    us_close(o.st, fd, o.now);
    os_advance(&o, US_SEC(60));
    os_tcp_finish(&o);
}
END_TEST

START_TEST(half_close_fin_wait_1_data)
{
    /* data in FIN-WAIT-1, before our FIN is acknowledged, is delivered too */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    os_tcp_tx(&o, &t, A | P, "abc", 3); /* acks only up to our FIN */
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-1");
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack + 1, t.seq, 0);
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 3);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, R | A, t.ack + 1, t.seq, 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(linger_zero_rst)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_sendto(o.st, fd, "unsent?", 7, 0, NULL, o.now), 7);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 7);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_LINGER, 0), 0);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, R | A, t.ack + 7, t.seq, 0);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* the peer's next segment meets no connection */
    t.ack += 7;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, R, t.ack, 0, 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(close_unread_rst)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    os_tcp_tx(&o, &t, A | P, "unread", 6);
    us_close(o.st, fd, o.now); /* RFC 1122 4.2.2.13: unread data -> RST */
    os_tcp_rx_expect(&o, &t, R | A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(time_wait_fin_retransmitted)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, US_SEC(30));
    /* our ACK was lost: the FIN comes again; re-ACK and restart 2*MSL (RFC 9293 3.10.7.4) */
    t.seq--;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    os_advance(&o, US_SEC(60) - 1);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, 1);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}
END_TEST

static void
time_wait_reopen_case(unsigned opts)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int l;
    int fd = os_tcp_open_passive(&o, 80, opts, &t, &l);
    us_close(o.st, fd, o.now); /* we close first: TIME-WAIT is ours */
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    t.ts_val++;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_advance(&o, US_SEC(5));
    /* an old-looking SYN (not beyond) is answered as a duplicate: ACK */
    struct os_tcp old = t;
    old.seq = t.seq - 10;
    struct us_tcp_repr s = os_tcp_seg(&old, S);
    if (opts & OS_OPT_TS)
        s.ts_val = t.ts_val - 1;
    os_tcp_send(&o, &s);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, A);
    check_state(&o, -1, &t, "TIME-WAIT");
    /* a new SYN with a higher sequence number (or timestamp) reopens the 4-tuple */
    struct os_tcp nt = t;
    nt.seq = t.seq + 100000;
    nt.ts_val = t.ts_val + 5000;
    s = os_tcp_seg(&nt, S);
    s.ack = 0;
    s.has_mss = true;
    s.mss = 1460;
    os_tcp_send(&o, &s);
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, S | A);
    ck_assert_uint_eq(r.ack, nt.seq + 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_TW_REOPEN), 1);
    check_state(&o, -1, &t, "SYN-RECEIVED");
    us_close(o.st, l, o.now);
    check_state(&o, -1, &t, "");
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_tcp_finish(&o);
}

START_TEST(time_wait_reopen)
{
    time_wait_reopen_case(OS_OPT_MSS);
    time_wait_reopen_case(OS_OPT_MSS | OS_OPT_TS);
}
END_TEST

START_TEST(time_wait_no_listener)
{
    /* without a listener a new SYN in TIME-WAIT gets the TIME-WAIT answer (an ACK) */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    struct os_tcp nt = t;
    nt.seq += 100000;
    struct us_tcp_repr s = os_tcp_seg(&nt, S);
    os_tcp_send(&o, &s);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, A);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_tcp_finish(&o);
}
END_TEST

START_TEST(handshake_ack_with_data)
{
    /* the third segment of the handshake may carry data: delivered once ESTABLISHED */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(&o, &t, S, 0, S | A, NULL);
    os_tcp_tx(&o, &t, A | P, "GET", 3);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 3);
    ck_assert_mem_eq(b, "GET", 3);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t, A, t.ack, 1004, 0);
    us_close(o.st, l, o.now);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(fin_with_data)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    os_tcp_tx(&o, &t, F | A | P, "bye", 3);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0); /* covers the data and the FIN, at once */
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSE-WAIT");
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 3);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 0);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, A, NULL, 0);
    check_state(&o, -1, &t, "");
    os_tcp_finish(&o);
}
END_TEST

START_TEST(out_of_order_fin)
{
    /* RFC 9293 3.10.7.4 eighth: a FIN beyond a hole is kept with its data; it draws an
     * immediate duplicate ACK (RFC 5681 4.2), and the segment that fills the hole draws the ACK
     * of data and FIN at once: the peer need not send the FIN again. Nothing is readable, and
     * no end of stream shows, before the hole fills. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    uint32_t base = t.seq;
    t.seq = base + 3;
    os_tcp_tx(&o, &t, F | A, "def", 3);
    os_tcp_rx_expect(&o, &t, A, t.ack, base, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), -EAGAIN);
    t.seq = base;
    os_tcp_tx(&o, &t, A, "abc", 3);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 7, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSE-WAIT");
    /* The FIN sent again anyway is an old duplicate now: ACKed, nothing changes. */
    t.seq = base + 3;
    os_tcp_tx(&o, &t, F | A, "def", 3);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 7, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSE-WAIT");
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 6);
    ck_assert_mem_eq(b, "abcdef", 6);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 0);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(out_of_order_bare_fin)
{
    /* A bare FIN beyond a hole: the duplicate ACK goes at once; data beyond the FIN is not the
     * stream's; the data filling the hole brings the FIN in order (FIN-WAIT-2 -> TIME-WAIT). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_WR, o.now), 0);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    uint32_t base = t.seq;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-2");
    t.seq = base + 5;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, base, 0);
    t.seq = base + 6; /* past the FIN: dropped, ACKed */
    os_tcp_tx(&o, &t, A, "zz", 2);
    os_tcp_rx_expect(&o, &t, A, t.ack, base, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "FIN-WAIT-2");
    t.seq = base;
    os_tcp_tx(&o, &t, A, "hello", 5);
    os_tcp_rx_expect(&o, &t, A, t.ack, base + 6, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "TIME-WAIT");
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 5);
    ck_assert_mem_eq(b, "hello", 5);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(fin_retransmitted_with_data)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_sendto(o.st, fd, "abc", 3, 0, NULL, o.now), 3);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 3);
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack + 3, t.seq, 0);
    /* nothing acknowledged: after the RTO (200 ms: the handshake measured RTT 0 on the virtual
     * clock) the data and the FIN go again, together */
    os_advance(&o, US_MSEC(200));
    os_tcp_rx_expect(&o, &t, F | A | P, t.ack, t.seq, 3);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack += 4;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    check_state(&o, -1, &t, "TIME-WAIT");
    os_tcp_finish(&o);
}
END_TEST

/* Brings a fresh active connection to `state`; returns the descriptor (or -1 if closed). */
static int
conn_in_state(struct onestack *o, struct os_tcp *t, const char *state)
{
    int fd = os_tcp_open_active(o, 80, OS_OPT_MSS, t);
    if (!strcmp(state, "ESTABLISHED"))
        return fd;
    if (!strcmp(state, "CLOSE-WAIT") || !strcmp(state, "LAST-ACK")) {
        os_tcp_tx(o, t, F | A, NULL, 0);
        os_tcp_rx_expect(o, t, A, t->ack, t->seq, 0);
        if (!strcmp(state, "LAST-ACK")) {
            us_close(o->st, fd, o->now);
            os_tcp_rx_expect(o, t, F | A, t->ack, t->seq, 0);
            return -1;
        }
        return fd;
    }
    ck_assert_int_eq(us_shutdown(o->st, fd, US_SHUT_WR, o->now), 0);
    os_tcp_rx_expect(o, t, F | A, t->ack, t->seq, 0);
    if (!strcmp(state, "FIN-WAIT-1"))
        return fd;
    if (!strcmp(state, "CLOSING")) {
        os_tcp_tx(o, t, F | A, NULL, 0);
        os_tcp_rx_expect(o, t, A, t->ack + 1, t->seq, 0);
        return fd;
    }
    t->ack++;
    os_tcp_tx(o, t, A, NULL, 0);
    if (!strcmp(state, "TIME-WAIT")) {
        os_tcp_tx(o, t, F | A, NULL, 0);
        os_tcp_rx_expect(o, t, A, t->ack, t->seq, 0);
    }
    return fd;
}

START_TEST(rst_in_each_state)
{
    static const struct {
        const char *state;
        int err;
    } cases[] = {{"ESTABLISHED", ECONNRESET}, {"FIN-WAIT-1", ECONNRESET},
                 {"FIN-WAIT-2", ECONNRESET},  {"CLOSE-WAIT", ECONNRESET},
                 {"CLOSING", 0},              {"LAST-ACK", 0},
                 {"TIME-WAIT", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct onestack o;
        os_start(&o, NULL);
        struct os_tcp t;
        int fd = conn_in_state(&o, &t, cases[i].state);
        ck_assert_str_eq(os_tcp_state(&o, fd, &t), cases[i].state);
        os_tcp_tx(&o, &t, R, NULL, 0);
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
        if (fd >= 0) {
            ck_assert_msg(!strcmp(us_tcp_state_name(os_sock_info(&o, fd).state), "CLOSED"), "%s: %s", cases[i].state,
                          us_tcp_state_name(os_sock_info(&o, fd).state));
            ck_assert_msg(us_sock_error(o.st, fd) == cases[i].err, "%s", cases[i].state);
            us_close(o.st, fd, o.now);
        } else {
            check_state(&o, -1, &t, "");
        }
        ck_assert_uint_eq(os_tcp_pending(&o), 0);
        os_tcp_finish(&o);
    }
}
END_TEST

START_TEST(simultaneous_open_synack)
{
    /* Both sides in SYN-RECEIVED: the peer's SYN-ACK repeats a SYN we already have, so it is
     * answered with an ACK (3.10.7.4 first) and dropped; the peer's ACK of our SYN-ACK then
     * completes the open. (Linux accepts that SYN-ACK directly; both converge.) */
    struct onestack o;
    os_start(&o, NULL);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr syn;
    os_tcp_pop(&o, &syn);
    struct os_tcp t = {.port = syn.src_port, .pport = 80, .seq = 5000, .ack = syn.seq + 1,
                       .wnd = 30000};
    os_tcp_tx(&o, &t, S, NULL, 0);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, S | A);
    t.seq = 5000;
    os_tcp_tx(&o, &t, S | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, 5001, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-RECEIVED");
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    ck_assert_int_eq(us_sock_error(o.st, fd), 0);
    us_setsockopt(o.st, fd, US_SO_LINGER, 0);
    us_close(o.st, fd, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(shutdown_read)
{
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_open_active(&o, 80, OS_OPT_MSS, &t);
    ck_assert_int_eq(us_shutdown(o.st, fd, US_SHUT_RD, o.now), 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 0);
    /* what arrives is acknowledged and discarded */
    os_tcp_tx(&o, &t, A | P, "ignored", 7);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, 8, 0, NULL, NULL, o.now), 0);
    ck_assert_uint_eq(os_sock_info(&o, fd).recv_q, 0);
    /* sending still works */
    ck_assert_int_eq(us_sendto(o.st, fd, "out", 3, 0, NULL, o.now), 3);
    os_tcp_rx_expect(&o, &t, A | P, t.ack, t.seq, 3);
    t.ack += 3;
    os_tcp_tx(&o, &t, A, NULL, 0);
    /* and close is orderly (nothing unread) */
    us_close(o.st, fd, o.now);
    os_tcp_rx_expect(&o, &t, F | A, t.ack, t.seq, 0);
    t.ack++;
    os_tcp_tx(&o, &t, F | A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, t.seq, 0);
    os_tcp_finish(&o);
}
END_TEST

/* ---- text on a SYN or a SYN-ACK (RFC 9293 3.10.7.2, 3.10.7.3) -------------------------------- */

/* The peer sends a SYN carrying `len` bytes; returns our SYN-ACK (checked: it acknowledges the
 * SYN only). t->seq is left after the SYN, t->ack after our SYN. */
static struct us_tcp_repr
syn_with_text(struct onestack *o, struct os_tcp *t, const void *text, size_t len)
{
    struct us_tcp_repr syn = os_tcp_seg(t, S);
    syn.has_mss = true;
    syn.mss = 1460;
    syn.payload = text;
    syn.payload_len = len;
    os_tcp_send(o, &syn);
    struct us_tcp_repr sa;
    os_tcp_rx(o, t, &sa);
    ck_assert_uint_eq(sa.flags, S | A);
    ck_assert_uint_eq(sa.ack, t->seq + 1); /* the text is not acknowledged yet */
    t->seq++;
    t->ack = sa.seq + 1;
    return sa;
}

static void
read_exactly(struct onestack *o, int fd, const void *want, size_t n)
{
    static uint8_t buf[8192];
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, NULL, NULL, o->now), (ssize_t)n);
    ck_assert_mem_eq(buf, want, n);
    ck_assert_int_eq(us_recvfrom(o->st, fd, buf, sizeof(buf), 0, NULL, NULL, o->now), -EAGAIN);
}

START_TEST(syn_text_queued)
{
    /* Text on a SYN is queued, not acknowledged by the SYN-ACK, and delivered (and acknowledged
     * at once) when the handshake completes, exactly once even when the peer sends it again. */
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    const size_t n = sizeof(req) - 1;
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    syn_with_text(&o, &t, req, n);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYN_DATA), 1);
    ck_assert_int_eq(us_accept(o.st, l, NULL), -EAGAIN);
    /* the handshake's ACK, from SND.NXT after the text as an RFC 9293 peer sends it */
    t.seq += (uint32_t)n;
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, 1001 + n, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    ck_assert(us_sock_poll(o.st, fd) & US_POLLIN);
    ck_assert_uint_eq(os_sock_info(&o, fd).recv_q, n);
    read_exactly(&o, fd, req, n);
    /* a peer that resends it anyway: a duplicate, acknowledged, not delivered again */
    t.seq = 1001;
    os_tcp_tx(&o, &t, A | P, req, n);
    os_tcp_rx_expect(&o, &t, A, t.ack, 1001 + n, 0);
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), -EAGAIN);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_text_resent_on_handshake_ack)
{
    /* The handshake's ACK repeats the SYN's text and adds more (a Linux-like peer resending what
     * the SYN-ACK did not cover): the queued bytes count once, the new ones follow. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    syn_with_text(&o, &t, "abc", 3);
    os_tcp_tx(&o, &t, A | P, "abcdef", 6);
    os_tcp_rx_expect(&o, &t, A, t.ack, 1007, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    read_exactly(&o, fd, "abcdef", 6);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_text_over_mss)
{
    /* At most one MSS of a SYN's text is kept; the rest is neither kept nor acknowledged, and
     * arrives again after the handshake. */
    static uint8_t big[3000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 13 + 1);
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    syn_with_text(&o, &t, big, sizeof(big));
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, 1001 + 1460, 0); /* our MSS: 1500 - 40 */
    t.seq = 1001 + 1460;
    os_tcp_tx(&o, &t, A | P, big + 1460, sizeof(big) - 1460);
    os_advance(&o, US_MSEC(40)); /* one segment: the delayed ACK */
    os_tcp_rx_expect(&o, &t, A, t.ack, 1001 + sizeof(big), 0);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    read_exactly(&o, fd, big, sizeof(big));
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_text_cookie_not_kept)
{
    /* SYN cookies keep no state, so a SYN's text is neither kept nor acknowledged; the peer's
     * resend after the handshake is delivered once. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 1);
    struct os_tcp t1 = {.port = 80, .pport = 40001, .seq = 1000, .wnd = 65535};
    syn_with_text(&o, &t1, NULL, 0); /* fills the SYN queue */
    struct os_tcp t2 = {.port = 80, .pport = 40002, .seq = 7000, .wnd = 65535};
    syn_with_text(&o, &t2, "hello", 5);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYNCOOKIES_SENT), 1);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYN_DATA), 0);
    os_tcp_tx(&o, &t2, A | P, "hello", 5);
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_SYNCOOKIES_OK), 1);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    read_exactly(&o, fd, "hello", 5);
    os_advance(&o, US_MSEC(40));
    os_tcp_rx_expect(&o, &t2, A, t2.ack, 7006, 0); /* delayed ACK covers the 5 bytes */
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(synack_text_delivered)
{
    /* Text on a SYN-ACK (a Fast Open server's answer): processed at once (3.10.7.3 "continue at
     * the sixth step"), acknowledged by the one ACK that completes the handshake. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_connect(&o, -1, 80, 65535, &t, NULL);
    os_tcp_tx(&o, &t, S | A | P, "welcome", 7);
    os_tcp_rx_expect(&o, &t, A, t.ack, 5008, 0);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    ck_assert(us_sock_poll(o.st, fd) & US_POLLIN);
    read_exactly(&o, fd, "welcome", 7);
    /* the SYN-ACK again: an old duplicate, answered with the same ACK, nothing delivered */
    t.seq = 5000;
    os_tcp_tx(&o, &t, S | A | P, "welcome", 7);
    os_tcp_rx_expect(&o, &t, A, t.ack, 5008, 0);
    char b[4];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), -EAGAIN);
    /* and the stream goes on after it */
    os_tcp_tx(&o, &t, A | P, "!", 1);
    read_exactly(&o, fd, "!", 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(synack_text_past_window)
{
    /* Only what fits the window our SYN offered is taken (and acknowledged); the peer sends
     * the rest when the window opens. */
    static uint8_t big[3000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 3);
    struct onestack o;
    os_start(&o, NULL);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_SO_RCVBUF, 2920), 0);
    struct os_tcp t;
    struct us_tcp_repr syn;
    os_tcp_connect(&o, fd, 80, 65535, &t, &syn);
    ck_assert_uint_eq(syn.wnd, 2920); /* two whole segments */
    os_tcp_tx(&o, &t, S | A, big, sizeof(big));
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, A);
    ck_assert_uint_eq(r.ack, 5001 + 2920);
    ck_assert_uint_eq(r.wnd, 0); /* full */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    static uint8_t got[4096];
    ck_assert_int_eq(us_recvfrom(o.st, fd, got, sizeof(got), 0, NULL, NULL, o.now), 2920);
    ck_assert_mem_eq(got, big, 2920);
    os_tcp_rx_expect(&o, &t, A, t.ack, 5001 + 2920, 0); /* window update */
    t.seq = 5001 + 2920;
    os_tcp_tx(&o, &t, A | P, big + 2920, sizeof(big) - 2920);
    read_exactly(&o, fd, big + 2920, sizeof(big) - 2920);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(simultaneous_open_syn_text)
{
    /* A simultaneous open whose crossing SYN carries text: queued in SYN-RECEIVED (3.10.7.3
     * "queue them for processing after the ESTABLISHED state has been reached"). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = os_tcp_connect(&o, -1, 80, 30000, &t, NULL);
    os_tcp_tx(&o, &t, S, "xyz", 3);
    struct us_tcp_repr r;
    os_tcp_rx(&o, &t, &r);
    ck_assert_uint_eq(r.flags, S | A);
    ck_assert_uint_eq(r.ack, 5001);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-RECEIVED");
    char b[8];
    ck_assert_int_eq(us_recvfrom(o.st, fd, b, sizeof(b), 0, NULL, NULL, o.now), -EAGAIN);
    os_tcp_tx(&o, &t, A, NULL, 0);
    os_tcp_rx_expect(&o, &t, A, t.ack, 5004, 0);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "ESTABLISHED");
    read_exactly(&o, fd, "xyz", 3);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_fin_dropped)
{
    /* DEVIATION(RFC 9293 3.10.7.2/3): a FIN on a SYN or SYN-ACK drops the whole segment, counted,
     * as Linux does in LISTEN. Nothing of it is acknowledged, so nothing is lost. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 4);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_tx(&o, &t, S | F, "bye", 3);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_FLAGS), 1);
    ck_assert_str_eq(os_tcp_state(&o, -1, &t), "");
    ck_assert_uint_eq(us_stat_get(o.st, US_STAT_TCP_PASSIVE_OPENS), 0);
    us_close(o.st, l, o.now);
    /* on a SYN-ACK: dropped the same way; still SYN-SENT, nothing acknowledged */
    struct os_tcp t2;
    int fd = os_tcp_connect(&o, -1, 80, 65535, &t2, NULL);
    os_tcp_tx(&o, &t2, S | A | F, "bye", 3);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_TCP_BAD_FLAGS), 2);
    ck_assert_str_eq(us_tcp_state_name(os_sock_info(&o, fd).state), "SYN-SENT");
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("tcp_state");
    TCase *tc = tcase_create("open");
    tcase_add_test(tc, passive_open_options);
    tcase_add_test(tc, passive_rst_forgets);
    tcase_add_test(tc, passive_dup_syn);
    tcase_add_test(tc, syn_received_bad_ack);
    tcase_add_test(tc, closed_port_rst);
    tcase_add_test(tc, listener_segments);
    tcase_add_test(tc, listener_close_rst_timestamp);
    tcase_add_test(tc, active_open);
    tcase_add_test(tc, active_refused);
    tcase_add_test(tc, active_bad_synack);
    tcase_add_test(tc, simultaneous_open);
    tcase_add_test(tc, syn_backoff_timeout);
    tcase_add_test(tc, synack_backoff_timeout);
    tcase_add_test(tc, handshake_ack_with_data);
    tcase_add_test(tc, simultaneous_open_synack);
    suite_add_tcase(s, tc);
    tc = tcase_create("syn text");
    tcase_add_test(tc, syn_text_queued);
    tcase_add_test(tc, syn_text_resent_on_handshake_ack);
    tcase_add_test(tc, syn_text_over_mss);
    tcase_add_test(tc, syn_text_cookie_not_kept);
    tcase_add_test(tc, synack_text_delivered);
    tcase_add_test(tc, synack_text_past_window);
    tcase_add_test(tc, simultaneous_open_syn_text);
    tcase_add_test(tc, syn_fin_dropped);
    suite_add_tcase(s, tc);

    tc = tcase_create("close");
    tcase_add_test(tc, active_close);
    tcase_add_test(tc, time_wait_rst_keeps_data);
    tcase_add_test(tc, active_close_orphan);
    tcase_add_test(tc, time_wait_record);
    tcase_add_test(tc, time_wait_record_old_segment);
    tcase_add_test(tc, orphan_fin_wait_2_timeout);
    tcase_add_test(tc, fin_ack_together);
    tcase_add_test(tc, passive_close);
    tcase_add_test(tc, last_ack_retransmit);
    tcase_add_test(tc, simultaneous_close);
    tcase_add_test(tc, half_close);
    tcase_add_test(tc, half_close_fin_wait_1_data);
    tcase_add_test(tc, linger_zero_rst);
    tcase_add_test(tc, close_unread_rst);
    tcase_add_test(tc, time_wait_fin_retransmitted);
    tcase_add_test(tc, time_wait_reopen);
    tcase_add_test(tc, time_wait_no_listener);
    tcase_add_test(tc, fin_with_data);
    tcase_add_test(tc, out_of_order_fin);
    tcase_add_test(tc, out_of_order_bare_fin);
    tcase_add_test(tc, fin_retransmitted_with_data);
    tcase_add_test(tc, rst_in_each_state);
    tcase_add_test(tc, shutdown_read);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
