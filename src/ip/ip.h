/* IPv4: input validation, routing, output with fragmentation, reassembly, and ICMP.
 * Layer: internet. Upward delivery through a protocol-number table filled at stack creation. */
#ifndef US_IP_IP_H
#define US_IP_IP_H

#include "core/core.h"
#include "link/link.h"
#include "wire/wire.h"

/* What a transport handler receives for one datagram (reassembled if it was fragmented). */
struct us_ip4_rx {
    struct us_ip4_repr ip;
    const uint8_t *hdr; /* the header as received, ip.hdr_len bytes */
    struct us_iface *ifp;
    bool to_bcast;      /* sent to a broadcast address */
    bool l4_csum_ok;    /* the driver vouched for the TCP/UDP checksum (US_RX_L4_CSUM_OK) */
};

struct us_stack;
typedef void (*us_ip_proto_fn)(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now);
/* An ICMP error about a datagram we sent: the quoted IP header's addresses and at least 8 bytes
 * of the quoted transport header. */
struct us_icmp_err {
    uint8_t type, code;
    uint16_t mtu;
    us_ip4_t src, dst; /* of the quoted datagram: src is ours */
    const uint8_t *l4;
    size_t l4_len;     /* >= 8 */
    int err;           /* errno Linux would report */
};
typedef void (*us_ip_err_fn)(struct us_stack *st, const struct us_icmp_err *e, us_time_t now);

/* ---- routes (route.c) ---- */
#define US_MAX_ROUTES 64
struct us_route {
    us_ip4_t dst, mask;
    uint8_t prefix_len;
    us_ip4_t gw; /* 0: directly connected */
    struct us_iface *ifp;
};
struct us_route_table {
    struct us_route r[US_MAX_ROUTES]; /* kept sorted by prefix length, longest first */
    size_t n;
};
/* Longest-prefix match. Returns the route or NULL; *nh gets the next hop. */
const struct us_route *us_route_lookup(const struct us_stack *st, us_ip4_t dst, us_ip4_t *nh);

/* ---- reassembly (frag.c) ---- */
#define US_FRAG_MAX_RANGES 64
struct us_frag_dgram {
    bool in_use;
    us_ip4_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint32_t gen;
    us_time_t deadline;
    struct us_pkt *buf;   /* payload assembled at its offset from buf->data */
    size_t total;         /* payload length once the last fragment arrived, else 0 */
    bool have_last, have_first;
    uint8_t ecn_seen;     /* 1 << ECN field of each fragment taken (RFC 3168 5.3) */
    uint8_t hdr[60];      /* header of the first fragment (offset 0) */
    size_t hdr_len;
    struct us_iface *ifp;
    size_t n_ranges;
    struct { uint32_t start, end; } ranges[US_FRAG_MAX_RANGES]; /* sorted, disjoint, merged */
};
struct us_frag_table {
    struct us_frag_dgram *d;
    size_t n;
    size_t mem; /* bytes of reassembly buffers held */
};
int us_frag_init(struct us_stack *st);
void us_frag_destroy(struct us_stack *st);
/* Takes one fragment. Returns true and fills *out (pointing into the datagram's buffer) when it
 * completes a datagram; the caller must then call us_frag_release(st, *slot) after delivery. */
bool us_frag_input(struct us_stack *st, const struct us_ip4_rx *rx, struct us_ip4_rx *out,
                   uint8_t *hdr_out, size_t *slot, us_time_t now);
void us_frag_release(struct us_stack *st, size_t slot);
void us_frag_timer(struct us_stack *st, const struct us_timer_ent *e, us_time_t now);

/* ---- input/output (ip4_input.c, ip4_output.c) ---- */
void us_ip4_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *b, size_t len,
                  unsigned rx_flags, us_time_t now);
void us_ip4_deliver(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now);

struct us_ip4_tx {
    us_ip4_t src; /* 0: the outgoing interface's address */
    us_ip4_t dst;
    uint8_t proto;
    uint8_t ttl;  /* 0: the stack default */
    uint8_t tos;
    bool df;
};
/* Sends pkt (data = transport header + payload; headroom for IP and Ethernet) to tx->dst,
 * fragmenting when it exceeds the route's MTU. Consumes pkt. Returns 0 or -errno
 * (-ENETUNREACH no route, -EMSGSIZE DF and too big, -ENOBUFS). */
int us_ip4_output(struct us_stack *st, struct us_pkt *pkt, const struct us_ip4_tx *tx,
                  us_time_t now);
/* Source address the stack would use towards dst, or 0 if there is no route. */
us_ip4_t us_ip4_select_src(const struct us_stack *st, us_ip4_t dst);
/* Address classification per RFC 1122 3.2.1.3 / RFC 5735. */
bool us_ip4_is_mcast(us_ip4_t a);
bool us_ip4_is_bcast_for(const struct us_stack *st, us_ip4_t a); /* limited or a directed bcast */

/* ---- ICMP (icmp.c) ---- */
/* Where echo replies go (ping sockets), registered by the layer above: ICMP never names it. */
typedef void (*us_icmp_echo_fn)(struct us_stack *st, const struct us_ip4_rx *rx,
                                const struct us_icmp_repr *m, us_time_t now);
struct us_icmp_state {
    us_time_t tb_last; /* token bucket for error generation (RFC 1812 4.3.2.8) */
    uint64_t tb_tokens_milli;
    us_icmp_echo_fn echo_reply;
};
void us_icmp_init(struct us_stack *st);
void us_icmp_register_echo_reply(struct us_stack *st, us_icmp_echo_fn fn);
void us_icmp_input(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now);
/* Sends an ICMP error about the datagram rx (unless RFC 1122 3.2.2 forbids it, or the rate limit
 * says no). A datagram we originated ourselves gets its error delivered locally instead. */
void us_icmp_send_error(struct us_stack *st, const struct us_ip4_rx *rx, uint8_t type,
                        uint8_t code, uint16_t mtu, us_time_t now);
/* Builds an ICMP error about a locally generated datagram held in `dgram` (IP header first) and
 * delivers it to the transport that sent it. Used when ARP resolution fails. */
void us_icmp_local_error(struct us_stack *st, const uint8_t *dgram, size_t len, uint8_t type,
                         uint8_t code, us_time_t now);

/* ---- the layer's state (st->ip) and upward dispatch (ip4_input.c) ---- */
struct us_ip {
    us_ip_proto_fn protos[256]; /* by protocol number, registered by the transports */
    us_ip_err_fn errs[256];     /* ICMP errors about datagrams we sent, by quoted protocol */
    struct us_route_table routes;
    struct us_frag_table frag;
    uint8_t frag_timer_kind;
    struct us_icmp_state icmp;
    uint16_t id;                /* next IP identification */
};
/* Allocates st->ip (routes, reassembly, ICMP) and registers IPv4 with the link layer. */
int us_ip_init(struct us_stack *st);
void us_ip_destroy(struct us_stack *st);
/* The layer above registers its input for IP protocol `proto` ... */
void us_ip_register(struct us_stack *st, uint8_t proto, us_ip_proto_fn input);
/* ... and what it does with ICMP errors quoting a datagram of that protocol that we sent. */
void us_ip_register_err(struct us_stack *st, uint8_t proto, us_ip_err_fn err);

#endif
