/* Every way a TCP connection between the two stacks ends: client closes first, server closes
 * first, simultaneous close, half-close with data still flowing the other way, abortive close
 * (SO_LINGER 0), close with unread data, connect to a closed port, a listener closed with
 * connections waiting in its accept queue. Each on a clean link, where exactly the active
 * closer keeps one orphaned TIME-WAIT, and over a lossy link for several seeds (SIM_SEEDS,
 * default 6), where the FINs and RSTs themselves get lost. Always: nothing left after 2*MSL,
 * no packet buffer in use. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"
#include "wire/wire.h"

static const struct us_impair lossy = {.loss = 0.10, .dup = 0.03, .reorder = 0.05,
                                       .delay = US_MSEC(5), .jitter = US_MSEC(2)};

#define SEEDMSG "seed %llu", (unsigned long long)simtcp_seed

/* Sends n bytes of stream sid from (tx, txfd) while (rx, rxfd) reads them; checks them byte by
 * byte. Does not wait for EOF. */
static void
pump(struct sim *s, int tx, int txfd, int rx, int rxfd, size_t n, uint64_t sid)
{
    static uint8_t buf[16384], in[16384], exp[16384];
    size_t sent = 0, got = 0;
    us_time_t end = s->now + US_SEC(300);
    while (got < n) {
        ck_assert_msg(s->now < end, "seed %llu: pump stalled at %zu/%zu",
                      (unsigned long long)simtcp_seed, got, n);
        while (sent < n) {
            size_t k = US_MIN(sizeof(buf), n - sent);
            simtcp_gen(sid, sent, buf, k);
            ssize_t w = us_sendto(s->st[tx], txfd, buf, k, 0, NULL, s->now);
            if (w == -EAGAIN)
                break;
            ck_assert_msg(w > 0, "seed %llu: send %zd", (unsigned long long)simtcp_seed, w);
            sent += (size_t)w;
        }
        sim_run(s, US_MSEC(1));
        ssize_t r;
        while ((r = us_recvfrom(s->st[rx], rxfd, in, sizeof(in), 0, NULL, NULL, s->now)) > 0) {
            simtcp_gen(sid, got, exp, (size_t)r);
            ck_assert_msg(memcmp(in, exp, (size_t)r) == 0, "seed %llu: data differs near %zu",
                          (unsigned long long)simtcp_seed, got);
            got += (size_t)r;
        }
        ck_assert_msg(r == -EAGAIN, "seed %llu: recv %zd", (unsigned long long)simtcp_seed, r);
    }
}

/* Reads until end of stream or an error: returns 0 at EOF or the negative errno; *n counts. */
static ssize_t
drain(struct sim *s, int side, int fd, size_t *n)
{
    uint8_t buf[4096];
    for (;;) {
        ck_assert_msg(simtcp_wait(s, side, fd, US_POLLIN | US_POLLERR, US_SEC(200)),
                      "seed %llu: side %d fd %d never readable", (unsigned long long)simtcp_seed,
                      side, fd);
        ssize_t r = us_recvfrom(s->st[side], fd, buf, sizeof(buf), 0, NULL, NULL, s->now);
        if (r == -EAGAIN)
            continue;
        if (r <= 0)
            return r;
        *n += (size_t)r;
    }
}

static const char *
state_of(struct sim *s, int side, int fd)
{
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(s->st[side], fd, &ti), 0);
    return us_tcp_state_name(ti.state);
}

/* After the close: on a clean link exactly `tw` orphaned TIME-WAITs on each side; on a lossy one
 * at most that many (a RST drawn by a late duplicate may end a TIME-WAIT early). */
static void
expect_tw(struct simtcp_pair *p, bool strict, size_t tw_a, size_t tw_b)
{
    size_t a = simtcp_count(&p->s, 0, "TIME-WAIT"), b = simtcp_count(&p->s, 1, "TIME-WAIT");
    if (strict)
        ck_assert_msg(a == tw_a && b == tw_b, "seed %llu: TIME-WAIT A %zu (want %zu) B %zu (want %zu)",
                      (unsigned long long)simtcp_seed, a, tw_a, b, tw_b);
    else
        ck_assert_msg(a <= tw_a && b <= tw_b, "seed %llu: TIME-WAIT A %zu B %zu",
                      (unsigned long long)simtcp_seed, a, b);
}

struct settle_ctx {
    struct simtcp_pair *p;
    size_t tw_a, tw_b;
};

static bool
only_tw(struct sim *s, int side, size_t max)
{
    size_t n = us_sock_list(s->st[side], NULL, 0);
    if (n > max)
        return false;
    struct us_sock_info si[4];
    us_sock_list(s->st[side], si, 4);
    for (size_t i = 0; i < n; i++)
        if (si[i].fd != -1 || si[i].state != US_TCPS_TIME_WAIT)
            return false;
    return true;
}

static bool
settled(void *ctx)
{
    struct settle_ctx *c = ctx;
    return only_tw(&c->p->s, 0, c->tw_a) && only_tw(&c->p->s, 1, c->tw_b);
}

/* Runs until nothing but the expected orphaned TIME-WAITs is left: at once on a clean link; on
 * a lossy one, FINs and their ACKs may need several retransmission timeouts. */
static void
settle(struct simtcp_pair *p, bool strict, size_t tw_a, size_t tw_b)
{
    sim_run(&p->s, US_SEC(1));
    struct settle_ctx c = {p, tw_a, tw_b};
    if (!strict)
        sim_run_until(&p->s, US_SEC(200), settled, &c);
    expect_tw(p, strict, tw_a, tw_b);
}

static void
start(struct simtcp_pair *p, bool lossy_link, uint64_t seed)
{
    simtcp_connect(p, lossy_link ? &lossy : NULL, seed, 1500, NULL,
                   (seed & 1) ? US_CC_NEWRENO : US_CC_CUBIC);
}

/* ---- graceful ------------------------------------------------------------------------------- */

static void
client_first(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    /* queued data goes out before the FIN even though close() comes at once */
    uint8_t buf[100000];
    simtcp_gen(seed, 0, buf, sizeof(buf));
    ck_assert_int_eq(us_sendto(a, p.cfd, buf, sizeof(buf), 0, NULL, p.s.now), sizeof(buf));
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    size_t n = 0;
    ck_assert_int_eq(drain(&p.s, 1, p.sfd, &n), 0);
    ck_assert_uint_eq(n, sizeof(buf));
    ck_assert_str_eq(state_of(&p.s, 1, p.sfd), "CLOSE-WAIT");
    ck_assert_int_eq(us_sendto(b, p.sfd, "bye", 3, 0, NULL, p.s.now), 3); /* still allowed */
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    settle(&p, !l, 1, 0);
    ck_assert_uint_eq(simtcp_count(&p.s, 1, NULL), 0);
    simtcp_finish(&p.s);
}

static void
server_first(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    uint8_t buf[100000];
    simtcp_gen(seed, 0, buf, sizeof(buf));
    ck_assert_int_eq(us_sendto(b, p.sfd, buf, sizeof(buf), 0, NULL, p.s.now), sizeof(buf));
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    size_t n = 0;
    ck_assert_int_eq(drain(&p.s, 0, p.cfd, &n), 0);
    ck_assert_uint_eq(n, sizeof(buf));
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    settle(&p, !l, 0, 1);
    ck_assert_uint_eq(simtcp_count(&p.s, 0, NULL), 0);
    simtcp_finish(&p.s);
}

static void
simultaneous(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    /* both FINs crossed: both sides went FIN-WAIT-1 -> CLOSING -> TIME-WAIT */
    settle(&p, !l, 1, 1);
    simtcp_finish(&p.s);
}

/* A shuts its sending side, then keeps reading a megabyte that B sends after seeing EOF. */
static void
half_close(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    ck_assert_int_eq(us_sendto(a, p.cfd, "request", 7, 0, NULL, p.s.now), 7);
    ck_assert_int_eq(us_shutdown(a, p.cfd, US_SHUT_WR, p.s.now), 0);
    ck_assert_int_eq(us_sendto(a, p.cfd, "x", 1, 0, NULL, p.s.now), -EPIPE);
    size_t n = 0;
    ck_assert_int_eq(drain(&p.s, 1, p.sfd, &n), 0);
    ck_assert_uint_eq(n, 7);
    for (int t = 0; t < 600 && strcmp(state_of(&p.s, 0, p.cfd), "FIN-WAIT-2") != 0; t++)
        sim_run(&p.s, US_MSEC(100)); /* our FIN's ACK arrives (maybe after a timeout) */
    ck_assert_str_eq(state_of(&p.s, 0, p.cfd), "FIN-WAIT-2");
    pump(&p.s, 1, p.sfd, 0, p.cfd, 1u << 20, seed * 2 + 1);
    ck_assert_str_eq(state_of(&p.s, 0, p.cfd), "FIN-WAIT-2");
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    n = 0;
    ck_assert_int_eq(drain(&p.s, 0, p.cfd, &n), 0);
    ck_assert_uint_eq(n, 0);
    sim_run(&p.s, US_SEC(1));
    if (!l) { /* (on a lossy link a RST drawn by a late duplicate may end TIME-WAIT early) */
        ck_assert_str_eq(state_of(&p.s, 0, p.cfd), "TIME-WAIT"); /* still named by its fd */
        struct us_sock_info si[2];
        ck_assert_uint_eq(us_sock_list(a, si, 2), 1);
        ck_assert_int_eq(si[0].fd, p.cfd);
    }
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    settle(&p, !l, 1, 0);
    ck_assert_uint_eq(simtcp_count(&p.s, 1, NULL), 0);
    simtcp_finish(&p.s);
}

/* ---- abortive ------------------------------------------------------------------------------- */

/* The peer learns of the reset either from the RST itself or, if the link lost it, from the RST
 * its next segment draws. */
static void
expect_reset(struct simtcp_pair *p, int side, int fd)
{
    struct us_stack *st = p->s.st[side];
    for (int tries = 0; tries < 20; tries++) {
        if (simtcp_wait(&p->s, side, fd, US_POLLERR, US_SEC(3)))
            break;
        ssize_t w = us_sendto(st, fd, "?", 1, 0, NULL, p->s.now);
        ck_assert_msg(w == 1 || w == -EAGAIN || w == -ECONNRESET || w == -EPIPE,
                      "seed %llu: send %zd", (unsigned long long)simtcp_seed, w);
    }
    ck_assert_msg(us_sock_poll(st, fd) & US_POLLHUP, SEEDMSG);
    char c;
    ssize_t r = us_recvfrom(st, fd, &c, 1, 0, NULL, NULL, p->s.now);
    ck_assert_msg(r == -ECONNRESET, "seed %llu: recv %zd, want -ECONNRESET",
                  (unsigned long long)simtcp_seed, r);
    ck_assert_str_eq(state_of(&p->s, side, fd), "CLOSED");
    ck_assert_int_eq(us_close(st, fd, p->s.now), 0);
}

static void
abortive(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    ck_assert_int_eq(us_sendto(b, p.sfd, "unread by A", 11, 0, NULL, p.s.now), 11);
    ck_assert_int_eq(us_sendto(a, p.cfd, "to B", 4, 0, NULL, p.s.now), 4);
    sim_run(&p.s, US_SEC(2));
    ck_assert_int_eq(us_setsockopt(a, p.cfd, US_SO_LINGER, 0), 0);
    uint64_t rst = simtcp_stat(&p.s, 0, "TCP_RST_OUT");
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    ck_assert_uint_eq(simtcp_stat(&p.s, 0, "TCP_RST_OUT"), rst + 1);
    ck_assert_uint_eq(simtcp_count(&p.s, 0, NULL), 0); /* no TIME-WAIT after an abort */
    expect_reset(&p, 1, p.sfd);
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    sim_run(&p.s, US_SEC(1));
    expect_tw(&p, true, 0, 0);
    simtcp_finish(&p.s);
}

/* Closing with data not yet read resets the connection (RFC 2525 2.17, Linux). */
static void
unread_data(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    ck_assert_int_eq(us_sendto(a, p.cfd, "never read", 10, 0, NULL, p.s.now), 10);
    ck_assert(simtcp_wait(&p.s, 1, p.sfd, US_POLLIN, US_SEC(60)));
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    ck_assert_uint_eq(simtcp_count(&p.s, 1, NULL), 0);
    expect_reset(&p, 0, p.cfd);
    sim_run(&p.s, US_SEC(1));
    expect_tw(&p, true, 0, 0);
    simtcp_finish(&p.s);
}

static void
refused(bool l, uint64_t seed)
{
    struct sim s;
    simtcp_seed = seed;
    sim_init(&s, l ? &lossy : NULL, seed, 1500, NULL);
    struct us_stack *a = s.st[0];
    int fd = us_socket(a, US_SOCK_STREAM);
    struct us_sockaddr to = {SIM_B_IP, 81};
    ck_assert_int_eq(us_connect(a, fd, &to, s.now), -EINPROGRESS);
    ck_assert_msg(simtcp_wait(&s, 0, fd, US_POLLERR, US_SEC(60)), SEEDMSG);
    ck_assert_int_eq(us_sock_error(a, fd), ECONNREFUSED);
    ck_assert_uint_ge(simtcp_stat(&s, 1, "TCP_NO_SOCKET"), 1);
    ck_assert_int_eq(us_close(a, fd, s.now), 0);
    ck_assert_uint_eq(simtcp_count(&s, 0, NULL), 0);
    simtcp_finish(&s);
}

/* Three handshakes complete into B's accept queue; B closes the listener without accepting:
 * each gets a RST. */
static void
listener_queue(bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct us_stack *a = p.s.st[0], *b = p.s.st[1];
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = us_socket(a, US_SOCK_STREAM);
        struct us_sockaddr to = {SIM_B_IP, 80};
        ck_assert_int_eq(us_connect(a, fds[i], &to, p.s.now), -EINPROGRESS);
        ck_assert_msg(simtcp_wait(&p.s, 0, fds[i], US_POLLOUT | US_POLLERR, US_SEC(60)), SEEDMSG);
        ck_assert_int_eq(us_sock_error(a, fds[i]), 0);
        ck_assert_int_eq(us_sendto(a, fds[i], "hi", 2, 0, NULL, p.s.now), 2);
    }
    /* the final ACK of a handshake may be lost: wait until all three are queued */
    for (int t = 0; t < 600; t++) {
        struct us_sock_info si[8];
        size_t n = us_sock_list(b, si, 8);
        ck_assert_uint_le(n, 8);
        if (n >= 2 && si[0].recv_q == 3) /* the listener's recv_q is its accept queue */
            break;
        sim_run(&p.s, US_MSEC(100));
    }
    ck_assert_int_eq(us_close(a, p.cfd, p.s.now), 0);
    size_t n = 0;
    ck_assert_int_eq(drain(&p.s, 1, p.sfd, &n), 0);
    ck_assert_int_eq(us_close(b, p.sfd, p.s.now), 0);
    ck_assert_int_eq(us_close(b, p.lfd, p.s.now), 0);
    for (int i = 0; i < 3; i++)
        expect_reset(&p, 0, fds[i]);
    settle(&p, !l, 1, 0); /* only the first connection's, closed gracefully by A */
    simtcp_finish(&p.s);
}

/* ---- a FIN beyond a hole ---------------------------------------------------------------------- */

/* The segments of the A -> B connection as the wire sees them: A's data ending at `lose_end` or
 * starting at `lose_start` (relative to A's ISN) is lost the first time it is sent; the rest is
 * recorded. */
struct hole {
    bool have_isn;
    uint32_t isn;               /* A's */
    uint32_t lose_start, lose_end; /* 0: not used */
    bool lost;                  /* the one segment was lost */
    uint32_t lost_seq, lost_len;
    const us_time_t *now;       /* the sim's clock */
    int fins;                   /* FINs A sent */
    uint32_t fin;               /* A's FIN's sequence number (relative) */
    us_time_t fin_at;           /* when A sent it first */
    bool dup;                   /* B's first ACK whose SACK blocks cover the FIN: */
    us_time_t dup_at;
    uint32_t dup_ack;
    uint8_t dup_nsack;
    struct us_tcp_sack_block dup_sack[US_TCP_MAX_SACK];
    uint32_t acks[64];          /* every new ACK value B sent after the FIN went out (relative) */
    size_t n_acks;
};

static bool
frame_tcp(const uint8_t *f, size_t len, struct us_tcp_repr *t)
{
    struct us_eth_repr eth;
    struct us_ip4_repr ip;
    return us_wire_eth_parse(&eth, f, len) == 0 && eth.type == US_ETHERTYPE_IPV4 &&
           us_wire_ip4_parse(&ip, f + US_ETH_HDR_LEN, len - US_ETH_HDR_LEN, false) == 0 &&
           ip.proto == US_IPPROTO_TCP &&
           us_wire_tcp_parse(t, ip.payload, ip.payload_len, ip.src, ip.dst, false) == 0;
}

static bool
hole_drop(void *ctx, int from, const uint8_t *f, size_t len)
{
    struct hole *h = ctx;
    struct us_tcp_repr t;
    if (!frame_tcp(f, len, &t))
        return false;
    if (from == 0) {
        if (!h->have_isn && t.payload_len) { /* A's first byte (the handshake is over) */
            h->isn = t.seq - 1;
            h->have_isn = true;
        }
        uint32_t rel = t.seq - h->isn, end = rel + (uint32_t)t.payload_len;
        if (t.payload_len && !h->lost &&
            ((h->lose_end && end == h->lose_end) || (h->lose_start && rel == h->lose_start))) {
            h->lost = true;
            h->lost_seq = rel;
            h->lost_len = (uint32_t)t.payload_len;
            return true;
        }
        if (t.flags & US_TCP_FIN) {
            if (!h->fins++)
                h->fin_at = *h->now;
            h->fin = end;
        }
        return false;
    }
    if (!h->fins || !(t.flags & US_TCP_ACK))
        return false;
    uint32_t ack = t.ack - h->isn;
    bool covers = false;
    for (size_t i = 0; i < t.n_sack; i++)
        covers |= t.sack[i].end - h->isn == h->fin + 1;
    if (!h->dup && covers) {
        h->dup = true;
        h->dup_at = *h->now;
        h->dup_ack = ack;
        h->dup_nsack = t.n_sack;
        memcpy(h->dup_sack, t.sack, sizeof(t.sack));
    }
    if ((h->n_acks == 0 || h->acks[h->n_acks - 1] != ack) && h->n_acks < 64)
        h->acks[h->n_acks++] = ack;
    return false;
}

static bool
hole_lost(void *ctx)
{
    return ((struct hole *)ctx)->lost;
}

static bool
close_wait(void *ctx)
{
    struct simtcp_pair *p = ctx;
    struct us_tcp_info ti;
    return us_tcp_get_info(p->s.st[1], p->sfd, &ti) == 0 && ti.state == US_TCPS_CLOSE_WAIT;
}

/* Reads what B has: every byte checked against stream `sid`; returns the count, or -1 at EOF. */
static ssize_t
read_checked(struct simtcp_pair *p, uint64_t sid, size_t *got)
{
    uint8_t in[4096], exp[4096];
    ssize_t r;
    size_t before = *got;
    while ((r = us_recvfrom(p->s.st[1], p->sfd, in, sizeof(in), 0, NULL, NULL, p->s.now)) > 0) {
        simtcp_gen(sid, *got, exp, (size_t)r);
        ck_assert_msg(memcmp(in, exp, (size_t)r) == 0, "seed %llu: data differs near %zu",
                      (unsigned long long)simtcp_seed, *got);
        *got += (size_t)r;
    }
    if (r == 0)
        return -1;
    ck_assert_int_eq(r, -EAGAIN);
    return (ssize_t)(*got - before);
}

/* RFC 9293 3.10.7.4 eighth, RFC 5681 4.2: B keeps a FIN that comes beyond a hole. `bare`: the
 * tail of A's data is lost and A's FIN comes alone after it; else a segment in the middle is
 * lost and the FIN rides on the last one. B answers the FIN at once with a duplicate ACK whose
 * SACK block covers it, shows no end of stream before the hole fills, and the segment that fills
 * the hole draws the ACK of everything and the FIN: B is in CLOSE-WAIT, the data byte-exact,
 * end of stream after it. On a lossy link (more losses, any order) the data, the end of stream
 * and CLOSE-WAIT still hold. */
static void
fin_beyond_hole(bool bare, bool l, uint64_t seed)
{
    struct simtcp_pair p;
    start(&p, l, seed);
    struct hole h = {.now = &p.s.now};
    p.s.drop = hole_drop;
    p.s.drop_ctx = &h;
    const size_t n = bare ? 20000 : 5 * 1448;
    uint8_t buf[20000];
    simtcp_gen(seed, 0, buf, n);
    if (bare)
        h.lose_end = 1 + (uint32_t)n;
    else
        h.lose_start = 1 + 1448;
    ck_assert_int_eq(us_sendto(p.s.st[0], p.cfd, buf, n, 0, NULL, p.s.now), (ssize_t)n);
    if (bare) /* all out, the last segment lost, before the FIN (a lossy link may cut the
               * tail differently, or lose enough to take longer) */
        ck_assert(sim_run_until(&p.s, US_SEC(60), hole_lost, &h) || l);
    ck_assert_int_eq(us_shutdown(p.s.st[0], p.cfd, US_SHUT_WR, p.s.now), 0);
    size_t got = 0;
    if (!l) {
        /* the segments and B's answers, before A's timers or B's delayed ACK */
        sim_run(&p.s, US_MSEC(5));
        ck_assert(h.lost);
        ck_assert_int_eq(h.fins, 1);
        ck_assert_uint_eq(h.fin, 1 + n);
        ck_assert_msg(h.dup, "B did not answer the FIN beyond the hole");
        ck_assert_int_lt(h.dup_at - h.fin_at, US_MSEC(5));
        ck_assert_uint_eq(h.dup_ack, h.lost_seq);
        ck_assert_uint_ge(h.dup_nsack, 1);
        /* the first block holds the segment that triggered the ACK: it ends past the FIN */
        ck_assert_uint_eq(h.dup_sack[0].end - h.isn, h.fin + 1);
        ck_assert_uint_eq(h.dup_sack[0].start - h.isn, bare ? h.fin : h.lost_seq + h.lost_len);
    }
    if (!l && bare) { /* (three duplicate ACKs fill the other hole at once: fast retransmit) */
        ck_assert_int_eq(read_checked(&p, seed, &got), (ssize_t)(h.lost_seq - 1));
        ck_assert_int_eq(read_checked(&p, seed, &got), 0); /* no end of stream yet */
        ck_assert_str_eq(state_of(&p.s, 1, p.sfd), "ESTABLISHED");
    }
    ck_assert_msg(sim_run_until(&p.s, US_SEC(120), close_wait, &p), "seed %llu: B not in CLOSE-WAIT",
                  (unsigned long long)seed);
    ck_assert_int_eq(read_checked(&p, seed, &got), -1);
    ck_assert_uint_eq(got, n);
    if (!l) {
        /* B's ACK went from the hole straight past the FIN: the FIN was not needed again */
        ck_assert_uint_eq(h.n_acks, 2);
        ck_assert_uint_eq(h.acks[0], h.lost_seq);
        ck_assert_uint_eq(h.acks[1], h.fin + 1);
    }
    p.s.drop = NULL;
    ck_assert_int_eq(us_close(p.s.st[1], p.sfd, p.s.now), 0);
    ck_assert_int_eq(us_close(p.s.st[1], p.lfd, p.s.now), 0);
    ck_assert_int_eq(us_close(p.s.st[0], p.cfd, p.s.now), 0);
    settle(&p, !l, 1, 0);
    simtcp_finish(&p.s);
}

static void
bare_fin_beyond_hole(bool l, uint64_t seed)
{
    fin_beyond_hole(true, l, seed);
}

static void
data_fin_beyond_hole(bool l, uint64_t seed)
{
    fin_beyond_hole(false, l, seed);
}

/* ---- drivers -------------------------------------------------------------------------------- */

typedef void (*scenario_fn)(bool l, uint64_t seed);

static void
each(scenario_fn f)
{
    f(false, 1);
    unsigned n = simtcp_nseeds(6);
    for (unsigned i = 0; i < n; i++)
        f(true, simtcp_seed_at(i));
}

#define SCENARIO(name)                                                                             \
    START_TEST(test_##name)                                                                        \
    {                                                                                              \
        each(name);                                                                                \
    }                                                                                              \
    END_TEST

SCENARIO(client_first)
SCENARIO(server_first)
SCENARIO(simultaneous)
SCENARIO(half_close)
SCENARIO(abortive)
SCENARIO(unread_data)
SCENARIO(refused)
SCENARIO(listener_queue)
SCENARIO(bare_fin_beyond_hole)
SCENARIO(data_fin_beyond_hole)

#define ADD(su, t) US_ADD_CASE(su, #t, test_##t, 300)

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_close");
    ADD(su, client_first);
    ADD(su, server_first);
    ADD(su, simultaneous);
    ADD(su, half_close);
    ADD(su, abortive);
    ADD(su, unread_data);
    ADD(su, refused);
    ADD(su, listener_queue);
    ADD(su, bare_fin_beyond_hole);
    ADD(su, data_fin_beyond_hole);
    return su;
}

US_TEST_MAIN()
