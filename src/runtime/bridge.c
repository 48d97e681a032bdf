/* `ustack bridge`: two Ethernet ports joined through two seeded impairers, one per direction,
 * and one delay queue (drivers/wire.c: the same impairer and queue `ustack up --impair` uses).
 * Layer: runtime. Single-threaded epoll loop: a readable port is read in bursts (read() on a
 * TAP, recvmmsg() on a packet socket), each frame goes through its direction's impairer into
 * the queue, and every frame due is written to the other port at once; the loop sleeps until
 * the next port event or the next due frame (epoll_pwait2, nanosecond timeout). The clock is
 * CLOCK_MONOTONIC less the bridge's start, so blackout times count from the start.
 * A port is a TAP device the bridge holds (no virtio-net header: the kernel segments and
 * checksums before a frame reaches us, so the bridge carries plain frames) or an AF_PACKET
 * socket on an interface another program holds (the TAP of a ustack daemon). Either may live in
 * another network namespace: the bridge enters it (setns) to open the port, then returns. */
#include "runtime/bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "drivers/tap.h"
#include "drivers/wire.h"

#define BR_BURST 64         /* frames read from one port per wake-up */
#define BR_FRAME_MAX US_TAP_FRAME_MAX
#define BR_TXQLEN 4096      /* as the daemon's TAP: bursts towards a port fit its queue */
#define BR_SOCKBUF (8 << 20) /* packet socket buffers */
#define BR_QUEUE_FRAMES 65536 /* frames held by the delay queue: 10 ms of a 10 Gbit/s link */

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

enum br_kind { BR_TAP, BR_PACKET };

struct br_port {
    enum br_kind kind;
    char spec[128];
    char ifname[IFNAMSIZ];
    struct us_tap tap; /* BR_TAP */
    int fd;
    unsigned mtu;
    /* frames read from this port / written to it */
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, tx_errors, oversize;
    uint64_t pkt_drops; /* BR_PACKET: what the kernel dropped before we read (PACKET_STATISTICS) */
};

struct bridge {
    struct br_port port[2];
    struct us_impairer *imp[2]; /* [d]: frames from port d to port 1 - d */
    bool clean[2];              /* no impairment that direction: forward at once */
    struct us_delayq *q;        /* both directions; tag = the direction */
    int ep, sigfd;
    us_time_t t0, now;
    /* burst buffers for recvmmsg (and one frame for read) */
    uint8_t *bufs;
    struct mmsghdr msgs[BR_BURST];
    struct iovec iovs[BR_BURST];
    struct sockaddr_ll from[BR_BURST];
};

static us_time_t
br_clock(const struct bridge *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (us_time_t)ts.tv_sec * US_NSEC_PER_SEC + ts.tv_nsec - b->t0;
}

/* ---- ports ----------------------------------------------------------------------------------- */

/* Enters the network namespace ns (a name under /run/netns, or a path). */
static int
br_setns(const char *ns)
{
    char path[256];
    if (ns[0] == '/')
        snprintf(path, sizeof(path), "%s", ns);
    else if (snprintf(path, sizeof(path), "/run/netns/%s", ns) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
    close(fd);
    return err;
}

/* Brings the interface up, raises its queue to BR_TXQLEN and reads its MTU (in the current
 * namespace). */
static int
br_if_setup(struct br_port *p)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct ifreq ifr;
    int err = 0;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, p->ifname, IFNAMSIZ);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        err = -errno;
    ifr.ifr_flags |= IFF_UP;
    if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        err = -errno;
    if (!err && ioctl(s, SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen < BR_TXQLEN) {
        ifr.ifr_qlen = BR_TXQLEN;
        (void)ioctl(s, SIOCSIFTXQLEN, &ifr); /* best effort */
    }
    if (!err && ioctl(s, SIOCGIFMTU, &ifr) < 0)
        err = -errno;
    p->mtu = err ? 1500 : (unsigned)ifr.ifr_mtu;
    close(s);
    return err;
}

static int
br_packet_open(struct br_port *p)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0)
        return -errno;
    unsigned idx = if_nametoindex(p->ifname);
    int one = 1, big = BR_SOCKBUF, err = 0;
    if (idx == 0) {
        err = -ENODEV;
        goto fail;
    }
    /* Our own writes out of the interface must not come back to us. */
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)idx};
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        err = -errno;
        goto fail;
    }
    /* Every frame, whatever its destination address (a TAP does not filter; a veth might). */
    struct packet_mreq mr = {.mr_ifindex = (int)idx, .mr_type = PACKET_MR_PROMISC};
    (void)setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
    p->fd = fd;
    return 0;
fail:
    close(fd);
    return err;
}

/* Opens port spec "tap:NAME[@NETNS]" or "packet:IFNAME[@NETNS]"; home is the bridge's own
 * namespace, to return to. */
static int
br_port_open(struct br_port *p, const char *spec, int home)
{
    char buf[128];
    const char *ns = NULL;
    int err;

    memset(p, 0, sizeof(*p));
    p->fd = -1;
    p->tap.fd = -1;
    if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    snprintf(p->spec, sizeof(p->spec), "%s", spec);
    char *at = strchr(buf, '@');
    if (at) {
        *at = '\0';
        ns = at + 1;
        if (!*ns)
            return -EINVAL;
    }
    const char *name;
    if (strncmp(buf, "tap:", 4) == 0) {
        p->kind = BR_TAP;
        name = buf + 4;
    } else if (strncmp(buf, "packet:", 7) == 0) {
        p->kind = BR_PACKET;
        name = buf + 7;
    } else {
        return -EINVAL;
    }
    if (!*name || strlen(name) >= IFNAMSIZ)
        return -EINVAL;
    memcpy(p->ifname, name, strlen(name) + 1);
    if (ns && (err = br_setns(ns)) < 0)
        return err;
    if (p->kind == BR_TAP) {
        err = us_tap_open(&p->tap, name, 0);
        if (err == 0) {
            p->fd = us_tap_fd(&p->tap);
            memcpy(p->ifname, p->tap.name, IFNAMSIZ);
        }
    } else {
        err = br_packet_open(p);
    }
    if (err == 0)
        err = br_if_setup(p);
    if (ns && setns(home, CLONE_NEWNET) < 0 && err == 0)
        err = -errno;
    return err;
}

static void
br_port_close(struct br_port *p)
{
    if (p->kind == BR_TAP)
        us_tap_close(&p->tap);
    else if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

/* Writes one frame out of port p. */
static void
br_port_write(struct br_port *p, const uint8_t *frame, size_t len)
{
    ssize_t n;
    if (p->kind == BR_TAP)
        n = us_tap_write(&p->tap, frame, len) == 0 ? (ssize_t)len : -1;
    else
        n = send(p->fd, frame, len, MSG_DONTWAIT);
    if (n == (ssize_t)len) {
        p->tx_frames++;
        p->tx_bytes += len;
    } else {
        p->tx_errors++;
    }
}

/* ---- forwarding ------------------------------------------------------------------------------ */

static void
br_deliver(void *ctx, int dir, const uint8_t *frame, size_t len, us_time_t now)
{
    struct bridge *b = ctx;
    (void)now;
    us_impairer_stats(b->imp[dir])->delivered++;
    br_port_write(&b->port[1 - dir], frame, len);
}

static void
br_flush(struct bridge *b)
{
    while (us_delayq_deliver(b->q, b->now, 256, br_deliver, b) == 256)
        ;
}

/* One frame read from port dir: through its direction's impairer to the other port. */
static void
br_forward(struct bridge *b, int dir, const uint8_t *frame, size_t len)
{
    struct br_port *in = &b->port[dir], *out = &b->port[1 - dir];
    in->rx_frames++;
    in->rx_bytes += len;
    /* Larger than the way out carries: a super-frame (offloads left on) or a mismatched MTU.
     * Forwarding it would hand the far end segments the other path never carries. */
    if (len > (size_t)out->mtu + 18) {
        in->oversize++;
        return;
    }
    if (b->clean[dir]) {
        us_impairer_stats(b->imp[dir])->sent++;
        us_impairer_stats(b->imp[dir])->delivered++;
        br_port_write(out, frame, len);
        return;
    }
    (void)us_delayq_push_impaired(b->q, b->imp[dir], frame, len, b->now, dir);
}

static void
br_readable(struct bridge *b, int dir)
{
    struct br_port *p = &b->port[dir];
    b->now = br_clock(b);
    if (p->kind == BR_TAP) {
        for (int i = 0; i < BR_BURST; i++) {
            ssize_t n = us_tap_read(&p->tap, b->bufs, BR_FRAME_MAX, NULL);
            if (n <= 0)
                break;
            br_forward(b, dir, b->bufs, (size_t)n);
        }
    } else {
        for (int i = 0; i < BR_BURST; i++) {
            b->iovs[i].iov_base = b->bufs + (size_t)i * BR_FRAME_MAX;
            b->iovs[i].iov_len = BR_FRAME_MAX;
            memset(&b->msgs[i].msg_hdr, 0, sizeof(b->msgs[i].msg_hdr));
            b->msgs[i].msg_hdr.msg_iov = &b->iovs[i];
            b->msgs[i].msg_hdr.msg_iovlen = 1;
            b->msgs[i].msg_hdr.msg_name = &b->from[i];
            b->msgs[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
        }
        int n = recvmmsg(p->fd, b->msgs, BR_BURST, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            if (b->from[i].sll_pkttype == PACKET_OUTGOING) /* kernels without IGNORE_OUTGOING */
                continue;
            if (b->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                p->oversize++;
                continue;
            }
            br_forward(b, dir, b->iovs[i].iov_base, b->msgs[i].msg_len);
        }
    }
    br_flush(b);
}

/* ---- counters -------------------------------------------------------------------------------- */

static void
br_print(struct bridge *b, FILE *f)
{
    for (int d = 0; d < 2; d++) {
        struct br_port *in = &b->port[d], *out = &b->port[1 - d];
        const struct us_wire_stats *s = us_impairer_stats(b->imp[d]);
        if (in->kind == BR_PACKET) {
            struct tpacket_stats ts;
            socklen_t l = sizeof(ts);
            if (getsockopt(in->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &l) == 0)
                in->pkt_drops += ts.tp_drops; /* the call resets the kernel's counts */
        }
        fprintf(f,
                "ustack bridge: %s %s->%s: in=%llu in_bytes=%llu out=%llu out_bytes=%llu "
                "lost=%llu blackout=%llu reordered=%llu delayed=%llu duplicated=%llu "
                "corrupted=%llu biterrs=%llu fcs_drops=%llu ce_marked=%llu queue_drops=%llu "
                "oversize=%llu tx_errors=%llu rx_drops=%llu queued=%zu\n",
                d == 0 ? "a->b" : "b->a", in->ifname, out->ifname,
                (unsigned long long)in->rx_frames, (unsigned long long)in->rx_bytes,
                (unsigned long long)out->tx_frames, (unsigned long long)out->tx_bytes,
                (unsigned long long)s->lost, (unsigned long long)s->blackout,
                (unsigned long long)s->reordered, (unsigned long long)s->delayed,
                (unsigned long long)s->duplicated, (unsigned long long)s->corrupted,
                (unsigned long long)s->biterrs, (unsigned long long)s->fcs_drops,
                (unsigned long long)s->ce_marked, (unsigned long long)s->queue_drops,
                (unsigned long long)in->oversize,
                (unsigned long long)out->tx_errors, (unsigned long long)in->pkt_drops,
                us_delayq_len(b->q));
    }
    fflush(f);
}

/* ---- setup and loop -------------------------------------------------------------------------- */

static int
br_impairers(struct bridge *b, const struct us_bridge_opts *o)
{
    for (int d = 0; d < 2; d++) {
        const char *spec = o->impair_dir[d] ? o->impair_dir[d] : o->impair;
        struct us_impair imp;
        uint64_t seed = o->seed;
        if (us_impair_parse(&imp, &seed, spec) < 0) {
            fprintf(stderr, "ustack bridge: bad impairment spec '%s'\n", spec);
            return -EINVAL;
        }
        /* The two directions draw from different streams of the same seed. */
        if (d == 1)
            seed ^= 0x9e3779b97f4a7c15ull;
        b->imp[d] = us_impairer_new(&imp, seed);
        if (!b->imp[d])
            return -ENOMEM;
        b->clean[d] = us_impairer_clean(b->imp[d]);
    }
    return 0;
}

int
us_bridge_run(const struct us_bridge_opts *o)
{
    struct bridge *b = calloc(1, sizeof(*b));
    int err = 0, home = -1;
    if (!b)
        return -ENOMEM;
    b->ep = b->sigfd = -1;
    b->port[0].fd = b->port[1].fd = -1;
    b->port[0].tap.fd = b->port[1].tap.fd = -1;
    if ((err = br_impairers(b, o)) < 0)
        goto out;
    b->q = us_delayq_new(BR_QUEUE_FRAMES);
    b->bufs = malloc((size_t)BR_BURST * BR_FRAME_MAX);
    if (!b->q || !b->bufs) {
        err = -ENOMEM;
        goto out;
    }
    home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        err = -errno;
        fprintf(stderr, "ustack bridge: /proc/self/ns/net: %s\n", strerror(-err));
        goto out;
    }
    for (int d = 0; d < 2; d++) {
        if ((err = br_port_open(&b->port[d], o->port[d], home)) < 0) {
            fprintf(stderr, "ustack bridge: port %s: %s\n", o->port[d], strerror(-err));
            goto out;
        }
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    b->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    if (b->sigfd < 0 || b->ep < 0) {
        err = -errno;
        goto out;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 2};
    epoll_ctl(b->ep, EPOLL_CTL_ADD, b->sigfd, &ev);
    for (uint32_t d = 0; d < 2; d++) {
        ev.data.u32 = d;
        if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->port[d].fd, &ev) < 0) {
            err = -errno;
            goto out;
        }
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    b->t0 = (us_time_t)t.tv_sec * US_NSEC_PER_SEC + t.tv_nsec;
    if (!o->quiet) {
        printf("ustack bridge: up: a=%s (%s, mtu %u) b=%s (%s, mtu %u)\n", o->port[0],
               b->port[0].ifname, b->port[0].mtu, o->port[1], b->port[1].ifname,
               b->port[1].mtu);
        fflush(stdout);
    }
    for (bool stop = false; !stop;) {
        struct epoll_event evs[8];
        b->now = br_clock(b);
        br_flush(b);
        us_time_t next = us_delayq_next_due(b->q);
        struct timespec to, *top = NULL;
        if (next != US_TIME_NEVER) {
            us_time_t wait = next > b->now ? next - b->now : 0;
            to.tv_sec = wait / US_NSEC_PER_SEC;
            to.tv_nsec = wait % US_NSEC_PER_SEC;
            top = &to;
        }
        int n = epoll_pwait2(b->ep, evs, 8, top, NULL);
        if (n < 0 && errno != EINTR) {
            err = -errno;
            break;
        }
        for (int i = 0; i < n; i++) {
            uint32_t w = evs[i].data.u32;
            if (w < 2) {
                br_readable(b, (int)w);
                continue;
            }
            struct signalfd_siginfo si;
            while (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGUSR1)
                    br_print(b, stdout);
                else
                    stop = true;
            }
        }
    }
    br_print(b, stdout);
out:
    if (err < 0 && err != -EINVAL && b->port[1].fd >= 0)
        fprintf(stderr, "ustack bridge: %s\n", strerror(-err));
    if (b->ep >= 0)
        close(b->ep);
    if (b->sigfd >= 0)
        close(b->sigfd);
    if (home >= 0)
        close(home);
    br_port_close(&b->port[0]);
    br_port_close(&b->port[1]);
    us_delayq_free(b->q); /* before the impairers: queued frames point at their counters */
    us_impairer_free(b->imp[0]);
    us_impairer_free(b->imp[1]);
    free(b->bufs);
    free(b);
    return err;
}
