/* Shared by bench/bulk_conn.c and bench/rr_conn.c, the load programs on plain BSD sockets (no
 * ustack, no sanitizers: they run on the kernel's stack and under `ustack run` alike): a wall
 * clock, dying on an error, and the server's and client's socket setup. Each program is built
 * alone from its one .c file (bench/run_bridge_loss.sh, bench/run_ustack_run.sh). */
#ifndef BENCH_SOCK_COMMON_H
#define BENCH_SOCK_COMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

static inline double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline _Noreturn void
die(const char *what)
{
    perror(what);
    exit(1);
}

/* A socket listening on every address at port (SO_REUSEADDR); type may add SOCK_NONBLOCK. */
static inline int
listen_on(int port, int type, int backlog)
{
    int one = 1, l = socket(AF_INET, SOCK_STREAM | type, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (l < 0)
        die("socket");
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("bind");
    if (listen(l, backlog) < 0)
        die("listen");
    return l;
}

/* HOST (dotted quad) and PORT into *sa; false, with a message naming prog, for a bad address. */
static inline bool
parse_addr(const char *prog, const char *host, int port, struct sockaddr_in *sa)
{
    *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
        return true;
    fprintf(stderr, "%s: bad address %s\n", prog, host);
    return false;
}

/* A blocking stream socket connected to *sa. */
static inline int
dial(const struct sockaddr_in *sa)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        die("socket");
    if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
        die("connect");
    return s;
}

#endif
