/* Connection churn between the two stacks: many short connections (connect, send a few bytes,
 * echo, close), several at a time. Afterwards only TIME-WAIT remains (on the side that closed
 * first), then nothing after 2*MSL, no packet buffer in use, and ASan finds no leak.
 * - 10,000 connections, client closes first (default ephemeral range).
 * - 40,000 connections through 2,000 ephemeral ports, client closes first: connect() must reuse
 *   the 4-tuples its own TIME-WAITs hold (timestamps protect them, as Linux's tcp_tw_reuse).
 * - 4,000 connections through 500 ports, server closes first: the client's new SYN meets the
 *   server's TIME-WAIT, which a newer timestamp reopens (RFC 6191).
 * SIM_BIG=1 multiplies the counts by 5. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/simtcp.h"
#include "lib/testutil.h"
#include "core/core.h"
#include "tcp/tcp.h"

#define SLOTS 8
#define MSG 8

enum cstate { C_IDLE, C_CONNECTING, C_WAIT_ECHO, C_WAIT_EOF };

struct client {
    int fd;
    enum cstate st;
    unsigned idx;
    size_t got;
    char buf[MSG];
};

struct server {
    int fd; /* -1: free */
    size_t got;
    char buf[MSG];
};

struct churn {
    struct sim s;
    bool server_first;
    unsigned total, started, done;
    struct client c[SLOTS];
    struct server sv[4 * SLOTS];
    int lfd;
};

static void
fail_conn(struct churn *ch, const struct client *c, const char *what, long v)
{
    ck_abort_msg("seed %llu: connection %u (of %u done): %s %ld", (unsigned long long)simtcp_seed,
                 c->idx, ch->done, what, v);
}

static void
client_step(struct churn *ch, struct client *c)
{
    struct us_stack *a = ch->s.st[0];
    switch (c->st) {
    case C_IDLE: {
        if (ch->started == ch->total)
            return;
        c->idx = ch->started++;
        c->fd = us_socket(a, US_SOCK_STREAM);
        if (c->fd < 0)
            fail_conn(ch, c, "socket", c->fd);
        struct us_sockaddr to = {SIM_B_IP, 80};
        int r = us_connect(a, c->fd, &to, ch->s.now);
        if (r != -EINPROGRESS)
            fail_conn(ch, c, "connect returned", r); /* -EADDRNOTAVAIL: ports exhausted */
        c->st = C_CONNECTING;
        c->got = 0;
        return;
    }
    case C_CONNECTING: {
        int m = us_sock_poll(a, c->fd);
        if (m & US_POLLERR)
            fail_conn(ch, c, "connect failed, errno", us_sock_error(a, c->fd));
        if (!(m & US_POLLOUT))
            return;
        char msg[MSG + 1];
        snprintf(msg, sizeof(msg), "c%07u", c->idx % 10000000u);
        ssize_t w = us_sendto(a, c->fd, msg, MSG, 0, NULL, ch->s.now);
        if (w != MSG)
            fail_conn(ch, c, "send", (long)w);
        c->st = C_WAIT_ECHO;
        return;
    }
    case C_WAIT_ECHO:
    case C_WAIT_EOF: {
        char tmp[MSG];
        ssize_t r;
        while ((r = us_recvfrom(a, c->fd, tmp, sizeof(tmp), 0, NULL, NULL, ch->s.now)) > 0) {
            if (c->got + (size_t)r > MSG)
                fail_conn(ch, c, "echo too long", (long)(c->got + (size_t)r));
            memcpy(c->buf + c->got, tmp, (size_t)r);
            c->got += (size_t)r;
        }
        if (r == -EAGAIN && c->got < MSG)
            return;
        if (c->got == MSG && c->st == C_WAIT_ECHO) {
            char msg[MSG + 1];
            snprintf(msg, sizeof(msg), "c%07u", c->idx % 10000000u);
            if (memcmp(c->buf, msg, MSG) != 0)
                fail_conn(ch, c, "echo differs", 0);
            if (!ch->server_first) {
                ck_assert_int_eq(us_close(a, c->fd, ch->s.now), 0);
                c->st = C_IDLE;
                ch->done++;
                return;
            }
            c->st = C_WAIT_EOF;
        }
        if (r == -EAGAIN)
            return;
        if (r != 0 || c->st != C_WAIT_EOF)
            fail_conn(ch, c, "recv", (long)r);
        ck_assert_int_eq(us_close(a, c->fd, ch->s.now), 0); /* after the server's FIN */
        c->st = C_IDLE;
        ch->done++;
        return;
    }
    }
}

static void
server_step(struct churn *ch)
{
    struct us_stack *b = ch->s.st[1];
    while (ch->lfd >= 0) {
        struct us_sockaddr peer;
        int fd = us_accept(b, ch->lfd, &peer);
        if (fd == -EAGAIN)
            break;
        ck_assert_int_ge(fd, 0);
        size_t i = 0;
        while (i < 4 * SLOTS && ch->sv[i].fd >= 0)
            i++;
        ck_assert_uint_lt(i, 4 * SLOTS);
        ch->sv[i] = (struct server){.fd = fd};
    }
    for (size_t i = 0; i < 4 * SLOTS; i++) {
        struct server *v = &ch->sv[i];
        if (v->fd < 0)
            continue;
        char tmp[MSG];
        ssize_t r;
        while ((r = us_recvfrom(b, v->fd, tmp, sizeof(tmp), 0, NULL, NULL, ch->s.now)) > 0) {
            ck_assert_uint_le(v->got + (size_t)r, MSG);
            memcpy(v->buf + v->got, tmp, (size_t)r);
            v->got += (size_t)r;
            if (v->got == MSG) {
                ck_assert_int_eq(us_sendto(b, v->fd, v->buf, MSG, 0, NULL, ch->s.now), MSG);
                if (ch->server_first) {
                    ck_assert_int_eq(us_close(b, v->fd, ch->s.now), 0);
                    v->fd = -1;
                    break;
                }
            }
        }
        if (v->fd < 0)
            continue;
        ck_assert_msg(r == 0 || r == -EAGAIN, "seed %llu: server recv %zd",
                      (unsigned long long)simtcp_seed, r);
        if (r == 0) { /* the client's FIN */
            ck_assert_uint_eq(v->got, MSG);
            ck_assert_int_eq(us_close(b, v->fd, ch->s.now), 0);
            v->fd = -1;
        }
    }
}

static void
churn(uint64_t seed, unsigned total, uint16_t eph_lo, uint16_t eph_hi, bool server_first)
{
    struct churn *ch = calloc(1, sizeof(*ch));
    ck_assert_ptr_nonnull(ch);
    simtcp_seed = seed;
    struct us_config cfg;
    us_config_default(&cfg);
    if (eph_lo) {
        cfg.ephemeral_lo = eph_lo;
        cfg.ephemeral_hi = eph_hi;
    }
    struct us_impair imp = {.delay = US_MSEC(1) / 10};
    sim_init(&ch->s, &imp, seed, 1500, &cfg);
    ch->server_first = server_first;
    ch->total = total;
    for (size_t i = 0; i < 4 * SLOTS; i++)
        ch->sv[i].fd = -1;
    struct us_stack *b = ch->s.st[1];
    ch->lfd = us_socket(b, US_SOCK_STREAM);
    struct us_sockaddr la = {0, 80};
    ck_assert_int_eq(us_bind(b, ch->lfd, &la), 0);
    ck_assert_int_eq(us_listen(b, ch->lfd, 128), 0);
    us_time_t last_progress = 0;
    unsigned last_done = 0;
    while (ch->done < total) {
        for (int i = 0; i < SLOTS; i++)
            client_step(ch, &ch->c[i]);
        server_step(ch);
        sim_run(&ch->s, US_MSEC(1) / 2);
        if (ch->done != last_done) {
            last_done = ch->done;
            last_progress = ch->s.now;
        }
        ck_assert_msg(ch->s.now - last_progress < US_SEC(30),
                      "seed %llu: no connection finished for 30 s at %u done", (unsigned long long)seed,
                      ch->done);
    }
    ck_assert_int_eq(us_close(b, ch->lfd, ch->s.now), 0);
    ch->lfd = -1;
    for (int i = 0; i < 100; i++) { /* the server closes its last connections */
        server_step(ch);
        sim_run(&ch->s, US_MSEC(10));
    }
    int tw_side = server_first ? 1 : 0;
    size_t tw = simtcp_count(&ch->s, tw_side, "TIME-WAIT");
    ck_assert_uint_eq(simtcp_count(&ch->s, 1 - tw_side, NULL), 0);
    ck_assert_uint_gt(tw, 0);
    ck_assert_uint_le(tw, total);
    /* Every TIME-WAIT is a compact record (tcp_tw.c), not a control block; and the timer heap
     * holds no pile of dead entries (us_timerq_purge). */
    const struct us_stack *ts = ch->s.st[tw_side];
    ck_assert_uint_eq(ts->tcp->n_live, 0);
    ck_assert_uint_eq(ts->tcp->tw_count, tw);
    for (int i = 0; i < 2; i++)
        ck_assert_uint_le(ch->s.st[i]->timers.len, 2 * 1024 + 4 * SLOTS * US_TT_N);
    /* us_stack_info reports the same, and the allocation counters agree with it: what was
     * allocated and not freed is what is live. Then after 2*MSL both stacks are back to idle. */
    for (int i = 0; i < 2; i++) {
        struct us_stack_info si;
        us_stack_info(ch->s.st[i], &si);
        ck_assert_uint_eq(si.tcp_blocks, ch->s.st[i]->tcp->n_live);
        ck_assert_uint_eq(si.tcp_tw, i == tw_side ? tw : 0);
        ck_assert_uint_eq(si.timers, ch->s.st[i]->timers.len);
        ck_assert_uint_eq(simtcp_stat(&ch->s, i, "TCP_CONN_ALLOC") - simtcp_stat(&ch->s, i, "TCP_CONN_FREE"),
                          si.tcp_blocks);
        ck_assert_uint_eq(simtcp_stat(&ch->s, i, "TCP_TW_ALLOC") - simtcp_stat(&ch->s, i, "TCP_TW_FREE"),
                          si.tcp_tw);
        ck_assert_uint_ge(simtcp_stat(&ch->s, i, "TCP_CONN_ALLOC"), total);
    }
    ck_assert_uint_ge(simtcp_stat(&ch->s, tw_side, "TCP_TW_ALLOC"), tw);
    sim_run(&ch->s, 2 * cfg.tcp_msl + US_SEC(1));
    for (int i = 0; i < 2; i++) {
        struct us_stack_info si;
        us_stack_info(ch->s.st[i], &si);
        ck_assert_uint_eq(si.tcp_blocks, 0);
        ck_assert_uint_eq(si.tcp_hashed, 0);
        ck_assert_uint_eq(si.tcp_tw, 0);
        ck_assert_uint_eq(si.sockets, 0);
        ck_assert_uint_eq(si.pkts.small_in_use + si.pkts.large_in_use, 0);
        ck_assert_uint_eq(si.frag_dgrams, 0);
        ck_assert_uint_le(si.timers - si.timers_stale, 4); /* ARP's, at most */
        ck_assert_uint_eq(simtcp_stat(&ch->s, i, "TCP_CONN_ALLOC"), simtcp_stat(&ch->s, i, "TCP_CONN_FREE"));
        ck_assert_uint_eq(simtcp_stat(&ch->s, i, "TCP_TW_ALLOC"), simtcp_stat(&ch->s, i, "TCP_TW_FREE"));
    }
    uint64_t reopen = simtcp_stat(&ch->s, 0, "TCP_TW_REOPEN") + simtcp_stat(&ch->s, 1, "TCP_TW_REOPEN");
    uint64_t rto = simtcp_stat(&ch->s, 0, "TCP_RTO") + simtcp_stat(&ch->s, 1, "TCP_RTO");
    fprintf(stderr,
            "churn seed %llu: %u connections (%s closes first, ports %u-%u) in %.1f s virtual; "
            "%zu TIME-WAIT left, %llu reopened, %llu RTOs, %llu RSTs received\n",
            (unsigned long long)seed, total, server_first ? "server" : "client",
            (unsigned)cfg.ephemeral_lo, (unsigned)cfg.ephemeral_hi,
            (double)ch->s.now / 1e9, tw, (unsigned long long)reopen, (unsigned long long)rto,
            (unsigned long long)(simtcp_stat(&ch->s, 0, "TCP_RST_IN") +
                                 simtcp_stat(&ch->s, 1, "TCP_RST_IN")));
    unsigned ports = (unsigned)cfg.ephemeral_hi - cfg.ephemeral_lo + 1;
    if (total > ports) {
        ck_assert_uint_ge(reopen, total - ports);
        /* no SYN had to wait for a retransmission timeout to get past a TIME-WAIT */
        ck_assert_uint_eq(rto, 0);
    }
    simtcp_finish(&ch->s);
    free(ch);
}

static unsigned
scale(unsigned n)
{
    return simtcp_big() ? 5 * n : n;
}

START_TEST(churn_10k)
{
    churn(1, scale(10000), 0, 0, false);
}
END_TEST

START_TEST(churn_port_reuse_client_first)
{
    churn(2, scale(40000), 40000, 41999, false);
}
END_TEST

START_TEST(churn_port_reuse_server_first)
{
    churn(3, scale(4000), 40000, 40499, true);
}
END_TEST

#define ADD(su, t) US_ADD_CASE(su, #t, t, 600)

Suite *
make_suite(void)
{
    Suite *su = suite_create("sim_tcp_churn");
    ADD(su, churn_10k);
    ADD(su, churn_port_reuse_client_first);
    ADD(su, churn_port_reuse_server_first);
    return su;
}

US_TEST_MAIN()
