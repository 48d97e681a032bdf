/* ARP neighbour cache (RFC 826, RFC 1122 2.3.2). Layer: internet (beside IP).
 * Entries live in one array allocated at stack creation, found through a hash of the IP address.
 * States: INCOMPLETE (requests outstanding, packets queued), REACHABLE (confirmed recently),
 * PROBE (unicast re-confirmation after the reachable time, still used). */
#ifndef US_ARP_H
#define US_ARP_H

#include "core/core.h"

enum us_arp_state { US_ARP_FREE = 0, US_ARP_INCOMPLETE, US_ARP_REACHABLE, US_ARP_PROBE };

struct us_arp_entry {
    us_ip4_t ip;
    uint8_t mac[US_ETH_ALEN];
    uint8_t state;
    uint8_t tries;       /* requests sent in this INCOMPLETE/PROBE episode */
    bool used;           /* a packet went out through it since it was confirmed */
    uint32_t gen;        /* bumped when the slot is taken or freed; timer entries carry it */
    int32_t hnext;       /* next entry index in the hash chain, -1 ends */
    us_time_t deadline;  /* current timer, US_TIME_NEVER if none */
    us_time_t deadline_q;/* deadline of its entry in the timer heap (lazy re-arm, timerq.h) */
    us_time_t confirmed; /* when the mapping was last confirmed */
    struct us_iface *ifp;
    struct us_pktq pending; /* IP datagrams (no Ethernet header) waiting for resolution */
};

struct us_arp_table {
    struct us_arp_entry *e;
    size_t n;
    int32_t *bucket; /* n buckets */
    size_t used;
    uint8_t timer_kind;
};

struct us_stack;
struct us_iface;
int us_arp_init(struct us_stack *st);
void us_arp_destroy(struct us_stack *st);
void us_arp_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *b, size_t len,
                  unsigned rx_flags, us_time_t now);
/* Sends an IPv4 datagram (pkt->data = IP header) to next hop `nh` on ifp, resolving it first if
 * needed (then the pkt waits in the entry's queue). Consumes pkt. */
void us_arp_output(struct us_stack *st, struct us_iface *ifp, us_ip4_t nh, struct us_pkt *pkt,
                   us_time_t now);
void us_arp_announce(struct us_stack *st, struct us_iface *ifp);
/* Runs the entry timer a popped heap entry (of the kind us_arp_init registered) names. */
void us_arp_timer(struct us_stack *st, const struct us_timer_ent *t, us_time_t now);
/* For netstat/tests: the entry for ip, or NULL. */
const struct us_arp_entry *us_arp_lookup(const struct us_stack *st, us_ip4_t ip);

#endif
