/* Control blocks and the port demultiplexing table shared by datagram protocols.
 * Layer: transport. Hash on (protocol, local port); chains are short because ports spread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "udp/pcb.h"
#include "wire/wire.h"

int
us_pcb_table_init(struct us_stack *st, size_t nbuckets)
{
    struct us_pcb_table *t = st->pcbs = calloc(1, sizeof(*st->pcbs));
    if (!t)
        return -ENOMEM;
    t->nbuckets = nbuckets;
    t->bucket = calloc(nbuckets, sizeof(*t->bucket));
    return t->bucket ? 0 : -ENOMEM;
}

void
us_pcb_table_destroy(struct us_stack *st)
{
    if (!st->pcbs)
        return;
    free(st->pcbs->bucket);
    free(st->pcbs);
    st->pcbs = NULL;
}

static size_t
pcb_hash(const struct us_pcb_table *t, uint8_t proto, uint16_t port)
{
    return ((size_t)port * 40503u + proto) & (t->nbuckets - 1);
}

/* Is lport taken for laddr? With reuse (the binder set SO_REUSEADDR), not by sockets that set
 * it too (Linux's UDP rule, udp_lib_lport_inuse). */
static bool
pcb_port_busy(struct us_stack *st, uint8_t proto, us_ip4_t laddr, uint16_t lport, bool reuse)
{
    for (struct us_pcb *p = st->pcbs->bucket[pcb_hash(st->pcbs, proto, lport)]; p; p = p->hnext)
        if (p->proto == proto && p->lport == lport &&
            (p->laddr == 0 || laddr == 0 || p->laddr == laddr) && !(reuse && p->reuseaddr))
            return true;
    return false;
}

int
us_pcb_bind(struct us_stack *st, struct us_pcb *pcb, us_ip4_t laddr, uint16_t lport)
{
    if (lport == 0) {
        /* Random start in the ephemeral range, then linear probe (RFC 6056 algorithm 1's
         * shape): not sequential, and always finds a free port if one exists. */
        uint32_t lo = st->cfg.ephemeral_lo, n = (uint32_t)st->cfg.ephemeral_hi - lo + 1;
        uint32_t start = us_rand_below(&st->rand, n);
        for (uint32_t i = 0; i < n; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % n);
            if (!pcb_port_busy(st, pcb->proto, laddr, cand, false)) {
                lport = cand;
                break;
            }
        }
        if (lport == 0)
            return -EAGAIN; /* Linux returns EAGAIN when the ephemeral range is exhausted */
    } else if (pcb_port_busy(st, pcb->proto, laddr, lport, pcb->reuseaddr)) {
        return -EADDRINUSE;
    }
    pcb->laddr = laddr;
    pcb->lport = lport;
    size_t h = pcb_hash(st->pcbs, pcb->proto, lport);
    pcb->hnext = st->pcbs->bucket[h];
    st->pcbs->bucket[h] = pcb;
    pcb->hashed = true;
    st->pcbs->count++;
    return 0;
}

void
us_pcb_unhash(struct us_stack *st, struct us_pcb *pcb)
{
    if (!pcb->hashed)
        return;
    struct us_pcb **pp = &st->pcbs->bucket[pcb_hash(st->pcbs, pcb->proto, pcb->lport)];
    while (*pp && *pp != pcb)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = pcb->hnext;
    pcb->hashed = false;
    pcb->hnext = NULL;
    st->pcbs->count--;
}

struct us_pcb *
us_pcb_lookup(struct us_stack *st, uint8_t proto, us_ip4_t laddr, uint16_t lport, us_ip4_t raddr,
              uint16_t rport)
{
    struct us_pcb *best = NULL;
    int best_score = -1;
    for (struct us_pcb *p = st->pcbs->bucket[pcb_hash(st->pcbs, proto, lport)]; p; p = p->hnext) {
        if (p->proto != proto || p->lport != lport)
            continue;
        if (p->laddr && p->laddr != laddr)
            continue;
        if (p->connected && (p->raddr != raddr || (proto != US_IPPROTO_ICMP && p->rport != rport)))
            continue;
        int score = (p->laddr ? 1 : 0) + (p->connected ? 2 : 0);
        if (score > best_score) { /* among equals the first: the last bound (SO_REUSEADDR) */
            best = p;
            best_score = score;
        }
    }
    return best;
}

bool
us_pcb_enqueue(struct us_stack *st, struct us_pcb *pcb, const uint8_t *data, size_t len,
               us_ip4_t src, uint16_t sport, us_ip4_t dst, uint8_t ttl)
{
    if (pcb->rcvq.bytes + len > pcb->rcvbuf) {
        us_drop(st, US_DROP_UDP_RCVBUF_FULL);
        return false;
    }
    struct us_pkt *p = us_pkt_alloc(st->pools, len);
    if (!p) {
        us_drop(st, US_DROP_NO_BUFFER); /* the pools, not the socket, ran out */
        return false;
    }
    memcpy(us_pkt_put(p, len), data, len);
    p->addr = src;
    p->port = sport;
    p->addr2 = dst;
    p->ttl = ttl;
    us_pktq_push(&pcb->rcvq, p);
    us_sock_wake(st, pcb->fd);
    return true;
}

void
us_pcb_notify_error(struct us_stack *st, uint8_t proto, us_ip4_t laddr, uint16_t lport,
                    us_ip4_t raddr, uint16_t rport, int err)
{
    struct us_pcb *p = us_pcb_lookup(st, proto, laddr, lport, raddr, rport);
    /* Like Linux without IP_RECVERR: only a connected socket hears about errors, since an
     * unconnected one cannot tell which of its destinations failed. Ping sockets always do. */
    if (!p || (!p->connected && proto != US_IPPROTO_ICMP)) {
        us_drop(st, US_DROP_ICMP_NO_SOCKET);
        return;
    }
    p->so_error = err;
    US_TRACE(st, "icmp: error %d reported to socket %d", err, p->fd);
    us_sock_wake(st, p->fd);
}
