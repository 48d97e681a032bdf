/* lwIP TCP baseline for `make bench` (standalone: NOT linked with ustack).
 *
 * Debian's liblwip-dev 2.1.3 (unix port, NO_SYS=0, lwipopts.h from the Hurd): lwIP has global
 * state, so "two stacks" are two Ethernet netifs of the one lwIP instance, 192.0.2.1/24 (client,
 * "A") and 192.0.2.2/24 (server, "B"), joined by an in-memory link in ONE thread:
 *   - each netif's linkoutput copies the frame (pbuf_copy_partial) into a fresh PBUF_RAM pbuf
 *     and queues it for the other netif (one copy per frame, as ustack's in-memory wire);
 *   - the pump pops frames, calls peer->input() (ethernet_input: etharp + IPv4) and
 *     sys_check_timeouts().
 * The client pcb and the listener are bound to their netif (tcp_bind_netif; accepted pcbs inherit
 * it), because both netifs are on 192.0.2.0/24 and ip4_route picks the first netif in the list.
 * Unbound, a segment for the peer's address leaves through the peer's own netif, which lwIP
 * treats as loopback: netif_loop_output posts to the tcpip thread's mbox, which does not exist
 * here, and the build aborts ('Assertion "Invalid mbox" failed ... tcpip.c'). link_output checks
 * every IPv4 frame's source address against the netif it leaves by.
 * lwip_init() is called without tcpip_init(): no tcpip thread is marked, so the port's core-lock
 * check is a no-op and the raw API runs from this thread. Input pbufs are PBUF_RAM (PBUF_POOL
 * is reported to crash in this build).
 *
 * Debian's lwipopts: TCP_MSS 1460, TCP_WND 0xFFFF (window scaling on, shift 1: no larger window),
 * TCP_SND_BUF = TCP_WND, TCP_SND_QUEUELEN 180, MEM_LIBC_MALLOC and MEMP_MEM_MALLOC (pools and
 * heap are malloc: no pcb limit), LWIP_CHECKSUM_ON_COPY, software checksums both ways. TCP_MSS is
 * a compile-time cap, so --mtu 9000 still sends 1460-byte segments. Local ports come from
 * 0xC000-0xFFFF and TIME-WAIT lasts 2*TCP_MSL = 120 s, so graceful closes (the client closes
 * first and holds TIME-WAIT) stop after 16,383 connections with tcp_connect returning ERR_BUF.
 * Nagle is off on the client (rr; bulk, where the tail segment otherwise waits for the delayed
 * ACK, up to 250 ms); bulk writes whole segments with TCP_WRITE_FLAG_COPY.
 *
 * Timing: each figure is work over wall-clock time (CLOCK_MONOTONIC, as ustack's benchmarks);
 * KEY_cpu is the same work over the process's CPU time, which is steadier when other jobs share
 * the machine. idle_ms/idle_waits: time the link sat idle waiting on lwIP's timers (should be 0).
 *
 * Each measurement run is a fork()ed child, so each starts from a fresh lwIP (no TIME-WAIT pcbs
 * or used ports left by an earlier run) and a crash or stall is reported, not fatal. Output, one
 * line per measurement (median over --runs), e.g.
 *   lwip mtu=1500 bulk_bytes=1073741824 bulk_gbps=12.3 runs=12.1,12.3,12.4 bulk_gbps_cpu=12.4 ...
 * Exit status 0 if every run finished (a connection test that stops for lack of ports counts as
 * finished: it reports where it stopped), 1 otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwip/err.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define SERVER_PORT 5001
#define QCAP 8192             /* link queue capacity (frames); overflow is fatal */
#define STALL_S 5.0           /* no progress for this long: the run fails */
#define CHILD_TIMEOUT_S 120   /* a child run is killed after this */
#define MAX_RUNS 15

/* ---------- small helpers ---------- */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void
fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lwip_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    _exit(2);
}

/* errname() is "" in this build (it needs LWIP_DEBUG), so name the codes here. */
static const char *
errname(err_t e)
{
    static const char *const names[] = {"ERR_OK", "ERR_MEM", "ERR_BUF", "ERR_TIMEOUT", "ERR_RTE",
        "ERR_INPROGRESS", "ERR_VAL", "ERR_WOULDBLOCK", "ERR_USE", "ERR_ALREADY", "ERR_ISCONN",
        "ERR_CONN", "ERR_IF", "ERR_ABRT", "ERR_RST", "ERR_CLSD", "ERR_ARG"};
    return e <= 0 && -e < (int)(sizeof names / sizeof names[0]) ? names[-e] : "ERR_?";
}

/* ---------- the in-memory link ---------- */

static struct netif nif[2];       /* 0 = A (client), 1 = B (server) */
static unsigned g_mtu = 1500;

static struct {
    struct pbuf *p[QCAP];
    struct netif *dst[QCAP];
    unsigned head, tail;          /* head: next to pop; tail: next free; count = tail - head */
} q;
static uint64_t frames_delivered, frames_misrouted;

static err_t
link_output(struct netif *n, struct pbuf *p)
{
    if (q.tail - q.head >= QCAP)
        fail("link queue overflow (%u frames queued)", QCAP);
    struct pbuf *c = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (c == NULL)
        fail("pbuf_alloc(PBUF_RAM, %u) failed", (unsigned)p->tot_len);
    if (pbuf_copy_partial(p, c->payload, p->tot_len, 0) != p->tot_len)
        fail("pbuf_copy_partial short copy");
    /* Check the route: an IPv4 frame leaving netif i must carry netif i's address as source. */
    const uint8_t *f = c->payload;
    if (c->len >= SIZEOF_ETH_HDR + IP_HLEN && f[12] == 0x08 && f[13] == 0x00) {
        uint32_t src;
        memcpy(&src, f + SIZEOF_ETH_HDR + 12, 4);
        if (src != ip4_addr_get_u32(netif_ip4_addr(n)))
            frames_misrouted++;
    }
    unsigned i = q.tail % QCAP;
    q.p[i] = c;
    q.dst[i] = (n == &nif[0]) ? &nif[1] : &nif[0];
    q.tail++;
    return ERR_OK;
}

static err_t
nif_init(struct netif *n)
{
    uintptr_t idx = (uintptr_t)n->state;
    n->name[0] = 'm';
    n->name[1] = (char)('0' + idx);
    n->mtu = (u16_t)g_mtu;
    n->hwaddr_len = ETH_HWADDR_LEN;
    const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)(1 + idx)};
    memcpy(n->hwaddr, mac, sizeof mac);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    n->output = etharp_output;
    n->linkoutput = link_output;
    return ERR_OK;
}

static ip4_addr_t ip_a, ip_b;

static void
stack_init(void)
{
    ip4_addr_t mask, gw;
    lwip_init();
    IP4_ADDR(&ip_a, 192, 0, 2, 1);
    IP4_ADDR(&ip_b, 192, 0, 2, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    if (!netif_add(&nif[0], &ip_a, &mask, &gw, (void *)(uintptr_t)0, nif_init, ethernet_input) ||
        !netif_add(&nif[1], &ip_b, &mask, &gw, (void *)(uintptr_t)1, nif_init, ethernet_input))
        fail("netif_add failed");
    for (int i = 0; i < 2; i++) {
        netif_set_up(&nif[i]);
        netif_set_link_up(&nif[i]);
    }
}

/* Deliver every queued frame (including those queued while delivering), then run the timers.
 * Returns the number of frames delivered. */
static unsigned
pump_drain(void)
{
    unsigned n = 0;
    while (q.head != q.tail) {
        unsigned i = q.head % QCAP;
        struct pbuf *p = q.p[i];
        struct netif *dst = q.dst[i];
        q.head++;
        if (dst->input(p, dst) != ERR_OK)
            pbuf_free(p);
        n++;
        if ((n & 255) == 0)
            sys_check_timeouts();
    }
    frames_delivered += n;
    sys_check_timeouts();
    return n;
}

/* Pump until done() holds. kick() (may be NULL) is called whenever the link is idle, so an
 * application can push more data. Fails if nothing is delivered for STALL_S seconds (timers
 * keep running meanwhile, so delayed ACKs and retransmissions still get their chance). */
static double idle_wait_s;   /* time spent with the link idle, waiting on lwIP's timers */
static uint64_t idle_waits;  /* number of such waits */

static void
pump_until(bool (*done)(void), void (*kick)(void), const char *what)
{
    bool idle = false;
    double idle_start = 0;
    unsigned spins = 0;
    while (!done()) {
        if (kick)
            kick();
        if (pump_drain() > 0) {
            if (idle)
                idle_wait_s += now_s() - idle_start;
            idle = false;
            continue;
        }
        if (!idle) {
            idle = true;
            idle_start = now_s();
            idle_waits++;
            spins = 0;
        } else if (++spins % 1024 == 0 && now_s() - idle_start > STALL_S) {
            fail("stalled: %s (no frame for %.0f s)", what, STALL_S);
        }
    }
    if (idle)
        idle_wait_s += now_s() - idle_start;
}

/* ---------- shared TCP state and callbacks ---------- */

enum mode { M_BULK, M_RR, M_CONN_GRACEFUL, M_CONN_RST };

static enum mode g_mode;
static struct tcp_pcb *listener, *cli, *srv;
static bool cli_connected;
static err_t cli_err_code = ERR_OK;
static bool cli_errored, srv_errored;
static uint64_t n_accepted, n_srv_fin, n_srv_rst;

/* bulk */
static uint8_t txbuf[65536];
static uint64_t bulk_target, bulk_sent, bulk_rcvd;
/* rr */
static uint64_t rr_target, rr_done;

static void
cli_err(void *arg, err_t err)
{
    (void)arg;
    cli_errored = true;
    cli_err_code = err;
    cli = NULL;
}

static void
srv_err(void *arg, err_t err)
{
    (void)arg;
    if (err == ERR_RST)
        n_srv_rst++;
    else
        srv_errored = true;
    srv = NULL;
}

static void
bulk_push(void)
{
    if (cli == NULL || bulk_sent >= bulk_target)
        return;
    bool wrote = false;
    while (bulk_sent < bulk_target) {
        u32_t room = tcp_sndbuf(cli);
        if (room == 0 || tcp_sndqueuelen(cli) >= TCP_SND_QUEUELEN - 2)
            break;
        uint64_t left = bulk_target - bulk_sent;
        /* whole segments only (Nagle is off), except for the tail of the transfer */
        uint64_t want = left;
        if (room < left) {
            u16_t mss = tcp_mss(cli);
            want = room - room % mss;
            if (want == 0)
                break;
        }
        u16_t len = (u16_t)(want < sizeof txbuf - 1 ? want : sizeof txbuf - 1);
        err_t e = tcp_write(cli, txbuf, len, TCP_WRITE_FLAG_COPY);
        if (e == ERR_MEM)
            break;
        if (e != ERR_OK)
            fail("bulk: tcp_write: %s", errname(e));
        bulk_sent += len;
        wrote = true;
    }
    if (wrote)
        tcp_output(cli);
}

static err_t
cli_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg, (void)pcb, (void)len;
    if (g_mode == M_BULK)
        bulk_push();
    return ERR_OK;
}

static void
rr_send(struct tcp_pcb *pcb)
{
    static const char b = 'x';
    err_t e = tcp_write(pcb, &b, 1, TCP_WRITE_FLAG_COPY);
    if (e != ERR_OK)
        fail("rr: tcp_write: %s", errname(e));
    e = tcp_output(pcb);
    if (e != ERR_OK)
        fail("rr: tcp_output: %s", errname(e));
}

static err_t
cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg, (void)err;
    if (p == NULL)          /* FIN from the server */
        return ERR_OK;
    u16_t len = p->tot_len;
    tcp_recved(pcb, len);
    pbuf_free(p);
    if (g_mode == M_RR) {
        rr_done += len;
        if (rr_done < rr_target)
            rr_send(pcb);
    }
    return ERR_OK;
}

static err_t
cli_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK)
        fail("connected callback with %s", errname(err));
    cli_connected = true;
    if (g_mode == M_RR)
        rr_send(pcb);
    return ERR_OK;
}

static err_t
srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg, (void)err;
    if (p == NULL) {        /* FIN from the client: close our side too */
        n_srv_fin++;
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        if (srv == pcb)
            srv = NULL;
        if (tcp_close(pcb) != ERR_OK)
            fail("server tcp_close failed");
        return ERR_OK;
    }
    u16_t len = p->tot_len;
    tcp_recved(pcb, len);
    pbuf_free(p);
    if (g_mode == M_BULK)
        bulk_rcvd += len;
    else if (g_mode == M_RR)
        rr_send(pcb);
    return ERR_OK;
}

static err_t
srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        fail("accept error %s", errname(err));
    n_accepted++;
    srv = pcb;
    tcp_recv(pcb, srv_recv);
    tcp_err(pcb, srv_err);
    if (g_mode == M_RR)
        tcp_nagle_disable(pcb);
    return ERR_OK;
}

static void
listen_start(void)
{
    struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (l == NULL)
        fail("tcp_new (listener) failed");
    tcp_bind_netif(l, &nif[1]);
    err_t e = tcp_bind(l, IP4_ADDR_ANY, SERVER_PORT);
    if (e != ERR_OK)
        fail("tcp_bind(listener): %s", errname(e));
    listener = tcp_listen(l);
    if (listener == NULL)
        fail("tcp_listen failed");
    tcp_accept(listener, srv_accept);
}

/* Starts a client connection. Returns ERR_OK or tcp_connect's error (pcb already freed). */
static err_t
client_start(void)
{
    cli_connected = false;
    cli_errored = false;
    cli = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (cli == NULL)
        return ERR_MEM;
    tcp_bind_netif(cli, &nif[0]);
    tcp_recv(cli, cli_recv);
    tcp_sent(cli, cli_sent);
    tcp_err(cli, cli_err);
    /* Nagle off for rr, and for bulk so the final partial segment is not held until the
     * receiver's delayed ACK (up to 250 ms, lwIP's fast timer) */
    if (g_mode == M_RR || g_mode == M_BULK)
        tcp_nagle_disable(cli);
    ip_addr_t dst;
    ip_addr_copy_from_ip4(dst, ip_b);
    err_t e = tcp_connect(cli, &dst, SERVER_PORT, cli_connected_cb);
    if (e != ERR_OK) {
        tcp_abort(cli);   /* CLOSED pcb: just freed, no RST */
        cli = NULL;
    }
    return e;
}

static bool
link_idle(void)
{
    return q.head == q.tail;
}
static bool
connected_both(void)
{
    return (cli_connected && srv != NULL && link_idle()) || cli_errored;
}
static bool
bulk_done(void)
{
    return bulk_rcvd >= bulk_target || cli_errored || srv_errored;
}
static bool
rr_finished(void)
{
    return rr_done >= rr_target || cli_errored || srv_errored;
}

static void
setup_pair(void)
{
    listen_start();
    err_t e = client_start();
    if (e != ERR_OK)
        fail("tcp_connect: %s", errname(e));
    pump_until(connected_both, NULL, "handshake");
    if (cli_errored)
        fail("handshake failed: %s", errname(cli_err_code));
}

static void
check_routes(void)
{
    if (frames_misrouted)
        fail("%" PRIu64 " frames left through the wrong netif", frames_misrouted);
}

/* ---------- measurements (each runs in a fresh child process) ---------- */

struct result {
    double value;        /* Gbit/s, transactions/s or connections/s, over wall-clock time */
    double value_cpu;    /* the same over this process's CPU time (steadier on a busy machine) */
    double cpu_s;        /* CPU time of the timed part */
    uint64_t done;       /* work units completed */
    char stop[96];       /* why a connection test stopped early ("none" if it did not) */
    double idle_s;       /* timed time spent with the link idle, waiting on lwIP's timers */
    uint64_t idle_n;     /* number of such waits */
    uint64_t frames;     /* frames that crossed the link in the timed part (both ways) */
};

static double cpu0;

static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
timing_start(double *t0)
{
    cpu0 = cpu_s();
    idle_wait_s = 0;
    idle_waits = 0;
    frames_delivered = 0;
    *t0 = now_s();
}

static double
timing_stop(double t0, struct result *r)
{
    r->idle_s = idle_wait_s;
    r->idle_n = idle_waits;
    r->frames = frames_delivered;
    double dt = now_s() - t0;
    r->cpu_s = cpu_s() - cpu0;
    if (r->cpu_s <= 0)
        r->cpu_s = 1e-9;
    return dt;
}

static void
run_bulk(uint64_t bytes, struct result *r)
{
    g_mode = M_BULK;
    for (size_t i = 0; i < sizeof txbuf; i++)
        txbuf[i] = (uint8_t)i;
    setup_pair();
    bulk_target = bytes;
    double t0;
    timing_start(&t0);
    bulk_push();
    pump_until(bulk_done, bulk_push, "bulk transfer");
    double dt = timing_stop(t0, r);
    if (cli_errored || srv_errored)
        fail("bulk: connection error");
    check_routes();
    r->value = (double)bulk_rcvd * 8 / dt / 1e9;
    r->value_cpu = (double)bulk_rcvd * 8 / r->cpu_s / 1e9;
    r->done = bulk_rcvd;
    strcpy(r->stop, "none");
}

static void
run_rr(uint64_t n, struct result *r)
{
    g_mode = M_RR;
    rr_target = 1;      /* the first request is sent from the connected callback */
    setup_pair();
    pump_until(rr_finished, NULL, "rr warm-up");
    rr_target = 1 + n;
    double t0;
    timing_start(&t0);
    rr_send(cli);
    pump_until(rr_finished, NULL, "request/response");
    double dt = timing_stop(t0, r);
    if (cli_errored || srv_errored)
        fail("rr: connection error");
    check_routes();
    r->value = (double)(rr_done - 1) / dt;
    r->value_cpu = (double)(rr_done - 1) / r->cpu_s;
    r->done = rr_done - 1;
    strcpy(r->stop, "none");
}

static uint64_t conn_i;   /* index of the connection in progress */

static bool
srv_fin_seen(void)
{
    return (n_srv_fin >= conn_i + 1 && link_idle()) || srv_errored;
}
static bool
srv_rst_seen(void)
{
    return (n_srv_rst >= conn_i + 1 && link_idle()) || srv_errored;
}

/* Sequential connections: connect, wait until both ends are established, then either close
 * gracefully (client tcp_close, server tcp_close on FIN; the client ends in TIME-WAIT) or abort
 * (client tcp_abort: RST). Stops early, without failing, if tcp_new/tcp_connect refuses. */
static void
run_conn(uint64_t n, bool rst, struct result *r)
{
    g_mode = rst ? M_CONN_RST : M_CONN_GRACEFUL;
    listen_start();
    strcpy(r->stop, "none");
    double t0;
    timing_start(&t0);
    for (conn_i = 0; conn_i < n; conn_i++) {
        err_t e = client_start();
        if (e != ERR_OK) {
            /* ERR_BUF from tcp_connect: tcp_new_port() found no free local port */
            snprintf(r->stop, sizeof r->stop, "tcp_connect:%s%s", errname(e),
                     e == ERR_BUF ? "(no_free_local_port)" : "");
            break;
        }
        pump_until(connected_both, NULL, "connection handshake");
        if (cli_errored)
            fail("connection %" PRIu64 ": handshake failed: %s", conn_i, errname(cli_err_code));
        struct tcp_pcb *c = cli;
        cli = NULL;
        tcp_arg(c, NULL);
        tcp_recv(c, NULL);
        tcp_sent(c, NULL);
        tcp_err(c, NULL);
        if (rst) {
            tcp_abort(c);
            pump_until(srv_rst_seen, NULL, "RST close");
        } else {
            /* The client's FIN makes the server close too; the client ends in TIME-WAIT.
             * (recv NULL: lwIP's tcp_recv_null handles the server's FIN.) */
            if (tcp_close(c) != ERR_OK)
                fail("client tcp_close failed");
            pump_until(srv_fin_seen, NULL, "graceful close");
        }
        if (srv_errored)
            fail("connection %" PRIu64 ": server error", conn_i);
        srv = NULL;
    }
    double dt = timing_stop(t0, r);
    check_routes();
    r->done = conn_i;
    r->value = dt > 0 ? (double)conn_i / dt : 0;
    r->value_cpu = (double)conn_i / r->cpu_s;
}

/* ---------- driver ---------- */

enum test { T_BULK, T_RR, T_CONN, T_RST };

static int
run_child(enum test t, uint64_t n, struct result *out)
{
    int fds[2];
    if (pipe(fds) != 0)
        fail("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        fail("fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        alarm(CHILD_TIMEOUT_S);
        struct result r;
        memset(&r, 0, sizeof r);
        stack_init();
        switch (t) {
        case T_BULK: run_bulk(n, &r); break;
        case T_RR: run_rr(n, &r); break;
        case T_CONN: run_conn(n, false, &r); break;
        case T_RST: run_conn(n, true, &r); break;
        }
        if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    struct result r;
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "lwip_bench: run killed by signal %d (%s)%s\n", WTERMSIG(st),
                strsignal(WTERMSIG(st)), WTERMSIG(st) == SIGALRM ? ": timed out" : "");
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || got != (ssize_t)sizeof r) {
        fprintf(stderr, "lwip_bench: run failed (exit %d)\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return -1;
    }
    *out = r;
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs one measurement `runs` times; prints one line: key=median, runs=..., and for connection
 * tests how many completed and why it stopped (taken from the median run). */
static int
measure(enum test t, uint64_t n, int runs, const char *label, const char *key, double scale,
        const char *fmt)
{
    double v[MAX_RUNS], sorted[MAX_RUNS];
    struct result res[MAX_RUNS];
    int ok = 0;
    for (int i = 0; i < runs; i++) {
        if (run_child(t, n, &res[ok]) == 0) {
            v[ok] = res[ok].value;
            ok++;
        }
    }
    if (ok == 0) {
        printf("lwip mtu=%u %s %s=FAILED\n", g_mtu, label, key);
        return -1;
    }
    memcpy(sorted, v, sizeof(double) * (size_t)ok);
    qsort(sorted, (size_t)ok, sizeof(double), cmp_double);
    double med = sorted[ok / 2];
    int mi = 0;
    for (int i = 0; i < ok; i++)
        if (v[i] == med)
            mi = i;
    printf("lwip mtu=%u %s %s=", g_mtu, label, key);
    printf(fmt, med * scale);
    printf(" runs=");
    for (int i = 0; i < ok; i++) {
        printf(i ? "," : "");
        printf(fmt, v[i] * scale);
    }
    for (int i = 0; i < ok; i++)
        sorted[i] = res[i].value_cpu;
    qsort(sorted, (size_t)ok, sizeof(double), cmp_double);
    printf(" %s_cpu=", key);
    printf(fmt, sorted[ok / 2] * scale);
    if (t == T_CONN || t == T_RST)
        printf(" completed=%" PRIu64 " stop=%s", res[mi].done, res[mi].stop);
    printf(" frames=%" PRIu64 " idle_ms=%.1f idle_waits=%" PRIu64 "\n", res[mi].frames,
           res[mi].idle_s * 1e3, res[mi].idle_n);
    fflush(stdout);
    return ok == runs ? 0 : -1;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: lwip_bench [--mtu 1500|9000] [--runs N] [--bulk-bytes N] [--rr N]\n"
            "                  [--conns N,N,...] [--rst N] [--only bulk|rr|conn|rst]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    int runs = 3;
    uint64_t bulk_bytes = 1ull << 30, rr_n = 1000000, rst_n = 100000;
    uint64_t conns[8] = {1000, 10000, 100000};
    int nconns = 3;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--mtu"))
            g_mtu = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--bulk-bytes"))
            bulk_bytes = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--rr"))
            rr_n = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--rst"))
            rst_n = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--only"))
            only = v;
        else if (!strcmp(a, "--conns")) {
            nconns = 0;
            char *s = (char *)v, *end;
            while (*s && nconns < 8) {
                conns[nconns++] = strtoull(s, &end, 0);
                s = *end == ',' ? end + 1 : end;
                if (end == s && *s)
                    usage();
            }
        } else
            usage();
    }
    if (g_mtu < 576 || g_mtu > 9000 || runs < 1 || runs > MAX_RUNS)
        usage();

    int rc = 0;
    char label[64];
    if (!only || !strcmp(only, "bulk")) {
        snprintf(label, sizeof label, "bulk_bytes=%" PRIu64, bulk_bytes);
        rc |= measure(T_BULK, bulk_bytes, runs, label, "bulk_gbps", 1, "%.2f");
    }
    if (!only || !strcmp(only, "rr")) {
        snprintf(label, sizeof label, "rr_n=%" PRIu64, rr_n);
        rc |= measure(T_RR, rr_n, runs, label, "rr_mps", 1e-6, "%.3f");
    }
    if (!only || !strcmp(only, "conn")) {
        for (int i = 0; i < nconns; i++) {
            snprintf(label, sizeof label, "close=graceful conns=%" PRIu64, conns[i]);
            rc |= measure(T_CONN, conns[i], runs, label, "conn_kps", 1e-3, "%.1f");
        }
    }
    if (!only || !strcmp(only, "rst")) {
        snprintf(label, sizeof label, "close=rst conns=%" PRIu64, rst_n);
        rc |= measure(T_RST, rst_n, runs, label, "conn_kps", 1e-3, "%.1f");
    }
    return rc ? 1 : 0;
}
