/* RFC 3168 ECN on one stack and a virtual clock: negotiation in both roles (6.1.1), the SYN sent
 * again without ECN after a timeout (6.1.1.1), ECT(0) on new data only (6.1.2, 6.1.5), CE ->
 * ECE until CWR (6.1.3), one window reduction per window for ECE and CWR after it (6.1.2), SYN
 * cookies keeping ECN, and the reassembly rules (5.3). The ECN field of every segment the stack
 * sends is read from the IP header it wrote. */
#include <errno.h>
#include <string.h>

#include "core/drop.h"
#include "lib/onestack.h"
#include "lib/testutil.h"

#define S US_TCP_SYN
#define A US_TCP_ACK
#define P US_TCP_PSH
#define E US_TCP_ECE
#define W US_TCP_CWR

static uint8_t data[65536];

static void
fill_data(void)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
}

/* The ECN field of the segment os_tcp_pop / os_tcp_rx took last. */
static unsigned
last_ecn(const struct onestack *o)
{
    ck_assert_uint_gt(o->taken, 0);
    return o->out[o->taken - 1].b[US_ETH_HDR_LEN + 1] & US_IP_ECN_MASK;
}

/* Pops the next segment and asserts its TCP flags and ECN field. */
static struct us_tcp_repr
rx_ecn(struct onestack *o, struct os_tcp *t, uint8_t flags, unsigned ecn)
{
    struct us_tcp_repr r;
    os_tcp_rx(o, t, &r);
    char b[96];
    ck_assert_msg(r.flags == flags, "got %s flags 0x%x, want 0x%x", os_tcp_str(&r, b, sizeof(b)),
                  (unsigned)r.flags, (unsigned)flags);
    ck_assert_msg(last_ecn(o) == ecn, "segment %s: ECN field %u, want %u",
                  os_tcp_str(&r, b, sizeof(b)), last_ecn(o), ecn);
    return r;
}

/* Sends a peer segment with the given IP ECN field; advances t->seq. */
static void
tx_ecn(struct onestack *o, struct os_tcp *t, uint8_t flags, const void *d, size_t len,
       unsigned ecn)
{
    static uint8_t f[OS_MAX_FRAME];
    struct us_tcp_repr r = os_tcp_seg(t, flags);
    r.payload = d;
    r.payload_len = len;
    size_t n = os_build_tcp(f, OS_PEER_IP, OS_IP, &r);
    f[US_ETH_HDR_LEN + 1] = (uint8_t)((f[US_ETH_HDR_LEN + 1] & ~US_IP_ECN_MASK) | ecn);
    os_fix_ip_csum(f);
    t->seq += (uint32_t)len;
    os_input(o, f, n);
}

static uint64_t
stat(struct onestack *o, enum us_stat s)
{
    return us_stat_get(o->st, s);
}

static struct us_config
cfg_ecn(unsigned mode)
{
    struct us_config c;
    us_config_default(&c);
    c.tcp_ecn = mode;
    return c;
}

/* The peer (port 40000, ISN 1000, MSS 1460 and SACK) opens a connection to port 80 with a SYN
 * carrying syn_flags (ECE, CWR or both on top of SYN); the SYN-ACK must carry want_synack.
 * Returns the accepted descriptor; the listener is closed. */
static int
open_passive(struct onestack *o, struct os_tcp *t, uint8_t syn_flags, uint8_t want_synack)
{
    int l = os_tcp_listen(o, 80, 8);
    *t = (struct os_tcp){.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(o, t, S | syn_flags, OS_OPT_MSS | OS_OPT_SACK, want_synack, NULL);
    ck_assert_uint_eq(last_ecn(o), US_IP_ECN_NOT_ECT); /* 6.1.1: never ECT */
    os_tcp_tx(o, t, A, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(o), 0);
    int fd = us_accept(o->st, l, NULL);
    ck_assert_int_ge(fd, 0);
    us_close(o->st, l, o->now);
    ck_assert_int_eq(us_setsockopt(o->st, fd, US_TCP_NODELAY, 1), 0);
    return fd;
}

/* The stack connects to peer:80 and its SYN must carry want_syn; the peer answers with a SYN-ACK
 * carrying synack_flags (MSS 1460, SACK). */
static int
open_active(struct onestack *o, struct os_tcp *t, uint8_t want_syn, uint8_t synack_flags)
{
    os_learn(o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o->st, US_SOCK_STREAM);
    ck_assert_int_ge(fd, 0);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o->st, fd, &to, o->now), -EINPROGRESS);
    *t = (struct os_tcp){.pport = 80, .seq = 5000, .wnd = 65535};
    struct us_tcp_repr s;
    os_tcp_pop(o, &s);
    t->port = s.src_port;
    t->ack = s.seq + 1;
    ck_assert_uint_eq(s.flags, want_syn);
    ck_assert_uint_eq(last_ecn(o), US_IP_ECN_NOT_ECT);
    os_tcp_synack(o, t, synack_flags, OS_OPT_MSS | OS_OPT_SACK, &s, NULL);
    ck_assert_uint_eq(last_ecn(o), US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(os_tcp_pending(o), 0);
    ck_assert_int_eq(us_setsockopt(o->st, fd, US_TCP_NODELAY, 1), 0);
    return fd;
}

static struct us_tcp_info
info(struct onestack *o, int fd)
{
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(o->st, fd, &ti), 0);
    return ti;
}

/* Sends n bytes and expects them as one segment with the given flags and ECN field. */
static void
send_expect(struct onestack *o, struct os_tcp *t, int fd, size_t off, size_t n, uint8_t flags,
            unsigned ecn)
{
    ck_assert_int_eq(us_sendto(o->st, fd, data + off, n, 0, NULL, o->now), (ssize_t)n);
    struct us_tcp_repr r = rx_ecn(o, t, flags, ecn);
    ck_assert_uint_eq(r.payload_len, n);
}

/* Sends n full segments at once (cwnd allows ten) and takes them, each with the given ECN
 * field; returns the sequence number of the first. */
static uint32_t
send_window(struct onestack *o, struct os_tcp *t, int fd, uint32_t n, unsigned ecn)
{
    uint32_t mss = info(o, fd).mss_snd;
    ck_assert_int_eq(us_sendto(o->st, fd, data, n * mss, 0, NULL, o->now), (ssize_t)(n * mss));
    for (uint32_t i = 0; i < n; i++)
        rx_ecn(o, t, i == n - 1 ? A | P : A, ecn);
    return t->ack;
}

/* ---- negotiation ----------------------------------------------------------------------------- */

START_TEST(passive_negotiated)
{
    /* The default (2, as Linux): an ECN-setup SYN gets an ECN-setup SYN-ACK (ECE, not CWR);
     * data then goes out ECT(0), pure ACKs not-ECT. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, E | W, S | A | E);
    ck_assert(info(&o, fd).ecn);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_NEGOTIATED), 1);
    ck_assert_str_eq(os_tcp_state(&o, fd, &t), "ESTABLISHED");
    send_expect(&o, &t, fd, 0, 100, A | P, US_IP_ECN_ECT0);
    t.ack += 100;
    os_tcp_tx(&o, &t, A | P, data, 100);
    os_advance(&o, US_MSEC(40));
    rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT); /* the delayed ACK */
    struct us_sock_info si = os_sock_info(&o, fd);
    ck_assert(si.tcp.ecn);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(passive_refused)
{
    /* 6.1.1: a SYN with only one of ECE and CWR is no ECN-setup SYN; nor does a stack with ECN
     * off answer one: a plain SYN-ACK and not-ECT data. */
    static const struct {
        unsigned mode;
        uint8_t syn;
    } cases[] = {{US_TCP_ECN_PASSIVE, E}, {US_TCP_ECN_PASSIVE, W}, {US_TCP_ECN_PASSIVE, 0},
                 {US_TCP_ECN_OFF, E | W}};
    for (size_t i = 0; i < US_ARRAY_LEN(cases); i++) {
        struct onestack o;
        struct us_config c = cfg_ecn(cases[i].mode);
        os_start(&o, &c);
        struct os_tcp t;
        int fd = open_passive(&o, &t, cases[i].syn, S | A);
        ck_assert(!info(&o, fd).ecn);
        send_expect(&o, &t, fd, 0, 100, A | P, US_IP_ECN_NOT_ECT);
        ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_NEGOTIATED), 0);
        os_tcp_abort(&o, fd);
        os_tcp_finish(&o);
    }
}
END_TEST

START_TEST(active_negotiated)
{
    /* tcp_ecn = 1: the SYN asks (ECE and CWR), an ECN-setup SYN-ACK (ECE only) agrees. */
    struct onestack o;
    struct us_config c = cfg_ecn(US_TCP_ECN_ON);
    os_start(&o, &c);
    struct os_tcp t;
    int fd = open_active(&o, &t, S | E | W, E);
    ck_assert(info(&o, fd).ecn);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_NEGOTIATED), 1);
    send_expect(&o, &t, fd, 0, 500, A | P, US_IP_ECN_ECT0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(active_refused)
{
    /* 6.1.1.2: a SYN-ACK with ECE and CWR is a peer reflecting the reserved bits, not an
     * ECN-setup SYN-ACK; one without ECE refuses. The default mode (2) does not ask at all. */
    static const struct {
        unsigned mode;
        uint8_t syn, synack;
    } cases[] = {{US_TCP_ECN_ON, S | E | W, E | W},
                 {US_TCP_ECN_ON, S | E | W, 0},
                 {US_TCP_ECN_ON, S | E | W, W},
                 {US_TCP_ECN_PASSIVE, S, E},
                 {US_TCP_ECN_OFF, S, E}};
    for (size_t i = 0; i < US_ARRAY_LEN(cases); i++) {
        struct onestack o;
        struct us_config c = cfg_ecn(cases[i].mode);
        os_start(&o, &c);
        struct os_tcp t;
        int fd = open_active(&o, &t, cases[i].syn, cases[i].synack);
        ck_assert(!info(&o, fd).ecn);
        send_expect(&o, &t, fd, 0, 500, A | P, US_IP_ECN_NOT_ECT);
        os_tcp_abort(&o, fd);
        os_tcp_finish(&o);
    }
}
END_TEST

START_TEST(syn_retransmitted_without_ecn)
{
    /* 6.1.1.1: after a timeout the SYN goes again without ECE and CWR (as Linux); the SYN-ACK
     * still decides: an ECN-setup one (to the first SYN, delayed) gives ECN, as on Linux. */
    struct onestack o;
    struct us_config c = cfg_ecn(US_TCP_ECN_ON);
    os_start(&o, &c);
    os_learn(&o, OS_PEER_IP, os_peer_mac);
    int fd = us_socket(o.st, US_SOCK_STREAM);
    struct us_sockaddr to = {OS_PEER_IP, 80};
    ck_assert_int_eq(us_connect(o.st, fd, &to, o.now), -EINPROGRESS);
    struct us_tcp_repr s;
    os_tcp_pop(&o, &s);
    ck_assert_uint_eq(s.flags, S | E | W);
    os_advance(&o, US_SEC(1));
    os_tcp_pop(&o, &s);
    ck_assert_uint_eq(s.flags, S);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_SYN_FALLBACK), 1);
    os_advance(&o, US_SEC(2));
    os_tcp_pop(&o, &s);
    ck_assert_uint_eq(s.flags, S);
    struct os_tcp t = {.port = s.src_port, .pport = 80, .seq = 5000, .ack = s.seq + 1,
                       .wnd = 65535};
    struct us_tcp_repr sa = os_tcp_seg(&t, S | A | E);
    sa.has_mss = true;
    sa.mss = 1460;
    os_tcp_send(&o, &sa);
    t.seq++;
    rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT);
    ck_assert(info(&o, fd).ecn);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(synack_retransmitted_with_ece)
{
    /* The SYN-ACK sent again (timeout, or the peer's SYN again) keeps ECE, as Linux's
     * tcp_rtx_synack: the peer decides on whichever SYN-ACK it gets. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 8);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535};
    struct us_tcp_repr syn = os_tcp_seg(&t, S | E | W);
    os_tcp_send(&o, &syn);
    rx_ecn(&o, &t, S | A | E, US_IP_ECN_NOT_ECT);
    os_advance(&o, US_SEC(1));
    rx_ecn(&o, &t, S | A | E, US_IP_ECN_NOT_ECT);
    os_tcp_send(&o, &syn);
    rx_ecn(&o, &t, S | A | E, US_IP_ECN_NOT_ECT);
    us_close(o.st, l, o.now);
    os_clear(&o);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(syn_cookie_keeps_ecn)
{
    /* A SYN answered with a cookie (SYN queue full) keeps ECN in TSval's low bits: the
     * connection the cookie ACK creates uses it. */
    struct onestack o;
    os_start(&o, NULL);
    int l = os_tcp_listen(&o, 80, 1);
    /* one embryonic connection fills the SYN queue */
    struct os_tcp t0 = {.port = 80, .pport = 39999, .seq = 1, .wnd = 65535};
    os_tcp_tx(&o, &t0, S, NULL, 0);
    os_clear(&o);
    struct os_tcp t = {.port = 80, .pport = 40000, .seq = 1000, .wnd = 65535, .ts = true,
                       .ts_val = 100000};
    struct us_tcp_repr syn = os_tcp_seg(&t, S | E | W);
    syn.has_mss = true;
    syn.mss = 1460;
    os_tcp_send(&o, &syn);
    t.seq++;
    struct us_tcp_repr sa = rx_ecn(&o, &t, S | A | E, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_SYNCOOKIES_SENT), 1);
    t.ack = sa.seq + 1;
    t.ts_ecr = sa.ts_val;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_SYNCOOKIES_OK), 1);
    int fd = us_accept(o.st, l, NULL);
    ck_assert_int_ge(fd, 0);
    ck_assert(info(&o, fd).ecn);
    send_expect(&o, &t, fd, 0, 100, A | P, US_IP_ECN_ECT0);
    us_close(o.st, l, o.now);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- the sender --------------------------------------------------------------------------- */

START_TEST(no_ect_on_retransmissions_and_probes)
{
    /* 6.1.5: a retransmission (here after a timeout) and a zero-window probe go not-ECT. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, E | W, S | A | E);
    send_expect(&o, &t, fd, 0, 300, A | P, US_IP_ECN_ECT0);
    os_advance(&o, US_SEC(1));
    struct us_tcp_repr r = rx_ecn(&o, &t, A | P, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.seq, t.ack);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_RETRANS), 1);
    /* (the RTO, not a loss probe: no RTT sample yet, RFC 8985 7.3 (2)) */
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_RTO), 1);
    /* the peer takes it and closes its window: the byte that probes it is not ECT either */
    t.ack += 300;
    t.wnd = 0;
    os_tcp_tx(&o, &t, A, NULL, 0);
    ck_assert_int_eq(us_sendto(o.st, fd, data, 10, 0, NULL, o.now), 10);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    os_advance(&o, US_SEC(2));
    r = rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.payload_len, 1);
    /* the window opens: the data from the probe byte on goes again, not-ECT (it starts with
     * a byte sent before); then new data is ECT again, with CWR after the RTO's reduction */
    t.wnd = 65535;
    os_tcp_tx(&o, &t, A, NULL, 0);
    r = rx_ecn(&o, &t, A | P, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.seq, t.ack);
    ck_assert_uint_eq(r.payload_len, 10);
    t.ack += 10;
    os_tcp_tx(&o, &t, A, NULL, 0);
    send_expect(&o, &t, fd, 0, 100, A | P | W, US_IP_ECN_ECT0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(ece_reduces_once_per_window)
{
    /* 6.1.2: an ECE halves cwnd (ssthresh as for a loss: NewReno's FlightSize / 2), once per
     * window of data: more ECEs before SND.UNA passes what was in flight change nothing, nor
     * grow cwnd. CWR goes on the next new data segment only, which is ECT; the next window's
     * ECE reduces again. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, E | W, S | A | E);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_CONGESTION, US_CC_NEWRENO), 0);
    uint32_t mss = info(&o, fd).mss_snd;
    ck_assert_uint_eq(mss, 1460);
    uint32_t una = send_window(&o, &t, fd, 10, US_IP_ECN_ECT0); /* IW10 */
    t.ack = una + 2 * mss;
    os_tcp_tx(&o, &t, A | E, NULL, 0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_ECE_IN), 1);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWND_REDUCED), 1);
    struct us_tcp_info ti = info(&o, fd);
    ck_assert_uint_eq(ti.ssthresh, 5 * mss); /* FlightSize 10 segments, halved */
    ck_assert_uint_eq(ti.cwnd, 5 * mss);
    /* flight 8 segments > cwnd 5: nothing goes out */
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* more ECEs in the same window: no second reduction and no growth */
    t.ack = una + 6 * mss;
    os_tcp_tx(&o, &t, A | E, NULL, 0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWND_REDUCED), 1);
    ck_assert_uint_eq(info(&o, fd).cwnd, 5 * mss);
    /* room for one segment: new data with CWR, then one without */
    ck_assert_int_eq(us_sendto(o.st, fd, data, 2 * mss, 0, NULL, o.now), (ssize_t)(2 * mss));
    rx_ecn(&o, &t, A | W, US_IP_ECN_ECT0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWR_OUT), 1);
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    t.ack = una + 10 * mss; /* the end of the reduced window */
    os_tcp_tx(&o, &t, A | E, NULL, 0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWND_REDUCED), 1);
    ck_assert_uint_eq(info(&o, fd).cwnd, 5 * mss); /* the ACK ending the window grows nothing */
    rx_ecn(&o, &t, A | P, US_IP_ECN_ECT0);
    /* an ECE for the next window reduces again, and CWR follows again */
    t.ack += 2 * mss;
    os_tcp_tx(&o, &t, A | E, NULL, 0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWND_REDUCED), 2);
    ck_assert_uint_eq(info(&o, fd).ssthresh, 2 * mss); /* RFC 5681's floor */
    send_expect(&o, &t, fd, 0, 100, A | P | W, US_IP_ECN_ECT0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWR_OUT), 2);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(ece_without_ecn_ignored)
{
    /* ECE on a connection that did not negotiate ECN means nothing (a reserved bit to it). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, 0, S | A);
    uint32_t mss = info(&o, fd).mss_snd;
    send_window(&o, &t, fd, 4, US_IP_ECN_NOT_ECT);
    uint32_t cwnd = info(&o, fd).cwnd;
    t.ack += 2 * mss;
    os_tcp_tx(&o, &t, A | E, NULL, 0);
    ck_assert_uint_ge(info(&o, fd).cwnd, cwnd);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_ECE_IN), 0);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWND_REDUCED), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(loss_after_ece_no_second_reduction)
{
    /* 6.1.2: "reduced only once in response to a series of dropped and/or CE packets from a
     * single window": three duplicate ACKs after an ECE start fast retransmit (the window of
     * an ECN reduction does not hold recovery back, as Linux enters Recovery from CWR) but
     * keep ssthresh. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, E | W, S | A | E);
    ck_assert_int_eq(us_setsockopt(o.st, fd, US_TCP_CONGESTION, US_CC_NEWRENO), 0);
    uint32_t mss = info(&o, fd).mss_snd;
    uint32_t una = send_window(&o, &t, fd, 10, US_IP_ECN_ECT0);
    t.ack = una + mss;
    os_tcp_tx(&o, &t, A | E, NULL, 0);
    ck_assert_uint_eq(info(&o, fd).ssthresh, 5 * mss);
    /* segment 2 is lost: the peer SACKs 3 to 6; recovery starts at the third (more than
     * 2 SMSS SACKed), and the pipe lets the retransmission go at the fourth (RFC 6675) */
    for (uint32_t i = 0; i < 4; i++) {
        struct us_tcp_repr d = os_tcp_seg(&t, A | E);
        d.n_sack = 1;
        d.sack[0] = (struct us_tcp_sack_block){una + 2 * mss, una + (3 + i) * mss};
        os_tcp_send(&o, &d);
    }
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_FAST_RETRANS), 1);
    struct us_tcp_repr r = rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.seq, una + mss);
    ck_assert_uint_eq(info(&o, fd).ssthresh, 5 * mss);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CWND_REDUCED), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- the receiver --------------------------------------------------------------------------- */

START_TEST(ce_echoed_until_cwr)
{
    /* 6.1.3: a CE mark sets ECE on the ACK (at once: the first CE is not delayed, as Linux), and
     * on every segment after it, data and ACKs for unmarked data alike, until the peer's CWR.
     * A CE on the CWR segment itself starts the echo again. */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, E | W, S | A | E);
    tx_ecn(&o, &t, A | P, data, 100, US_IP_ECN_CE);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CE_IN), 1);
    struct us_tcp_repr r = rx_ecn(&o, &t, A | E, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.ack, t.seq);
    tx_ecn(&o, &t, A | P, data, 100, US_IP_ECN_ECT0);
    os_advance(&o, US_MSEC(40));
    rx_ecn(&o, &t, A | E, US_IP_ECN_NOT_ECT);
    send_expect(&o, &t, fd, 0, 50, A | P | E, US_IP_ECN_ECT0); /* data echoes too */
    t.ack += 50;
    /* CWR: no more ECE (and the CWR segment is ACKed at once) */
    tx_ecn(&o, &t, A | P | W, data, 100, US_IP_ECN_ECT0);
    r = rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.ack, t.seq);
    send_expect(&o, &t, fd, 50, 50, A | P, US_IP_ECN_ECT0);
    t.ack += 50;
    /* CE again, on a CWR segment: the echo starts again */
    tx_ecn(&o, &t, A | P | W, data, 100, US_IP_ECN_CE);
    rx_ecn(&o, &t, A | E, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CE_IN), 2);
    ck_assert_uint_ge(stat(&o, US_STAT_TCP_ECN_ECE_OUT), 4);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

START_TEST(ce_without_ecn_ignored)
{
    /* A connection that did not negotiate ECN ignores CE (6.1.1: the receiver processes CE only
     * after an ECN setup). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, 0, S | A);
    tx_ecn(&o, &t, A | P, data, 100, US_IP_ECN_CE);
    ck_assert_uint_eq(os_tcp_pending(&o), 0); /* delayed as usual */
    os_advance(&o, US_MSEC(40));
    rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CE_IN), 0);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

/* ---- reassembly (RFC 3168 5.3) ---------------------------------------------------------------- */

/* The peer's data segment in two IP fragments whose ECN fields are ecn0 and ecn1. */
static void
tx_fragmented(struct onestack *o, struct os_tcp *t, size_t len, unsigned ecn0, unsigned ecn1)
{
    static uint8_t seg[4096], f[OS_MAX_FRAME];
    struct us_tcp_repr r = os_tcp_seg(t, A | P);
    r.payload = data;
    r.payload_len = len;
    size_t hl = us_wire_tcp_hdr_len(&r);
    memcpy(seg + hl, data, len);
    us_wire_tcp_emit(&r, seg, hl, len, OS_PEER_IP, OS_IP);
    size_t total = hl + len, half = (total / 2) & ~(size_t)7;
    struct us_ip4_repr ip = os_ip_hdr(OS_PEER_IP, OS_IP, US_IPPROTO_TCP);
    ip.id = 777;
    ip.tos = (uint8_t)ecn0;
    ip.mf = true;
    size_t n = os_build_ip(f, NULL, &ip, seg, half);
    os_input(o, f, n);
    ip.tos = (uint8_t)ecn1;
    ip.mf = false;
    ip.frag_off = (uint16_t)half;
    n = os_build_ip(f, NULL, &ip, seg + half, total - half);
    os_input(o, f, n);
    t->seq += (uint32_t)len;
}

START_TEST(fragments_ce_and_mixtures)
{
    /* CE in any fragment of an ECT datagram marks the datagram: the ACK echoes it. A datagram
     * mixing not-ECT and ECT fragments is dropped (as Linux's ip_frag_ecn_table). */
    struct onestack o;
    os_start(&o, NULL);
    struct os_tcp t;
    int fd = open_passive(&o, &t, E | W, S | A | E);
    tx_fragmented(&o, &t, 1000, US_IP_ECN_ECT0, US_IP_ECN_CE);
    ck_assert_uint_eq(stat(&o, US_STAT_IP_REASM_OK), 1);
    rx_ecn(&o, &t, A | E, US_IP_ECN_NOT_ECT);
    tx_ecn(&o, &t, A | W, NULL, 0, US_IP_ECN_NOT_ECT); /* CWR ends the echo */
    tx_fragmented(&o, &t, 1000, US_IP_ECN_NOT_ECT, US_IP_ECN_ECT0);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_ECN), 1);
    ck_assert_uint_eq(stat(&o, US_STAT_IP_REASM_OK), 1);
    t.seq -= 1000;
    os_advance(&o, US_MSEC(40));
    ck_assert_uint_eq(os_tcp_pending(&o), 0);
    /* CE with not-ECT is a mixture too; ECT(0) with ECT(1) is not, and carries no mark */
    tx_fragmented(&o, &t, 1000, US_IP_ECN_CE, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(us_drop_get(o.st, US_DROP_IP_FRAG_ECN), 2);
    t.seq -= 1000;
    tx_fragmented(&o, &t, 1000, US_IP_ECN_ECT1, US_IP_ECN_ECT0);
    ck_assert_uint_eq(stat(&o, US_STAT_IP_REASM_OK), 2);
    os_advance(&o, US_MSEC(40));
    struct us_tcp_repr r = rx_ecn(&o, &t, A, US_IP_ECN_NOT_ECT);
    ck_assert_uint_eq(r.ack, t.seq);
    uint8_t buf[4096];
    ck_assert_int_eq(us_recvfrom(o.st, fd, buf, sizeof(buf), 0, NULL, NULL, o.now), 2000);
    ck_assert_mem_eq(buf, data, 1000);
    ck_assert_mem_eq(buf + 1000, data, 1000);
    ck_assert_uint_eq(stat(&o, US_STAT_TCP_ECN_CE_IN), 1);
    os_tcp_abort(&o, fd);
    os_tcp_finish(&o);
}
END_TEST

Suite *
make_suite(void)
{
    fill_data(); /* forked tests inherit it */
    Suite *s = suite_create("tcp_ecn");
    TCase *tc = tcase_create("ecn");
    tcase_add_test(tc, passive_negotiated);
    tcase_add_test(tc, passive_refused);
    tcase_add_test(tc, active_negotiated);
    tcase_add_test(tc, active_refused);
    tcase_add_test(tc, syn_retransmitted_without_ecn);
    tcase_add_test(tc, synack_retransmitted_with_ece);
    tcase_add_test(tc, syn_cookie_keeps_ecn);
    tcase_add_test(tc, no_ect_on_retransmissions_and_probes);
    tcase_add_test(tc, ece_reduces_once_per_window);
    tcase_add_test(tc, ece_without_ecn_ignored);
    tcase_add_test(tc, loss_after_ece_no_second_reduction);
    tcase_add_test(tc, ce_echoed_until_cwr);
    tcase_add_test(tc, ce_without_ecn_ignored);
    tcase_add_test(tc, fragments_ce_and_mixtures);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
