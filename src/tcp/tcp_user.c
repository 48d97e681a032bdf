/* TCP user calls (RFC 9293 3.10.1-3.10.6): open, listen, send, receive, shutdown, close, and the
 * readiness the socket layer reports. Layer: transport. Nothing here blocks: where RFC 9293
 * says "queue the request", a call returns -EAGAIN or -EINPROGRESS and poll tells when to retry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "tcp/tcp.h"

/* RFC 6056 algorithm 3 (double-hash port selection): a keyed hash of the destination picks
 * where to start, a counter moves on; a port is free for this destination when its 4-tuple is. */
static int
pick_port(struct us_stack *st, struct us_tcp_conn *c)
{
    uint32_t lo = st->cfg.ephemeral_lo, n = (uint32_t)st->cfg.ephemeral_hi - lo + 1;
    uint8_t b[10];
    us_store_be32(b, c->laddr);
    us_store_be32(b + 4, c->raddr);
    us_store_be16(b + 8, c->rport);
    uint32_t off = (uint32_t)us_siphash24(&st->tcp->isn_key, b, sizeof(b));
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (off + st->tcp->eph_counter + i) % n);
        if (us_tcp_lookup_listener(st, 0, port) || us_tcp_lookup_listener(st, c->laddr, port))
            continue;
        struct us_tcp_conn *old = us_tcp_lookup(st, c->laddr, port, c->raddr, c->rport);
        struct us_tcp_tw *w = old ? NULL : us_tcp_tw_lookup(st, c->laddr, port, c->raddr, c->rport);
        if (old || w) {
            /* Like Linux's tcp_tw_reuse: an orphan's TIME-WAIT 4-tuple (a compact record, or a
             * block that could not become one) may be reused when timestamps protect the new
             * connection from the old one's segments (RFC 6191 spirit). */
            bool reusable = w ? w->ts_ok
                              : old->state == US_TCPS_TIME_WAIT && old->ts_ok && old->fd < 0;
            if (!reusable)
                continue;
            us_stat_inc(st, US_STAT_TCP_TW_REOPEN);
            if (w)
                us_tcp_tw_kill(st, w, "4-tuple reused by connect");
            else
                us_tcp_close_conn(st, old, 0, "4-tuple reused by connect");
        }
        st->tcp->eph_counter += i + 1;
        return us_tcp_port_ref(st, c, port);
    }
    return -EADDRNOTAVAIL; /* Linux's answer when no local port is left */
}

int
us_tcp_user_connect(struct us_stack *st, struct us_tcp_conn *c, us_ip4_t addr, uint16_t port,
                    us_time_t now)
{
    switch (c->state) {
    case US_TCPS_CLOSED:
        break;
    case US_TCPS_SYN_SENT:
    case US_TCPS_SYN_RECEIVED:
        return -EALREADY;
    case US_TCPS_LISTEN:
        return -EINVAL;
    default:
        return -EISCONN;
    }
    if (c->so_error || c->used) /* a connection attempt already ended on this socket */
        return -EISCONN;
    if (port == 0 || addr == 0 || addr == US_IP4_BROADCAST || us_ip4_is_mcast(addr))
        return -EINVAL;
    if (!us_route_lookup(st, addr, NULL))
        return -ENETUNREACH;
    c->raddr = addr;
    c->rport = port;
    if (!c->laddr)
        c->laddr = us_ip4_select_src(st, addr);
    int err;
    if (c->port_ref) {
        if (us_tcp_lookup(st, c->laddr, c->lport, addr, port) ||
            us_tcp_tw_lookup(st, c->laddr, c->lport, addr, port))
            return -EADDRNOTAVAIL;
    } else if ((err = pick_port(st, c)) < 0) {
        return err;
    }
    us_tcp_syn_options(st, c);
    c->ecn_ok = st->cfg.tcp_ecn == US_TCP_ECN_ON; /* our SYN asks (RFC 3168 6.1.1) */
    c->rcv_mss = us_tcp_mss_for(st, addr);
    c->mss = US_MIN((uint16_t)536, c->rcv_mss);
    c->used = true;
    c->iss = us_tcp_isn(st, c->laddr, c->lport, addr, port, now);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->snd_buf_seq = c->iss + 1;
    c->recover = c->iss;
    c->rtt_start_us = us_tcp_stamp_us(now);
    c->last_rx = now;
    if ((err = us_tcp_ehash_insert(st, c)) < 0)
        return err;
    us_stat_inc(st, US_STAT_TCP_ACTIVE_OPENS);
    us_tcp_set_state(st, c, US_TCPS_SYN_SENT, "connect");
    us_tcp_output(st, c, now);
    return -EINPROGRESS;
}

int
us_tcp_user_listen(struct us_stack *st, struct us_tcp_conn *c, int backlog)
{
    if (c->state == US_TCPS_LISTEN) {
        c->lsn->backlog = US_MAX(1, US_MIN(backlog, 65535)); /* like Linux: adjust */
        return 0;
    }
    if (c->state != US_TCPS_CLOSED || c->used)
        return -EINVAL;
    if (!c->port_ref) {
        int err = pick_port(st, c);
        if (err < 0)
            return err;
    }
    c->lsn = calloc(1, sizeof(*c->lsn));
    if (!c->lsn)
        return -ENOMEM;
    c->lsn->backlog = US_MAX(1, US_MIN(backlog, 65535));
    c->used = true;
    us_tcp_lhash_insert(st, c);
    us_tcp_set_state(st, c, US_TCPS_LISTEN, "listen");
    return 0;
}

struct us_tcp_conn *
us_tcp_user_accept(struct us_stack *st, struct us_tcp_conn *l)
{
    (void)st;
    struct us_tcp_conn *c = l->lsn->acc_head;
    if (c)
        us_tcp_child_unlink(c);
    return c;
}

/* Send-buffer auto-tuning (the idea of Linux's tcp_sndbuf_expand): room for twice what may be
 * in flight (the congestion window, or the peer's largest window when smaller), so the
 * application refills one window's worth while another is out; up to tcp_sndbuf_max. Only ever
 * grows, and costs nothing until filled (the ring allocates as it holds data). */
static void
sndbuf_expand(struct us_stack *st, struct us_tcp_conn *c)
{
    if (c->sndbuf_lock)
        return;
    size_t want = US_MIN(2 * (size_t)US_MIN(c->cwnd, c->max_snd_wnd), st->cfg.tcp_sndbuf_max);
    if (want > c->sndbuf.cap)
        us_ring_set_cap(&c->sndbuf, want);
}

size_t
us_tcp_user_sndspace(struct us_stack *st, struct us_tcp_conn *c)
{
    if ((c->state != US_TCPS_ESTABLISHED && c->state != US_TCPS_CLOSE_WAIT) || c->fin_queued)
        return 0;
    if (us_ring_space(&c->sndbuf) < c->sndbuf.cap / 2)
        sndbuf_expand(st, c); /* what a send of more than the room would do */
    return us_ring_space(&c->sndbuf);
}

ssize_t
us_tcp_user_send(struct us_stack *st, struct us_tcp_conn *c, const void *buf, size_t len,
                 int flags, us_time_t now)
{
    switch (c->state) {
    case US_TCPS_ESTABLISHED:
    case US_TCPS_CLOSE_WAIT:
        break;
    case US_TCPS_SYN_SENT:
    case US_TCPS_SYN_RECEIVED:
        return -EAGAIN; /* writable once connected */
    case US_TCPS_LISTEN:
        return -ENOTCONN;
    case US_TCPS_CLOSED:
        if (c->so_error) {
            int e = c->so_error;
            c->so_error = 0;
            return -e;
        }
        return c->used ? -EPIPE : -ENOTCONN;
    default:
        return -EPIPE; /* our FIN is queued or sent */
    }
    if (c->fin_queued)
        return -EPIPE;
    if (len == 0)
        return 0;
    if (len > us_ring_space(&c->sndbuf))
        sndbuf_expand(st, c);
    size_t n = us_ring_write(&c->sndbuf, buf, len);
    c->snd_nospace = n < len; /* Linux's SOCK_NOSPACE: the writer has more (tso_defer) */
    if (n == 0)
        return -EAGAIN;
    if (flags & US_MSG_OOB) {
        /* RFC 9293 3.10.2 "SND.UP <- SND.NXT": the urgent data ends with the last byte queued
         * (the byte Linux's recv(MSG_OOB) returns). A later urgent send moves the pointer on. */
        c->snd_up = c->snd_buf_seq + (uint32_t)us_ring_len(&c->sndbuf);
        c->snd_urg = true;
        us_stat_inc(st, US_STAT_TCP_URG_OUT);
    }
    us_tcp_output(st, c, now);
    return (ssize_t)n;
}

/* Urgent data is delivered inline (RFC 6093 recommends it; Linux's SO_OOBINLINE), so a read
 * stops just before the mark, the last urgent byte: the user then finds itself at the mark
 * (us_tcp_user_atmark) and the next read starts with that byte (as Linux with SO_OOBINLINE).
 * Urgent mode ends once the user has read past it (RFC 9293 3.8.5 "normal mode"). */
static size_t
recv_limit_at_mark(const struct us_tcp_conn *c, size_t n)
{
    if (!c->rcv_urg)
        return n;
    uint32_t to_mark = (c->rcv_up - 1) - us_tcp_read_seq(c);
    return to_mark > 0 && to_mark < n ? to_mark : n;
}

bool
us_tcp_user_atmark(const struct us_tcp_conn *c)
{
    return c->rcv_urg && us_tcp_read_seq(c) == c->rcv_up - 1;
}

ssize_t
us_tcp_user_recv(struct us_stack *st, struct us_tcp_conn *c, void *buf, size_t len, int flags,
                 us_time_t now)
{
    if (flags & US_MSG_OOB)
        return -EINVAL; /* urgent data is inline: Linux's answer with SO_OOBINLINE */
    size_t have = us_ring_len(&c->rcvbuf);
    if (have == 0) {
        if (c->so_error && c->state == US_TCPS_CLOSED) {
            int e = c->so_error;
            c->so_error = 0;
            return -e;
        }
        if (c->rcv_fin || c->rd_shut || (c->state == US_TCPS_CLOSED && c->used))
            return 0; /* end of stream */
        if (c->state == US_TCPS_LISTEN || (c->state == US_TCPS_CLOSED && !c->used))
            return -ENOTCONN;
        return -EAGAIN;
    }
    size_t n = recv_limit_at_mark(c, US_MIN(len, have));
    if (!(flags & US_MSG_TRUNC)) /* MSG_TRUNC: the bytes are dropped unread (Linux tcp(7)) */
        n = us_ring_peek(&c->rcvbuf, 0, buf, n);
    if (flags & US_MSG_PEEK)
        return (ssize_t)n;
    /* A window update can only be due when the window we advertised fell below one MSS or the
     * read frees more than one MSS (the window opens by at most n plus the SWS step, itself at
     * most an MSS): otherwise skip working the window out twice (the common small read). */
    uint32_t adv = us_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    bool may_update = adv < c->rcv_mss || n >= c->rcv_mss;
    uint32_t before = may_update ? us_tcp_rcv_window(c) : 0;
    us_ring_consume_keep(&c->rcvbuf, n); /* the buffer is released when it stays idle */
    if (c->rcv_urg && us_seq_geq(us_tcp_read_seq(c), c->rcv_up))
        c->rcv_urg = false; /* all the urgent data has been read */
    if (us_ring_len(&c->rcvbuf) == 0 && c->rcvbuf.buf && c->t[US_TT_IDLE] == US_TIME_NEVER)
        us_tcp_timer_arm(st, c, US_TT_IDLE, now + US_SEC(1));
    /* RFC 1122 4.2.3.3: tell the sender once the window opened by a useful amount. */
    if (may_update && c->state >= US_TCPS_ESTABLISHED && c->state != US_TCPS_TIME_WAIT &&
        !c->rcv_fin) {
        uint32_t after = us_tcp_rcv_window(c);
        if (after > before && (before < c->rcv_mss || after - before >= 2u * c->rcv_mss)) {
            c->ack_now = true;
            us_tcp_output(st, c, now);
        }
    }
    return (ssize_t)n;
}

int
us_tcp_user_shutdown(struct us_stack *st, struct us_tcp_conn *c, int how, us_time_t now)
{
    if (c->state == US_TCPS_LISTEN || c->state == US_TCPS_CLOSED ||
        c->state == US_TCPS_SYN_SENT) {
        if (c->state == US_TCPS_CLOSED && !c->used)
            return -ENOTCONN;
        if (c->state == US_TCPS_LISTEN)
            us_tcp_listener_close(st, c, "shutdown of a listener", now);
        else if (c->state != US_TCPS_CLOSED)
            us_tcp_close_conn(st, c, 0, "shutdown before connection");
        return 0;
    }
    if (how == US_SHUT_RD || how == US_SHUT_RDWR) {
        c->rd_shut = true;
        c->rcv_urg = false;
        us_ring_consume(&c->rcvbuf, us_ring_len(&c->rcvbuf));
        free(c->ooo);
        c->ooo = NULL;
        c->rcv_fin_ooo = false; /* forgotten with the data before it: the peer sends it again */
    }
    if ((how == US_SHUT_WR || how == US_SHUT_RDWR) && !c->fin_queued) {
        c->fin_queued = true; /* the FIN follows the queued data (RFC 9293 3.10.4) */
        us_tcp_output(st, c, now);
    }
    return 0;
}

void
us_tcp_user_close(struct us_stack *st, struct us_tcp_conn *c, us_time_t now)
{
    c->fd = -1;
    switch (c->state) {
    case US_TCPS_LISTEN:
        us_tcp_listener_close(st, c, "close", now);
        return;
    case US_TCPS_CLOSED:
    case US_TCPS_SYN_SENT:
        us_tcp_close_conn(st, c, 0, "close");
        return;
    default:
        break;
    }
    bool unread = us_ring_len(&c->rcvbuf) > 0 && !c->rd_shut;
    if ((c->linger_on && c->linger_secs == 0) || unread) {
        /* SO_LINGER 0 aborts; so does closing with unread data (RFC 1122 4.2.2.13, Linux). */
        us_tcp_send_rst(st, c, now);
        us_tcp_close_conn(st, c, 0, unread ? "close with unread data (RST)" : "abortive close");
        return;
    }
    us_ring_consume(&c->rcvbuf, us_ring_len(&c->rcvbuf));
    us_ring_free(&c->rcvbuf);
    c->rd_shut = true; /* nobody reads any more: what still arrives is ACKed and discarded */
    if (c->state == US_TCPS_FIN_WAIT_2 && c->t[US_TT_2MSL] == US_TIME_NEVER)
        us_tcp_timer_arm(st, c, US_TT_2MSL, now + st->cfg.tcp_fin_timeout);
    if (!c->fin_queued) {
        c->fin_queued = true;
        us_tcp_output(st, c, now);
    }
    if (c->state == US_TCPS_TIME_WAIT) /* orphaned in TIME-WAIT: a compact record will do */
        us_tcp_tw_enter(st, c);        /* (if not, the block stays; its timer is queued) */
}

int
us_tcp_user_poll(const struct us_tcp_conn *c)
{
    int m = 0;
    if (c->state == US_TCPS_LISTEN)
        return c->lsn->acc_head ? US_POLLIN : 0;
    if (us_ring_len(&c->rcvbuf) > 0 || c->rcv_fin || c->rd_shut ||
        (c->state == US_TCPS_CLOSED && c->used))
        m |= US_POLLIN;
    if ((c->state == US_TCPS_ESTABLISHED || c->state == US_TCPS_CLOSE_WAIT) && !c->fin_queued &&
        us_ring_space(&c->sndbuf) >= US_MIN(c->sndbuf.cap / 4, (size_t)65536))
        m |= US_POLLOUT; /* a useful amount of room, like Linux's sk_stream_wspace rule */
    if (c->rcv_urg)
        m |= US_POLLPRI; /* RFC 9293 MUST-32/33: urgent data remains to be read */
    if (c->so_error)
        m |= US_POLLERR;
    if ((c->state == US_TCPS_CLOSED && c->used) || (c->rcv_fin && c->fin_queued))
        m |= US_POLLHUP;
    if (c->state == US_TCPS_CLOSED && c->used && !c->so_error)
        m |= US_POLLOUT; /* a write will report the error (EPIPE) */
    return m;
}
