/* Benchmarks for the foundation, each beside a baseline measured in the same run:
 *  - Internet checksum: ustack's us_csum_add vs a plain RFC 1071 loop (16 bits per step).
 *  - UDP request/response (1 byte each way) between two ustack stacks on the in-memory wire,
 *    one thread, vs Linux UDP over loopback between two sockets, one thread.
 *  - UDP bulk (1472-byte datagrams one way) the same two ways.
 * Prints a table of medians of 5 runs. Speed is never asserted; this is not a test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/sim.h"
#include "wire/wire.h"

#define RUNS 5

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v)
{
    qsort(v, RUNS, sizeof(double), cmp_double);
    return v[RUNS / 2];
}

/* ---- checksum ---- */

static uint16_t
csum_reference(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static volatile uint32_t sink;

static double
bench_csum(size_t len, bool reference)
{
    uint8_t *buf = malloc(len);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    size_t iters = (size_t)(2e9 / (double)len) / 4;
    double t0 = now_s();
    for (size_t i = 0; i < iters; i++) {
        buf[0] = (uint8_t)i;
        sink += reference ? csum_reference(buf, len) : us_csum_finish(us_csum_add(0, buf, len));
    }
    double dt = now_s() - t0;
    free(buf);
    return (double)iters * (double)len * 8 / dt / 1e9; /* Gbit/s */
}

/* ---- ustack UDP over the in-memory wire ---- */

static double
bench_ustack_rr(int n)
{
    struct sim s;
    sim_init(&s, NULL, 1, 0, NULL);
    int a = us_socket(s.st[0], US_SOCK_DGRAM), b = us_socket(s.st[1], US_SOCK_DGRAM);
    struct us_sockaddr ba = {0, 7000}, to = {SIM_B_IP, 7000};
    us_bind(s.st[1], b, &ba);
    us_connect(s.st[0], a, &to, 0);
    char c = 'x';
    struct us_sockaddr from;
    sim_run(&s, 0);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        us_sendto(s.st[0], a, &c, 1, 0, NULL, s.now);
        sim_run(&s, 0);
        if (us_recvfrom(s.st[1], b, &c, 1, 0, &from, NULL, s.now) != 1)
            abort();
        us_sendto(s.st[1], b, &c, 1, 0, &from, s.now);
        sim_run(&s, 0);
        if (us_recvfrom(s.st[0], a, &c, 1, 0, NULL, NULL, s.now) != 1)
            abort();
    }
    double dt = now_s() - t0;
    us_close(s.st[0], a, 0);
    us_close(s.st[1], b, 0);
    sim_free(&s);
    return n / dt;
}

static double
bench_ustack_bulk(int n)
{
    struct sim s;
    sim_init(&s, NULL, 2, 0, NULL);
    int a = us_socket(s.st[0], US_SOCK_DGRAM), b = us_socket(s.st[1], US_SOCK_DGRAM);
    struct us_sockaddr ba = {0, 7001}, to = {SIM_B_IP, 7001};
    us_bind(s.st[1], b, &ba);
    static char buf[1472];
    sim_run(&s, 0);
    us_sendto(s.st[0], a, buf, 1, 0, &to, s.now); /* resolve ARP first */
    sim_run(&s, 0);
    us_recvfrom(s.st[1], b, buf, sizeof(buf), 0, NULL, NULL, s.now);
    double t0 = now_s();
    long got = 0;
    for (int i = 0; i < n; i += 32) {
        for (int k = 0; k < 32; k++)
            us_sendto(s.st[0], a, buf, sizeof(buf), 0, &to, s.now);
        sim_run(&s, 0);
        while (us_recvfrom(s.st[1], b, buf, sizeof(buf), 0, NULL, NULL, s.now) > 0)
            got++;
    }
    double dt = now_s() - t0;
    us_close(s.st[0], a, 0);
    us_close(s.st[1], b, 0);
    sim_free(&s);
    return (double)got * sizeof(buf) * 8 / dt / 1e9;
}

/* ---- Linux UDP over loopback ---- */

static void
linux_pair(int *a, int *b, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    *b = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(*b, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        abort();
    *a = socket(AF_INET, SOCK_DGRAM, 0);
    if (connect(*a, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        abort();
    int big = 4 << 20;
    setsockopt(*b, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

static double
bench_linux_rr(int n)
{
    int a, b;
    linux_pair(&a, &b, 47001);
    char c = 'x';
    struct sockaddr_in from;
    socklen_t fl;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        send(a, &c, 1, 0);
        fl = sizeof(from);
        recvfrom(b, &c, 1, 0, (struct sockaddr *)&from, &fl);
        sendto(b, &c, 1, 0, (struct sockaddr *)&from, fl);
        recv(a, &c, 1, 0);
    }
    double dt = now_s() - t0;
    close(a);
    close(b);
    return n / dt;
}

static double
bench_linux_bulk(int n)
{
    int a, b;
    linux_pair(&a, &b, 47002);
    static char buf[1472];
    long got = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i += 32) {
        for (int k = 0; k < 32; k++)
            send(a, buf, sizeof(buf), 0);
        while (recv(b, buf, sizeof(buf), MSG_DONTWAIT) > 0)
            got++;
    }
    double dt = now_s() - t0;
    close(a);
    close(b);
    return (double)got * sizeof(buf) * 8 / dt / 1e9;
}

int
main(void)
{
    double r[6][RUNS];
    for (int i = 0; i < RUNS; i++) {
        r[0][i] = bench_csum(1500, false);
        r[1][i] = bench_csum(1500, true);
        r[2][i] = bench_ustack_rr(100000);
        r[3][i] = bench_linux_rr(100000);
        r[4][i] = bench_ustack_bulk(200000);
        r[5][i] = bench_linux_bulk(200000);
    }
    double m[6];
    for (int k = 0; k < 6; k++)
        m[k] = median(r[k]);
    printf("%-46s %14s %14s %8s\n", "benchmark (median of 5)", "ustack", "baseline", "ratio");
    printf("%-46s %11.2f Gb %11.2f Gb %7.2fx\n", "checksum, 1500 B (vs plain RFC 1071 loop)", m[0],
           m[1], m[0] / m[1]);
    printf("%-46s %12.0f/s %12.0f/s %7.2fx\n", "UDP request/response 1 B (vs Linux loopback)",
           m[2], m[3], m[2] / m[3]);
    printf("%-46s %11.2f Gb %11.2f Gb %7.2fx\n", "UDP bulk 1472 B datagrams (vs Linux loopback)",
           m[4], m[5], m[4] / m[5]);
    printf("ustack: two stacks on the in-memory wire in one thread; Linux: two sockets on 127.0.0.1 "
           "in one thread.\n");
    return 0;
}
