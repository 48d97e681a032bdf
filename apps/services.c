/* Built-in services on the stack's own sockets: echo (RFC 862), discard (RFC 863) and chargen
 * (RFC 864) over UDP and TCP, and a static HTTP/1.1 file server over TCP (apps/http.c).
 * Layer: application. Event-driven: us_services_run does a bounded amount of work per socket and
 * never blocks; a TCP connection keeps what it could not send yet and retries next time. */
#include "services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#define SVC_MAX 16
#define SVC_BURST 64       /* datagrams or reads per socket per call */
#define SVC_MAX_CONNS 4096 /* TCP service connections at once */
#define SVC_BUF 65536

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP };

struct svc_conn {
    struct svc_conn *next;
    int fd;
    enum svc_kind kind;
    bool eof;                          /* the peer finished sending */
    bool closing;                      /* close once out is drained */
    unsigned chargen_pos;
    size_t out_len, out_off;           /* pending output in out */
    uint8_t *out;                      /* SVC_BUF bytes, allocated on first use */
    uint8_t *in;                       /* HTTP: bytes received, not yet consumed */
    size_t in_len;
    struct us_http_server_conn *http;
};

struct us_services {
    size_t n;
    struct {
        enum svc_kind kind;
        int fd;
        bool tcp;
    } s[SVC_MAX];
    char *http_root;
    struct svc_conn *conns;
    size_t n_conns;
    uint8_t buf[SVC_BUF];
};

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
    s->s[s->n].kind = kind;
    s->s[s->n].fd = fd;
    s->s[s->n].tcp = tcp;
    s->n++;
    return 0;
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

static void
udp_service(struct us_services *s, struct us_stack *st, int i, us_time_t now)
{
    for (int k = 0; k < SVC_BURST; k++) {
        struct us_sockaddr from;
        ssize_t n = us_recvfrom(st, s->s[i].fd, s->buf, sizeof(s->buf), 0, &from, NULL, now);
        if (n < 0)
            return;
        switch (s->s[i].kind) {
        case SVC_ECHO: /* RFC 862: send back the data received */
            us_sendto(st, s->s[i].fd, s->buf, (size_t)n, 0, &from, now);
            break;
        case SVC_CHARGEN: { /* RFC 864: answer each datagram with 0-512 characters */
            unsigned pos = (unsigned)(now / 1000);
            size_t len = chargen_fill(s->buf, (size_t)(now % 513), &pos);
            us_sendto(st, s->s[i].fd, s->buf, len, 0, &from, now);
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

/* Serves one TCP connection a bounded step; false when it is finished and can be freed. */
static bool
conn_step(struct us_services *s, struct us_stack *st, struct svc_conn *c, us_time_t now)
{
    if (!c->out && !(c->out = malloc(SVC_BUF)))
        return false;
    for (int k = 0; k < SVC_BURST; k++) {
        if (!conn_flush(st, c, now))
            return !(us_sock_poll(st, c->fd) & (US_POLLERR | US_POLLHUP)) || c->out_len == 0;
        if (c->closing)
            return false;
        if (c->kind == SVC_CHARGEN) { /* RFC 864 TCP: send until the peer closes */
            c->out_len = chargen_fill(c->out, SVC_BUF, &c->chargen_pos);
            ssize_t n = us_recvfrom(st, c->fd, s->buf, sizeof(s->buf), 0, NULL, NULL, now);
            if (n == 0 || (n < 0 && n != -EAGAIN))
                return false;
            continue;
        }
        if (c->kind == SVC_HTTP && c->http->state == US_HTTP_SRV_SEND) {
            c->out_len = us_http_srv_next_output(c->http, c->out, SVC_BUF);
            if (c->out_len == 0 && us_http_srv_wants_close(c->http)) {
                c->closing = true;
                us_shutdown(st, c->fd, US_SHUT_WR, now);
            }
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
                return false;
        }
        if (c->eof)
            return false; /* the peer is done and nothing is left to answer */
        uint8_t *dst = c->kind == SVC_ECHO ? c->out : s->buf;
        size_t cap = SVC_BUF;
        if (c->kind == SVC_HTTP) {
            if (!c->in && !(c->in = malloc(SVC_BUF)))
                return false;
            dst = c->in + c->in_len;
            cap = SVC_BUF - c->in_len;
            if (cap == 0)
                return false; /* a request head never fits: the parser would have said 431 */
        }
        ssize_t n = us_recvfrom(st, c->fd, dst, cap, 0, NULL, NULL, now);
        if (n == -EAGAIN)
            return true;
        if (n <= 0) { /* end of stream or error: finish what we owe, then close */
            c->eof = true;
            if (c->kind == SVC_ECHO || c->kind == SVC_DISCARD) {
                c->closing = true;
                us_shutdown(st, c->fd, US_SHUT_WR, now);
            }
            if (n < 0)
                return false;
            continue;
        }
        if (c->kind == SVC_ECHO)
            c->out_len = (size_t)n; /* RFC 862: send it back */
        else if (c->kind == SVC_HTTP)
            c->in_len += (size_t)n;
        /* discard: dropped */
    }
    return true;
}

static void
tcp_accept(struct us_services *s, struct us_stack *st, int i)
{
    for (int k = 0; k < SVC_BURST && s->n_conns < SVC_MAX_CONNS; k++) {
        int fd = us_accept(st, s->s[i].fd, NULL);
        if (fd < 0)
            return;
        struct svc_conn *c = calloc(1, sizeof(*c));
        if (c && s->s[i].kind == SVC_HTTP) {
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
        c->fd = fd;
        c->kind = s->s[i].kind;
        c->next = s->conns;
        s->conns = c;
        s->n_conns++;
    }
}

void
us_services_run(struct us_services *s, struct us_stack *st, us_time_t now)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->s[i].tcp)
            tcp_accept(s, st, (int)i);
        else
            udp_service(s, st, (int)i, now);
    }
    for (struct svc_conn **pp = &s->conns; *pp;) {
        struct svc_conn *c = *pp;
        if (conn_step(s, st, c, now)) {
            pp = &c->next;
        } else {
            *pp = c->next;
            s->n_conns--;
            conn_free(st, c, now);
        }
    }
}

us_time_t
us_services_next_deadline(const struct us_services *s)
{
    (void)s;
    return US_TIME_NEVER;
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
