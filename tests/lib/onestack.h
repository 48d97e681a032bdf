/* One-stack harness for protocol unit tests: a single stack on a virtual clock, fed crafted
 * frames, with every frame it transmits captured for exact comparison (doc/style.md, Tests).
 * Interface: 192.0.2.2/24, MAC 02:00:00:00:00:02. The usual peer is 192.0.2.1 at
 * 02:00:00:00:00:01. Frames are built with the src/wire emitters, so a test that wants a wrong
 * field builds a correct frame and then edits bytes (os_fix_ip_csum re-seals the header). */
#ifndef US_TEST_ONESTACK_H
#define US_TEST_ONESTACK_H

#include <ustack.h>

#include "wire/wire.h"

#define OS_IP US_IP4(192, 0, 2, 2)
#define OS_PEER_IP US_IP4(192, 0, 2, 1)
#define OS_BCAST_IP US_IP4(192, 0, 2, 255)
#define OS_MAX_FRAME 70000

extern const uint8_t os_mac[US_ETH_ALEN];      /* the stack's MAC */
extern const uint8_t os_peer_mac[US_ETH_ALEN]; /* 02:00:00:00:00:01 */
extern const uint8_t os_bcast_mac[US_ETH_ALEN];

struct os_frame {
    uint8_t *b;
    size_t len;
};

struct onestack {
    struct us_stack *st;
    struct us_iface *ifp;
    us_time_t now;
    struct os_frame *out; /* captured transmissions, oldest first */
    size_t n_out, cap_out;
    size_t taken;         /* frames already consumed with os_take */
};

/* Creates the stack (cfg NULL: defaults; mtu 0: 1500) at time 0 and adds the interface. The
 * gratuitous ARP it sends stays in the capture list. OS_TRACE=1 in the environment prints the
 * stack's trace lines on stderr. */
void os_init(struct onestack *o, const struct us_config *cfg, uint16_t mtu);
/* os_init with the default MTU that also forgets the gratuitous ARP: where most tests start. */
void os_start(struct onestack *o, const struct us_config *cfg);
/* Advances `dur` of virtual time, firing every timer at its own deadline. */
void os_advance(struct onestack *o, us_time_t dur);
/* Advances 300 s so every timer runs out, asserts that no packet buffer is in use, and frees. */
void os_finish(struct onestack *o);
/* Feeds one frame at the current time. */
void os_input(struct onestack *o, const uint8_t *frame, size_t len);
/* Forgets captured frames. */
void os_clear(struct onestack *o);
/* Frames captured and not yet taken. */
size_t os_pending(const struct onestack *o);
/* Next captured frame not yet taken; fails the test if none. */
const struct os_frame *os_take(struct onestack *o);

/* ---- building frames (return the frame length; out must hold OS_MAX_FRAME bytes) ---- */

size_t os_build_arp(uint8_t *out, const uint8_t eth_dst[US_ETH_ALEN], uint16_t op,
                    const uint8_t sha[US_ETH_ALEN], us_ip4_t spa, const uint8_t tha[US_ETH_ALEN],
                    us_ip4_t tpa);
/* Ethernet (peer MAC -> our MAC unless eth_dst is given) + IPv4 header + payload.
 * ip->payload_len is set from plen. */
size_t os_build_ip(uint8_t *out, const uint8_t *eth_dst, const struct us_ip4_repr *ip,
                   const void *payload, size_t plen);
/* A plain IPv4 header template: src -> dst, proto, TTL 64, random-ish id 0x1234. */
struct us_ip4_repr os_ip_hdr(us_ip4_t src, us_ip4_t dst, uint8_t proto);
/* UDP datagram (header + data) with a correct checksum into out; returns its length. */
size_t os_build_udp_seg(uint8_t *out, us_ip4_t src, us_ip4_t dst, uint16_t sport, uint16_t dport,
                        const void *data, size_t dlen);
/* Whole frame: peer -> dst UDP. */
size_t os_build_udp(uint8_t *out, us_ip4_t src, us_ip4_t dst, uint16_t sport, uint16_t dport,
                    const void *data, size_t dlen);
/* ICMP message (header + data) with checksum into out; returns its length. */
size_t os_build_icmp_msg(uint8_t *out, const struct us_icmp_repr *m);
/* Whole frame: peer -> dst ICMP echo request. */
size_t os_build_echo(uint8_t *out, us_ip4_t src, us_ip4_t dst, uint16_t id, uint16_t seq,
                     const void *data, size_t dlen);
/* Recomputes the IPv4 header checksum of the frame's IP header (at offset 14). */
void os_fix_ip_csum(uint8_t *frame);

/* ---- parsing what the stack sent ---- */

struct os_pkt {
    struct us_eth_repr eth;
    struct us_arp_repr arp;  /* eth.type ARP */
    struct us_ip4_repr ip;   /* eth.type IPv4 */
    struct us_udp_repr udp;  /* UDP, unfragmented */
    struct us_icmp_repr icmp;/* ICMP, unfragmented */
};
/* Parses every layer, failing the test on anything malformed (bad checksums included). */
void os_parse(const struct os_frame *f, struct os_pkt *p);
/* Takes the next frame, asserts it is an ARP packet and returns its repr. */
struct os_pkt os_take_arp(struct onestack *o);
struct os_pkt os_take_ip(struct onestack *o);

/* Makes the peer (ip, mac) known: feeds its ARP request for our address and discards the reply. */
void os_learn(struct onestack *o, us_ip4_t ip, const uint8_t mac[US_ETH_ALEN]);
/* A UDP socket bound to (0, port). */
int os_udp_bound(struct onestack *o, uint16_t port);

/* ---- TCP (peer 192.0.2.1 talking to the stack) ---- */

/* Whole frame: peer -> us TCP segment described by r (payload from r->payload/payload_len),
 * with a correct checksum. */
size_t os_build_tcp(uint8_t *out, us_ip4_t src, us_ip4_t dst, const struct us_tcp_repr *r);
/* Builds and feeds r from OS_PEER_IP to OS_IP at the current time. */
void os_tcp_send(struct onestack *o, const struct us_tcp_repr *r);
/* Takes the next captured frame, asserts it is an unfragmented IPv4/TCP segment from us to the
 * peer with correct checksums, and parses it into out (payload points into the capture). */
void os_tcp_pop(struct onestack *o, struct us_tcp_repr *out);
/* os_pending after ARP traffic is skipped (requests for the peer are answered): the number of
 * other frames waiting. os_tcp_pop skips ARP the same way. */
size_t os_tcp_pending(struct onestack *o);

/* Fields os_tcp_expect does not compare. ts_val is never compared (a clock with a random
 * offset); ts_ecr is compared when want->has_ts unless OS_IGN_TS. */
#define OS_IGN_WND 0x1
#define OS_IGN_TS 0x2
#define OS_IGN_OPTS 0x4 /* MSS, WS, SACK-permitted */
/* Pops the next segment and asserts it equals want (ports, seq, ack, flags, urgent pointer when
 * URG, window, options, SACK blocks, payload bytes); returns it in got if not NULL. */
void os_tcp_expect(struct onestack *o, const struct us_tcp_repr *want, unsigned ignore,
                   struct us_tcp_repr *got);
/* "S.", "FA", "R" ... style description for failure messages. */
const char *os_tcp_str(const struct us_tcp_repr *r, char *buf, size_t n);

/* The peer's side of one connection, for building segments and checking the stack's. */
struct os_tcp {
    uint16_t port;      /* the stack's port */
    uint16_t pport;     /* the peer's port */
    uint32_t seq;       /* peer's SND.NXT: next sequence number the peer sends */
    uint32_t ack;       /* peer's RCV.NXT: next sequence number expected from the stack */
    uint16_t wnd;       /* window the peer advertises (raw field) */
    bool ts;            /* timestamps in use: every segment carries TS */
    uint32_t ts_val;    /* peer's TSval to send next (tests may move it) */
    uint32_t ts_ecr;    /* the stack's last TSval, echoed */
};
/* Peer options for the SYN: each flag offers one option. */
#define OS_OPT_MSS 0x1  /* MSS 1460 */
#define OS_OPT_WS 0x2   /* window scale 7 */
#define OS_OPT_SACK 0x4 /* SACK permitted */
#define OS_OPT_TS 0x8
#define OS_OPT_ALL 0xf
/* A segment template from the peer's state: seq, ack (with the ACK flag), window, TS. */
struct us_tcp_repr os_tcp_seg(const struct os_tcp *t, uint8_t flags);
/* Like os_tcp_send, then advances t->seq by the segment's sequence length. */
void os_tcp_tx(struct onestack *o, struct os_tcp *t, uint8_t flags, const void *data, size_t len);
/* Pops the next segment, checks its ports, records its TSval into t->ts_ecr. */
void os_tcp_rx(struct onestack *o, struct os_tcp *t, struct us_tcp_repr *out);
/* Pops and asserts: flags, seq, ack (when ACK) and payload length; records TS. */
void os_tcp_rx_expect(struct onestack *o, struct os_tcp *t, uint8_t flags, uint32_t seq,
                      uint32_t ack, size_t len);

/* Runs the clock out, asserts that no socket or orphaned connection is left, then os_finish
 * (no packet buffer in use, no timer pending): how a TCP test ends. */
void os_tcp_finish(struct onestack *o);
/* Learns the peer and returns a socket listening on (0, port). */
int os_tcp_listen(struct onestack *o, uint16_t port, int backlog);
/* The peer's SYN: t (ports, ISN and window set by the caller) sends `flags` (SYN, perhaps with
 * ECE and CWR) with the options in opts (OS_OPT_TS also turns t->ts on, TSval 100000), then takes
 * the SYN-ACK (into *sa unless NULL), asserts that its flags are `want` and that it acknowledges
 * the SYN, and sets t->ack after it. The handshake's last ACK is the caller's. */
void os_tcp_syn(struct onestack *o, struct os_tcp *t, uint8_t flags, unsigned opts, uint8_t want,
                struct us_tcp_repr *sa);
/* The peer's answer to the stack's SYN (t as os_tcp_connect left it): SYN, ACK and `flags` (ECE,
 * say) with the options in opts (timestamps only if the SYN had them: OS_OPT_TS echoes its
 * TSval), then takes the stack's ACK (into *ack unless NULL) and asserts that it carries no data
 * and acknowledges the SYN-ACK. */
void os_tcp_synack(struct onestack *o, struct os_tcp *t, uint8_t flags, unsigned opts,
                   const struct us_tcp_repr *syn, struct us_tcp_repr *ack);
/* Learns the peer, creates a listener on port, drives the handshake with the given SYN options
 * and accepts it; returns the accepted descriptor (listener in *lfd). t->seq/ack are ready for
 * data. The peer's ISN is 1000; port 40000. */
int os_tcp_open_passive(struct onestack *o, uint16_t port, unsigned opts, struct os_tcp *t,
                        int *lfd);
/* Learns the peer, connects fd (a new stream socket when fd < 0) to peer:port and takes our SYN
 * (into *syn unless NULL); t becomes the peer's side: ISN 5000 (the SYN not sent yet), window
 * wnd, t->ack after our SYN. Returns the descriptor. */
int os_tcp_connect(struct onestack *o, int fd, uint16_t port, uint16_t wnd, struct os_tcp *t,
                   struct us_tcp_repr *syn);
/* Learns the peer, connects to peer:port, answers the SYN with a SYN-ACK (peer ISN 5000,
 * options as given) and checks the final ACK; returns the descriptor. */
int os_tcp_open_active(struct onestack *o, uint16_t port, unsigned opts, struct os_tcp *t);
/* os_tcp_open_passive on port 80 with the listener closed again: one accepted connection. */
int os_tcp_accepted(struct onestack *o, struct os_tcp *t, unsigned opts);
/* Closes fd abortively (SO_LINGER 0) and forgets what that sends. */
void os_tcp_abort(struct onestack *o, int fd);
/* A state name as us_sock_list reports it for fd (or an orphan on t's 4-tuple when fd < 0);
 * "" when there is none. */
const char *os_tcp_state(struct onestack *o, int fd, const struct os_tcp *t);
/* us_sock_list entry for fd; fails the test if absent. */
struct us_sock_info os_sock_info(struct onestack *o, int fd);

#endif
