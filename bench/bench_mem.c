/* Memory per idle established TCP connection (the TCP issue, part 3).
 *
 * Method: two ustack stacks on the in-memory wire (tests/lib/sim.c, virtual clock). B listens on
 * P ports (P = N / 60000 + 1, because one client address has 64,512 ephemeral ports per
 * destination port with ephemeral_lo..hi = 1024..65535). A opens N connections in batches of
 * 1000; B accepts each. Both ends stay ESTABLISHED with no data queued (the descriptors stay
 * open). The virtual clock then runs 10 s so every lazily-cancelled timer entry (SYN RTO) has
 * popped. Heap in use is read with glibc's mallinfo2() (uordblks + hblkhd: bytes handed out by
 * malloc, including each chunk's 8-16 byte header, plus mmap()ed blocks) before the first
 * connect and after the last; the growth divided by 2N (N connections on each stack) is the
 * cost of one connection: its control block, its share of the control-block pages (64 blocks
 * per malloc, with a small header, and the page table), of the 4-tuple hash table and of the
 * stack's timer heap, as they stand after growing (capacity, not just use; the timer heap
 * shrinks again once the handshake timers have fired). Not included: the descriptor table, preallocated at
 * us_stack_new() from max_sockets (32 bytes per slot: the block and its readiness watch;
 * reported separately).
 * "Fit in 1 GiB" is 2^30 / (bytes per connection + 32 for its descriptor slot).
 * Output: one line, e.g.
 *   ustack mem conns=1000000 bytes_per_conn=485.9 sizeof_conn=480 fit_1gib=2139439 ... */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/sim.h"
#include "tcp/tcp.h"

#define BATCH 1000
#define PORTS_PER_LISTENER 60000

static size_t
heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000;
    unsigned nl = (unsigned)(n / PORTS_PER_LISTENER) + 1;
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.max_sockets = (size_t)n + nl + 16;
    cfg.tcp_max_conns = (size_t)n + nl + 16;
    cfg.ephemeral_lo = 1024;
    cfg.ephemeral_hi = 65535;
    struct sim s;
    sim_init(&s, NULL, 1, 0, &cfg);
    struct us_stack *A = s.st[0], *B = s.st[1];
    int *lfd = calloc(nl, sizeof(int));
    int *cfd = malloc(n * sizeof(int)), *sfd = malloc(n * sizeof(int));
    if (!lfd || !cfd || !sfd)
        return 1;
    for (unsigned i = 0; i < nl; i++) {
        lfd[i] = us_socket(B, US_SOCK_STREAM);
        struct us_sockaddr la = {0, (uint16_t)(80 + i)};
        if (us_bind(B, lfd[i], &la) < 0 || us_listen(B, lfd[i], 65535) < 0) {
            fprintf(stderr, "bench_mem: listen failed\n");
            return 1;
        }
    }
    /* warm-up: ARP resolution and the port table, so they do not count against connections */
    {
        int c = us_socket(A, US_SOCK_STREAM);
        struct us_sockaddr to = {SIM_B_IP, 80};
        us_connect(A, c, &to, s.now);
        sim_run(&s, US_MSEC(10));
        int a = us_accept(B, lfd[0], NULL);
        us_close(A, c, s.now);
        sim_run(&s, US_MSEC(10));
        us_close(B, a, s.now);
        sim_run(&s, US_SEC(70)); /* past TIME-WAIT */
    }
    size_t m0 = heap_used();
    double t0 = now_s();
    uint64_t opened = 0, accepted = 0;
    const char *stop = "none";
    int stop_err = 0;
    while (opened < n && !stop_err) {
        uint64_t end = opened + BATCH < n ? opened + BATCH : n;
        for (; opened < end; opened++) {
            int c = us_socket(A, US_SOCK_STREAM);
            if (c < 0) {
                stop = "socket";
                stop_err = c;
                break;
            }
            struct us_sockaddr to = {SIM_B_IP, (uint16_t)(80 + opened / PORTS_PER_LISTENER)};
            int r = us_connect(A, c, &to, s.now);
            if (r != -EINPROGRESS) {
                stop = "connect";
                stop_err = r;
                us_close(A, c, s.now);
                break;
            }
            cfd[opened] = c;
        }
        sim_run(&s, US_MSEC(1));
        for (unsigned i = 0; i < nl; i++) {
            int a;
            while ((a = us_accept(B, lfd[i], NULL)) >= 0)
                sfd[accepted++] = a;
        }
    }
    sim_run(&s, US_SEC(10));
    for (unsigned i = 0; i < nl; i++) {
        int a;
        while ((a = us_accept(B, lfd[i], NULL)) >= 0)
            sfd[accepted++] = a;
    }
    double dt = now_s() - t0;
    size_t m1 = heap_used();
    /* check: every client connection is established */
    uint64_t est = 0;
    for (uint64_t i = 0; i < opened; i++) {
        struct us_tcp_info ti;
        if (us_tcp_get_info(A, cfd[i], &ti) == 0 && ti.state == US_TCPS_ESTABLISHED)
            est++;
    }
    uint64_t conns = est + accepted; /* connections on both stacks */
    double per = conns ? (double)(m1 - m0) / (double)conns : 0;
    printf("ustack mem conns=%" PRIu64 " established_client=%" PRIu64 " accepted=%" PRIu64
           " heap_growth_bytes=%zu bytes_per_conn=%.1f sizeof_conn=%zu fdslot_bytes=32"
           " fit_1gib=%.0f open_s=%.2f stop=%s%s%s\n",
           n, est, accepted, m1 - m0, per, sizeof(struct us_tcp_conn),
           per > 0 ? (double)(1u << 30) / (per + 32) : 0, dt, stop, stop_err ? ":" : "",
           stop_err ? strerror(-stop_err) : "");
    fflush(stdout);
    if (getenv("BENCH_MEM_FREE")) { /* tearing 2N connections down is slow-ish; skip by default */
        for (uint64_t i = 0; i < opened; i++)
            us_close(A, cfd[i], s.now);
        for (uint64_t i = 0; i < accepted; i++)
            us_close(B, sfd[i], s.now);
        for (unsigned i = 0; i < nl; i++)
            us_close(B, lfd[i], s.now);
        sim_run(&s, US_SEC(200));
        sim_free(&s);
    }
    return 0;
}
