/* Built-in services on the stack's own sockets: echo (RFC 862), discard (RFC 863) and chargen
 * (RFC 864) over UDP and TCP, and a static HTTP/1.1 file server over TCP (apps/http.c).
 * Layer: application. Event-driven on the stack's ready list (us_sock_watch, us_ready): a socket
 * is served only when it is reported ready, with a bounded amount of work, and never blocks; a
 * TCP connection keeps what it could not send yet and waits for US_POLLOUT. Idle connections
 * cost nothing per loop iteration. */
#include "services.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#define SVC_MAX 16
#define SVC_BURST 64       /* datagrams or reads per socket per call */
#define SVC_MAX_CONNS 65536 /* TCP service connections at once (an idle one costs no buffer) */
#define SVC_BUF 65536
#define SVC_LINGER (5 * US_NSEC_PER_SEC) /* HTTP lingering close: the wait for the peer's FIN */
#define SVC_PEEK 16384     /* HTTP: bytes looked at per read (a head is at most 8 KiB) */
#define SVC_REJECT_MIN 64  /* HTTP: 503 answers lingering at once, at least (else max_conns) */

/* HTTP deadlines, one list each. Every entry of a list waited the same time from when it was
 * put there, so each list is in deadline order and only its head is ever looked at. */
enum tq { TQ_HEAD, TQ_SEND, TQ_IDLE, TQ_LINGER, TQ_N };

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP };

struct svc_conn {
    struct us_ready_handler h;         /* the watch cookie (first: h is the connection) */
    struct us_services *svc;
    struct svc_conn *next, *prev;      /* every connection */
    struct svc_conn *more_next;        /* on the "more" list: work left after a full burst */
    bool on_more;
    unsigned watch;                    /* events watched now */
    int fd;
    enum svc_kind kind;
    bool eof;                          /* the peer finished sending */
    bool closing;                      /* close once out is drained */
    bool lingering;                    /* HTTP: FIN sent, reading until the peer's (RFC 9112 9.6) */
    bool reject;                       /* HTTP: answered 503 at its accept, only lingers */
    int tq;                            /* HTTP: the deadline list it is on (enum tq), or -1 */
    us_time_t deadline;                /* ... and its deadline there */
    struct svc_conn *t_next, *t_prev;
    size_t head_bytes;                 /* HTTP: bytes of the current request head received */
    uint64_t acked;                    /* HTTP: TCP's bytes_acked at the last send deadline */
    unsigned chargen_pos;
    size_t out_len, out_off;           /* pending output in out */
    uint8_t *out;                      /* SVC_BUF bytes: echo and chargen from their first step;
                                        * HTTP only for output TCP did not take, while it lasts */
    struct us_http_server_conn *http;
};

struct svc_sock {
    struct us_ready_handler h; /* first: h is the socket */
    struct us_services *svc;
    enum svc_kind kind;
    int fd;
    bool tcp;
    bool watched;
};

struct us_services {
    size_t n;
    struct svc_sock s[SVC_MAX];
    char *http_root;
    struct svc_conn *conns;
    struct svc_conn *more;   /* connections that used up their burst, served by us_services_run */
    size_t n_conns;
    struct us_services_limits lim;
    size_t n_http, n_reject, reject_max;
    struct {
        struct svc_conn *head, *tail;
    } tq[TQ_N];
    us_time_t tq_wait[TQ_N]; /* how long an entry waits on each list; 0: not put there */
    struct us_services_stats stats;
    uint8_t buf[SVC_BUF];
};

/* What an HTTP connection holds from its accept to its end. */
#define HTTP_CONN_MEM (sizeof(struct svc_conn) + sizeof(struct us_http_server_conn))

void
us_services_limits_default(struct us_services_limits *l)
{
    /* The idle timeout is nginx's keepalive_timeout: a kept-alive connection here costs its
     * control block and HTTP_CONN_MEM (about 9.5 KiB; TCP releases its buffers when idle), so
     * the longer chance of reuse is cheap, and the connection limit, not this timeout, is what
     * bounds the cost. The head and send timeouts are nginx's client_header_timeout and
     * send_timeout. */
    *l = (struct us_services_limits){
        .http_idle_timeout = 75 * US_NSEC_PER_SEC,
        .http_head_timeout = 60 * US_NSEC_PER_SEC,
        .http_send_timeout = 60 * US_NSEC_PER_SEC,
        .http_max_conns = 4096,
        .http_max_memory = 64u << 20,
    };
}

static void
tq_unlink(struct us_services *s, struct svc_conn *c)
{
    if (c->tq < 0)
        return;
    if (c->t_prev)
        c->t_prev->t_next = c->t_next;
    else
        s->tq[c->tq].head = c->t_next;
    if (c->t_next)
        c->t_next->t_prev = c->t_prev;
    else
        s->tq[c->tq].tail = c->t_prev;
    c->t_next = c->t_prev = NULL;
    c->tq = -1;
}

/* Puts c on list q with the deadline now + that list's wait (off that list: on none). */
static void
tq_set(struct us_services *s, struct svc_conn *c, enum tq q, us_time_t now)
{
    tq_unlink(s, c);
    if (s->tq_wait[q] <= 0)
        return;
    c->tq = (int)q;
    c->deadline = now + s->tq_wait[q];
    c->t_prev = s->tq[q].tail;
    if (s->tq[q].tail)
        s->tq[q].tail->t_next = c;
    else
        s->tq[q].head = c;
    s->tq[q].tail = c;
}

static void sock_ready(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned ev,
                       us_time_t now);

static int
svc_open(struct us_services *s, struct us_stack *st, enum svc_kind kind, uint16_t port, bool tcp)
{
    if (s->n == SVC_MAX)
        return -ENOSPC;
    int fd = us_socket(st, tcp ? US_SOCK_STREAM : US_SOCK_DGRAM);
    if (fd < 0)
        return fd;
    struct us_sockaddr a = {0, port};
    int err = us_bind(st, fd, &a);
    if (err == 0 && tcp)
        err = us_listen(st, fd, 1024);
    if (err < 0) {
        us_close(st, fd, 0);
        return err;
    }
    struct svc_sock *k = &s->s[s->n++];
    *k = (struct svc_sock){.h = {sock_ready}, .svc = s, .kind = kind, .fd = fd, .tcp = tcp,
                           .watched = true};
    return us_sock_watch(st, fd, US_POLLIN, US_WATCH_LEVEL, &k->h);
}

static int
svc_open_both(struct us_services *s, struct us_stack *st, enum svc_kind kind, uint16_t port)
{
    int err = svc_open(s, st, kind, port, false);
    return err ? err : svc_open(s, st, kind, port, true);
}

int
us_services_start(struct us_services **out, struct us_stack *st, const char *list, us_time_t now)
{
    return us_services_start_limits(out, st, list, NULL, now);
}

int
us_services_start_limits(struct us_services **out, struct us_stack *st, const char *list,
                         const struct us_services_limits *lim, us_time_t now)
{
    (void)now;
    struct us_services *s = calloc(1, sizeof(*s));
    *out = s;
    if (!s)
        return -ENOMEM;
    if (lim)
        s->lim = *lim;
    else
        us_services_limits_default(&s->lim);
    s->reject_max = s->lim.http_max_conns > SVC_REJECT_MIN ? s->lim.http_max_conns : SVC_REJECT_MIN;
    s->tq_wait[TQ_HEAD] = s->lim.http_head_timeout;
    s->tq_wait[TQ_SEND] = s->lim.http_send_timeout;
    s->tq_wait[TQ_IDLE] = s->lim.http_idle_timeout;
    s->tq_wait[TQ_LINGER] = SVC_LINGER;
    if (!list || !*list)
        return 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -ENOMEM;
    int err = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "echo") == 0) {
            err = svc_open_both(s, st, SVC_ECHO, 7);
        } else if (strcmp(tok, "discard") == 0) {
            err = svc_open_both(s, st, SVC_DISCARD, 9);
        } else if (strcmp(tok, "chargen") == 0) {
            err = svc_open_both(s, st, SVC_CHARGEN, 19);
        } else if (strncmp(tok, "http=", 5) == 0 && tok[5] && !s->http_root) {
            struct us_http_server_conn probe;
            err = us_http_srv_init(&probe, tok + 5); /* the directory must open now */
            us_http_srv_free(&probe);
            if (err == 0 && !(s->http_root = strdup(tok + 5)))
                err = -ENOMEM;
            if (err == 0)
                err = svc_open(s, st, SVC_HTTP, 80, true);
        } else {
            err = -EINVAL;
        }
    }
    free(copy);
    return err;
}

/* RFC 864: the classic rotating 72-column pattern of printable ASCII, a line per step. */
static size_t
chargen_fill(uint8_t *out, size_t len, unsigned *pos)
{
    size_t n = 0;
    while (n < len) {
        unsigned line = *pos / 74, col = *pos % 74;
        out[n++] = col < 72 ? (uint8_t)(' ' + (line + col) % 95) : (col == 72 ? '\r' : '\n');
        (*pos)++;
    }
    return n;
}

/* Level-triggered: if datagrams remain after a burst, us_ready reports the socket again. */
static void
udp_service(struct us_services *s, struct us_stack *st, struct svc_sock *k, us_time_t now)
{
    for (int i = 0; i < SVC_BURST; i++) {
        struct us_sockaddr from;
        ssize_t n = us_recvfrom(st, k->fd, s->buf, sizeof(s->buf), 0, &from, NULL, now);
        if (n < 0)
            return;
        switch (k->kind) {
        case SVC_ECHO: /* RFC 862: send back the data received */
            us_sendto(st, k->fd, s->buf, (size_t)n, 0, &from, now);
            break;
        case SVC_CHARGEN: { /* RFC 864: answer each datagram with 0-512 characters */
            unsigned pos = (unsigned)(now / 1000);
            size_t len = chargen_fill(s->buf, (size_t)(now % 513), &pos);
            us_sendto(st, k->fd, s->buf, len, 0, &from, now);
            break;
        }
        default: /* RFC 863 discard */
            break;
        }
    }
}

static void
conn_free(struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    us_close(st, c->fd, now);
    if (c->http) {
        us_http_srv_free(c->http);
        free(c->http);
    }
    free(c->out);
    free(c);
}

/* Sends pending output; true when it is all gone. */
static bool
conn_flush(struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    while (c->out_off < c->out_len) {
        ssize_t w = us_sendto(st, c->fd, c->out + c->out_off, c->out_len - c->out_off, 0, NULL,
                              now);
        if (w <= 0)
            return false;
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
    return true;
}

enum step { STEP_DONE, STEP_WAIT, STEP_MORE }; /* free it; wait for readiness; burst used up */

/* The reason to stop after a send made no progress: the connection is dead (error or reset)
 * with output left, or it waits for room. */
static enum step
conn_blocked(struct us_stack *st, struct svc_conn *c)
{
    return (us_sock_poll(st, c->fd) & (US_POLLERR | US_POLLHUP)) ? STEP_DONE : STEP_WAIT;
}

/* RFC 9112 9.6: close in stages. Half-close, so the FIN follows what was sent; then read and
 * discard until the peer's FIN (or SVC_LINGER), and only then close. Closing at once would reset
 * the connection when requests pipelined behind the last response are still unread (RFC 1122
 * 4.2.2.13), and the RST can destroy the response before the client reads it. */
static void
begin_linger(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    if (c->lingering)
        return;
    c->lingering = true;
    tq_set(s, c, TQ_LINGER, now);
    us_shutdown(st, c->fd, US_SHUT_WR, now);
}

/* Serves one HTTP connection a bounded step. The request is read with MSG_PEEK and only what the
 * parser took is consumed, so the rest (pipelined requests, a slow client's bytes) waits in
 * TCP's receive buffer, not here; the response is produced straight into the shared buffer, no
 * more than TCP takes now (US_SO_SNDSPACE), so a connection holds no buffer of its own. */
static enum step
http_step(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    for (int k = 0; k < SVC_BURST; k++) {
        if (!conn_flush(st, c, now))
            return conn_blocked(st, c);
        if (c->out) {
            free(c->out);
            c->out = NULL;
            s->stats.http_memory -= SVC_BUF;
            if (!c->lingering && c->http->state == US_HTTP_SRV_READ)
                tq_set(s, c, TQ_IDLE, now); /* the response's last bytes are out at last */
        }
        if (c->lingering || us_http_srv_wants_close(c->http)) {
            /* Requests after the closing one are not answered (MUST NOT process, 9.6). */
            begin_linger(s, st, c, now);
            ssize_t n = us_recvfrom(st, c->fd, s->buf, sizeof(s->buf), 0, NULL, NULL, now);
            if (n == -EAGAIN)
                return STEP_WAIT;
            if (n <= 0)
                return STEP_DONE; /* the peer's FIN (or an error): done */
            continue;
        }
        if (c->http->state == US_HTTP_SRV_SEND) {
            int space = 0;
            if (us_getsockopt(st, c->fd, US_SO_SNDSPACE, &space) < 0)
                return STEP_DONE;
            if (space <= 0)
                return conn_blocked(st, c);
            size_t cap = (size_t)space < sizeof(s->buf) ? (size_t)space : sizeof(s->buf);
            size_t n = us_http_srv_next_output(c->http, s->buf, cap);
            ssize_t w = n ? us_sendto(st, c->fd, s->buf, n, 0, NULL, now) : 0;
            if (w < 0)
                return STEP_DONE;
            if (w > 0)
                tq_set(s, c, TQ_SEND, now); /* progress: the send deadline starts again */
            if ((size_t)w < n) { /* TCP took less than it said: keep the rest for a while */
                if (!(c->out = malloc(SVC_BUF)))
                    return STEP_DONE;
                s->stats.http_memory += SVC_BUF;
                memcpy(c->out, s->buf + w, n - (size_t)w);
                c->out_off = 0;
                c->out_len = n - (size_t)w;
            }
            if (c->http->state == US_HTTP_SRV_READ) { /* response done; kept alive */
                c->head_bytes = 0;
                if (!c->out) /* else idle once it is out, and it must move meanwhile */
                    tq_set(s, c, TQ_IDLE, now);
            }
            continue;
        }
        ssize_t n = us_recvfrom(st, c->fd, s->buf, SVC_PEEK, US_MSG_PEEK, NULL, NULL, now);
        if (n == -EAGAIN)
            return STEP_WAIT;
        if (n <= 0)
            return STEP_DONE; /* the peer is done and nothing is left to answer */
        if (c->head_bytes == 0) { /* a new head begins */
            if (c->http->requests > 0)
                tq_set(s, c, TQ_HEAD, now); /* from idle to its deadline */
            us_http_srv_set_date(c->http, (int64_t)time(NULL)); /* for its response */
        }
        size_t used = 0;
        int r = us_http_srv_feed(c->http, s->buf, (size_t)n, &used);
        c->head_bytes += used;
        if (used && us_recvfrom(st, c->fd, s->buf, used, 0, NULL, NULL, now) != (ssize_t)used)
            return STEP_DONE;
        if (r == 1)
            tq_set(s, c, TQ_SEND, now); /* a whole head: its response must move */
        else if (r < 0)
            return STEP_DONE;
    }
    return STEP_MORE;
}

/* Serves one TCP connection a bounded step. */
static enum step
conn_step(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    if (c->kind == SVC_HTTP)
        return http_step(s, st, c, now);
    if (!c->out && !(c->out = malloc(SVC_BUF)))
        return STEP_DONE;
    for (int k = 0; k < SVC_BURST; k++) {
        if (!conn_flush(st, c, now))
            return c->out_len ? conn_blocked(st, c) : STEP_WAIT;
        if (c->closing)
            return STEP_DONE;
        if (c->kind == SVC_CHARGEN) { /* RFC 864 TCP: send until the peer closes */
            c->out_len = chargen_fill(c->out, SVC_BUF, &c->chargen_pos);
            ssize_t n = us_recvfrom(st, c->fd, s->buf, sizeof(s->buf), 0, NULL, NULL, now);
            if (n == 0 || (n < 0 && n != -EAGAIN))
                return STEP_DONE;
            continue;
        }
        if (c->eof)
            return STEP_DONE; /* the peer is done and nothing is left to answer */
        uint8_t *dst = c->kind == SVC_ECHO ? c->out : s->buf;
        ssize_t n = us_recvfrom(st, c->fd, dst, SVC_BUF, 0, NULL, NULL, now);
        if (n == -EAGAIN)
            return STEP_WAIT;
        if (n <= 0) { /* end of stream or error: finish what we owe, then close */
            c->eof = true;
            c->closing = true;
            us_shutdown(st, c->fd, US_SHUT_WR, now);
            if (n < 0)
                return STEP_DONE;
            continue;
        }
        if (c->kind == SVC_ECHO)
            c->out_len = (size_t)n; /* RFC 862: send it back */
        /* discard: dropped */
    }
    return STEP_MORE;
}

/* What a waiting connection needs next: room to send while it has (or, for chargen and an HTTP
 * response in progress, makes) output, else input. Watching only one of them is the flow
 * control: an echo client that does not read stops being read. */
static unsigned
conn_wants(const struct svc_conn *c)
{
    if (c->out_off < c->out_len || c->kind == SVC_CHARGEN ||
        (c->kind == SVC_HTTP && !c->lingering && c->http->state == US_HTTP_SRV_SEND))
        return US_POLLOUT;
    return US_POLLIN;
}

static void
conn_link(struct us_services *s, struct svc_conn *c)
{
    c->tq = -1;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (c->kind != SVC_HTTP)
        return;
    if (c->reject)
        s->n_reject++;
    else
        s->n_http++;
    s->stats.http_memory += c->reject ? sizeof(*c) : HTTP_CONN_MEM;
}

static void
conn_unlink(struct us_services *s, struct svc_conn *c)
{
    tq_unlink(s, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    if (c->kind != SVC_HTTP)
        return;
    if (c->reject)
        s->n_reject--;
    else
        s->n_http--;
    s->stats.http_memory -= c->reject ? sizeof(*c) : HTTP_CONN_MEM;
    if (c->out)
        s->stats.http_memory -= SVC_BUF;
}

static void
listeners_rewatch(struct us_services *s, struct us_stack *st);

/* Closes c and forgets it. */
static void
conn_end(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    for (struct svc_conn **pp = &s->more; c->on_more && *pp; pp = &(*pp)->more_next)
        if (*pp == c) { /* rare: it ended through a readiness event */
            *pp = c->more_next;
            c->on_more = false;
            break;
        }
    conn_unlink(s, c);
    conn_free(st, c, now);
    listeners_rewatch(s, st);
}

/* Steps c and files it by the result: freed, watched for what it waits for, or on the "more"
 * list for us_services_run. */
static void
conn_serve(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    enum step r = conn_step(s, st, c, now);
    if (r == STEP_DONE) {
        conn_end(s, st, c, now);
        return;
    }
    if (r == STEP_MORE && !c->on_more) {
        c->on_more = true;
        c->more_next = s->more;
        s->more = c;
    }
    unsigned want = conn_wants(c);
    if (want != c->watch) {
        c->watch = want;
        us_sock_watch(st, c->fd, want, US_WATCH_LEVEL, &c->h);
    }
}

static void
conn_ready(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned ev, us_time_t now)
{
    (void)fd;
    (void)ev;
    struct svc_conn *c = (struct svc_conn *)h;
    conn_serve(c->svc, st, c, now);
}

/* Whether the listeners may hand over connections: below SVC_MAX_CONNS in all, and while the
 * 503 answers still lingering are fewer than reject_max. */
static bool
accepting(const struct us_services *s)
{
    return s->n_conns < SVC_MAX_CONNS && s->n_reject < s->reject_max;
}

/* When not accepting, the listeners stop being watched (the accept queue waits in the stack,
 * bounded by the backlog, as it would for a process that does not call accept), and are
 * watched again when a connection ends. */
static void
listeners_rewatch(struct us_services *s, struct us_stack *st)
{
    bool want = accepting(s);
    for (size_t i = 0; i < s->n; i++) {
        struct svc_sock *k = &s->s[i];
        if (k->tcp && k->watched != want) {
            k->watched = want;
            us_sock_watch(st, k->fd, want ? US_POLLIN : 0, US_WATCH_LEVEL, &k->h);
        }
    }
}

/* An HTTP connection over the limits: "503 Service Unavailable" with Connection: close, its FIN,
 * and a lingering close (so a request it already sent does not turn the close into an RST).
 * Its record is small and holds no parser; at most reject_max linger at once. */
static struct svc_conn *
http_reject(struct us_stack *st, int fd, us_time_t now)
{
    struct svc_conn *c = calloc(1, sizeof(*c));
    char resp[256];
    size_t len = us_http_srv_busy(resp, sizeof(resp), (int64_t)time(NULL));
    int space = 0;
    if (!c || len == 0 || us_getsockopt(st, fd, US_SO_SNDSPACE, &space) < 0 ||
        (size_t)space < len || us_sendto(st, fd, resp, len, 0, NULL, now) != (ssize_t)len) {
        free(c);
        us_close(st, fd, now);
        return NULL;
    }
    c->reject = true;
    c->lingering = true; /* its deadline is set once it is linked */
    us_shutdown(st, fd, US_SHUT_WR, now);
    return c;
}

static void
tcp_accept(struct us_services *s, struct us_stack *st, struct svc_sock *k, us_time_t now)
{
    for (int i = 0; i < SVC_BURST && accepting(s); i++) {
        int fd = us_accept(st, k->fd, NULL);
        if (fd < 0)
            break;
        struct svc_conn *c = NULL;
        if (k->kind == SVC_HTTP && (s->n_http >= s->lim.http_max_conns ||
                                    s->stats.http_memory + HTTP_CONN_MEM >
                                        s->lim.http_max_memory)) {
            if (s->n_http >= s->lim.http_max_conns)
                s->stats.http_reject_conns++;
            else
                s->stats.http_reject_memory++;
            c = http_reject(st, fd, now);
            if (!c)
                continue;
        } else {
            c = calloc(1, sizeof(*c));
            if (c && k->kind == SVC_HTTP) {
                c->http = malloc(sizeof(*c->http));
                if (!c->http || us_http_srv_init(c->http, s->http_root) < 0) {
                    free(c->http);
                    free(c);
                    c = NULL;
                }
            }
            if (!c) {
                us_close(st, fd, now);
                continue;
            }
        }
        us_setsockopt(st, fd, US_TCP_NODELAY, 1);
        c->h.fn = conn_ready;
        c->svc = s;
        c->fd = fd;
        c->kind = k->kind;
        conn_link(s, c);
        if (c->reject) {
            tq_set(s, c, TQ_LINGER, now);
        } else if (c->kind == SVC_HTTP) {
            s->stats.http_accepted++;
            tq_set(s, c, TQ_HEAD, now); /* the first request's head: nothing yet */
        }
        /* reported at once if already readable (or, for chargen, writable) */
        c->watch = conn_wants(c);
        us_sock_watch(st, fd, c->watch, US_WATCH_LEVEL, &c->h);
    }
    listeners_rewatch(s, st);
}

static void
sock_ready(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned ev, us_time_t now)
{
    (void)fd;
    (void)ev;
    struct svc_sock *k = (struct svc_sock *)h;
    if (k->tcp)
        tcp_accept(k->svc, st, k, now);
    else
        udp_service(k->svc, st, k, now);
}

/* c's deadline on list q passed. */
static void
http_expire(struct us_services *s, struct us_stack *st, struct svc_conn *c, enum tq q,
            us_time_t now)
{
    tq_unlink(s, c);
    switch (q) {
    case TQ_LINGER: /* the client never sent its FIN: let go */
        s->stats.http_linger_timeouts++;
        conn_end(s, st, c, now);
        return;
    case TQ_HEAD:
        /* A partial head: 408 and close (RFC 9110 15.5.9). Nothing at all: close without a
         * response, as nginx does (a client that never asked needs no answer). */
        if (c->head_bytes > 0 && us_http_srv_timeout(c->http)) {
            s->stats.http_head_timeouts++;
        } else {
            s->stats.http_silent_timeouts++;
            begin_linger(s, st, c, now);
        }
        break;
    case TQ_SEND: {
        /* No write for the send timeout. If the client acknowledged bytes since the last such
         * deadline it reads, only slowly (TCP's room may open below the level that reports
         * US_POLLOUT): another period. Else it takes nothing, and is reset within one to two
         * send timeouts of the last byte it took.
         * DEVIATION(RFC 9112 9.5: one that times out SHOULD close gracefully): an RST, as
         * nginx with reset_timedout_connection, as a FIN would wait behind the unsent data
         * the client does not read. */
        struct us_tcp_info ti;
        if (us_tcp_get_info(st, c->fd, &ti) == 0 && ti.bytes_acked != c->acked) {
            c->acked = ti.bytes_acked;
            tq_set(s, c, TQ_SEND, now);
            return;
        }
        s->stats.http_send_timeouts++;
        us_setsockopt(st, c->fd, US_SO_LINGER, 0);
        conn_end(s, st, c, now);
        return;
    }
    case TQ_IDLE: /* RFC 9112 9.5: a server times out an inactive connection, gracefully */
        s->stats.http_idle_timeouts++;
        begin_linger(s, st, c, now);
        break;
    default:
        return;
    }
    conn_serve(s, st, c, now);
}

void
us_services_run(struct us_services *s, struct us_stack *st, us_time_t now)
{
    if (!s)
        return;
    /* The HTTP deadlines that passed; each list's head is its earliest. */
    for (int q = 0; q < TQ_N; q++)
        while (s->tq[q].head && s->tq[q].head->deadline <= now)
            http_expire(s, st, s->tq[q].head, (enum tq)q, now);
    struct svc_conn *list = s->more;
    s->more = NULL;
    while (list) {
        struct svc_conn *c = list;
        list = c->more_next;
        c->on_more = false;
        conn_serve(s, st, c, now); /* may put it back on s->more */
    }
}

us_time_t
us_services_next_deadline(const struct us_services *s)
{
    if (!s)
        return US_TIME_NEVER;
    if (s->more)
        return 0;
    us_time_t next = US_TIME_NEVER;
    for (int q = 0; q < TQ_N; q++)
        if (s->tq[q].head && s->tq[q].head->deadline < next)
            next = s->tq[q].head->deadline;
    return next;
}

void
us_services_stop(struct us_services *s, struct us_stack *st, us_time_t now)
{
    if (!s)
        return;
    while (s->conns) {
        struct svc_conn *c = s->conns;
        s->conns = c->next;
        conn_free(st, c, now);
    }
    for (size_t i = 0; i < s->n; i++)
        us_close(st, s->s[i].fd, now);
    free(s->http_root);
    free(s);
}

void
us_services_get_stats(const struct us_services *s, struct us_services_stats *out)
{
    *out = (struct us_services_stats){0};
    if (!s)
        return;
    *out = s->stats;
    out->http_conns = s->n_http;
}

size_t
us_services_format_stats(const struct us_services *s, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    if (!s || !s->http_root || cap == 0)
        return 0;
    struct us_services_stats t;
    us_services_get_stats(s, &t);
#define LINE "    %-26s %10llu  %s\n"
    int n = snprintf(buf, cap,
                     "\nHTTP service:\n" LINE LINE LINE LINE LINE LINE LINE LINE LINE LINE,
                     "HTTP_CONNS", (unsigned long long)t.http_conns, "connections open now",
                     "HTTP_MEMORY", (unsigned long long)t.http_memory, "bytes the service holds now",
                     "HTTP_ACCEPTED", (unsigned long long)t.http_accepted, "connections served",
                     "HTTP_REJECT_CONNS", (unsigned long long)t.http_reject_conns,
                     "answered 503: over the connection limit",
                     "HTTP_REJECT_MEMORY", (unsigned long long)t.http_reject_memory,
                     "answered 503: over the memory limit",
                     "HTTP_HEAD_TIMEOUTS", (unsigned long long)t.http_head_timeouts,
                     "answered 408: a request head ran out of time",
                     "HTTP_SILENT_TIMEOUTS", (unsigned long long)t.http_silent_timeouts,
                     "closed: no request in the head time",
                     "HTTP_SEND_TIMEOUTS", (unsigned long long)t.http_send_timeouts,
                     "reset: a client read nothing in the send time",
                     "HTTP_IDLE_TIMEOUTS", (unsigned long long)t.http_idle_timeouts,
                     "kept-alive connections closed when idle",
                     "HTTP_LINGER_TIMEOUTS", (unsigned long long)t.http_linger_timeouts,
                     "closes whose client never sent its FIN");
#undef LINE
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *
us_services_error(int err)
{
    switch (err) {
    case -EINVAL:
        return "unknown service (known: echo, discard, chargen, http=DIR)";
    case -EADDRINUSE:
        return "port already in use";
    case -ENOENT:
    case -ENOTDIR:
        return "http root is not a readable directory";
    default:
        return strerror(-err);
    }
}
