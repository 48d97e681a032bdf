/* Built-in services on the stack's own sockets: echo (RFC 862), discard (RFC 863) and chargen
 * (RFC 864) over UDP and TCP, and a static HTTP/1.1 file server over TCP (apps/http.c).
 * Layer: application. Event-driven on the stack's ready list (us_sock_watch, us_ready): a socket
 * is served only when it is reported ready, with a bounded amount of work, and never blocks; a
 * TCP connection keeps what it could not send yet and waits for US_POLLOUT. Idle connections
 * cost nothing per loop iteration. */
#include "services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#define SVC_MAX 16
#define SVC_BURST 64       /* datagrams or reads per socket per call */
#define SVC_MAX_CONNS 65536 /* TCP service connections at once (an idle one costs no buffer) */
#define SVC_BUF 65536
#define SVC_LINGER (5 * US_NSEC_PER_SEC) /* HTTP lingering close: the wait for the peer's FIN */

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
    us_time_t linger_until;            /* ... or until then */
    struct svc_conn *linger_next, *linger_prev; /* the lingering, oldest first */
    unsigned chargen_pos;
    size_t out_len, out_off;           /* pending output in out */
    uint8_t *out;                      /* SVC_BUF bytes, allocated on first use */
    uint8_t *in;                       /* HTTP: bytes received, not yet consumed */
    size_t in_len;
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
    /* HTTP connections in their lingering close, in the order they began it: each waits the same
     * SVC_LINGER, so the head's deadline is the earliest (us_services_next_deadline) */
    struct svc_conn *linger_head, *linger_tail;
    uint8_t buf[SVC_BUF];
};

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
    (void)now;
    struct us_services *s = calloc(1, sizeof(*s));
    *out = s;
    if (!s)
        return -ENOMEM;
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
    free(c->in);
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

/* Serves one TCP connection a bounded step. */
static enum step
conn_step(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    if (!c->out && !(c->out = malloc(SVC_BUF)))
        return STEP_DONE;
    for (int k = 0; k < SVC_BURST; k++) {
        if (!conn_flush(st, c, now))
            return (us_sock_poll(st, c->fd) & (US_POLLERR | US_POLLHUP)) && c->out_len
                       ? STEP_DONE
                       : STEP_WAIT;
        if (c->closing)
            return STEP_DONE;
        if (c->kind == SVC_CHARGEN) { /* RFC 864 TCP: send until the peer closes */
            c->out_len = chargen_fill(c->out, SVC_BUF, &c->chargen_pos);
            ssize_t n = us_recvfrom(st, c->fd, s->buf, sizeof(s->buf), 0, NULL, NULL, now);
            if (n == 0 || (n < 0 && n != -EAGAIN))
                return STEP_DONE;
            continue;
        }
        if (c->kind == SVC_HTTP && c->http->state == US_HTTP_SRV_SEND) {
            c->out_len = us_http_srv_next_output(c->http, c->out, SVC_BUF);
            continue;
        }
        if (c->kind == SVC_HTTP && us_http_srv_wants_close(c->http)) {
            /* RFC 9112 9.6: the response that closes is all handed to TCP (flushed above): close
             * in stages. Half-close, so the FIN follows the body; then read and discard until
             * the peer's FIN (or SVC_LINGER), and only then close. Closing at once would reset
             * the connection when requests pipelined behind this one are still unread (RFC 1122
             * 4.2.2.13), and the RST can destroy the response before the client reads it.
             * Requests after the closing one are not answered (MUST NOT process, 9.6). */
            if (!c->lingering) {
                c->lingering = true;
                c->linger_until = now + SVC_LINGER;
                c->in_len = 0;
                c->linger_prev = s->linger_tail;
                if (s->linger_tail)
                    s->linger_tail->linger_next = c;
                else
                    s->linger_head = c;
                s->linger_tail = c;
                us_shutdown(st, c->fd, US_SHUT_WR, now);
            }
            ssize_t n = us_recvfrom(st, c->fd, s->buf, sizeof(s->buf), 0, NULL, NULL, now);
            if (n == -EAGAIN)
                return now < c->linger_until ? STEP_WAIT : STEP_DONE;
            if (n <= 0)
                return STEP_DONE; /* the peer's FIN (or an error): done */
            continue;
        }
        if (c->kind == SVC_HTTP && c->in_len) { /* pipelined requests already received */
            size_t used = 0;
            int r = us_http_srv_feed(c->http, c->in, c->in_len, &used);
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            if (r == 1 || used)
                continue;
            if (r < 0 && r != -EBUSY)
                return STEP_DONE;
        }
        if (c->eof)
            return STEP_DONE; /* the peer is done and nothing is left to answer */
        uint8_t *dst = c->kind == SVC_ECHO ? c->out : s->buf;
        size_t cap = SVC_BUF;
        if (c->kind == SVC_HTTP) {
            if (!c->in && !(c->in = malloc(SVC_BUF)))
                return STEP_DONE;
            dst = c->in + c->in_len;
            cap = SVC_BUF - c->in_len;
            if (cap == 0)
                return STEP_DONE; /* a request head never fits: the parser would have said 431 */
        }
        ssize_t n = us_recvfrom(st, c->fd, dst, cap, 0, NULL, NULL, now);
        if (n == -EAGAIN)
            return STEP_WAIT;
        if (n <= 0) { /* end of stream or error: finish what we owe, then close */
            c->eof = true;
            if (c->kind == SVC_ECHO || c->kind == SVC_DISCARD) {
                c->closing = true;
                us_shutdown(st, c->fd, US_SHUT_WR, now);
            }
            if (n < 0)
                return STEP_DONE;
            continue;
        }
        if (c->kind == SVC_ECHO)
            c->out_len = (size_t)n; /* RFC 862: send it back */
        else if (c->kind == SVC_HTTP)
            c->in_len += (size_t)n;
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
        (c->kind == SVC_HTTP && c->http->state == US_HTTP_SRV_SEND))
        return US_POLLOUT;
    return US_POLLIN;
}

static void
conn_unlink(struct us_services *s, struct svc_conn *c)
{
    if (c->lingering) {
        if (c->linger_prev)
            c->linger_prev->linger_next = c->linger_next;
        else
            s->linger_head = c->linger_next;
        if (c->linger_next)
            c->linger_next->linger_prev = c->linger_prev;
        else
            s->linger_tail = c->linger_prev;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
}

static void
listeners_rewatch(struct us_services *s, struct us_stack *st);

/* Steps c and files it by the result: freed, watched for what it waits for, or on the "more"
 * list for us_services_run. */
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

/* At SVC_MAX_CONNS the listeners stop being watched (the accept queue waits in the stack, as
 * it would for a process that does not call accept), and are watched again when one ends. */
static void
listeners_rewatch(struct us_services *s, struct us_stack *st)
{
    bool want = s->n_conns < SVC_MAX_CONNS;
    for (size_t i = 0; i < s->n; i++) {
        struct svc_sock *k = &s->s[i];
        if (k->tcp && k->watched != want) {
            k->watched = want;
            us_sock_watch(st, k->fd, want ? US_POLLIN : 0, US_WATCH_LEVEL, &k->h);
        }
    }
}

static void
tcp_accept(struct us_services *s, struct us_stack *st, struct svc_sock *k)
{
    for (int i = 0; i < SVC_BURST && s->n_conns < SVC_MAX_CONNS; i++) {
        int fd = us_accept(st, k->fd, NULL);
        if (fd < 0)
            break;
        struct svc_conn *c = calloc(1, sizeof(*c));
        if (c && k->kind == SVC_HTTP) {
            c->http = malloc(sizeof(*c->http));
            if (!c->http || us_http_srv_init(c->http, s->http_root) < 0) {
                free(c->http);
                free(c);
                c = NULL;
            } else {
                us_http_srv_set_date(c->http, (int64_t)time(NULL));
            }
        }
        if (!c) {
            us_close(st, fd, 0);
            continue;
        }
        us_setsockopt(st, fd, US_TCP_NODELAY, 1);
        c->h.fn = conn_ready;
        c->svc = s;
        c->fd = fd;
        c->kind = k->kind;
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
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
        tcp_accept(k->svc, st, k);
    else
        udp_service(k->svc, st, k, now);
}

void
us_services_run(struct us_services *s, struct us_stack *st, us_time_t now)
{
    if (!s)
        return;
    /* Lingering closes whose peer never sent its FIN: let go at the deadline (their sockets
     * become readable only if the peer sends something). */
    while (s->linger_head && s->linger_head->linger_until <= now)
        conn_end(s, st, s->linger_head, now);
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
    return s->more ? 0 : s->linger_head ? s->linger_head->linger_until : US_TIME_NEVER;
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
