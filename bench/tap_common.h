/* Shared by bench/bench_tap.c and bench/tap_ceiling.c: a TAP device created inside a network
 * namespace that the caller (scripts/run-bench.sh) created and removes, the kernel-side
 * configuration, and the kernel-side TCP peers (forked children that enter the namespace).
 * Addresses (RFC 5737): kernel 192.0.2.1/24 on the TAP, user-space side 192.0.2.2. */
#ifndef BENCH_TAP_COMMON_H
#define BENCH_TAP_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/tap.h"

#define TAPB_DEV "ustap0"
#define TAPB_KERNEL_IP "192.0.2.1"
#define TAPB_USER_IP "192.0.2.2"
#define TAPB_USER_MAC "02:00:00:00:00:02"

static inline double
tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double
tb_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void
tb_die(const char *what, int err)
{
    fprintf(stderr, "tap bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
    exit(1);
}

static inline void
tb_sh(const char *fmt, const char *ns, int mtu)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), fmt, ns, mtu);
    if (system(cmd) != 0) {
        fprintf(stderr, "tap bench: command failed: %s\n", cmd);
        exit(1);
    }
}

/* Enters namespace ns (this thread), returns an fd for the original one. */
static inline int
tb_enter_ns(const char *ns)
{
    char path[256];
    int orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (orig < 0 || fd < 0)
        tb_die("open netns", errno);
    if (setns(fd, CLONE_NEWNET) < 0)
        tb_die("setns", errno);
    close(fd);
    return orig;
}

/* Creates the TAP inside the namespace (so it lives and dies there) and configures the kernel
 * side: 192.0.2.1/24, the given MTU, up; a permanent neighbour entry for the user side so the
 * kernel never waits on ARP. */
static inline void
tb_open_tap(struct us_tap *tap, const char *ns, int mtu, unsigned flags)
{
    int orig = tb_enter_ns(ns);
    int r = us_tap_open(tap, TAPB_DEV, flags);
    if (r < 0)
        tb_die("us_tap_open", r);
    if (setns(orig, CLONE_NEWNET) < 0)
        tb_die("setns back", errno);
    close(orig);
    tb_sh("ip -n %s link set " TAPB_DEV " mtu %d up", ns, mtu);
    tb_sh("ip -n %s addr add " TAPB_KERNEL_IP "/24 dev " TAPB_DEV "%.0d", ns, 0);
    tb_sh("ip -n %s neigh replace " TAPB_USER_IP " lladdr " TAPB_USER_MAC " dev " TAPB_DEV
          " nud permanent%.0d", ns, 0);
}

/* The kernel side's MAC: the TAP device's own address, which a user-space program must put in
 * the frames it originates (a reply can copy the request's source instead). The TAP fd answers
 * SIOCGIFHWADDR for its device in the namespace where it was opened. */
static inline void
tb_kernel_mac(const struct us_tap *tap, uint8_t mac[6])
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap->name);
    if (ioctl(us_tap_fd(tap), SIOCGIFHWADDR, &ifr) < 0)
        tb_die("SIOCGIFHWADDR on the TAP", errno);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

/* ---- kernel-side peers (children in the namespace); each reports on fd `rep` ---- */

struct tb_report {
    double secs;      /* wall time from the first byte to the end */
    double cpu;       /* the child's CPU time */
    unsigned long long bytes, trans;
    int err;
};

/* Reads the kernel peer's report if it has come: true then; false while it has not; and if the
 * peer exited without one (its connect failed, say), the run dies instead of waiting forever. */
static inline bool
tb_report_ready(int fd, struct tb_report *r)
{
    ssize_t n = read(fd, r, sizeof(*r));
    if (n == 0)
        tb_die("the kernel peer exited without a report", EPIPE);
    return n == (ssize_t)sizeof(*r);
}

static inline struct sockaddr_in
tb_sin(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static inline int
tb_connect(int port)
{
    struct sockaddr_in a = tb_sin(TAPB_USER_IP, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    for (int i = 0; i < 200; i++) {
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
        close(fd);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        usleep(10000);
    }
    tb_die("kernel connect", errno);
    return -1;
}

/* Kernel-side roles. */
enum tb_role { TB_SINK, TB_SOURCE, TB_RR };

/* sink: listen on 192.0.2.1:port, read until EOF. source: connect to 192.0.2.2:port, write
 * `bytes`, close. rr: connect, n 1-byte transactions with TCP_NODELAY. */
static inline void
tb_child_run(enum tb_role role, int port, unsigned long long n, int rep)
{
    static char buf[1 << 17];
    struct tb_report r = {0};
    double t0 = 0, c0 = tb_cpu();
    int one = 1;
    if (role == TB_SINK) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = tb_sin(TAPB_KERNEL_IP, port);
        if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0)
            tb_die("kernel listen", errno);
        int fd = accept(l, NULL, NULL);
        ssize_t k;
        while ((k = read(fd, buf, sizeof(buf))) > 0) {
            if (r.bytes == 0)
                t0 = tb_now();
            r.bytes += (unsigned long long)k;
        }
        r.err = k < 0 ? errno : 0;
        close(fd);
        close(l);
    } else if (role == TB_SOURCE) {
        int fd = tb_connect(port);
        memset(buf, 'x', sizeof(buf));
        t0 = tb_now();
        while (r.bytes < n) {
            size_t m = n - r.bytes < sizeof(buf) ? (size_t)(n - r.bytes) : sizeof(buf);
            ssize_t k = write(fd, buf, m);
            if (k <= 0) {
                r.err = errno;
                break;
            }
            r.bytes += (unsigned long long)k;
        }
        shutdown(fd, SHUT_WR);
        while (read(fd, buf, sizeof(buf)) > 0) /* wait for the peer's FIN */
            ;
        close(fd);
    } else {
        int fd = tb_connect(port);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char c = 'x';
        t0 = tb_now();
        for (r.trans = 0; r.trans < n; r.trans++) {
            if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
                r.err = errno ? errno : EPIPE;
                break;
            }
        }
        close(fd);
    }
    r.secs = tb_now() - t0;
    r.cpu = tb_cpu() - c0;
    (void)!write(rep, &r, sizeof(r));
}

/* Forks a child that enters ns and plays `role`; returns its pid, *rep_fd gets the report pipe
 * (non-blocking read end). */
static inline pid_t
tb_child(const char *ns, enum tb_role role, int port, unsigned long long n, int *rep_fd)
{
    int p[2];
    if (pipe(p) < 0)
        tb_die("pipe", errno);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        tb_die("fork", errno);
    if (pid == 0) {
        close(p[0]);
        int orig = tb_enter_ns(ns);
        close(orig);
        alarm(120);
        tb_child_run(role, port, n, p[1]);
        _exit(0);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *rep_fd = p[0];
    return pid;
}

static inline int
tb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The options both TAP programs take: NETNS [--mtu N] [--bytes N] [--rr N] [--runs N]
 * [--vnet 0|1] [--only tx|rx|rr]. runs is kept within 1..max_runs (else 3). */
struct tb_opts {
    const char *ns;
    int mtu, runs;
    unsigned long long bytes, rr;
    bool vnet;
    const char *only; /* "" for every measurement */
};

static inline struct tb_opts
tb_parse_opts(int argc, char **argv, int max_runs)
{
    struct tb_opts o = {.ns = argv[1], .mtu = 1500, .runs = 3, .bytes = 256ull << 20,
                        .rr = 20000, .only = ""};
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--mtu"))
            o.mtu = atoi(v);
        else if (!strcmp(a, "--bytes"))
            o.bytes = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--rr"))
            o.rr = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--runs"))
            o.runs = atoi(v);
        else if (!strcmp(a, "--vnet"))
            o.vnet = atoi(v) != 0;
        else if (!strcmp(a, "--only"))
            o.only = v;
    }
    if (o.runs < 1 || o.runs > max_runs)
        o.runs = 3;
    return o;
}

#endif
