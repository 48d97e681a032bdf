/* ARP: neighbour cache, resolution with a bounded wait queue, replies, gratuitous ARP.
 * Layer: internet (beside IP). RFC 826 for the packet algorithm, RFC 1122 2.3.2 for cache
 * timeouts and queueing. Learns only from traffic that concerns us, so unsolicited ARP cannot
 * flood the cache or overwrite entries it did not already have. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip/arp.h"
#include "ip/ip.h"
#include "wire/wire.h"

static const uint8_t mac_bcast[US_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[US_ETH_ALEN] = {0};

static size_t
arp_hash(const struct us_arp_table *t, us_ip4_t ip)
{
    return (size_t)((ip * 2654435761u) % (uint32_t)t->n);
}

int
us_arp_init(struct us_stack *st)
{
    struct us_arp_table *t = st->arp = calloc(1, sizeof(*st->arp));
    if (!t)
        return -ENOMEM;
    int kind = us_timer_kinds_add(st, 1, us_arp_timer, NULL);
    if (kind < 0)
        return kind;
    t->timer_kind = (uint8_t)kind;
    t->n = st->cfg.arp_entries ? st->cfg.arp_entries : 1;
    t->e = calloc(t->n, sizeof(*t->e));
    t->bucket = malloc(t->n * sizeof(*t->bucket));
    if (!t->e || !t->bucket)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        t->bucket[i] = -1;
        t->e[i].hnext = -1;
        t->e[i].deadline = t->e[i].deadline_q = US_TIME_NEVER;
    }
    return us_eth_register(st, US_ETHERTYPE_ARP, us_arp_input);
}

void
us_arp_destroy(struct us_stack *st)
{
    struct us_arp_table *t = st->arp;
    if (!t)
        return;
    if (t->e)
        for (size_t i = 0; i < t->n; i++)
            us_pktq_purge(st->pools, &t->e[i].pending);
    free(t->e);
    free(t->bucket);
    free(t);
    st->arp = NULL;
}

static struct us_arp_entry *
arp_find(const struct us_arp_table *t, us_ip4_t ip)
{
    for (int32_t i = t->bucket[arp_hash(t, ip)]; i >= 0; i = t->e[i].hnext)
        if (t->e[i].ip == ip)
            return &t->e[i];
    return NULL;
}

const struct us_arp_entry *
us_arp_lookup(const struct us_stack *st, us_ip4_t ip)
{
    return arp_find(st->arp, ip);
}

static void
arp_unlink(struct us_stack *st, struct us_arp_entry *e)
{
    struct us_arp_table *t = st->arp;
    int32_t idx = (int32_t)(e - t->e);
    int32_t *pp = &t->bucket[arp_hash(t, e->ip)];
    while (*pp >= 0 && *pp != idx)
        pp = &t->e[*pp].hnext;
    if (*pp == idx)
        *pp = e->hnext;
    us_pktq_purge(st->pools, &e->pending);
    e->state = US_ARP_FREE;
    e->hnext = -1;
    e->deadline = e->deadline_q = US_TIME_NEVER; /* the gen bump makes queued entries stale */
    e->gen++;
    t->used--;
}

/* A free slot, or the least recently confirmed resolved entry when `may_evict`. */
static struct us_arp_entry *
arp_alloc(struct us_stack *st, us_ip4_t ip, bool may_evict)
{
    struct us_arp_table *t = st->arp;
    struct us_arp_entry *victim = NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct us_arp_entry *e = &t->e[i];
        if (e->state == US_ARP_FREE) {
            victim = e;
            break;
        }
        if (may_evict && e->state != US_ARP_INCOMPLETE &&
            (!victim || e->confirmed < victim->confirmed))
            victim = e;
    }
    if (!victim)
        return NULL;
    if (victim->state != US_ARP_FREE)
        arp_unlink(st, victim);
    memset(victim->mac, 0, US_ETH_ALEN);
    victim->deadline = victim->deadline_q = US_TIME_NEVER;
    victim->ip = ip;
    victim->tries = 0;
    victim->used = false;
    victim->gen++;
    size_t h = arp_hash(t, ip);
    victim->hnext = t->bucket[h];
    t->bucket[h] = (int32_t)(victim - t->e);
    t->used++;
    return victim;
}

/* Moves the entry's timer to `when`. Lazy re-arm (core/timerq.h), so a host whose every packet
 * re-confirms its entry adds nothing to the heap. An entry whose timer cannot be queued (out of
 * memory) would never expire or give up, so it is removed instead: one ARP_NO_TIMER drop per
 * packet waiting in it, or one for the ARP packet that would have created it. Returns false
 * then (e is free). */
static bool
arp_arm(struct us_stack *st, struct us_arp_entry *e, us_time_t when)
{
    if (us_timerq_arm(&st->timers, &e->deadline, &e->deadline_q, when, st->arp->timer_kind,
                      (uint32_t)(e - st->arp->e), e->gen) == 0)
        return true;
    char a[16];
    US_TRACE(st, "arp: no memory for the timer of %s -> entry not kept", us_ip4_ntoa(e->ip, a));
    size_t lost = e->pending.count ? e->pending.count : 1;
    for (size_t i = 0; i < lost; i++)
        us_drop(st, US_DROP_ARP_NO_TIMER);
    arp_unlink(st, e);
    return false;
}

static void
arp_send(struct us_stack *st, struct us_iface *ifp, uint16_t op, const uint8_t *eth_dst,
         const uint8_t *tha, us_ip4_t tpa, us_ip4_t spa)
{
    struct us_pkt *pkt = us_pkt_alloc(st->pools, US_ARP_LEN);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        return;
    }
    struct us_arp_repr a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, ifp->mac, US_ETH_ALEN);
    memcpy(a.tha, tha, US_ETH_ALEN);
    us_wire_arp_emit(&a, us_pkt_put(pkt, US_ARP_LEN));
    us_eth_output(st, ifp, eth_dst, US_ETHERTYPE_ARP, pkt);
}

static void
arp_request(struct us_stack *st, struct us_arp_entry *e, const uint8_t *eth_dst)
{
    char a[16];
    e->tries++;
    us_stat_inc(st, US_STAT_ARP_REQ_OUT);
    US_TRACE(st, "arp: who-has %s tell %s (try %u)", us_ip4_ntoa(e->ip, a),
             us_ip4_ntoa(e->ifp->addr, (char[16]){0}), (unsigned)e->tries);
    arp_send(st, e->ifp, US_ARP_OP_REQUEST, eth_dst, mac_zero, e->ip, e->ifp->addr);
}

void
us_arp_announce(struct us_stack *st, struct us_iface *ifp)
{
    /* RFC 5227 3: an ARP announcement is a request with sender and target both our address. */
    us_stat_inc(st, US_STAT_ARP_GRATUITOUS_OUT);
    char a[16];
    US_TRACE(st, "arp: gratuitous announcement of %s", us_ip4_ntoa(ifp->addr, a));
    arp_send(st, ifp, US_ARP_OP_REQUEST, mac_bcast, mac_zero, ifp->addr, ifp->addr);
}

/* Sends what waited for resolution. */
static void
arp_flush(struct us_stack *st, struct us_arp_entry *e)
{
    struct us_pkt *p;
    while ((p = us_pktq_pop(&e->pending)))
        us_eth_output(st, e->ifp, e->mac, US_ETHERTYPE_IPV4, p);
}

/* RFC 826 "merge": the sender's mapping updates an entry we already have. */
static void
arp_confirm(struct us_stack *st, struct us_arp_entry *e, const uint8_t *mac, us_time_t now)
{
    char a[16], m[18];
    if (e->state == US_ARP_INCOMPLETE) {
        us_stat_inc(st, US_STAT_ARP_RESOLVED);
        US_TRACE(st, "arp: %s is-at %s, sending %zu queued packet(s)", us_ip4_ntoa(e->ip, a),
                 us_mac_ntoa(mac, m), e->pending.count);
    }
    memcpy(e->mac, mac, US_ETH_ALEN);
    e->state = US_ARP_REACHABLE;
    e->tries = 0;
    e->used = false;
    e->confirmed = now;
    arp_flush(st, e);
    arp_arm(st, e, now + st->cfg.arp_reachable);
}

void
us_arp_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *b, size_t len,
             unsigned rx_flags, us_time_t now)
{
    (void)rx_flags; /* ARP has no checksum to skip */
    struct us_arp_repr a;
    us_stat_inc(st, US_STAT_ARP_IN);
    int err = us_wire_arp_parse(&a, b, len);
    if (err) {
        us_drop(st, (enum us_drop_reason)err);
        return;
    }
    /* A sender MAC that is a group address, or ours, or a sender IP that cannot be a host is
     * never learned (and never answered). spa 0 is an RFC 5227 probe: answer, don't learn. */
    if (us_eth_is_mcast(a.sha) || memcmp(a.sha, ifp->mac, US_ETH_ALEN) == 0 ||
        us_ip4_is_mcast(a.spa) || us_ip4_is_bcast_for(st, a.spa) ||
        (a.spa != 0 && a.spa == ifp->addr)) {
        us_drop(st, US_DROP_ARP_BAD_SENDER);
        return;
    }
    bool for_us = a.tpa == ifp->addr;
    struct us_arp_entry *e = a.spa ? arp_find(st->arp, a.spa) : NULL;
    if (e)
        arp_confirm(st, e, a.sha, now);
    char s[16], t[16];
    if (!for_us) {
        if (!e)
            us_drop(st, US_DROP_ARP_NOT_FOR_US);
        return;
    }
    /* RFC 826: we are the target; add the sender if it was not there. Only for a request (a
     * reply we did not ask for teaches nothing; Linux's arp_accept=0), and only into a free
     * slot: requests from strangers must not evict entries we resolved ourselves. */
    if (!e && a.spa && a.op == US_ARP_OP_REQUEST) {
        e = arp_alloc(st, a.spa, false);
        if (e) {
            e->ifp = ifp;
            arp_confirm(st, e, a.sha, now);
        }
    }
    if (a.op == US_ARP_OP_REQUEST) {
        US_TRACE(st, "arp: %s asks who-has %s -> reply is-at our MAC", us_ip4_ntoa(a.spa, s),
                 us_ip4_ntoa(a.tpa, t));
        us_stat_inc(st, US_STAT_ARP_REPLY_OUT);
        arp_send(st, ifp, US_ARP_OP_REPLY, a.sha, a.sha, a.spa, ifp->addr);
    }
}

void
us_arp_output(struct us_stack *st, struct us_iface *ifp, us_ip4_t nh, struct us_pkt *pkt,
              us_time_t now)
{
    if (nh == US_IP4_BROADCAST || nh == us_iface_bcast(ifp)) {
        us_eth_output(st, ifp, mac_bcast, US_ETHERTYPE_IPV4, pkt);
        return;
    }
    struct us_arp_entry *e = arp_find(st->arp, nh);
    if (e && e->state != US_ARP_INCOMPLETE) {
        e->used = true;
        us_eth_output(st, ifp, e->mac, US_ETHERTYPE_IPV4, pkt);
        return;
    }
    char a[16];
    if (!e) {
        e = arp_alloc(st, nh, true);
        if (!e) {
            us_drop(st, US_DROP_ARP_CACHE_FULL);
            us_pkt_free(st->pools, pkt);
            return;
        }
        e->ifp = ifp;
        e->state = US_ARP_INCOMPLETE;
        us_pktq_push(&e->pending, pkt);
        if (!arp_arm(st, e, now + st->cfg.arp_retry))
            return;
        arp_request(st, e, mac_bcast);
        US_TRACE(st, "arp: %s unresolved -> queued 1 packet", us_ip4_ntoa(nh, a));
        return;
    }
    /* RFC 1122 2.3.2.2: SHOULD keep at least one packet; we keep a bounded queue and drop the
     * oldest when it is full (as Linux's unres_qlen does). */
    if (e->pending.count >= st->cfg.arp_queue_per_entry) {
        us_pkt_free(st->pools, us_pktq_pop(&e->pending));
        us_drop(st, US_DROP_ARP_QUEUE_FULL);
    }
    us_pktq_push(&e->pending, pkt);
    US_TRACE(st, "arp: %s still resolving -> queued %zu packet(s)", us_ip4_ntoa(nh, a),
             e->pending.count);
}

void
us_arp_timer(struct us_stack *st, const struct us_timer_ent *t, us_time_t now)
{
    if (t->owner >= st->arp->n)
        return;
    struct us_arp_entry *e = &st->arp->e[t->owner];
    if (e->gen != t->gen || e->state == US_ARP_FREE ||
        !us_timerq_fire(&st->timers, t, &e->deadline, &e->deadline_q, now))
        return; /* stale, or re-confirmed since: queued again for later */
    char a[16];
    switch (e->state) {
    case US_ARP_INCOMPLETE:
        if (e->tries < st->cfg.arp_retries) {
            if (arp_arm(st, e, now + st->cfg.arp_retry))
                arp_request(st, e, mac_bcast);
            return;
        }
        /* RFC 1122 2.3.2.1: give up; each waiting datagram gets "host unreachable". */
        US_TRACE(st, "arp: %s did not answer after %u requests -> %zu packet(s) unreachable",
                 us_ip4_ntoa(e->ip, a), (unsigned)e->tries, e->pending.count);
        struct us_pkt *p;
        while ((p = us_pktq_pop(&e->pending))) {
            us_drop(st, US_DROP_ARP_UNRESOLVED);
            us_icmp_local_error(st, p->data, p->len, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_HOST,
                                now);
            us_pkt_free(st->pools, p);
        }
        arp_unlink(st, e);
        return;
    case US_ARP_REACHABLE:
        if (!e->used) {
            us_stat_inc(st, US_STAT_ARP_EXPIRED);
            US_TRACE(st, "arp: %s expired", us_ip4_ntoa(e->ip, a));
            arp_unlink(st, e);
            return;
        }
        /* RFC 1122 2.3.2.1 (unicast poll): still in use, so re-confirm it directly. */
        e->state = US_ARP_PROBE;
        e->tries = 0;
        /* fall through */
    case US_ARP_PROBE:
        if (e->tries < st->cfg.arp_retries) {
            if (arp_arm(st, e, now + st->cfg.arp_retry))
                arp_request(st, e, e->mac);
            return;
        }
        us_stat_inc(st, US_STAT_ARP_EXPIRED);
        US_TRACE(st, "arp: %s stopped answering, entry removed", us_ip4_ntoa(e->ip, a));
        arp_unlink(st, e);
        return;
    }
}
