/* echo, discard and chargen over UDP, on the stack's socket API. Layer: application. */
#include "services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SVC_MAX 8
#define SVC_BURST 64 /* datagrams per service per loop iteration */

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN };

struct us_services {
    size_t n;
    struct {
        enum svc_kind kind;
        int fd;
    } s[SVC_MAX];
    uint8_t buf[65536];
};

static int
svc_open(struct us_services *s, struct us_stack *st, enum svc_kind kind, uint16_t port)
{
    if (s->n == SVC_MAX)
        return -ENOSPC;
    int fd = us_socket(st, US_SOCK_DGRAM);
    if (fd < 0)
        return fd;
    struct us_sockaddr a = {0, port};
    int err = us_bind(st, fd, &a);
    if (err < 0) {
        us_close(st, fd, 0);
        return err;
    }
    s->s[s->n].kind = kind;
    s->s[s->n].fd = fd;
    s->n++;
    return 0;
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
        if (strcmp(tok, "echo") == 0)
            err = svc_open(s, st, SVC_ECHO, 7);
        else if (strcmp(tok, "discard") == 0)
            err = svc_open(s, st, SVC_DISCARD, 9);
        else if (strcmp(tok, "chargen") == 0)
            err = svc_open(s, st, SVC_CHARGEN, 19);
        else if (strncmp(tok, "http=", 5) == 0)
            err = -EPROTONOSUPPORT; /* needs TCP */
        else
            err = -EINVAL;
    }
    free(copy);
    return err;
}

/* RFC 864: the classic rotating 72-column pattern of printable ASCII, a line per step. */
static size_t
chargen_fill(uint8_t *out, size_t len, unsigned start)
{
    size_t n = 0;
    for (unsigned line = 0; n < len; line++) {
        for (unsigned col = 0; col < 72 && n < len; col++)
            out[n++] = (uint8_t)(' ' + (start + line + col) % 95);
        if (n < len)
            out[n++] = '\r';
        if (n < len)
            out[n++] = '\n';
    }
    return n;
}

void
us_services_run(struct us_services *s, struct us_stack *st, us_time_t now)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        for (int k = 0; k < SVC_BURST; k++) {
            struct us_sockaddr from;
            ssize_t n = us_recvfrom(st, s->s[i].fd, s->buf, sizeof(s->buf), 0, &from, NULL);
            if (n < 0)
                break;
            switch (s->s[i].kind) {
            case SVC_ECHO: /* RFC 862: send back the data received */
                us_sendto(st, s->s[i].fd, s->buf, (size_t)n, 0, &from, now);
                break;
            case SVC_DISCARD: /* RFC 863: throw it away */
                break;
            case SVC_CHARGEN: { /* RFC 864: answer each datagram with 0-512 characters */
                size_t len = (size_t)(now % 513);
                len = chargen_fill(s->buf, len, (unsigned)(now / 1000));
                us_sendto(st, s->s[i].fd, s->buf, len, 0, &from, now);
                break;
            }
            }
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
    for (size_t i = 0; i < s->n; i++)
        us_close(st, s->s[i].fd, now);
    free(s);
}

const char *
us_services_error(int err)
{
    switch (err) {
    case -EPROTONOSUPPORT:
        return "http needs TCP, which ustack does not have yet";
    case -EINVAL:
        return "unknown service (known: echo, discard, chargen)";
    case -EADDRINUSE:
        return "port already in use";
    default:
        return strerror(-err);
    }
}
