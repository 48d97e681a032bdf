/* TCP simulation helpers; see simtcp.h. */
#include "lib/simtcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"

uint64_t simtcp_seed;

static uint64_t
env_u64(const char *name, uint64_t dflt, bool *found)
{
    const char *v = getenv(name);
    if (found)
        *found = v && *v;
    if (!v || !*v)
        return dflt;
    return strtoull(v, NULL, 0);
}

unsigned
simtcp_nseeds(unsigned dflt)
{
    bool one;
    env_u64("SIM_SEED", 0, &one);
    if (one)
        return 1;
    return (unsigned)env_u64("SIM_SEEDS", dflt, NULL);
}

uint64_t
simtcp_seed_at(unsigned i)
{
    bool one;
    uint64_t v = env_u64("SIM_SEED", 0, &one);
    return one ? v : 1000 + i;
}

bool
simtcp_big(void)
{
    return env_u64("SIM_BIG", 0, NULL) != 0;
}

struct wait_ctx {
    struct us_stack *st;
    int fd, ev;
};

static bool
wait_cond(void *ctx)
{
    struct wait_ctx *w = ctx;
    int m = us_sock_poll(w->st, w->fd);
    return m >= 0 && (m & w->ev);
}

bool
simtcp_wait(struct sim *s, int side, int fd, int ev, us_time_t limit)
{
    struct wait_ctx w = {s->st[side], fd, ev};
    return sim_run_until(s, limit, wait_cond, &w);
}

void
simtcp_connect(struct simtcp_pair *p, const struct us_impair *imp, uint64_t seed, uint16_t mtu,
               const struct us_config *cfg, int cc)
{
    simtcp_seed = seed;
    p->seed = seed;
    sim_init(&p->s, imp, seed, mtu, cfg);
    struct us_stack *a = p->s.st[0], *b = p->s.st[1];
    p->lfd = us_socket(b, US_SOCK_STREAM);
    ck_assert_int_ge(p->lfd, 0);
    ck_assert_int_eq(us_setsockopt(b, p->lfd, US_TCP_CONGESTION, cc), 0);
    struct us_sockaddr la = {0, 80};
    ck_assert_int_eq(us_bind(b, p->lfd, &la), 0);
    ck_assert_int_eq(us_listen(b, p->lfd, 64), 0);
    p->cfd = us_socket(a, US_SOCK_STREAM);
    ck_assert_int_ge(p->cfd, 0);
    ck_assert_int_eq(us_setsockopt(a, p->cfd, US_TCP_CONGESTION, cc), 0);
    struct us_sockaddr to = {SIM_B_IP, 80};
    ck_assert_int_eq(us_connect(a, p->cfd, &to, p->s.now), -EINPROGRESS);
    ck_assert_msg(simtcp_wait(&p->s, 0, p->cfd, US_POLLOUT | US_POLLERR, US_SEC(120)),
                  "seed %llu: connect did not complete", (unsigned long long)seed);
    ck_assert_msg(us_sock_error(a, p->cfd) == 0, "seed %llu: connect failed",
                  (unsigned long long)seed);
    ck_assert_msg(simtcp_wait(&p->s, 1, p->lfd, US_POLLIN, US_SEC(120)),
                  "seed %llu: nothing to accept", (unsigned long long)seed);
    struct us_sockaddr peer;
    p->sfd = us_accept(b, p->lfd, &peer);
    ck_assert_int_ge(p->sfd, 0);
    ck_assert_uint_eq(peer.addr, SIM_A_IP);
}

static uint64_t
splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void
simtcp_gen(uint64_t sid, uint64_t off, uint8_t *buf, size_t n)
{
    uint64_t base = sid * 0x100000000ull;
    size_t i = 0;
    while (i < n) {
        uint64_t w = splitmix(base + (off + i) / 8);
        for (unsigned b = (unsigned)((off + i) % 8); b < 8 && i < n; b++, i++)
            buf[i] = (uint8_t)(w >> (8 * b));
    }
}

static uint64_t
fnv(uint64_t h, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

#define FNV0 0xcbf29ce484222325ull

struct xfer_end {
    struct simtcp_dir d;
    int side, ftx, frx; /* sender stack index and its fd; receiver fd */
    uint64_t sid;
    uint64_t acked0;    /* the sender's bytes_acked when the transfer began */
};

static void
xfer_send(struct simtcp_pair *p, struct xfer_end *e, uint8_t *buf, size_t cap)
{
    struct us_stack *tx = p->s.st[e->side];
    while (e->d.sent < e->d.total) {
        size_t n = e->d.total - e->d.sent < cap ? e->d.total - e->d.sent : cap;
        simtcp_gen(e->sid, e->d.sent, buf, n);
        ssize_t w = us_sendto(tx, e->ftx, buf, n, 0, NULL, p->s.now);
        if (w == -EAGAIN)
            return;
        ck_assert_msg(w > 0, "seed %llu: send error %zd at %zu", (unsigned long long)p->seed, w,
                      e->d.sent);
        e->d.hash_tx = fnv(e->d.hash_tx, buf, (size_t)w);
        e->d.sent += (size_t)w;
        if ((size_t)w < n)
            return;
    }
}

static void
xfer_recv(struct simtcp_pair *p, struct xfer_end *e, uint8_t *in, uint8_t *exp, size_t cap)
{
    struct us_stack *rx = p->s.st[1 - e->side];
    for (;;) {
        ssize_t r = us_recvfrom(rx, e->frx, in, cap, 0, NULL, NULL, p->s.now);
        if (r == -EAGAIN)
            break;
        ck_assert_msg(r > 0, "seed %llu: recv returned %zd after %zu of %zu bytes (side %d)",
                      (unsigned long long)p->seed, r, e->d.got, e->d.total, 1 - e->side);
        ck_assert_msg(e->d.got + (size_t)r <= e->d.sent, "seed %llu: received more than sent",
                      (unsigned long long)p->seed);
        simtcp_gen(e->sid, e->d.got, exp, (size_t)r);
        if (memcmp(in, exp, (size_t)r) != 0) {
            size_t k = 0;
            while (in[k] == exp[k])
                k++;
            ck_abort_msg("seed %llu: stream differs at byte %zu (got %02x want %02x)",
                         (unsigned long long)p->seed, e->d.got + k, in[k], exp[k]);
        }
        e->d.hash_rx = fnv(e->d.hash_rx, in, (size_t)r);
        e->d.got += (size_t)r;
    }
}

/* The sender cannot have had more acknowledged than the receiver holds in order. */
static void
xfer_check(struct simtcp_pair *p, struct xfer_end *e)
{
    struct us_tcp_info ti;
    ck_assert_int_eq(us_tcp_get_info(p->s.st[e->side], e->ftx, &ti), 0);
    struct us_sock_info si[64];
    size_t n = us_sock_list(p->s.st[1 - e->side], si, 64);
    size_t q = 0;
    for (size_t i = 0; i < n && i < 64; i++)
        if (si[i].fd == e->frx)
            q = si[i].recv_q;
    uint64_t acked = ti.bytes_acked - e->acked0;
    ck_assert_msg(acked <= e->d.sent, "seed %llu: acked %llu > sent %zu",
                  (unsigned long long)p->seed, (unsigned long long)acked, e->d.sent);
    ck_assert_msg(acked <= e->d.got + q,
                  "seed %llu: acked %llu but receiver has only %zu read + %zu queued",
                  (unsigned long long)p->seed, (unsigned long long)acked, e->d.got, q);
}

void
simtcp_transfer(struct simtcp_pair *p, size_t ab, size_t ba, us_time_t limit,
                struct simtcp_dir d[2])
{
    static uint8_t buf[65536], in[65536], exp[65536];
    struct xfer_end e[2] = {
        {.d = {.total = ab, .hash_tx = FNV0, .hash_rx = FNV0}, .side = 0, .ftx = p->cfd,
         .frx = p->sfd, .sid = p->seed * 2},
        {.d = {.total = ba, .hash_tx = FNV0, .hash_rx = FNV0}, .side = 1, .ftx = p->sfd,
         .frx = p->cfd, .sid = p->seed * 2 + 1},
    };
    for (int i = 0; i < 2; i++) {
        struct us_tcp_info ti;
        ck_assert_int_eq(us_tcp_get_info(p->s.st[e[i].side], e[i].ftx, &ti), 0);
        e[i].acked0 = ti.bytes_acked;
    }
    us_time_t end = p->s.now + limit;
    unsigned step = 0;
    while (e[0].d.got < e[0].d.total || e[1].d.got < e[1].d.total) {
        ck_assert_msg(p->s.now < end, "seed %llu: transfer stalled: A->B %zu/%zu, B->A %zu/%zu",
                      (unsigned long long)p->seed, e[0].d.got, e[0].d.total, e[1].d.got,
                      e[1].d.total);
        for (int i = 0; i < 2; i++)
            xfer_send(p, &e[i], buf, sizeof(buf));
        sim_run(&p->s, US_MSEC(1));
        for (int i = 0; i < 2; i++) {
            xfer_recv(p, &e[i], in, exp, sizeof(in));
            if ((++step & 15) == 0 && e[i].d.total)
                xfer_check(p, &e[i]);
        }
    }
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(e[i].d.hash_tx == e[i].d.hash_rx, "seed %llu: hash mismatch dir %d",
                      (unsigned long long)p->seed, i);
        if (!e[i].d.total)
            continue;
        /* Everything read was acknowledged once the ACKs drain (on a lossy link the last one
         * may need the sender's retransmission timeout). */
        struct us_tcp_info ti;
        for (int t = 0; t < 1200; t++) {
            ck_assert_int_eq(us_tcp_get_info(p->s.st[e[i].side], e[i].ftx, &ti), 0);
            if (ti.bytes_acked - e[i].acked0 >= e[i].d.total)
                break;
            sim_run(&p->s, US_MSEC(100));
        }
        ck_assert_msg(ti.bytes_acked - e[i].acked0 == e[i].d.total,
                      "seed %llu: dir %d acked %llu of %zu", (unsigned long long)p->seed, i,
                      (unsigned long long)(ti.bytes_acked - e[i].acked0), e[i].d.total);
        if (d)
            d[i] = e[i].d;
    }
}

void
simtcp_close_all(struct simtcp_pair *p)
{
    struct us_stack *a = p->s.st[0], *b = p->s.st[1];
    ck_assert_int_eq(us_close(a, p->cfd, p->s.now), 0);
    ck_assert_msg(simtcp_wait(&p->s, 1, p->sfd, US_POLLIN, US_SEC(120)),
                  "seed %llu: no EOF at the server", (unsigned long long)p->seed);
    char c;
    ck_assert_int_eq(us_recvfrom(b, p->sfd, &c, 1, 0, NULL, NULL, p->s.now), 0);
    ck_assert_int_eq(us_close(b, p->sfd, p->s.now), 0);
    ck_assert_int_eq(us_close(b, p->lfd, p->s.now), 0);
}

size_t
simtcp_count(struct sim *s, int side, const char *only)
{
    size_t n = us_sock_list(s->st[side], NULL, 0);
    if (only && n) {
        struct us_sock_info *si = calloc(n, sizeof(*si));
        ck_assert_ptr_nonnull(si);
        n = us_sock_list(s->st[side], si, n);
        for (size_t i = 0; i < n; i++) {
            if (si[i].fd == -1 && strcmp(us_tcp_state_name(si[i].state), only) == 0)
                continue;
            int fd = si[i].fd;
            const char *state = us_tcp_state_name(si[i].state);
            free(si);
            ck_abort_msg("seed %llu: side %d has fd %d in %s (expected only orphans in %s)",
                         (unsigned long long)simtcp_seed, side, fd, state, only);
        }
        free(si);
    }
    return n;
}

void
simtcp_finish(struct sim *s)
{
    struct us_config def;
    us_config_default(&def);
    sim_run(s, 2 * def.tcp_msl + US_SEC(1));
    for (int i = 0; i < 2; i++) {
        struct us_sock_info si[4];
        size_t n = us_sock_list(s->st[i], si, 4);
        ck_assert_msg(n == 0, "seed %llu: side %d still has %zu sockets (first: fd %d %s)",
                      (unsigned long long)simtcp_seed, i, n, n ? si[0].fd : 0,
                      n ? us_tcp_state_name(si[0].state) : "");
        struct us_pool_info pi;
        us_pool_info(s->st[i], &pi);
        ck_assert_msg(pi.small_in_use == 0 && pi.large_in_use == 0,
                      "seed %llu: side %d holds %zu small, %zu large buffers",
                      (unsigned long long)simtcp_seed, i, pi.small_in_use, pi.large_in_use);
    }
    ck_assert(sim_free(s));
}

uint64_t
simtcp_fingerprint(const struct sim *s)
{
    uint64_t h = FNV0;
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < us_stat_count(); k++) {
            uint64_t v = us_stat_get(s->st[i], k);
            h = fnv(h, (const uint8_t *)&v, sizeof(v));
        }
        for (size_t k = 0; k < us_drop_count(); k++) {
            uint64_t v = us_drop_get(s->st[i], k);
            h = fnv(h, (const uint8_t *)&v, sizeof(v));
        }
        const struct us_wire_stats *w = us_wire_link_stats(s->link, i);
        h = fnv(h, (const uint8_t *)w, sizeof(*w));
    }
    return fnv(h, (const uint8_t *)&s->now, sizeof(s->now));
}

struct trace_ctx {
    const struct sim *s;
    uint64_t *h;
    uint8_t side;
};
static struct trace_ctx trace_ctx[2];

static void
trace_hash(void *ctx, const char *line)
{
    struct trace_ctx *t = ctx;
    *t->h = fnv(*t->h, &t->side, 1);
    *t->h = fnv(*t->h, (const uint8_t *)&t->s->now, sizeof(t->s->now));
    *t->h = fnv(*t->h, (const uint8_t *)line, strlen(line));
}

void
simtcp_trace_hash(struct sim *s, uint64_t *h)
{
    for (int i = 0; i < 2; i++) {
        trace_ctx[i] = (struct trace_ctx){s, h, (uint8_t)i};
        us_set_trace(s->st[i], trace_hash, &trace_ctx[i]);
    }
}

uint64_t
simtcp_stat(const struct sim *s, int side, const char *name)
{
    for (size_t k = 0; k < us_stat_count(); k++)
        if (strcmp(us_stat_name(k), name) == 0)
            return us_stat_get(s->st[side], k);
    for (size_t k = 0; k < us_drop_count(); k++)
        if (strcmp(us_drop_name(k), name) == 0)
            return us_drop_get(s->st[side], k);
    ck_abort_msg("no counter %s", name);
    return 0;
}

uint64_t
simtcp_tcp_drops(const struct sim *s, int side)
{
    uint64_t n = 0;
    for (size_t k = 0; k < us_drop_count(); k++) {
        uint64_t v = us_drop_get(s->st[side], k);
        if (v && strncmp(us_drop_name(k), "TCP_", 4) == 0) {
            fprintf(stderr, "seed %llu: side %d dropped %llu: %s\n",
                    (unsigned long long)simtcp_seed, side, (unsigned long long)v,
                    us_drop_name(k));
            n += v;
        }
    }
    return n;
}
