/* Socket library: descriptors naming control blocks, and the BSD-shaped calls on them.
 * Layer: socket (top of the core). Every call is non-blocking and returns -errno on failure,
 * with the errno Linux gives in the same situation. Blocking lives above, in the daemon. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "socket/socket.h"
#include "stack.h"
#include "udp.h"

struct us_socket_table {
    struct us_pcb **slot;
    size_t n;
    size_t open;
};

int
us_socket_table_init(struct us_stack *st)
{
    st->socks = calloc(1, sizeof(*st->socks));
    if (!st->socks)
        return -ENOMEM;
    st->socks->n = st->cfg.max_sockets;
    st->socks->slot = calloc(st->socks->n ? st->socks->n : 1, sizeof(struct us_pcb *));
    return st->socks->slot ? 0 : -ENOMEM;
}

static void
sock_destroy(struct us_stack *st, struct us_pcb *pcb)
{
    us_pcb_unhash(st, pcb);
    us_pktq_purge(st->pools, &pcb->rcvq);
    st->socks->slot[pcb->fd] = NULL;
    st->socks->open--;
    free(pcb);
}

void
us_socket_table_destroy(struct us_stack *st)
{
    if (!st->socks)
        return;
    for (size_t i = 0; i < st->socks->n; i++)
        if (st->socks->slot && st->socks->slot[i])
            sock_destroy(st, st->socks->slot[i]);
    free(st->socks->slot);
    free(st->socks);
    st->socks = NULL;
}

static struct us_pcb *
sock_get(struct us_stack *st, int fd)
{
    if (fd < 0 || (size_t)fd >= st->socks->n)
        return NULL;
    return st->socks->slot[fd];
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
        return -EPROTONOSUPPORT; /* TCP arrives with its own issue */
    default:
        return -EINVAL;
    }
    size_t fd = 0;
    while (fd < st->socks->n && st->socks->slot[fd])
        fd++; /* lowest free descriptor, as POSIX requires */
    if (fd == st->socks->n) {
        us_stat_inc(st, US_STAT_SOCK_LIMIT);
        return -EMFILE;
    }
    struct us_pcb *pcb = calloc(1, sizeof(*pcb));
    if (!pcb)
        return -ENOMEM;
    pcb->type = type;
    pcb->proto = proto;
    pcb->fd = (int)fd;
    pcb->rcvbuf = st->cfg.udp_rcvbuf;
    st->socks->slot[fd] = pcb;
    st->socks->open++;
    US_TRACE(st, "socket: %d created (%s)", (int)fd, type == US_SOCK_DGRAM ? "udp" : "ping");
    return (int)fd;
}

int
us_bind(struct us_stack *st, int fd, const struct us_sockaddr *addr)
{
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    if (pcb->hashed)
        return -EINVAL; /* already bound */
    if (addr->addr && !us_iface_by_addr(st, addr->addr) && addr->addr != US_IP4_BROADCAST)
        return -EADDRNOTAVAIL;
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
    (void)now;
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

ssize_t
us_sendto(struct us_stack *st, int fd, const void *buf, size_t len, int flags,
          const struct us_sockaddr *to, us_time_t now)
{
    (void)flags;
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    if (pcb->so_error) { /* a pending asynchronous error is reported first, once */
        int e = pcb->so_error;
        pcb->so_error = 0;
        return -e;
    }
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
    int err = sock_autobind(st, pcb);
    if (err < 0)
        return err;
    if (pcb->type == US_SOCK_PING)
        return us_ping_output(st, pcb, buf, len, dst, now);
    return us_udp_output(st, pcb, buf, len, dst, dport, now);
}

ssize_t
us_recvfrom(struct us_stack *st, int fd, void *buf, size_t len, int flags,
            struct us_sockaddr *from, struct us_msginfo *info)
{
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    struct us_pkt *p = pcb->rcvq.head;
    if (!p) {
        if (pcb->so_error) {
            int e = pcb->so_error;
            pcb->so_error = 0;
            return -e;
        }
        return -EAGAIN;
    }
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
    (void)now;
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
us_sock_error(struct us_stack *st, int fd)
{
    struct us_pcb *pcb = sock_get(st, fd);
    if (!pcb)
        return -EBADF;
    int e = pcb->so_error;
    pcb->so_error = 0;
    return e;
}

int
us_setsockopt(struct us_stack *st, int fd, enum us_sockopt opt, int value)
{
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
    }
    return -ENOPROTOOPT;
}

size_t
us_sock_list(struct us_stack *st, struct us_sock_info *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < st->socks->n; i++) {
        struct us_pcb *p = st->socks->slot[i];
        if (!p)
            continue;
        if (k < max) {
            struct us_sock_info *s = &out[k];
            s->fd = p->fd;
            s->type = p->type;
            s->recv_q = p->rcvq.bytes;
            s->send_q = 0;
            s->local.addr = p->laddr;
            s->local.port = p->lport;
            s->remote.addr = p->connected ? p->raddr : 0;
            s->remote.port = p->connected ? p->rport : 0;
            s->state = "";
        }
        k++;
    }
    return k;
}
