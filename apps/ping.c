/* ping: echo requests through a ping socket of the daemon, replies matched by sequence, round
 * trip times from a timestamp carried in the data (as iputils does). Layer: application. */
#include "ping.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/wire.h"

static volatile sig_atomic_t ping_interrupted;

static void
on_sigint(int sig)
{
    (void)sig;
    ping_interrupted = 1;
}

static int64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *
err_text(int err)
{
    switch (err) {
    case EHOSTUNREACH:
        return "Destination Host Unreachable";
    case ENETUNREACH:
        return "Destination Net Unreachable";
    case ECONNREFUSED:
        return "Destination Port Unreachable";
    case ENOPROTOOPT:
        return "Destination Protocol Unreachable";
    case EMSGSIZE:
        return "Frag needed";
    default:
        return strerror(err);
    }
}

int
us_ping_run(struct usc *c, const struct us_ping_opts *o, FILE *out)
{
    size_t size = o->size;
    if (size > 65507 - 8) {
        fprintf(stderr, "ping: packet size %zu is too large\n", size);
        return 2;
    }
    int fd = usc_socket(c, US_SOCK_PING);
    if (fd < 0) {
        fprintf(stderr, "ping: socket: %s\n", strerror(-fd));
        return 2;
    }
    uint8_t *req = calloc(1, 8 + size), *rep = malloc(8 + size + 64);
    if (!req || !rep) {
        free(req);
        free(rep);
        return 2;
    }
    char dst[16];
    us_ip4_ntoa(o->dst, dst);
    fprintf(out, "PING %s (%s) %zu(%zu) bytes of data.\n", o->dst_text ? o->dst_text : dst, dst,
            size, size + 28);
    fflush(out);
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigaction(SIGINT, &sa, &old);
    double interval = o->interval > 0 ? o->interval : 1.0;
    double linger = o->timeout > 0 ? o->timeout : 2.0;
    int sent = 0, received = 0, errors = 0;
    double rmin = 0, rmax = 0, rsum = 0, rsum2 = 0;
    int64_t start = mono_ns(), next_send = start, last_send = start;
    struct us_sockaddr to = {o->dst, 0};
    while (!ping_interrupted) {
        int64_t now = mono_ns();
        bool more = o->count == 0 || sent < o->count;
        if (more && now >= next_send) {
            sent++;
            req[0] = US_ICMP_ECHO_REQUEST;
            us_store_be16(req + 6, (uint16_t)sent);
            for (size_t i = 16; i < size + 8; i++)
                req[i] = (uint8_t)(i - 8); /* iputils' fill pattern after the timestamp */
            if (size >= 8) {
                uint64_t ts = (uint64_t)now;
                memcpy(req + 8, &ts, sizeof(ts));
            }
            ssize_t n = usc_sendto(c, fd, req, 8 + size, 0, &to);
            if (n < 0) {
                fprintf(out, "ping: sendmsg: %s\n", strerror((int)-n));
                errors++;
            }
            last_send = now;
            next_send = now + (int64_t)(interval * 1e9);
            continue;
        }
        if (!more && (received == sent || now >= last_send + (int64_t)(linger * 1e9)))
            break;
        int64_t until = more ? next_send : last_send + (int64_t)(linger * 1e9);
        int wait_ms = (int)((until - now + 999999) / 1000000);
        struct us_sockaddr from;
        struct us_msginfo info;
        ssize_t n = usc_recvfrom(c, fd, rep, 8 + size + 64, 0, &from, &info,
                                 wait_ms > 0 ? wait_ms : 0);
        if (n == -EAGAIN || n == -EINTR)
            continue;
        if (n < 0) {
            if (n == -ECONNRESET || n == -EPIPE) {
                fprintf(stderr, "ping: lost the ustack daemon\n");
                break;
            }
            errors++;
            fprintf(out, "From %s icmp_seq=%d %s\n", dst, sent, err_text((int)-n));
            fflush(out);
            continue;
        }
        if (n < 8 || rep[0] != US_ICMP_ECHO_REPLY)
            continue;
        int64_t t_recv = mono_ns();
        double rtt = -1;
        if (n >= 16 && size >= 8) {
            uint64_t ts;
            memcpy(&ts, rep + 8, sizeof(ts));
            rtt = (double)(t_recv - (int64_t)ts) / 1e6;
        }
        received++;
        char from_s[16];
        fprintf(out, "%zd bytes from %s: icmp_seq=%u ttl=%u", n - 0, us_ip4_ntoa(from.addr, from_s),
                (unsigned)us_load_be16(rep + 6), (unsigned)info.ttl);
        if (rtt >= 0) {
            fprintf(out, " time=%.3f ms", rtt);
            if (received == 1 || rtt < rmin)
                rmin = rtt;
            if (rtt > rmax)
                rmax = rtt;
            rsum += rtt;
            rsum2 += rtt * rtt;
        }
        if ((size_t)n != 8 + size || (size > 8 && memcmp(rep + 16, req + 16, size - 8) != 0))
            fprintf(out, " (corrupted data)");
        fprintf(out, "\n");
        fflush(out);
    }
    sigaction(SIGINT, &old, NULL);
    int64_t total_ms = (mono_ns() - start) / 1000000;
    fprintf(out, "\n--- %s ping statistics ---\n", o->dst_text ? o->dst_text : dst);
    fprintf(out, "%d packets transmitted, %d received, ", sent, received);
    if (errors)
        fprintf(out, "+%d errors, ", errors);
    fprintf(out, "%g%% packet loss, time %lldms\n",
            sent ? (double)(sent - received) * 100.0 / sent : 0.0, (long long)total_ms);
    if (received > 0 && size >= 8) {
        double avg = rsum / received;
        double mdev = sqrt(fabs(rsum2 / received - avg * avg));
        fprintf(out, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", rmin, avg, rmax, mdev);
    }
    fflush(out);
    usc_closefd(c, fd);
    free(req);
    free(rep);
    return received > 0 ? 0 : 1;
}
