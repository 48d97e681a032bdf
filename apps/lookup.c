/* The DNS transport over a ustack UDP socket, connected to the server so that only its answers
 * reach us (RFC 5452 spirit: also random id and random source port). Layer: application. */
#include "lookup.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

struct lookup_ctx {
    struct usc *c;
    int fd;
    us_ip4_t server;
};

static int
lk_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct lookup_ctx *l = ctx;
    ssize_t n = usc_sendto(l->c, l->fd, buf, len, 0, NULL);
    return n < 0 ? (int)n : 0;
}

static int
lk_recv(void *ctx, uint8_t *buf, size_t cap, int timeout_ms, bool *from_ok)
{
    struct lookup_ctx *l = ctx;
    struct us_sockaddr from;
    ssize_t n = usc_recvfrom(l->c, l->fd, buf, cap, 0, &from, NULL, timeout_ms);
    if (n >= 0)
        *from_ok = from.addr == l->server && from.port == US_DNS_PORT;
    return (int)n;
}

static uint16_t
lk_random16(void *ctx)
{
    (void)ctx;
    uint16_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != sizeof(v))
        v = (uint16_t)(uintptr_t)&v;
    return v;
}

int
us_lookup(struct usc *c, us_ip4_t server, const char *name, const struct us_dns_opts *opts,
          struct us_dns_result *res)
{
    struct lookup_ctx l = {.c = c, .server = server};
    l.fd = usc_socket(c, US_SOCK_DGRAM);
    if (l.fd < 0)
        return l.fd;
    struct us_sockaddr srv = {server, US_DNS_PORT};
    int err = usc_connect(c, l.fd, &srv);
    if (err == 0) {
        struct us_dns_transport t = {.ctx = &l, .send = lk_send, .recv = lk_recv,
                                     .random16 = lk_random16};
        err = us_dns_resolve(&t, opts, name, res);
    }
    usc_closefd(c, l.fd);
    return err;
}
