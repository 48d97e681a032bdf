/* ustack on a TAP device against the Linux kernel in a network namespace (the TCP issue,
 * part 2). Usage: bench_tap NETNS [--mtu 1500] [--bytes N] [--rr N] [--runs N] [--vnet 0|1]
 * [--only tx|rx|rr]
 * The namespace must exist (scripts/run-bench.sh creates it and removes it on exit); the TAP is
 * created inside it, so it never touches the host's own interfaces.
 *
 * In-process harness, one thread: us_tap_open() (with --vnet 1: IFF_VNET_HDR, so GSO
 * super-frames and partial checksums come in with US_RX_L4_CSUM_OK, and TSO super-segments go
 * out gathered from the send buffer), one ustack stack with one interface (192.0.2.2) whose tx
 * callback is us_tap_write (one write(2) per frame; us_tap_writev_gso with --vnet 1);
 * a poll(2) loop reads every waiting frame into us_input, calls us_poll when the stack's
 * deadline falls due, and runs the application step. The kernel side is a forked child inside
 * the namespace using ordinary sockets:
 *   tx: ustack connects to the kernel's 192.0.2.1:5001 and sends N bytes; the kernel reads;
 *   rx: the kernel connects to ustack's :5002 and sends N bytes; ustack reads;
 *   rr: the kernel connects to ustack's :5003, 1 byte each way with TCP_NODELAY; ustack echoes.
 * Figures: payload Gbit/s (tx: first byte sent to the kernel's EOF; rx: first byte to EOF) and
 * transactions/s, medians of --runs, each over wall-clock time; KEY_cpu is ustack's process
 * CPU time (the kernel's work is charged to the child or to softirq, so it is not a steadier
 * stand-in here; it shows ustack's own cost per byte). With BENCH_STATS=1 in the environment it
 * also prints the stack's nonzero counters and drops at the end (retransmissions, ACKs in). */
#include <poll.h>

#include <ustack.h>

#include "tap_common.h"

#define MAX_RUNS 9

static struct us_tap tap;
static struct us_stack *st;
static struct us_iface *ifp;
static double wall0;
static uint8_t frame[US_TAP_FRAME_MAX];
static uint64_t frames_in, frames_out;

static us_time_t
vnow(void)
{
    return (us_time_t)((tb_now() - wall0) * 1e9);
}

static int
tx_frame(void *ctx, const uint8_t *f, size_t len)
{
    frames_out++;
    return us_tap_write(ctx, f, len);
}

static bool vnet; /* --vnet 1: IFF_VNET_HDR, GSO receive, TSO and checksum offload on send */

static int
tx_gso(void *ctx, const struct iovec *iov, int n, uint16_t gso_size, uint16_t l4_off,
       uint16_t hdr_len)
{
    frames_out++;
    struct us_tap_txgso g = {.gso_type = gso_size ? US_TAP_GSO_TCPV4 : US_TAP_GSO_NONE,
                             .gso_size = gso_size, .hdr_len = hdr_len, .csum_start = l4_off,
                             .csum_offset = 16};
    return us_tap_writev_gso(ctx, iov, n, &g);
}

/* Reads every waiting frame into the stack; returns how many. */
static int
drain(void)
{
    int k = 0;
    for (; k < 256; k++) {
        struct us_tap_rxmeta meta;
        ssize_t n = us_tap_read(&tap, frame, sizeof(frame), &meta);
        if (n <= 0)
            break;
        frames_in++;
        us_input_flags(st, ifp, frame, (size_t)n,
                       meta.needs_csum || meta.csum_valid ? US_RX_L4_CSUM_OK : 0, vnow());
    }
    return k;
}

/* One turn of the loop: read what is waiting; only if nothing was, wait at most until the
 * stack's deadline (or `max_ms`) and read again. A busy transfer finds frames waiting nearly
 * every turn, so like tap_ceiling it spends no poll(2) on them. */
static void
turn(int extra_fd, int max_ms)
{
    if (drain() == 0) {
        us_time_t now = vnow();
        us_time_t dl = us_next_deadline(st);
        int to = max_ms;
        if (dl != US_TIME_NEVER) {
            long long ms = dl <= now ? 0 : (long long)((dl - now + 999999) / 1000000);
            if (ms < to)
                to = (int)ms;
        }
        struct pollfd p[2] = {{us_tap_fd(&tap), POLLIN, 0}, {extra_fd, POLLIN, 0}};
        poll(p, extra_fd >= 0 ? 2 : 1, to);
        drain();
    }
    us_poll(st, vnow());
}

static void
stack_up(int mtu)
{
    struct us_config cfg;
    us_config_default(&cfg);
    st = us_stack_new(&cfg, 42);
    struct us_iface_conf c = {.size = sizeof(struct us_iface_conf),
                              .name = "tap",
                              .mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addr = US_IP4(192, 0, 2, 2),
                              .prefix_len = 24,
                              .mtu = (uint16_t)mtu,
                              .tx = tx_frame,
                              .tx_gso = vnet ? tx_gso : NULL,
                              .tx_ctx = &tap};
    ifp = us_iface_add(st, &c, vnow());
}


static uint8_t buf[1 << 18];

/* ustack -> kernel. Returns Gbit/s (wall), *cpu Gbit/s over ustack's CPU time. */
static double
run_tx(const char *ns, unsigned long long bytes, double *cpu)
{
    int rep;
    pid_t pid = tb_child(ns, TB_SINK, 5001, 0, &rep);
    usleep(200000); /* the kernel's listener */
    int fd = us_socket(st, US_SOCK_STREAM);
    struct us_sockaddr to = {US_IP4(192, 0, 2, 1), 5001};
    int r = us_connect(st, fd, &to, vnow());
    if (r != -EINPROGRESS)
        tb_die("us_connect", r);
    while (!(us_sock_poll(st, fd) & (US_POLLOUT | US_POLLERR)))
        turn(-1, 100);
    if (us_sock_error(st, fd))
        tb_die("connect to the kernel", us_sock_error(st, fd));
    unsigned long long sent = 0;
    bool closed = false;
    struct tb_report rp;
    double t0 = tb_now(), c0 = tb_cpu();
    for (;;) {
        while (sent < bytes) {
            size_t n = bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
            ssize_t w = us_sendto(st, fd, buf, n, 0, NULL, vnow());
            if (w <= 0)
                break;
            sent += (unsigned long long)w;
        }
        if (sent >= bytes && !closed) {
            us_close(st, fd, vnow());
            closed = true;
        }
        turn(closed ? rep : -1, 100);
        /* The sink reports after it read EOF, so after our FIN: only then is the pipe worth a
         * system call (as in tap_ceiling). */
        if (closed && tb_report_ready(rep, &rp))
            break;
        if (tb_now() - t0 > 60)
            tb_die("tx stalled", ETIMEDOUT);
    }
    double dt = tb_now() - t0, dc = tb_cpu() - c0;
    waitpid(pid, NULL, 0);
    close(rep);
    if (rp.bytes != bytes)
        fprintf(stderr, "bench_tap: tx: kernel got %llu of %llu bytes\n", rp.bytes, bytes);
    *cpu = (double)rp.bytes * 8 / dc / 1e9;
    return (double)rp.bytes * 8 / dt / 1e9;
}

/* A ustack listener on `port` (*l), the kernel-side peer started in `mode` (its report pipe in
 * *rep), and the connection it opens, accepted: returns the descriptor. */
static int
accept_kernel(const char *ns, enum tb_role mode, uint16_t port, unsigned long long n, int *l, int *rep,
              pid_t *pid)
{
    *l = us_socket(st, US_SOCK_STREAM);
    struct us_sockaddr la = {0, port};
    /* SO_REUSEADDR, as any server: the last run's connection may still be in LAST-ACK. */
    us_setsockopt(st, *l, US_SO_REUSEADDR, 1);
    int err = us_bind(st, *l, &la);
    if (err == 0)
        err = us_listen(st, *l, 4);
    if (err < 0)
        tb_die("listen", -err);
    /* Should the peer give up (its connect refused), it is started again, twice at most: the
     * benchmark never waits forever. */
    for (int attempt = 1;; attempt++) {
        *pid = tb_child(ns, mode, port, n, rep);
        double t0 = tb_now();
        int fd, status;
        while ((fd = us_accept(st, *l, NULL)) < 0 && tb_now() - t0 < 10 &&
               waitpid(*pid, &status, WNOHANG) != *pid)
            turn(-1, 100);
        if (fd >= 0)
            return fd;
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        close(*rep);
        if (attempt == 3)
            tb_die("the kernel peer never connected", ECONNREFUSED);
        fprintf(stderr, "bench_tap: the kernel peer did not connect; starting it again\n");
    }
}

/* kernel -> ustack */
static double
run_rx(const char *ns, unsigned long long bytes, double *cpu)
{
    int l, rep;
    pid_t pid;
    int fd = accept_kernel(ns, TB_SOURCE, 5002, bytes, &l, &rep, &pid);
    unsigned long long got = 0;
    double t0 = 0, c0 = 0;
    for (;;) {
        ssize_t r;
        while ((r = us_recvfrom(st, fd, buf, sizeof(buf), 0, NULL, NULL, vnow())) > 0) {
            if (got == 0) {
                t0 = tb_now();
                c0 = tb_cpu();
            }
            got += (unsigned long long)r;
        }
        if (r == 0)
            break;
        if (r != -EAGAIN)
            tb_die("rx recv", (int)r);
        turn(-1, 100);
    }
    double dt = tb_now() - t0, dc = tb_cpu() - c0;
    us_close(st, fd, vnow());
    us_close(st, l, vnow());
    struct tb_report rp;
    while (!tb_report_ready(rep, &rp))
        turn(rep, 100);
    waitpid(pid, NULL, 0);
    close(rep);
    if (got != bytes)
        fprintf(stderr, "bench_tap: rx: got %llu of %llu bytes\n", got, bytes);
    *cpu = (double)got * 8 / dc / 1e9;
    return (double)got * 8 / dt / 1e9;
}

/* kernel client, ustack echo server */
static double
run_rr(const char *ns, unsigned long long n, double *cpu)
{
    int l, rep;
    pid_t pid;
    int fd = accept_kernel(ns, TB_RR, 5003, n, &l, &rep, &pid);
    us_setsockopt(st, fd, US_TCP_NODELAY, 1);
    double c0 = tb_cpu();
    for (;;) {
        char c[64];
        ssize_t r;
        while ((r = us_recvfrom(st, fd, c, sizeof(c), 0, NULL, NULL, vnow())) > 0)
            us_sendto(st, fd, c, (size_t)r, 0, NULL, vnow());
        if (r == 0)
            break;
        turn(-1, 100);
    }
    double dc = tb_cpu() - c0;
    us_close(st, fd, vnow());
    us_close(st, l, vnow());
    struct tb_report rp;
    while (!tb_report_ready(rep, &rp))
        turn(rep, 100);
    waitpid(pid, NULL, 0);
    close(rep);
    *cpu = (double)rp.trans / dc;
    return (double)rp.trans / rp.secs;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_tap NETNS [--mtu N] [--bytes N] [--rr N] [--runs N] "
                        "[--vnet 0|1] [--only tx|rx|rr]\n");
        return 2;
    }
    struct tb_opts o = tb_parse_opts(argc, argv, MAX_RUNS);
    const char *ns = o.ns, *only = o.only;
    int mtu = o.mtu, runs = o.runs;
    unsigned long long bytes = o.bytes, rr = o.rr;
    vnet = o.vnet;
    signal(SIGPIPE, SIG_IGN);
    wall0 = tb_now();
    tb_open_tap(&tap, ns, mtu, vnet ? US_TAP_VNET_HDR : 0);
    stack_up(mtu);
    double v[3][MAX_RUNS] = {{0}}, c[3][MAX_RUNS] = {{0}};
    for (int i = 0; i < runs; i++) {
        v[0][i] = !*only || !strcmp(only, "tx") ? run_tx(ns, bytes, &c[0][i]) : 0;
        v[1][i] = !*only || !strcmp(only, "rx") ? run_rx(ns, bytes, &c[1][i]) : 0;
        v[2][i] = !*only || !strcmp(only, "rr") ? run_rr(ns, rr, &c[2][i]) : 0;
    }
    const char *key[3] = {"tx_gbps", "rx_gbps", "rr_kps"};
    double scale[3] = {1, 1, 1e-3};
    for (int k = 0; k < 3; k++) {
        if (*only && strncmp(only, key[k], 2) != 0)
            continue;
        printf("ustack tap%s mtu=%d %s=", vnet ? "_vnet" : "", mtu, key[k]);
        double s[MAX_RUNS];
        memcpy(s, v[k], sizeof(double) * (size_t)runs);
        qsort(s, (size_t)runs, sizeof(double), tb_cmp_double);
        printf("%.3f runs=", s[runs / 2] * scale[k]);
        for (int i = 0; i < runs; i++)
            printf("%s%.3f", i ? "," : "", v[k][i] * scale[k]);
        memcpy(s, c[k], sizeof(double) * (size_t)runs);
        qsort(s, (size_t)runs, sizeof(double), tb_cmp_double);
        printf(" %s_cpu=%.3f\n", key[k], s[runs / 2] * scale[k]);
    }
    printf("ustack tap frames_in=%llu frames_out=%llu drops=%llu\n",
           (unsigned long long)frames_in, (unsigned long long)frames_out,
           (unsigned long long)us_drop_total(st));
    if (getenv("BENCH_STATS")) {
        for (size_t i = 0; i < us_stat_count(); i++)
            if (us_stat_get(st, i))
                printf("  stat %s %llu\n", us_stat_name(i), (unsigned long long)us_stat_get(st, i));
        for (size_t i = 0; i < us_drop_count(); i++)
            if (us_drop_get(st, i))
                printf("  drop %s %llu\n", us_drop_name(i), (unsigned long long)us_drop_get(st, i));
    }
    us_stack_free(st);
    us_tap_close(&tap);
    return 0;
}
