/* The ustack daemon: an epoll loop that feeds TAP frames and control requests into one stack,
 * fires its timers, runs the services the tool plugs in and answers clients. Layer: runtime.
 * Single-threaded (doc/design.md, Process model): the clock is read once per iteration; work
 * per iteration is bounded (frames per read burst, one request per client, ready events per
 * harvest). Sockets are served from the stack's ready list (us_sock_watch, us_ready), never by
 * scanning them, so idle connections cost nothing per iteration. A request that would block is
 * parked: its socket is watched, and the request is retried when the socket is reported ready,
 * or answered when its deadline passes. */
#include "runtime/daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "drivers/pcap.h"
#include "drivers/tap.h"
#include "drivers/wire.h"
#include "runtime/ctl_proto.h"
#include "runtime/sockd.h"
#include "wire/wire.h"
#include <ustack_client.h> /* US_NETSTAT_STATS */

#define RX_BURST 64
/* Interleaving: an input or a timer may release a long burst of segments (a window's
 * worth, for many connections). While ustack only writes, the kernel's ACKs pile up in the
 * TAP's transmit queue and overflow it. So after every TX_BETWEEN_READS frames written, the
 * frames waiting in the TAP are read into the stash (bounded by its size); they go into the
 * stack once the current input returns, in the order read, before anything read later. */
#define TX_BETWEEN_READS 16
#define STASH_BYTES (1u << 20)
/* The queue length given to the TAP's kernel side: bursts of this many frames towards ustack fit
 * (Linux gives a TAP 500 or 1000, which the ACKs of 20 downloads of 1 MiB overflowed). */
#define TAP_TXQLEN 4096
#define TAG_RX 0 /* delayed frame travelling from the TAP to the stack */
#define TAG_TX 1 /* delayed frame travelling from the stack to the TAP */

struct daemon;

struct client {
    struct us_ready_handler h; /* watch cookie of the parked request's socket (first member) */
    struct us_evh io;          /* epoll on sock */
    struct daemon *d;
    struct client *prev, *next;
    struct us_sockd_owner *owner; /* who it is (SO_PEERCRED), what it holds */
    bool hello;                /* it said US_CTL_HELLO with our version */
    int sock;
    int *fds; /* stack descriptors this client owns */
    size_t n_fds, cap_fds;
    bool parked;
    struct us_sockd_waiter wait; /* its US_CTL_DS_LINGER, held until the close is over */
    us_time_t park_deadline; /* US_TIME_NEVER: wait forever */
    struct us_ctl_req req;   /* the parked request (no payload: only recv and poll park) */
};

struct daemon {
    const struct us_daemon_opts *o;
    struct us_stack *st;
    struct us_iface *ifp;
    struct us_tap tap;
    struct us_pcap *pcap;
    struct us_impairer *imp[2]; /* [TAG_RX], [TAG_TX] */
    struct us_delayq *delayq;
    int ep, lsock, sigfd;
    char ctl_path[108];
    struct client *clients; /* every connected client; no fixed limit */
    size_t n_clients, n_parked;
    struct us_sockd *sd;    /* descriptor sockets (ustack run) */
    bool sd_more;           /* some wait to continue: do not sleep */
    const struct us_daemon_services *svc; /* hooks, never NULL (no_services) */
    void *svc_state;
    uint8_t rxbuf[US_TAP_FRAME_MAX];
    /* Frames read from the TAP while transmitting, not yet input: records of a struct stashed
     * and the frame, packed, from stash_head to stash_tail. */
    uint8_t *stash;
    size_t stash_head, stash_tail;
    size_t stash_n; /* frames in it */
    unsigned tx_since_read;       /* frames written since the TAP was last read */
    /* The TAP's epoll is level-triggered: after a read that found one frame, then none, the
     * next call reads one and leaves the rest to epoll, saving the read that says EAGAIN on a
     * request/response path. Calls in two iterations of the loop in a row (a stream of
     * frames) go back to reading the TAP dry. */
    bool rx_one;
    unsigned long iter, tap_iter; /* loop iterations; the last one that read the TAP */
    uint8_t txbuf[US_TAP_FRAME_MAX]; /* a gathered frame in one piece, for the capture */
    uint8_t reqbuf[sizeof(struct us_ctl_req) + US_CTL_MAX_PAYLOAD];
    uint8_t respbuf[sizeof(struct us_ctl_resp) + US_CTL_MAX_PAYLOAD];
    us_time_t now;
    bool stop;
};

static us_time_t
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (us_time_t)ts.tv_sec * US_NSEC_PER_SEC + ts.tv_nsec;
}

static us_time_t
wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (us_time_t)ts.tv_sec * US_NSEC_PER_SEC + ts.tv_nsec;
}

/* ---- frames ---------------------------------------------------------------------------------- */

struct stashed {
    struct us_tap_rxmeta meta;
    size_t len;
};

/* Reads what the TAP holds for us into the stash, as long as a largest frame still fits. Never
 * touches the stack (it is called from inside it). */
static void
stash_fill(struct daemon *d)
{
    const size_t rec = (sizeof(struct stashed) + 15) & ~(size_t)15;
    d->tx_since_read = 0;
    if (!d->stash)
        return;
    if (d->stash_head > 0 && STASH_BYTES - d->stash_tail < rec + US_TAP_FRAME_MAX) {
        /* what was taken makes room (nothing points into the stash: taking copies) */
        memmove(d->stash, d->stash + d->stash_head, d->stash_tail - d->stash_head);
        d->stash_tail -= d->stash_head;
        d->stash_head = 0;
    }
    while (STASH_BYTES - d->stash_tail >= rec + US_TAP_FRAME_MAX) {
        struct stashed h;
        uint8_t *at = d->stash + d->stash_tail;
        ssize_t n = us_tap_read(&d->tap, at + rec, US_TAP_FRAME_MAX, &h.meta);
        if (n <= 0)
            return;
        h.len = (size_t)n;
        d->stash_n++;
        memcpy(at, &h, sizeof(h));
        d->stash_tail += rec + (((size_t)n + 15) & ~(size_t)15);
    }
}

/* Takes the oldest stashed frame into rxbuf. Returns its length, or 0 when the stash is empty. */
static size_t
stash_take(struct daemon *d, struct us_tap_rxmeta *meta)
{
    const size_t rec = (sizeof(struct stashed) + 15) & ~(size_t)15;
    struct stashed h;
    if (d->stash_head == d->stash_tail)
        return 0;
    memcpy(&h, d->stash + d->stash_head, sizeof(h));
    memcpy(d->rxbuf, d->stash + d->stash_head + rec, h.len);
    d->stash_head += rec + ((h.len + 15) & ~(size_t)15);
    d->stash_n--;
    if (d->stash_head == d->stash_tail)
        d->stash_head = d->stash_tail = 0;
    *meta = h.meta;
    return h.len;
}

/* After a frame is written: every TX_BETWEEN_READS of them, read what waits in the TAP. */
static void
tx_written(struct daemon *d)
{
    if (++d->tx_since_read >= TX_BETWEEN_READS)
        stash_fill(d);
}

static int
tap_send(struct daemon *d, const uint8_t *frame, size_t len)
{
    if (d->pcap)
        us_pcap_write(d->pcap, frame, len, wall_now());
    int err = us_tap_write(&d->tap, frame, len);
    tx_written(d);
    return err;
}

/* The stack's transmit callback. */
static int
daemon_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct daemon *d = ctx;
    if (d->delayq)
        return us_delayq_push_impaired(d->delayq, d->imp[TAG_TX], frame, len, d->now, TAG_TX);
    return tap_send(d, frame, len);
}

/* The offload transmit callback (vnet header): the kernel finishes the checksum and cuts TSO
 * super-segments, so one write carries up to 64 KiB. */
static int
daemon_tx_gso(void *ctx, const struct iovec *iov, int n, uint16_t gso_size, uint16_t l4_off,
              uint16_t hdr_len)
{
    struct daemon *d = ctx;
    struct us_tap_txgso g = {.gso_type = gso_size ? US_TAP_GSO_TCPV4 : US_TAP_GSO_NONE,
                             .gso_size = gso_size, .hdr_len = hdr_len, .csum_start = l4_off,
                             .csum_offset = 16};
    if (d->pcap) { /* the capture wants the frame in one piece */
        size_t len = 0;
        for (int i = 0; i < n && len < sizeof(d->txbuf); i++) {
            size_t k = US_MIN(iov[i].iov_len, sizeof(d->txbuf) - len);
            memcpy(d->txbuf + len, iov[i].iov_base, k);
            len += k;
        }
        us_pcap_write(d->pcap, d->txbuf, len, wall_now());
    }
    int err = us_tap_writev_gso(&d->tap, iov, n, &g);
    tx_written(d);
    return err;
}

static void
delayed_frame(void *ctx, int tag, const uint8_t *frame, size_t len, us_time_t now)
{
    struct daemon *d = ctx;
    if (tag == TAG_TX)
        tap_send(d, frame, len);
    else
        us_input(d->st, d->ifp, frame, len, now);
}

static bool tap_frames(struct daemon *d, size_t max);

/* For a blocking connect (sockd.h): the frame the kernel sent back at once (the SYN-ACK, or a
 * RST); epoll, level-triggered, reports anything more. */
static void
link_read(void *ctx)
{
    tap_frames(ctx, 1);
}

/* Inputs the frames stashed so far (they were read earlier), then reads and inputs up to
 * RX_BURST more from the TAP; max frames in all. Those stashed meanwhile wait for the next
 * call. Returns whether the TAP had no more to read. */
static bool
tap_frames(struct daemon *d, size_t max)
{
    size_t got = 0; /* frames read from the TAP in this call */
    for (size_t i = 0, burst = US_MIN(max, RX_BURST + d->stash_n); i < burst; i++) {
        struct us_tap_rxmeta meta;
        ssize_t n = (ssize_t)stash_take(d, &meta);
        if (n == 0) {
            if (d->rx_one && got == 1)
                return false; /* epoll reports what else waits */
            n = us_tap_read(&d->tap, d->rxbuf, sizeof(d->rxbuf), &meta);
            d->tx_since_read = 0;
            if (n <= 0) {
                d->rx_one = got <= 1 && n == -EAGAIN;
                return true;
            }
            got++;
        }
        if (n <= 0)
            return true;
        /* The clock moves on per frame, not per loop iteration: one iteration may take in
         * hundreds of frames, longer than the round trip on a short path, and RTT samples and
         * RACK's timing (RFC 8985 6.2) would read 0 for a segment sent and acknowledged in it. */
        d->now = mono_now();
        if (d->pcap)
            us_pcap_write(d->pcap, d->rxbuf, (size_t)n, wall_now());
        if (d->delayq) {
            /* The impairer may corrupt the frame: its checksum must be whole and checked. */
            if (meta.needs_csum)
                us_tap_complete_csum(d->rxbuf, (size_t)n, &meta);
            us_delayq_push_impaired(d->delayq, d->imp[TAG_RX], d->rxbuf, (size_t)n, d->now,
                                    TAG_RX);
        } else {
            /* From the local kernel, never on a wire: trust what it says of the checksum. */
            unsigned fl = meta.needs_csum || meta.csum_valid ? US_RX_L4_CSUM_OK : 0;
            us_input_flags(d->st, d->ifp, d->rxbuf, (size_t)n, fl, d->now);
        }
    }
    return false;
}

static void
tap_readable(struct daemon *d)
{
    if (d->tap_iter + 1 >= d->iter)
        d->rx_one = false;
    d->tap_iter = d->iter;
    tap_frames(d, SIZE_MAX);
}

/* Before the stack's timers run, what the TAP holds goes in: a retransmission timer or a tail
 * loss probe must not fire for want of an ACK that has arrived and waits unread behind an
 * iteration that was busy sending (with 20 downloads, every connection's probe fired at once
 * after such a stall, each resending what the peer had). Bounded, so input cannot hold the
 * timers off for long. */
static void
tap_drain_for_timers(struct daemon *d)
{
    if (us_next_deadline(d->st) > d->now)
        return;
    d->rx_one = false; /* read till the TAP is dry, not one frame */
    for (int i = 0; i < 32 && !tap_frames(d, SIZE_MAX); i++) {
    }
}

/* ---- control requests ------------------------------------------------------------------------ */

static bool
client_owns(const struct client *c, int fd)
{
    for (size_t i = 0; i < c->n_fds; i++)
        if (c->fds[i] == fd)
            return true;
    return false;
}

static int
client_add_fd(struct client *c, int fd)
{
    if (c->n_fds == c->cap_fds) {
        size_t n = c->cap_fds ? c->cap_fds * 2 : 8;
        int *p = realloc(c->fds, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->fds = p;
        c->cap_fds = n;
    }
    c->fds[c->n_fds++] = fd;
    return 0;
}

static void
client_drop_fd(struct client *c, int fd)
{
    for (size_t i = 0; i < c->n_fds; i++)
        if (c->fds[i] == fd) {
            c->fds[i] = c->fds[--c->n_fds];
            return;
        }
}

/* Sends a reply, with descriptor fd (>= 0) in SCM_RIGHTS. */
static void
client_reply_fd(struct client *c, struct us_ctl_resp *r, const void *payload, size_t len, int fd)
{
    r->len = (uint32_t)len;
    struct iovec iov[2] = {{r, sizeof(*r)}, {(void *)payload, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    if (fd >= 0) {
        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.b;
        mh.msg_controllen = sizeof(cm.b);
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(int));
    }
    /* A client that stopped reading loses its reply (and a descriptor socket it asked for,
     * which then closes): it cannot stall the stack. */
    (void)sendmsg(c->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void
client_reply(struct client *c, struct us_ctl_resp *r, const void *payload, size_t len)
{
    client_reply_fd(c, r, payload, len, -1);
}

/* netstat -p: the process behind a descriptor socket, or a client library's socket. */
static const char *
netstat_owner(void *ctx, int fd, char *buf, size_t len)
{
    struct daemon *d = ctx;
    const char *who = us_sockd_owner_of(d->sd, fd, buf, len);
    if (who)
        return who;
    for (struct client *c = d->clients; c; c = c->next)
        if (client_owns(c, fd)) {
            snprintf(buf, len, "%d/%s", (int)c->owner->pid, c->owner->comm);
            return buf;
        }
    return NULL;
}

/* Appends to netstat's text (buf holds len of cap bytes); returns the new length. */
static size_t __attribute__((format(printf, 4, 5)))
netstat_add(char *buf, size_t len, size_t cap, const char *fmt, ...)
{
    if (len + 1 >= cap)
        return len;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    return k > 0 ? US_MIN(len + (size_t)k, cap - 1) : len;
}

/* The counters only the daemon sees, in the stack counters' format: what the kernel dropped
 * towards us (the TAP's transmit queue was full), and the programs' sockets (ustack run). */
static size_t
netstat_daemon(struct daemon *d, char *buf, size_t len, size_t cap)
{
#define LINE "    %-26s %10llu  %s\n"
    uint64_t drops;
    if (us_tap_tx_dropped(&d->tap, &drops) == 0)
        len = netstat_add(buf, len, cap, "\nDevice %s:\n" LINE, d->tap.name, "TAP_KERNEL_DROPS",
                          (unsigned long long)drops,
                          "frames the kernel dropped towards ustack (tx_dropped)");
    struct us_sockd_stats s;
    us_sockd_stats(d->sd, &s);
    len = netstat_add(buf, len, cap, "\nPrograms (ustack run):\n" LINE LINE LINE LINE LINE LINE LINE,
                      "RUN_CLIENTS", (unsigned long long)d->n_clients, "control connections",
                      "RUN_SOCKETS", (unsigned long long)s.sockets, "programs' sockets open",
                      "RUN_LISTENERS", (unsigned long long)s.listeners, "of them listening",
                      "RUN_BYTES_IN", (unsigned long long)s.bytes_in, "bytes programs sent",
                      "RUN_BYTES_OUT", (unsigned long long)s.bytes_out, "bytes programs were given",
                      "RUN_RESETS_ON_CLOSE", (unsigned long long)s.resets_on_close,
                      "connections reset: closed with data unread",
                      "RUN_DIAG_UNKNOWN", (unsigned long long)s.diag_unknown,
                      "program ends the kernel's diagnostics did not answer for");
#undef LINE
    return len;
}

/* Executes one request. Returns false when it would block and should be parked. */
static bool
ctl_execute(struct daemon *d, struct client *c, const struct us_ctl_req *q, const uint8_t *pl,
            bool may_park)
{
    struct us_ctl_resp r = {0};
    const void *out = NULL;
    size_t out_len = 0;
    struct us_sockaddr a = {q->addr, q->port};
    int msgflags = q->flags >> 8;
    if (q->op != US_CTL_SOCKET && q->op != US_CTL_NETSTAT && q->op != US_CTL_CONFIG &&
        !client_owns(c, q->fd)) {
        r.ret = -EBADF;
        goto reply;
    }
    switch (q->op) {
    case US_CTL_SOCKET:
        r.ret = us_socket(d->st, (enum us_sock_type)q->arg);
        if (r.ret >= 0 && client_add_fd(c, (int)r.ret) < 0) {
            us_close(d->st, (int)r.ret, d->now);
            r.ret = -ENOMEM;
        }
        break;
    case US_CTL_BIND:
        r.ret = us_bind(d->st, q->fd, &a);
        break;
    case US_CTL_CONNECT:
        r.ret = us_connect(d->st, q->fd, (q->flags & US_CTL_F_UNSPEC) ? NULL : &a, d->now);
        break;
    case US_CTL_SENDTO:
        r.ret = us_sendto(d->st, q->fd, pl, q->len, msgflags, (q->flags & US_CTL_F_ADDR) ? &a : NULL,
                          d->now);
        break;
    case US_CTL_RECVFROM: {
        struct us_sockaddr from = {0};
        struct us_msginfo info = {0};
        size_t cap = US_MIN((size_t)(q->arg < 0 ? 0 : q->arg), (size_t)US_CTL_MAX_PAYLOAD);
        uint8_t *buf = d->respbuf + sizeof(struct us_ctl_resp);
        r.ret = us_recvfrom(d->st, q->fd, buf, cap, msgflags, &from, &info, d->now);
        if (r.ret == -EAGAIN && may_park && q->timeout_ms != 0)
            return false;
        if (r.ret >= 0) {
            r.addr = from.addr;
            r.port = from.port;
            r.ttl = info.ttl;
            r.dst = info.dst;
            out = buf;
            out_len = US_MIN((size_t)r.ret, cap);
        }
        break;
    }
    case US_CTL_GETSOCKNAME:
    case US_CTL_GETPEERNAME:
        r.ret = q->op == US_CTL_GETSOCKNAME ? us_getsockname(d->st, q->fd, &a)
                                            : us_getpeername(d->st, q->fd, &a);
        r.addr = a.addr;
        r.port = a.port;
        break;
    case US_CTL_CLOSE:
        r.ret = us_close(d->st, q->fd, d->now);
        client_drop_fd(c, q->fd);
        break;
    case US_CTL_POLL:
        r.ret = us_sock_poll(d->st, q->fd);
        if (r.ret > 0)
            r.ret &= q->arg | US_POLLERR | US_POLLHUP;
        if (r.ret == 0 && may_park && q->timeout_ms != 0)
            return false;
        break;
    case US_CTL_SETSOCKOPT:
        r.ret = us_setsockopt(d->st, q->fd, (enum us_sockopt)q->arg, q->arg2);
        break;
    case US_CTL_SOCKERR:
        r.ret = us_sock_error(d->st, q->fd);
        break;
    case US_CTL_LISTEN:
        r.ret = us_listen(d->st, q->fd, q->arg);
        break;
    case US_CTL_ACCEPT:
        r.ret = us_accept(d->st, q->fd, &a);
        if (r.ret == -EAGAIN && may_park && q->timeout_ms != 0)
            return false;
        if (r.ret >= 0) {
            if (client_add_fd(c, (int)r.ret) < 0) {
                us_close(d->st, (int)r.ret, d->now);
                r.ret = -ENOMEM;
            }
            r.addr = a.addr;
            r.port = a.port;
        }
        break;
    case US_CTL_SHUTDOWN:
        r.ret = us_shutdown(d->st, q->fd, q->arg, d->now);
        break;
    case US_CTL_GETSOCKOPT: {
        int v = 0;
        r.ret = us_getsockopt(d->st, q->fd, (enum us_sockopt)q->arg, &v);
        if (r.ret == 0)
            r.ret = v;
        break;
    }
    case US_CTL_TCPINFO: {
        /* Numbers and enums only, so it crosses to the client as it is. Filled aside and
         * copied: the payload follows the response header at an offset not aligned for it. */
        struct us_tcp_info ti;
        uint8_t *buf = d->respbuf + sizeof(struct us_ctl_resp);
        r.ret = us_tcp_get_info(d->st, q->fd, &ti);
        if (r.ret == 0) {
            memcpy(buf, &ti, sizeof(ti));
            out = buf;
            out_len = sizeof(ti);
        }
        break;
    }
    case US_CTL_CONFIG:
        r.ret = 0;
        r.addr = d->o->dns;
        break;
    case US_CTL_NETSTAT: {
        char *buf = (char *)d->respbuf + sizeof(struct us_ctl_resp);
        if (!d->svc->netstat) {
            r.ret = -EOPNOTSUPP;
            break;
        }
        size_t len = d->svc->netstat(d->st, q->arg, netstat_owner, d, buf, US_CTL_MAX_PAYLOAD);
        if (q->arg & US_NETSTAT_STATS) {
            len = netstat_daemon(d, buf, len, US_CTL_MAX_PAYLOAD);
            if (d->svc->stats && len + 1 < US_CTL_MAX_PAYLOAD)
                len += d->svc->stats(d->svc_state, buf + len, US_CTL_MAX_PAYLOAD - len);
        }
        r.ret = (int64_t)len;
        out = buf;
        out_len = (size_t)r.ret;
        break;
    }
    default:
        r.ret = -EOPNOTSUPP;
    }
reply:
    client_reply(c, &r, out, out_len);
    return true;
}

/* The events that may let a parked request finish. */
static unsigned
park_events(const struct us_ctl_req *q)
{
    if (q->op == US_CTL_POLL)
        return (unsigned)q->arg | US_POLLERR | US_POLLHUP;
    return US_POLLIN; /* recvfrom, accept */
}

static void
client_unpark(struct daemon *d, struct client *c)
{
    if (!c->parked)
        return;
    c->parked = false;
    d->n_parked--;
    us_sock_watch(d->st, c->req.fd, 0, US_WATCH_LEVEL, NULL);
}

/* The parked request's socket was reported ready: try again. */
static void
parked_ready(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned ev, us_time_t now)
{
    (void)st;
    (void)fd;
    (void)ev;
    (void)now;
    struct client *c = (struct client *)h;
    if (c->parked && ctl_execute(c->d, c, &c->req, NULL, true))
        client_unpark(c->d, c);
}

static void
client_close(struct daemon *d, struct client *c)
{
    client_unpark(d, c);
    us_sockd_forget(d->sd, &c->wait);
    for (size_t i = 0; i < c->n_fds; i++)
        us_close(d->st, c->fds[i], d->now); /* a client's sockets die with it, like a process's */
    free(c->fds);
    epoll_ctl(d->ep, EPOLL_CTL_DEL, c->sock, NULL);
    close(c->sock);
    /* Its descriptor sockets live on while any process holds them (their pairs say when). */
    us_sockd_owner_put(c->owner);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->n_clients--;
    free(c);
}

/* An error reply, then the end of a client that does not speak our protocol. */
static void
client_refuse(struct daemon *d, struct client *c, int err)
{
    struct us_ctl_resp r = {.ret = err};
    client_reply(c, &r, NULL, 0);
    client_close(d, c);
}

static void
close_fds(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* Reads and executes one request. True when it had no reply (US_CTL_DS_NEW): the request the
 * client sent next is likely there already. */
static bool
client_readable(struct daemon *d, struct client *c)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * US_CTL_MAX_FDS)];
    } cm;
    struct iovec iov = {d->reqbuf, sizeof(d->reqbuf)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
                        .msg_controllen = sizeof(cm.b)};
    ssize_t n = recvmsg(c->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (n <= 0) {
        client_close(d, c);
        return false;
    }
    int fds[US_CTL_MAX_FDS];
    int n_fds = 0;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
            if (n_fds < US_CTL_MAX_FDS)
                fds[n_fds++] = fd;
            else
                close(fd);
        }
    }
    struct us_ctl_req q;
    if ((size_t)n < sizeof(q)) {
        close_fds(fds, n_fds);
        client_close(d, c); /* not our protocol */
        return false;
    }
    memcpy(&q, d->reqbuf, sizeof(q));
    if (q.magic != US_CTL_MAGIC || c->parked) {
        close_fds(fds, n_fds);
        client_refuse(d, c, -EPROTO);
        return false;
    }
    if (!c->hello) {
        if (q.op != US_CTL_HELLO || q.arg != US_CTL_VERSION) {
            close_fds(fds, n_fds);
            client_refuse(d, c, -EPROTO); /* another version, or no HELLO first */
            return false;
        }
        c->hello = true;
        for (int i = 0; i < n_fds; i++) /* its socket diagnostics (sockd.h), or closed */
            if (i == 0)
                us_sockd_owner_diag(c->owner, fds[i]);
            else
                close(fds[i]);
        struct us_ctl_resp r = {.ret = 0, .addr = us_sockd_grant(d->sd, c->owner)};
        client_reply_fd(c, &r, NULL, 0, us_sockd_hints_fd(d->sd)); /* the daemon keeps it */
        return false;
    }
    if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || q.len != (size_t)n - sizeof(q)) {
        close_fds(fds, n_fds);
        struct us_ctl_resp r = {.ret = (mh.msg_flags & MSG_TRUNC) ? -EMSGSIZE : -EINVAL};
        client_reply(c, &r, NULL, 0);
        return false;
    }
    if (us_sockd_handles(&q)) {
        struct us_ctl_resp r = {0};
        uint8_t *out = d->respbuf + sizeof(struct us_ctl_resp);
        size_t out_len = 0;
        int give = -1;
        bool reply = us_sockd_request(d->sd, c->owner, &q, fds, n_fds, &r, out,
                                      US_CTL_MAX_PAYLOAD, &out_len, &give,
                                      c->wait.on ? NULL : &c->wait, d->now);
        if (reply)
            client_reply_fd(c, &r, out, out_len, give);
        if (give >= 0)
            close(give);
        return !reply;
    }
    close_fds(fds, n_fds);
    if (q.op == US_CTL_HELLO) {
        struct us_ctl_resp r = {.ret = q.arg == US_CTL_VERSION ? 0 : -EPROTO,
                                .addr = us_sockd_grant(d->sd, c->owner)};
        client_reply(c, &r, NULL, 0);
        return false;
    }
    if (!ctl_execute(d, c, &q, d->reqbuf + sizeof(q), true)) {
        c->parked = true;
        d->n_parked++;
        c->req = q;
        c->park_deadline = q.timeout_ms < 0 ? US_TIME_NEVER : d->now + US_MSEC(q.timeout_ms);
        c->h.fn = parked_ready;
        c->d = d;
        us_sock_watch(d->st, q.fd, park_events(&q), US_WATCH_LEVEL, &c->h);
    }
    return false;
}

/* Answers the parked requests whose deadline passed (readiness retries the others). Looks at
 * the clients only while something is parked. */
static void
expire_parked(struct daemon *d)
{
    for (struct client *c = d->clients; d->n_parked && c; c = c->next) {
        if (c->parked && d->now >= c->park_deadline) {
            ctl_execute(d, c, &c->req, NULL, false);
            client_unpark(d, c);
        }
    }
}

static void
client_io(struct us_evh *h, uint32_t events, us_time_t now)
{
    (void)events;
    (void)now;
    struct client *c = (struct client *)((char *)h - offsetof(struct client, io));
    for (int i = 0; i < 8 && client_readable(c->d, c); i++)
        ;
}

/* A held US_CTL_DS_LINGER: the close is over. */
static void
linger_answer(struct us_sockd_waiter *w, int64_t ret)
{
    struct client *c = (struct client *)((char *)w - offsetof(struct client, wait));
    struct us_ctl_resp r = {.ret = ret};
    client_reply(c, &r, NULL, 0);
}

static void
accept_client(struct daemon *d)
{
    int s = accept4(d->lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0)
        return;
    struct ucred cred = {0};
    socklen_t cl = sizeof(cred);
    struct client *c = calloc(1, sizeof(*c));
    if (!c || getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
        !(c->owner = us_sockd_owner_new(d->sd, cred.pid, cred.uid))) {
        free(c);
        close(s); /* out of memory: the client sees its connection end */
        return;
    }
    c->d = d;
    c->sock = s;
    c->io.fn = client_io;
    c->wait.fn = linger_answer;
    c->next = d->clients;
    if (c->next)
        c->next->prev = c;
    d->clients = c;
    d->n_clients++;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->io};
    epoll_ctl(d->ep, EPOLL_CTL_ADD, s, &ev);
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* Gives the kernel's end of the TAP device an address and brings it up (like `ip addr add` and
 * `ip link set up`), through the classic ioctls. */
static int
host_side_config(const char *ifname, us_ip4_t addr, uint8_t prefix)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    int err = 0;
    if (addr) {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(addr);
        if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
            err = -errno;
        sin->sin_addr.s_addr = htonl(prefix ? ~(uint32_t)0 << (32 - prefix) : 0);
        if (!err && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
            err = -errno;
    }
    if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        err = -errno;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        err = -errno;
    close(s);
    return err;
}

static void
trace_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("trace: %s\n", line);
}

static int
listen_ctl(struct daemon *d)
{
    const char *path = d->o->ctl;
    if (!path || !*path)
        path = getenv("USTACK_CTL");
    if (!path || !*path) {
        mkdir(US_CTL_DEFAULT_DIR, 0755);
        path = US_CTL_DEFAULT_DIR "/ustack.ctl";
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    snprintf(d->ctl_path, sizeof(d->ctl_path), "%s", path);
    d->lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->lsock < 0)
        return -errno;
    /* A stale socket file from a daemon that died is replaced; a live one is not. */
    if (connect(d->lsock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return -EADDRINUSE;
    unlink(path);
    /* Owner-only from the start (no window where others could connect); --ctl-mode widens it. */
    mode_t old = umask(0177);
    int b = bind(d->lsock, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    mode_t mode = d->o->ctl_mode ? (mode_t)d->o->ctl_mode : 0600;
    if (b < 0 || chmod(path, mode) < 0 || listen(d->lsock, SOMAXCONN) < 0)
        return -errno;
    return 0;
}

static int
daemon_setup(struct daemon *d)
{
    const struct us_daemon_opts *o = d->o;
    int err;
    char a[16];
    struct us_config cfg;
    us_config_default(&cfg);
    /* Descriptors for the services' and the clients' connections: idle ones cost their control
     * block and nothing per loop iteration (the ready list), so allow many (a slot is 40 bytes). */
    cfg.max_sockets = 65536;
    if (o->ecn_set)
        cfg.tcp_ecn = o->ecn;
    d->st = us_stack_new(&cfg, o->seed);
    if (!d->st)
        return -ENOMEM;
    if (o->trace) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        us_set_trace(d->st, trace_line, d);
    }
    if (o->impair && *o->impair) {
        struct us_impair imp;
        uint64_t seed = o->seed;
        if ((err = us_impair_parse(&imp, &seed, o->impair)) < 0) {
            fprintf(stderr, "ustack: bad --impair spec '%s'\n", o->impair);
            return err;
        }
        d->imp[TAG_RX] = us_impairer_new(&imp, seed);
        d->imp[TAG_TX] = us_impairer_new(&imp, seed ^ 0x9e3779b97f4a7c15ull);
        d->delayq = us_delayq_new(4096);
        if (!d->imp[0] || !d->imp[1] || !d->delayq)
            return -ENOMEM;
    }
    /* Offloads by default: with the virtio-net header when the device takes it, without when
     * it does not (an attached device that refuses the flag). */
    err = o->no_offload ? -EINVAL : us_tap_open(&d->tap, o->tap, US_TAP_VNET_HDR);
    if (err < 0 && (err = us_tap_open(&d->tap, o->tap, 0)) == 0 && !o->no_offload)
        fprintf(stderr, "ustack: %s takes no virtio-net header: no offloads\n", d->tap.name);
    if (err < 0) {
        fprintf(stderr, "ustack: cannot open TAP device %s: %s\n", o->tap, strerror(-err));
        return err;
    }
    if ((err = us_tap_raise_txqlen(&d->tap, TAP_TXQLEN)) < 0)
        fprintf(stderr, "ustack: cannot set the queue length of %s to %u: %s\n", d->tap.name,
                TAP_TXQLEN, strerror(-err));
    if (!(d->stash = malloc(STASH_BYTES)))
        return -ENOMEM;
    if ((err = host_side_config(d->tap.name, o->host_addr, o->host_prefix)) < 0) {
        fprintf(stderr, "ustack: cannot configure the kernel side of %s: %s\n", d->tap.name,
                strerror(-err));
        return err;
    }
    if (o->pcap && !(d->pcap = us_pcap_open(o->pcap))) {
        fprintf(stderr, "ustack: cannot write pcap file %s\n", o->pcap);
        return -EIO;
    }
    struct us_iface_conf ic;
    us_iface_conf_init(&ic);
    ic.name = d->tap.name;
    ic.addr = o->addr;
    ic.prefix_len = o->prefix_len;
    ic.mtu = o->mtu;
    ic.tx = daemon_tx;
    ic.tx_ctx = d;
    /* Offloads need the frame to reach the kernel as built: not through the impairment queue. */
    if ((d->tap.flags & US_TAP_VNET_HDR) && !d->delayq)
        ic.tx_gso = daemon_tx_gso;
    if (o->mac_set) {
        memcpy(ic.mac, o->mac, US_ETH_ALEN);
    } else { /* locally administered unicast, derived from the address */
        uint8_t m[US_ETH_ALEN] = {0x02, 0x75, (uint8_t)(o->addr >> 24), (uint8_t)(o->addr >> 16),
                                  (uint8_t)(o->addr >> 8), (uint8_t)o->addr};
        memcpy(ic.mac, m, US_ETH_ALEN);
    }
    d->now = mono_now();
    d->ifp = us_iface_add(d->st, &ic, d->now);
    if (!d->ifp) {
        fprintf(stderr, "ustack: bad interface settings (address %s/%u, mtu %u)\n",
                us_ip4_ntoa(o->addr, a), (unsigned)o->prefix_len, (unsigned)o->mtu);
        return -EINVAL;
    }
    if (o->gateway && (err = us_route_add(d->st, 0, 0, o->gateway, d->ifp)) < 0)
        return err;
    if (o->serve && *o->serve && !d->svc->start) {
        fprintf(stderr, "ustack: --serve %s: this program has no services\n", o->serve);
        return -EINVAL;
    }
    if (d->svc->start &&
        (err = d->svc->start(&d->svc_state, d->svc->arg, d->st, o->serve, d->now)) < 0) {
        fprintf(stderr, "ustack: --serve %s: %s\n", o->serve,
                d->svc->error ? d->svc->error(err) : strerror(-err));
        return err;
    }
    if ((err = listen_ctl(d)) < 0) {
        fprintf(stderr, "ustack: control socket %s: %s\n", d->ctl_path, strerror(-err));
        return err;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    d->ep = epoll_create1(EPOLL_CLOEXEC);
    if (d->sigfd < 0 || d->ep < 0)
        return -errno;
    struct us_sockd_limits lim;
    us_sockd_limits_default(&lim);
    if (d->o->client_sockets)
        lim.socks_per_client = d->o->client_sockets;
    if (d->o->client_memory)
        lim.mem_per_client = d->o->client_memory;
    if (!(d->sd = us_sockd_new(d->st, d->ep, &lim)))
        return -ENOMEM;
    us_sockd_set_link_read(d->sd, link_read, d);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &d->tap};
    epoll_ctl(d->ep, EPOLL_CTL_ADD, us_tap_fd(&d->tap), &ev);
    ev.data.ptr = &d->lsock;
    epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lsock, &ev);
    ev.data.ptr = &d->sigfd;
    epoll_ctl(d->ep, EPOLL_CTL_ADD, d->sigfd, &ev);
    return 0;
}

static void
daemon_teardown(struct daemon *d)
{
    while (d->clients)
        client_close(d, d->clients);
    us_sockd_free(d->sd, d->now); /* the programs' connections close as at their exit */
    if (d->svc->stop)
        d->svc->stop(d->svc_state, d->st, d->now);
    if (d->lsock >= 0) {
        close(d->lsock);
        unlink(d->ctl_path);
    }
    if (d->ep >= 0)
        close(d->ep);
    if (d->sigfd >= 0)
        close(d->sigfd);
    us_tap_close(&d->tap);
    free(d->stash);
    if (d->pcap)
        us_pcap_close(d->pcap);
    us_delayq_free(d->delayq);
    us_impairer_free(d->imp[0]);
    us_impairer_free(d->imp[1]);
    us_stack_free(d->st);
}

/* ---- loop ------------------------------------------------------------------------------------ */

static int
loop_timeout_ms(struct daemon *d)
{
    if (us_ready_pending(d->st) || d->sd_more || d->stash_head != d->stash_tail)
        return 0; /* sockets wait on the ready list, or to continue; stashed frames wait */
    us_time_t next = US_MIN(us_next_deadline(d->st), us_sockd_next_deadline(d->sd));
    if (d->delayq)
        next = US_MIN(next, us_delayq_next_due(d->delayq));
    for (struct client *c = d->clients; d->n_parked && c; c = c->next)
        if (c->parked)
            next = US_MIN(next, c->park_deadline);
    if (d->svc->next_deadline)
        next = US_MIN(next, d->svc->next_deadline(d->svc_state));
    if (next == US_TIME_NEVER)
        return 1000;
    us_time_t now = mono_now();
    if (next <= now)
        return 0;
    us_time_t ms = (next - now + US_NSEC_PER_MSEC - 1) / US_NSEC_PER_MSEC;
    return ms > 1000 ? 1000 : (int)ms;
}

int
us_daemon_run(const struct us_daemon_opts *o)
{
    struct daemon *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    static const struct us_daemon_services no_services = {0};
    d->o = o;
    d->svc = o->services ? o->services : &no_services;
    d->ep = d->lsock = d->sigfd = -1;
    d->tap.fd = -1;
    int err = daemon_setup(d);
    if (err == 0) {
        char a[16];
        printf("ustack: up on %s, %s/%u, control socket %s\n", d->tap.name,
               us_ip4_ntoa(o->addr, a), (unsigned)o->prefix_len, d->ctl_path);
        fflush(stdout);
    }
    while (err == 0 && !d->stop) {
        struct epoll_event evs[16];
        int n = epoll_wait(d->ep, evs, 16, loop_timeout_ms(d));
        d->iter++;
        d->now = mono_now();
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &d->tap)
                tap_readable(d);
            else if (p == &d->lsock)
                accept_client(d);
            else if (p == &d->sigfd)
                d->stop = true;
            else /* a client's control connection, or a descriptor socket's pair */
                ((struct us_evh *)p)->fn(p, evs[i].events, d->now);
        }
        if (d->stash_head != d->stash_tail) /* read while transmitting outside tap_readable */
            tap_readable(d);
        if (d->delayq)
            us_delayq_deliver(d->delayq, d->now, 256, delayed_frame, d);
        tap_drain_for_timers(d);
        us_poll(d->st, d->now);
        /* Sockets whose readiness changed: the services' and parked requests' (bounded per
         * iteration; what is left keeps the next epoll_wait from sleeping). */
        us_ready_dispatch(d->st, 1024, d->now);
        d->sd_more = us_sockd_run(d->sd, d->now);
        if (d->svc->run)
            d->svc->run(d->svc_state, d->st, d->now);
        expire_parked(d);
        if (d->pcap)
            us_pcap_flush(d->pcap);
    }
    if (err == 0) {
        printf("ustack: shutting down\n");
        fflush(stdout);
    }
    daemon_teardown(d);
    free(d);
    return err;
}
