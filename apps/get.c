/* `ustack get` walks the whole textbook story with one command: a DNS query over ustack's UDP,
 * the TCP handshake, the HTTP/1.1 request and response, and the close. `ustack connect` is a
 * byte pipe in the manner of nc. Layer: application. */
#include "get.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "lookup.h"
#include "wire/wire.h"

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
resolve(struct usc *c, const char *host, us_ip4_t dns, us_ip4_t *addr, FILE *log)
{
    if (us_ip4_aton(host, addr) == 0)
        return 0;
    if (!dns) {
        if (log)
            fprintf(log, "get: %s is a name and no DNS server is known (use --dns or "
                         "`ustack up --dns`)\n", host);
        return -EDESTADDRREQ;
    }
    struct us_dns_opts o = {US_DNS_DEFAULT_TRIES, US_DNS_DEFAULT_TIMEOUT_MS};
    struct us_dns_result res;
    int err = us_lookup(c, dns, host, &o, &res);
    if (err < 0) {
        if (log)
            fprintf(log, "get: cannot resolve %s: %s\n", host, us_dns_strerror(err));
        return err;
    }
    *addr = res.addrs[0];
    if (log) {
        char a[16];
        fprintf(log, "get: dns: %s is %s\n", host, us_ip4_ntoa(*addr, a));
    }
    return 0;
}

int
us_get(struct usc *c, const char *url, us_ip4_t dns, FILE *out, FILE *log)
{
    struct us_url u;
    int err = us_url_parse(url, &u);
    if (err < 0) {
        if (log)
            fprintf(log, "get: bad URL '%s'\n", url);
        return err;
    }
    us_ip4_t addr;
    if ((err = resolve(c, u.host, dns, &addr, log)) < 0)
        return err;
    int fd = usc_socket(c, US_SOCK_STREAM);
    if (fd < 0)
        return fd;
    double t0 = now_s();
    struct us_sockaddr to = {addr, u.port};
    char a[16];
    if ((err = usc_connect(c, fd, &to)) < 0) {
        if (log)
            fprintf(log, "get: connect %s:%u: %s\n", us_ip4_ntoa(addr, a), (unsigned)u.port,
                    strerror(-err));
        usc_closefd(c, fd);
        return err;
    }
    if (log)
        fprintf(log, "get: tcp: connected to %s:%u\n", us_ip4_ntoa(addr, a), (unsigned)u.port);
    char req[4096];
    int rl = us_http_build_get(req, sizeof(req), &u);
    if (rl < 0 || (err = (int)usc_send(c, fd, req, (size_t)rl)) < 0) {
        usc_closefd(c, fd);
        return rl < 0 ? rl : err;
    }
    struct us_http_client_resp *resp = malloc(sizeof(*resp));
    uint8_t *buf = malloc(65536);
    if (!resp || !buf) {
        free(resp);
        free(buf);
        usc_closefd(c, fd);
        return -ENOMEM;
    }
    us_http_cli_init(resp, false);
    uint64_t body = 0;
    err = 0;
    while (!resp->done) {
        ssize_t n = usc_recv(c, fd, buf, 65536, 30000);
        if (n == 0) {
            err = us_http_cli_eof(resp);
            break;
        }
        if (n < 0) {
            err = (int)n == -EAGAIN ? -ETIMEDOUT : (int)n;
            break;
        }
        size_t off = 0;
        while (off < (size_t)n && !err && !resp->done) {
            size_t used = 0;
            const uint8_t *b = NULL;
            size_t blen = 0;
            int r = us_http_cli_feed(resp, buf + off, (size_t)n - off, &used, &b, &blen);
            if (r < 0) {
                err = r;
                break;
            }
            if (blen && fwrite(b, 1, blen, out) != blen)
                err = -EIO;
            body += blen;
            off += used;
            if (used == 0 && blen == 0)
                break;
        }
        if (err)
            break;
    }
    double dt = now_s() - t0;
    if (log && resp->headers_done)
        fprintf(log, "get: http: %d %s, %llu body bytes in %.3f s (%.1f Mbit/s)\n", resp->status,
                resp->reason, (unsigned long long)body, dt, dt > 0 ? (double)body * 8 / dt / 1e6 : 0);
    if (!err && (resp->status < 200 || resp->status > 299))
        err = -EPROTO;
    usc_closefd(c, fd);
    if (log && !err)
        fprintf(log, "get: tcp: closed\n");
    else if (log)
        fprintf(log, "get: failed: %s\n", strerror(-err));
    free(resp);
    free(buf);
    fflush(out);
    return err;
}

int
us_connect_pipe(struct usc *c, us_ip4_t addr, uint16_t port, FILE *log)
{
    int fd = usc_socket(c, US_SOCK_STREAM);
    if (fd < 0)
        return fd;
    struct us_sockaddr to = {addr, port};
    int err = usc_connect(c, fd, &to);
    if (err < 0) {
        if (log)
            fprintf(log, "connect: %s\n", strerror(-err));
        usc_closefd(c, fd);
        return err;
    }
    static uint8_t buf[65536];
    bool in_open = true;
    err = 0;
    for (;;) {
        if (in_open) {
            struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
            if (poll(&p, 1, 10) > 0) {
                ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                if (n > 0) {
                    ssize_t w = usc_send(c, fd, buf, (size_t)n);
                    if (w < 0) {
                        err = (int)w;
                        break;
                    }
                } else {
                    in_open = false;
                    usc_shutdown(c, fd, US_SHUT_WR); /* our half is done: FIN */
                }
            }
        }
        ssize_t n = usc_recv(c, fd, buf, sizeof(buf), in_open ? 0 : 1000);
        if (n == 0)
            break; /* the peer closed its half */
        if (n == -EAGAIN)
            continue;
        if (n < 0) {
            err = (int)n;
            break;
        }
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
            err = -EIO;
            break;
        }
        fflush(stdout);
    }
    if (err && log)
        fprintf(log, "connect: %s\n", strerror(-err));
    usc_closefd(c, fd);
    return err;
}
