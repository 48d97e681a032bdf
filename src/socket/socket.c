/* Socket library: descriptors naming control blocks, and the BSD-shaped calls on them.
 * Layer: socket (top of the core). Every call is non-blocking and returns -errno on failure,
 * with the errno Linux gives in the same situation. Blocking lives above, in the daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "socket/socket.h"
#include "core/core.h"
#include "ping/ping.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

/* A descriptor names a control block: a datagram pcb or a TCP connection. It also carries the
 * readiness interest (us_sock_watch) and its links on the ready list. */
struct us_fd_slot {          /* 32 bytes (the order avoids padding) */
    void *cb;
    void *cookie;
    int rnext, rprev;       /* ready list links (-1: end) */
    uint16_t watch;         /* US_POLL* interest; 0: not watched */
    uint8_t type;           /* enum us_sock_type; 0: free */
    bool edge : 1;
    bool queued : 1;        /* on the ready list */
};
_Static_assert(sizeof(struct us_fd_slot) <= 32, "descriptor slot grew");

/* Readiness design (doc/design.md, Process model). A ready list in the socket layer, fed by wake-ups, like
 * Linux's epoll (ep_poll_callback queues an item; ep_send_events re-polls it and puts a
 * level-triggered item back while it is ready). Chosen over per-socket callbacks (lwIP's
 * recv/sent/err callbacks) because a callback runs inside us_input, in the middle of TCP's
 * processing of a segment, where calling back into the socket functions would re-enter the
 * stack; a wake-up here only links the descriptor (O(1), no allocation), like smoltcp's wakers
 * which only mark a task runnable, and the program harvests the list in its own loop. No global
 * state (the list lives in the stack object) and no clock (harvesting reads state only). The
 * layers below signal through st->sock_wake, registered here at init, so TCP and UDP never name
 * the socket layer. */
struct us_socket_table {
    struct us_fd_slot *slot;
    size_t n;
    size_t open;
    size_t free_hint; /* every slot below this index is in use */
    int rhead, rtail; /* ready list, oldest wake-up first */
    size_t rcount;
};

static void
ready_append(struct us_socket_table *t, int fd)
{
    struct us_fd_slot *sl = &t->slot[fd];
    sl->queued = true;
    sl->rnext = -1;
    sl->rprev = t->rtail;
    if (t->rtail >= 0)
        t->slot[t->rtail].rnext = fd;
    else
        t->rhead = fd;
    t->rtail = fd;
    t->rcount++;
}

static void
ready_unlink(struct us_socket_table *t, int fd)
{
    struct us_fd_slot *sl = &t->slot[fd];
    if (!sl->queued)
        return;
    if (sl->rprev >= 0)
        t->slot[sl->rprev].rnext = sl->rnext;
    else
        t->rhead = sl->rnext;
    if (sl->rnext >= 0)
        t->slot[sl->rnext].rprev = sl->rprev;
    else
        t->rtail = sl->rprev;
    sl->queued = false;
    t->rcount--;
}

/* st->sock_wake: a layer below says fd's readiness may have changed. */
static void
sock_wake(struct us_stack *st, int fd)
{
    struct us_socket_table *t = st->socks;
    if ((size_t)fd >= t->n)
        return;
    struct us_fd_slot *sl = &t->slot[fd];
    if (sl->type && sl->watch && !sl->queued)
        ready_append(t, fd);
}

/* Frees descriptor fd's slot (the control block is the caller's). */
static void
slot_release(struct us_stack *st, int fd)
{
    ready_unlink(st->socks, fd);
    st->socks->slot[fd] = (struct us_fd_slot){0};
    st->socks->open--;
    if ((size_t)fd < st->socks->free_hint)
        st->socks->free_hint = (size_t)fd;
}

int
us_socket_table_init(struct us_stack *st)
{
    st->socks = calloc(1, sizeof(*st->socks));
    if (!st->socks)
        return -ENOMEM;
    st->socks->n = st->cfg.max_sockets;
    st->socks->slot = calloc(st->socks->n ? st->socks->n : 1, sizeof(struct us_fd_slot));
    st->socks->rhead = st->socks->rtail = -1;
    st->sock_wake = sock_wake;
    return st->socks->slot ? 0 : -ENOMEM;
}

size_t
us_socket_open_count(const struct us_stack *st)
{
    return st->socks ? st->socks->open : 0;
}

static void
sock_destroy(struct us_stack *st, struct us_pcb *pcb)
{
    us_pcb_unhash(st, pcb);
    us_pktq_purge(st->pools, &pcb->rcvq);
    slot_release(st, pcb->fd);
    free(pcb);
}

void
us_socket_table_destroy(struct us_stack *st)
{
    if (!st->socks)
        return;
    for (size_t i = 0; st->socks->slot && i < st->socks->n; i++) {
        struct us_fd_slot *sl = &st->socks->slot[i];
        if (sl->type == US_SOCK_STREAM) {
            struct us_tcp_conn *c = sl->cb;
            *sl = (struct us_fd_slot){0};
            c->fd = -1; /* the TCP teardown frees every connection block */
        } else if (sl->type) {
            sock_destroy(st, sl->cb);
        }
    }
    free(st->socks->slot);
    free(st->socks);
    st->socks = NULL;
    st->sock_wake = NULL; /* the TCP teardown that follows must not wake a freed table */
}

static struct us_fd_slot *
slot_get(struct us_stack *st, int fd)
{
    if (fd < 0 || (size_t)fd >= st->socks->n || !st->socks->slot[fd].type)
        return NULL;
    return &st->socks->slot[fd];
}

/* The datagram control block named by fd, or NULL (bad descriptor or a TCP socket). */
static struct us_pcb *
sock_get(struct us_stack *st, int fd)
{
    struct us_fd_slot *sl = slot_get(st, fd);
    return sl && sl->type != US_SOCK_STREAM ? sl->cb : NULL;
}

/* The TCP connection named by fd, or NULL. */
static struct us_tcp_conn *
tcp_get(struct us_stack *st, int fd)
{
    struct us_fd_slot *sl = slot_get(st, fd);
    return sl && sl->type == US_SOCK_STREAM ? sl->cb : NULL;
}

static int
lowest_free_fd(struct us_stack *st)
{
    size_t fd = st->socks->free_hint; /* slots below it are all in use */
    while (fd < st->socks->n && st->socks->slot[fd].type)
        fd++; /* lowest free descriptor, as POSIX requires */
    st->socks->free_hint = fd;
    if (fd == st->socks->n) {
        us_stat_inc(st, US_STAT_SOCK_LIMIT);
        return -EMFILE;
    }
    return (int)fd;
}

static void
slot_set(struct us_stack *st, int fd, enum us_sock_type type, void *cb)
{
    st->socks->slot[fd] = (struct us_fd_slot){.type = (uint8_t)type, .cb = cb, .rnext = -1,
                                              .rprev = -1};
    st->socks->open++;
}

int
us_socket(struct us_stack *st, enum us_sock_type type)
{
    uint8_t proto;
    switch (type) {
    case US_SOCK_DGRAM:
        proto = US_IPPROTO_UDP;
        break;
    case US_SOCK_PING:
        proto = US_IPPROTO_ICMP;
        break;
    case US_SOCK_STREAM:
        proto = US_IPPROTO_TCP;
        break;
    default:
        return -EINVAL;
    }
    int fd = lowest_free_fd(st);
    if (fd < 0)
        return fd;
    if (type == US_SOCK_STREAM) {
        struct us_tcp_conn *c = us_tcp_conn_new(st);
        if (!c)
            return -ENOBUFS;
        c->fd = fd;
        slot_set(st, fd, type, c);
        US_TRACE(st, "socket: %d created (tcp)", fd);
        return fd;
    }
    struct us_pcb *pcb = calloc(1, sizeof(*pcb));
    if (!pcb)
        return -ENOMEM;
    pcb->type = type;
    pcb->proto = proto;
    pcb->fd = fd;
    pcb->rcvbuf = st->cfg.udp_rcvbuf;
    slot_set(st, fd, type, pcb);
    US_TRACE(st, "socket: %d created (%s)", fd, type == US_SOCK_DGRAM ? "udp" : "ping");
    return fd;
}

static int
tcp_bind(struct us_stack *st, struct us_tcp_conn *c, const struct us_sockaddr *addr)
{
    if (c->port_ref || c->used)
        return -EINVAL;
    uint16_t port = addr->port;
    if (port == 0) {
        uint32_t lo = st->cfg.ephemeral_lo, n = (uint32_t)st->cfg.ephemeral_hi - lo + 1;
        uint32_t start = us_rand_below(&st->rand, n);
        for (uint32_t i = 0; i < n && !port; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % n);
            if (!us_tcp_port_busy(st, cand, false))
                port = cand;
        }
        if (!port)
            return -EADDRINUSE;
    } else if (us_tcp_port_busy(st, port, c->reuseaddr)) {
        return -EADDRINUSE;
    }
    int err = us_tcp_port_ref(st, c, port);
    if (err == 0)
        c->laddr = addr->addr;
    return err;
}

int
us_bind(struct us_stack *st, int fd, const struct us_sockaddr *addr)
{
    struct us_fd_slot *sl = slot_get(st, fd);
    if (!sl)
        return -EBADF;
    if (addr->addr && !us_iface_by_addr(st, addr->addr) && addr->addr != US_IP4_BROADCAST)
        return -EADDRNOTAVAIL;
    if (sl->type == US_SOCK_STREAM)
        return tcp_bind(st, sl->cb, addr);
    struct us_pcb *pcb = sl->cb;
    if (pcb->hashed)
        return -EINVAL; /* already bound */
    return us_pcb_bind(st, pcb, addr->addr, addr->port);
}

static int
sock_autobind(struct us_stack *st, struct us_pcb *pcb)
{
    return pcb->hashed ? 0 : us_pcb_bind(st, pcb, 0, 0);
}

int
us_connect(struct us_stack *st, int fd, const struct us_sockaddr *addr, us_time_t now)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c)
        return addr ? us_tcp_user_connect(st, c, addr->addr, addr->port, now) : -EAFNOSUPPORT;
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    if (!addr) { /* AF_UNSPEC: dissolve the association */
        pcb->connected = false;
        pcb->raddr = 0;
        pcb->rport = 0;
        return 0;
    }
    if (pcb->type == US_SOCK_DGRAM && addr->port == 0)
        return -EINVAL;
    if (addr->addr == US_IP4_BROADCAST && !pcb->bcast_ok)
        return -EACCES; /* Linux: connect to broadcast needs SO_BROADCAST */
    if (!us_route_lookup(st, addr->addr, NULL) && addr->addr != US_IP4_BROADCAST)
        return -ENETUNREACH;
    int err = sock_autobind(st, pcb);
    if (err < 0)
        return err;
    pcb->raddr = addr->addr;
    pcb->rport = addr->port;
    pcb->connected = true;
    pcb->so_error = 0;
    return 0;
}

/* SO_ERROR: takes the pending asynchronous error (positive errno, 0 if none); reported once. */
static int
pcb_take_error(struct us_pcb *pcb)
{
    int e = pcb->so_error;
    pcb->so_error = 0;
    return e;
}

ssize_t
us_sendto(struct us_stack *st, int fd, const void *buf, size_t len, int flags,
          const struct us_sockaddr *to, us_time_t now)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c) /* the address is ignored (EISCONN-free) */
        return us_tcp_user_send(st, c, buf, len, flags, now);
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    if (flags & US_MSG_OOB)
        return -EOPNOTSUPP; /* no urgent data in datagrams (Linux's udp_sendmsg says the same) */
    bool probe = (flags & US_MSG_PROBE) && pcb->type == US_SOCK_DGRAM;
    int err = probe ? 0 : pcb_take_error(pcb); /* a pending asynchronous error is reported
                                                * first, once; a probe leaves it */
    if (err)
        return -err;
    us_ip4_t dst;
    uint16_t dport;
    if (to) {
        dst = to->addr;
        dport = to->port;
    } else if (pcb->connected) {
        dst = pcb->raddr;
        dport = pcb->rport;
    } else {
        return -EDESTADDRREQ;
    }
    if (pcb->type == US_SOCK_DGRAM && dport == 0)
        return -EINVAL;
    if ((dst == US_IP4_BROADCAST || us_ip4_is_bcast_for(st, dst)) && !pcb->bcast_ok)
        return -EACCES;
    err = sock_autobind(st, pcb);
    if (err < 0)
        return err;
    if (pcb->type == US_SOCK_PING)
        return us_ping_output(st, pcb, buf, len, dst, now);
    return us_udp_output(st, pcb, buf, len, dst, dport, probe, now);
}

ssize_t
us_recvfrom(struct us_stack *st, int fd, void *buf, size_t len, int flags,
            struct us_sockaddr *from, struct us_msginfo *info, us_time_t now)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c) {
        if (from) {
            from->addr = c->raddr;
            from->port = c->rport;
        }
        if (info)
            memset(info, 0, sizeof(*info));
        return us_tcp_user_recv(st, c, buf, len, flags, now);
    }
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    /* A pending error comes before queued data, once, even with MSG_PEEK; the data stays for
     * the next call. As Linux's __skb_try_recv_datagram / __skb_recv_udp, which check
     * sock_error() before dequeuing. */
    int err = pcb_take_error(pcb);
    if (err)
        return -err;
    struct us_pkt *p = pcb->rcvq.head;
    if (!p)
        return -EAGAIN;
    size_t n = US_MIN(len, p->len);
    memcpy(buf, p->data, n);
    if (from) {
        from->addr = p->addr;
        from->port = p->port;
    }
    if (info) {
        info->ttl = p->ttl;
        info->dst = p->addr2;
    }
    size_t full = p->len;
    if (!(flags & US_MSG_PEEK))
        us_pkt_free(st->pools, us_pktq_pop(&pcb->rcvq));
    /* A datagram longer than the buffer is truncated; the rest is lost (POSIX). */
    return (ssize_t)((flags & US_MSG_TRUNC) ? full : n);
}

int
us_getsockname(struct us_stack *st, int fd, struct us_sockaddr *out)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c) {
        out->addr = c->laddr;
        out->port = c->lport;
        return 0;
    }
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    out->addr = pcb->laddr;
    out->port = pcb->lport;
    return 0;
}

int
us_getpeername(struct us_stack *st, int fd, struct us_sockaddr *out)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c) {
        if (c->state < US_TCPS_SYN_SENT || c->state == US_TCPS_SYN_SENT)
            return -ENOTCONN;
        out->addr = c->raddr;
        out->port = c->rport;
        return 0;
    }
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    if (!pcb->connected)
        return -ENOTCONN;
    out->addr = pcb->raddr;
    out->port = pcb->rport;
    return 0;
}

int
us_close(struct us_stack *st, int fd, us_time_t now)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c) {
        US_TRACE(st, "socket: %d closed", fd);
        slot_release(st, fd);
        us_tcp_user_close(st, c, now);
        return 0;
    }
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    US_TRACE(st, "socket: %d closed", fd);
    sock_destroy(st, pcb);
    return 0;
}

int
us_sock_poll(struct us_stack *st, int fd)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c)
        return us_tcp_user_poll(c);
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    int m = US_POLLOUT; /* datagrams are never held back by a send buffer */
    if (pcb->rcvq.head)
        m |= US_POLLIN;
    if (pcb->so_error)
        m |= US_POLLERR;
    return m;
}

int
us_sock_watch(struct us_stack *st, int fd, unsigned events, enum us_watch_mode mode, void *cookie)
{
    struct us_fd_slot *sl = slot_get(st, fd);
    if (!sl)
        return -EBADF;
    if (mode != US_WATCH_LEVEL && mode != US_WATCH_EDGE)
        return -EINVAL;
    sl->watch = (uint16_t)(events & (US_POLLIN | US_POLLPRI | US_POLLOUT | US_POLLERR | US_POLLHUP |
                                     US_POLLWAKE));
    sl->edge = mode == US_WATCH_EDGE;
    sl->cookie = cookie;
    if (!sl->watch)
        ready_unlink(st->socks, fd);
    else if (!sl->queued) /* as EPOLL_CTL_ADD/MOD: an already ready socket is reported */
        ready_append(st->socks, fd);
    return 0;
}

size_t
us_ready(struct us_stack *st, struct us_ready_event *out, size_t max)
{
    struct us_socket_table *t = st->socks;
    size_t k = 0;
    /* Each descriptor queued now is looked at once; level-triggered ones that are still ready go
     * back to the tail for the next call. */
    for (size_t budget = t->rcount; k < max && budget > 0 && t->rhead >= 0; budget--) {
        int fd = t->rhead;
        struct us_fd_slot *sl = &t->slot[fd];
        ready_unlink(t, fd);
        int m = us_sock_poll(st, fd);
        unsigned ev = m > 0 ? (unsigned)m & (sl->watch | US_POLLERR | US_POLLHUP) : 0;
        if (!ev && !(sl->watch & US_POLLWAKE))
            continue; /* woken but not ready for what is watched: dropped until the next wake */
        out[k++] = (struct us_ready_event){fd, ev, sl->cookie};
        if (!sl->edge && ev)
            ready_append(t, fd);
    }
    return k;
}

bool
us_ready_pending(const struct us_stack *st)
{
    return st->socks->rcount > 0;
}

size_t
us_ready_dispatch(struct us_stack *st, size_t max, us_time_t now)
{
    struct us_ready_event ev[64];
    size_t done = 0;
    while (done < max) {
        size_t n = us_ready(st, ev, US_MIN(max - done, US_ARRAY_LEN(ev)));
        for (size_t i = 0; i < n; i++) {
            struct us_ready_handler *h = ev[i].cookie;
            h->fn(h, st, ev[i].fd, ev[i].events, now);
        }
        done += n;
        if (n < US_ARRAY_LEN(ev))
            break;
    }
    return done;
}

int
us_sock_error(struct us_stack *st, int fd)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c) {
        int e = c->so_error;
        c->so_error = 0;
        return e;
    }
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    return pcb_take_error(pcb);
}

static int
tcp_setsockopt(struct us_stack *st, struct us_tcp_conn *c, enum us_sockopt opt, int v)
{
    switch (opt) {
    case US_SO_RCVBUF:
        /* fixes the receive buffer, as on Linux: no more auto-tuning past it */
        if (v < 2048)
            v = 2048;
        c->rcvbuf_max = (uint32_t)v;
        if (us_ring_len(&c->rcvbuf) <= (size_t)v)
            us_ring_set_cap(&c->rcvbuf, (size_t)v);
        return 0;
    case US_SO_SNDBUF:
        if (v < 2048)
            v = 2048;
        c->sndbuf_lock = true; /* fixed, as on Linux: no auto-tuning past it */
        return us_ring_len(&c->sndbuf) <= (size_t)v ? us_ring_set_cap(&c->sndbuf, (size_t)v) : 0;
    case US_SO_REUSEADDR:
        c->reuseaddr = v != 0;
        return 0;
    case US_SO_KEEPALIVE:
        c->keepalive = v != 0;
        if (c->keepalive && c->state == US_TCPS_ESTABLISHED)
            us_tcp_timer_arm(st, c, US_TT_KEEP, c->last_rx + US_SEC(c->keep_idle));
        return 0;
    case US_SO_LINGER:
        c->linger_on = v >= 0;
        c->linger_secs = (int16_t)US_MIN(v, 32767);
        return 0;
    case US_TCP_NODELAY:
        c->nodelay = v != 0;
        return 0;
    case US_TCP_KEEPIDLE:
    case US_TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -EINVAL;
        if (opt == US_TCP_KEEPIDLE)
            c->keep_idle = (uint16_t)v;
        else
            c->keep_intvl = (uint16_t)v;
        return 0;
    case US_TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return -EINVAL;
        c->keep_cnt = (uint8_t)v;
        return 0;
    case US_TCP_USER_TIMEOUT:
        if (v < 0)
            return -EINVAL;
        c->user_timeout_ms = (uint32_t)v;
        return 0;
    case US_SO_ATMARK:
    case US_SO_SNDSPACE:
        return -ENOPROTOOPT; /* read only */
    case US_TCP_CONGESTION:
        if (v != US_CC_NEWRENO && v != US_CC_CUBIC)
            return -ENOENT; /* Linux: unknown congestion control */
        us_tcp_set_cc(c, (unsigned)v);
        (c->cc_id == US_CC_NEWRENO ? &us_cc_newreno : &us_cc_cubic)->init(c);
        return 0;
    case US_SO_BROADCAST:
        return -ENOPROTOOPT;
    }
    return -ENOPROTOOPT;
}

int
us_setsockopt(struct us_stack *st, int fd, enum us_sockopt opt, int value)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (c)
        return tcp_setsockopt(st, c, opt, value);
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    switch (opt) {
    case US_SO_RCVBUF:
        if (value < 256)
            value = 256; /* Linux's floor is SOCK_MIN_RCVBUF; small but non-zero */
        pcb->rcvbuf = (size_t)value;
        return 0;
    case US_SO_BROADCAST:
        pcb->bcast_ok = value != 0;
        return 0;
    case US_SO_REUSEADDR:
        pcb->reuseaddr = value != 0;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int
us_getsockopt(struct us_stack *st, int fd, enum us_sockopt opt, int *value)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    struct us_pcb *pcb = sock_get(st, fd);
    if (!c && !pcb)
        return -EBADF;
    switch (opt) {
    case US_SO_RCVBUF:
        *value = (int)(c ? c->rcvbuf.cap : pcb->rcvbuf);
        return 0;
    case US_SO_SNDBUF:
        *value = c ? (int)c->sndbuf.cap : (int)st->cfg.udp_sndbuf;
        return 0;
    case US_SO_BROADCAST:
        *value = pcb ? pcb->bcast_ok : 0;
        return 0;
    case US_SO_REUSEADDR:
        *value = c ? c->reuseaddr : pcb->reuseaddr;
        return 0;
    default:
        break;
    }
    if (!c)
        return -ENOPROTOOPT;
    switch (opt) {
    case US_SO_REUSEADDR:
        *value = c->reuseaddr;
        return 0;
    case US_SO_KEEPALIVE:
        *value = c->keepalive;
        return 0;
    case US_SO_LINGER:
        *value = c->linger_on ? c->linger_secs : -1;
        return 0;
    case US_TCP_NODELAY:
        *value = c->nodelay;
        return 0;
    case US_TCP_KEEPIDLE:
        *value = (int)c->keep_idle;
        return 0;
    case US_TCP_KEEPINTVL:
        *value = (int)c->keep_intvl;
        return 0;
    case US_TCP_KEEPCNT:
        *value = c->keep_cnt;
        return 0;
    case US_TCP_USER_TIMEOUT:
        *value = (int)c->user_timeout_ms;
        return 0;
    case US_TCP_CONGESTION:
        *value = c->cc_id;
        return 0;
    case US_SO_ATMARK:
        *value = us_tcp_user_atmark(c);
        return 0;
    case US_SO_SNDSPACE:
        *value = (int)US_MIN(us_tcp_user_sndspace(st, c), (size_t)INT32_MAX);
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int
us_listen(struct us_stack *st, int fd, int backlog)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (!c)
        return slot_get(st, fd) ? -EOPNOTSUPP : -EBADF;
    return us_tcp_user_listen(st, c, backlog);
}

int
us_accept(struct us_stack *st, int fd, struct us_sockaddr *peer)
{
    struct us_tcp_conn *l = tcp_get(st, fd);
    if (!l)
        return slot_get(st, fd) ? -EOPNOTSUPP : -EBADF;
    if (l->state != US_TCPS_LISTEN)
        return -EINVAL;
    if (!l->lsn->acc_head)
        return -EAGAIN;
    int nfd = lowest_free_fd(st);
    if (nfd < 0)
        return nfd; /* the connection stays queued */
    struct us_tcp_conn *c = us_tcp_user_accept(st, l);
    c->fd = nfd;
    slot_set(st, nfd, US_SOCK_STREAM, c);
    if (peer) {
        peer->addr = c->raddr;
        peer->port = c->rport;
    }
    US_TRACE(st, "socket: %d accepted from listener %d", nfd, fd);
    return nfd;
}

int
us_shutdown(struct us_stack *st, int fd, int how, us_time_t now)
{
    if (how < US_SHUT_RD || how > US_SHUT_RDWR)
        return -EINVAL;
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (!c)
        return slot_get(st, fd) ? -ENOTCONN : -EBADF;
    int err = us_tcp_user_shutdown(st, c, how, now);
    sock_wake(st, fd); /* SHUT_RD makes it readable (end of stream) without a state change */
    return err;
}

int
us_tcp_get_info(struct us_stack *st, int fd, struct us_tcp_info *o)
{
    struct us_tcp_conn *c = tcp_get(st, fd);
    if (!c)
        return slot_get(st, fd) ? -EOPNOTSUPP : -EBADF;
    us_tcp_conn_info(c, o);
    return 0;
}

size_t
us_sock_list(struct us_stack *st, struct us_sock_info *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < st->socks->n; i++) {
        struct us_fd_slot *sl = &st->socks->slot[i];
        if (!sl->type)
            continue;
        if (k < max) {
            struct us_sock_info *s = &out[k];
            memset(s, 0, sizeof(*s));
            s->fd = (int)i;
            s->type = sl->type;
            if (sl->type == US_SOCK_STREAM) {
                const struct us_tcp_conn *c = sl->cb;
                us_tcp_conn_sockinfo(c, s);
            } else {
                const struct us_pcb *p = sl->cb;
                s->recv_q = p->rcvq.bytes;
                s->local.addr = p->laddr;
                s->local.port = p->lport;
                s->remote.addr = p->connected ? p->raddr : 0;
                s->remote.port = p->connected ? p->rport : 0;
            }
        }
        k++;
    }
    /* Connections without a descriptor (orphans closing, TIME-WAIT, not yet accepted) are still
     * control blocks in the stack: netstat shows them too, as Linux's does. */
    k += us_tcp_list_orphans(st, out ? out + US_MIN(k, max) : NULL, max > k ? max - k : 0);
    return k;
}
