/* ustack public API: the stack object, interfaces, time, sockets and counters.
 * An embedding program (or the ustack daemon) creates a stack, adds interfaces with a transmit
 * callback, feeds received frames with us_input(), and calls us_poll() when us_next_deadline()
 * is due. The core never blocks, never reads a clock and keeps no global state. */
#ifndef USTACK_H
#define USTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <ustack/types.h>
#include <ustack/version.h>

USTACK_BEGIN_DECLS

struct us_stack;
struct us_iface;

/* ---- version ------------------------------------------------------------------------------- */

/* The library's version at run time ("0.1.0"; USTACK_VERSION_STRING is the headers' version). */
const char *us_version(void);
/* The same as USTACK_VERSION_HEX. */
unsigned us_version_number(void);

/* ---- configuration -------------------------------------------------------------------------- */

/* Structs the caller fills for the library begin with a size, set by their init function
 * (us_config_default, us_iface_conf_init), so that a later version can add fields at the end: the
 * library rejects a size it does not know (a program built against newer headers) and gives a
 * shorter, older struct defaults for the fields it lacks. */
struct us_config {
    size_t size;               /* sizeof(struct us_config), set by us_config_default */
    size_t pkt_small_max;      /* 2 KiB packet buffers the stack may hold */
    size_t pkt_large_max;      /* 64 KiB packet buffers (super-frames, reassembly, big sends) */
    size_t arp_entries;        /* neighbour cache size */
    size_t arp_queue_per_entry;/* packets waiting for one resolution */
    us_time_t arp_reachable;   /* how long a resolved entry is trusted */
    us_time_t arp_retry;       /* interval between requests while resolving */
    unsigned arp_retries;      /* requests before giving up (then ICMP host unreachable) */
    size_t frag_mem_max;       /* bytes of reassembly buffers, all datagrams together */
    size_t frag_max_datagrams; /* datagrams under reassembly at once */
    us_time_t frag_timeout;    /* RFC 791 / RFC 1122 3.3.2 reassembly timeout */
    size_t max_sockets;
    size_t udp_rcvbuf;         /* bytes queued per UDP socket */
    size_t udp_sndbuf;         /* largest datagram a UDP socket sends */
    size_t tcp_sndbuf;         /* default send buffer per connection */
    size_t tcp_rcvbuf;         /* initial receive buffer; auto-tuning grows it to tcp_rcvbuf_max */
    size_t tcp_rcvbuf_max;
    size_t tcp_sndbuf_max;     /* send buffer auto-tuning limit (Linux tcp_wmem[2], 4 MiB there);
                                * default 1 MiB: enough for a LAN or a TAP at 25 Gbit/s, and a
                                * bigger buffer only costs cache when the path's delay is tiny;
                                * raise it for long fat paths. SO_SNDBUF fixes a socket's buffer */
    us_time_t tcp_msl;         /* TIME-WAIT lasts 2*MSL */
    us_time_t tcp_rto_min, tcp_rto_max, tcp_rto_initial;
    us_time_t tcp_delack;      /* delayed ACK timer (RFC 1122 4.2.3.2: at most 500 ms) */
    unsigned tcp_syn_retries, tcp_synack_retries, tcp_retries; /* retransmissions before giving up */
    us_time_t tcp_fin_timeout; /* orphaned FIN-WAIT-2 lifetime */
    size_t tcp_max_conns;      /* connections of every state, TIME-WAIT included */
    unsigned tcp_default_cc;   /* enum us_tcp_cc */
    unsigned tcp_challenge_ack_limit; /* per second, RFC 5961 7 */
    bool tcp_syncookies;
    bool tcp_tlp;              /* RFC 8985 7 tail loss probe (SACK connections) */
    us_time_t tcp_tlp_max_ack_delay; /* the peer's delayed-ACK budget in a one-segment PTO */
    uint8_t ttl;
    unsigned icmp_err_rate;    /* ICMP errors per second (token bucket) */
    unsigned icmp_err_burst;
    uint16_t ephemeral_lo, ephemeral_hi;
    /* RFC 3168 ECN (enum us_tcp_ecn), as Linux's net.ipv4.tcp_ecn: 0 off, 1 ask for it on
     * connect and accept it, 2 (the default, as Linux) accept it from a peer that asks. */
    unsigned tcp_ecn;
    /* Loss detection with SACK (enum us_tcp_recovery bits), as Linux's net.ipv4.tcp_recovery:
     * US_TCP_RECOVERY_RACK (the default) uses RFC 8985 RACK's send times; 0 leaves RFC 6675's
     * duplicate-ACK and SACK count rule. Without SACK the RFC 5681/6582 rule applies always. */
    unsigned tcp_recovery;
};

/* Fills every field with its default, size included. */
void us_config_default(struct us_config *cfg);

/* Returns NULL with errno ENOMEM on allocation failure, EINVAL for a bad configuration (among
 * them a size this version does not know). cfg NULL means the defaults. seed drives every random
 * choice (IP ID, ports, impairment decisions in tests), so a run replays from (seed, input). */
struct us_stack *us_stack_new(const struct us_config *cfg, uint64_t seed);
void us_stack_free(struct us_stack *st);

/* ---- interfaces and routes ------------------------------------------------------------------ */

/* Transmit callback: the driver copies or writes the frame before returning (the stack keeps
 * ownership of the bytes). Returns 0 or a negative errno (counted as a TX_DRIVER drop). */
typedef int (*us_tx_fn)(void *ctx, const uint8_t *frame, size_t len);
/* Optional offload transmit: the frame's L4 checksum (at l4_off) holds only the pseudo-header
 * sum and the device finishes it; when gso_size is non-zero the frame is a TCP super-segment of
 * up to 64 KiB that the device cuts into gso_size-byte segments (TSO). hdr_len covers the
 * Ethernet, IP and TCP headers. The frame comes in n_iov pieces (1 to 3; gather I/O, so TCP's
 * payload goes from its send buffer to the device without a copy): every header byte is in the
 * first piece. Same ownership rule as us_tx_fn. */
typedef int (*us_tx_gso_fn)(void *ctx, const struct iovec *iov, int n_iov, uint16_t gso_size,
                            uint16_t l4_off, uint16_t hdr_len);

struct us_iface_conf {
    size_t size;      /* sizeof(struct us_iface_conf), set by us_iface_conf_init */
    const char *name;
    uint8_t mac[US_ETH_ALEN];
    us_ip4_t addr;
    uint8_t prefix_len;
    uint16_t mtu;     /* IP MTU, 68..65535; 0 means 1500 */
    us_tx_fn tx;
    us_tx_gso_fn tx_gso; /* NULL: no offloads (every checksum computed, every segment <= MTU) */
    void *tx_ctx;
};

/* Zeroes *conf and sets its size: no name ("eth"), MTU 1500, no offloads. */
void us_iface_conf_init(struct us_iface_conf *conf);
/* Adds an interface, its connected route, and announces it with a gratuitous ARP. NULL for a bad
 * conf (its size unknown: errno EINVAL; no tx, a prefix over 32, an MTU under 68) or too many
 * interfaces. Like every call that can send, it takes the time: timers due by `now` fire first
 * (as in us_input). */
struct us_iface *us_iface_add(struct us_stack *st, const struct us_iface_conf *conf, us_time_t now);
/* Adds a route; gw 0 means directly connected. prefix_len 0 with dst 0 is the default route. */
int us_route_add(struct us_stack *st, us_ip4_t dst, uint8_t prefix_len, us_ip4_t gw,
                 struct us_iface *ifp);

/* ---- time and input ------------------------------------------------------------------------- */

/* Hands one received Ethernet frame to the stack (borrowed: copied where it must be kept).
 * Frames up to 64 KiB (GSO super-frames) are accepted. */
void us_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
              us_time_t now);
/* What a driver can tell the stack about a received frame (us_input_flags). */
enum {
    /* The TCP/UDP checksum need not be verified: the frame never crossed a wire. For a TAP in
     * vnet mode, frames the kernel marks NEEDS_CSUM (its checksum left to offload, the field
     * holds only the pseudo-header sum) or DATA_VALID, as a virtio-net guest trusts them
     * (Linux: CHECKSUM_PARTIAL / CHECKSUM_UNNECESSARY). Never set it for frames that were
     * impaired (corrupted) on the way. */
    US_RX_L4_CSUM_OK = 1u << 0,
};
/* us_input with what the driver knows about the frame (US_RX_* flags). */
void us_input_flags(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
                    unsigned flags, us_time_t now);
/* Fires due timers (ARP retries, reassembly timeouts, ...). */
void us_poll(struct us_stack *st, us_time_t now);
/* When us_poll must next be called; US_TIME_NEVER when nothing is pending. */
us_time_t us_next_deadline(struct us_stack *st);

/* ---- trace ---------------------------------------------------------------------------------- */

/* One line per layer per event ("arp: who-has 10.0.0.1 -> queued 1 packet"), no newline. */
typedef void (*us_trace_fn)(void *ctx, const char *line);
void us_set_trace(struct us_stack *st, us_trace_fn fn, void *ctx);

/* ---- counters ------------------------------------------------------------------------------- */

size_t us_drop_count(void);            /* number of drop reasons */
const char *us_drop_name(size_t i);    /* short identifier, e.g. "IP_BAD_CSUM" */
const char *us_drop_text(size_t i);    /* human text */
uint64_t us_drop_get(const struct us_stack *st, size_t i);
size_t us_stat_count(void);
const char *us_stat_name(size_t i);
const char *us_stat_text(size_t i);
uint64_t us_stat_get(const struct us_stack *st, size_t i);
uint64_t us_drop_total(const struct us_stack *st);

/* Packet pool occupancy, for leak checks in tests. */
struct us_pool_info {
    size_t small_in_use, small_allocated, large_in_use, large_allocated;
};
void us_pool_info(const struct us_stack *st, struct us_pool_info *out);

/* What the stack holds now, layer by layer: gauges that go up and down (the counters only go
 * up). An idle stack returns to the same figures, so a long run compares them with the start
 * to find a leak (`ustack netstat -s`, scripts/soak.sh). */
struct us_stack_info {
    size_t timers, timers_stale, timers_cap; /* timer heap: entries (dead ones included), the
                                               * known dead, and the slots allocated */
    struct us_pool_info pkts;                 /* packet buffers */
    size_t sockets;                           /* open descriptors */
    size_t tcp_blocks, tcp_hashed, tcp_tw;    /* TCP control blocks in use, connections in the
                                               * 4-tuple hash, compact TIME-WAIT records */
    size_t dgram_pcbs;                        /* UDP and ping control blocks */
    size_t arp_entries;
    size_t frag_dgrams, frag_bytes;           /* datagrams in reassembly, the buffers they hold */
};
void us_stack_info(const struct us_stack *st, struct us_stack_info *out);

/* ---- sockets (src/socket) ------------------------------------------------------------------- */

enum us_sock_type {
    US_SOCK_DGRAM = 1, /* UDP */
    US_SOCK_PING = 2,  /* ICMP echo, like Linux's SOCK_DGRAM/IPPROTO_ICMP "ping sockets" */
    US_SOCK_STREAM = 3 /* TCP */
};

struct us_sockaddr {
    us_ip4_t addr; /* host order */
    uint16_t port; /* host order; for ping sockets the echo identifier */
};

#define US_MSG_OOB 0x1    /* TCP send: the data ends with urgent data (see "Urgent data" below) */
#define US_MSG_PEEK 0x2
#define US_MSG_PROBE 0x10 /* UDP send: nothing is sent; the checks only (the error a send to
                           * that address would return now, or len), as Linux's MSG_PROBE */
#define US_MSG_TRUNC 0x20 /* recv: UDP: return the real datagram length even if longer than buf;
                           * TCP: discard up to len bytes without copying them (buf may be NULL),
                           * as Linux */

#define US_POLLIN 0x001
#define US_POLLPRI 0x002  /* TCP: urgent data remains to be read */
#define US_POLLOUT 0x004
#define US_POLLERR 0x008
#define US_POLLHUP 0x010
#define US_POLLWAKE 0x100 /* us_sock_watch only: report every wake-up (below), ready or not */

/* Extra facts about a received datagram. */
struct us_msginfo {
    uint8_t ttl;
    us_ip4_t dst; /* address it was sent to */
};

/* All socket calls are non-blocking: they return >= 0, or a negative errno (-EAGAIN when they
 * would block). A blocking layer (the daemon's client library) waits on us_sock_poll(). */
int us_socket(struct us_stack *st, enum us_sock_type type);
int us_bind(struct us_stack *st, int fd, const struct us_sockaddr *addr);
/* UDP: sets the default peer and filters input to it; addr NULL dissolves the association. */
int us_connect(struct us_stack *st, int fd, const struct us_sockaddr *addr, us_time_t now);
ssize_t us_sendto(struct us_stack *st, int fd, const void *buf, size_t len, int flags,
                  const struct us_sockaddr *to, us_time_t now);
ssize_t us_recvfrom(struct us_stack *st, int fd, void *buf, size_t len, int flags,
                    struct us_sockaddr *from, struct us_msginfo *info, us_time_t now);
int us_getsockname(struct us_stack *st, int fd, struct us_sockaddr *out);
int us_getpeername(struct us_stack *st, int fd, struct us_sockaddr *out);
int us_close(struct us_stack *st, int fd, us_time_t now);
/* Readiness: a mask of US_POLL*; -EBADF for a bad descriptor. */
int us_sock_poll(struct us_stack *st, int fd);
/* Returns and clears the pending asynchronous error (SO_ERROR), as a positive errno or 0. */
int us_sock_error(struct us_stack *st, int fd);

/* Readiness for a program that drives many sockets (epoll's shape, without a kernel): it
 * watches a descriptor for US_POLL* events with a cookie of its own, and us_ready hands back the
 * descriptors that are ready, at a cost that grows with the number of ready sockets, not of open
 * ones. The protocol layers wake a descriptor when its state may have changed (data or FIN in,
 * send space freed by an ACK, connected, refused, reset, timed out, accept queue grown, ICMP
 * error); us_ready re-checks it with us_sock_poll and reports it if an event it watches is set.
 * US_POLLERR and US_POLLHUP are always reported. Level-triggered entries stay on the ready list
 * while they are ready (reported again on the next call, as epoll does); edge-triggered ones are
 * reported once per wake-up. Registering checks the socket at once (like EPOLL_CTL_ADD). A closed
 * descriptor leaves the list. A watch with US_POLLWAKE is reported on every wake-up, with the
 * events it watches that are set (perhaps none): for a state change that sets no US_POLL* bit,
 * such as an ACK of a FIN. Nothing is called back from inside the stack: the program harvests
 * the list in its own loop, so a handler may call any socket function. */
enum us_watch_mode { US_WATCH_LEVEL = 0, US_WATCH_EDGE = 1 };
struct us_ready_event {
    int fd;
    unsigned events; /* US_POLL* */
    void *cookie;    /* as given to us_sock_watch */
};
/* events 0 stops watching. Returns 0, -EBADF or -EINVAL (unknown mode). */
int us_sock_watch(struct us_stack *st, int fd, unsigned events, enum us_watch_mode mode,
                  void *cookie);
/* Fills up to max events; returns how many. Each queued descriptor is looked at once per call. */
size_t us_ready(struct us_stack *st, struct us_ready_event *out, size_t max);
/* True while descriptors wait on the ready list (the caller should not sleep). */
bool us_ready_pending(const struct us_stack *st);
/* An optional convention for a loop whose watches belong to several modules (the daemon's
 * parked requests and its services): each watch's cookie points at a handler, usually the
 * first member of the object that owns the socket, and us_ready_dispatch harvests up to max
 * events and calls each one's handler. Returns how many. */
struct us_ready_handler {
    void (*fn)(struct us_ready_handler *h, struct us_stack *st, int fd, unsigned events,
               us_time_t now);
};
size_t us_ready_dispatch(struct us_stack *st, size_t max, us_time_t now);

/* TCP. connect() on a stream socket returns -EINPROGRESS; completion shows as US_POLLOUT (or
 * US_POLLERR with the reason in us_sock_error). send/recv are us_sendto/us_recvfrom with no
 * address: partial counts, 0 from recv at end of stream, -EPIPE after shutdown(SHUT_WR). */
int us_listen(struct us_stack *st, int fd, int backlog);
/* Returns a new descriptor for the oldest established connection, or -EAGAIN. */
int us_accept(struct us_stack *st, int fd, struct us_sockaddr *peer);
#define US_SHUT_RD 0
#define US_SHUT_WR 1
#define US_SHUT_RDWR 2
int us_shutdown(struct us_stack *st, int fd, int how, us_time_t now);

/* Urgent data (RFC 9293 3.8.5; new applications should not use it, RFC 6093). Sending:
 * us_sendto(..., US_MSG_OOB, ...) marks the last byte it queues as the end of the urgent data;
 * segments carry URG and the urgent pointer until that byte is acknowledged. A Linux receiver
 * sees that last byte as its out-of-band byte: recv(MSG_OOB) returns it, and it is left out of
 * the normal stream unless the receiver set SO_OOBINLINE. Receiving: urgent data always stays
 * inline (SO_OOBINLINE behaviour, as RFC 6093 recommends); there is no out-of-band delivery, so
 * recv with US_MSG_OOB fails with -EINVAL (Linux's answer on an SO_OOBINLINE socket), and when a
 * Linux peer sends with MSG_OOB its byte arrives inline, in order, like any other. While urgent
 * data remains unread, us_sock_poll reports US_POLLPRI. The mark is the last urgent byte (BSD's
 * SIOCATMARK): a read never goes past it in one call, so the reader stops right before it, where
 * getsockopt US_SO_ATMARK reads 1; the next read starts with that byte, and US_POLLPRI clears
 * once it has been read. Later urgent data moves the mark on. */

enum us_sockopt {
    US_SO_RCVBUF = 1,
    US_SO_BROADCAST = 2,
    US_SO_SNDBUF = 3,
    US_SO_REUSEADDR = 4,
    US_SO_KEEPALIVE = 5,
    US_SO_LINGER = 6,        /* value: linger seconds, or -1 for off; 0 means close sends RST */
    US_TCP_NODELAY = 7,
    US_TCP_KEEPIDLE = 8,     /* seconds */
    US_TCP_KEEPINTVL = 9,    /* seconds */
    US_TCP_KEEPCNT = 10,
    US_TCP_USER_TIMEOUT = 11,/* milliseconds; 0: the default retry count decides */
    US_TCP_CONGESTION = 12,  /* enum us_tcp_cc */
    US_SO_ATMARK = 13,       /* read only: 1 when the next byte recv returns is the urgent mark
                              * (sockatmark(), SIOCATMARK), else 0 */
    US_SO_SNDSPACE = 14,     /* read only: bytes a send would take now (TCP: room in the send
                              * buffer, grown by auto-tuning first; 0 while not writable) */
};
enum us_tcp_cc { US_CC_NEWRENO = 0, US_CC_CUBIC = 1 };
/* us_config.tcp_ecn, Linux's net.ipv4.tcp_ecn values. */
enum us_tcp_ecn { US_TCP_ECN_OFF = 0, US_TCP_ECN_ON = 1, US_TCP_ECN_PASSIVE = 2 };
/* us_config.tcp_recovery bits, Linux's net.ipv4.tcp_recovery. */
enum us_tcp_recovery { US_TCP_RECOVERY_RACK = 1 };
/* "reno", "cubic" (Linux's names); "?" for another value. */
const char *us_tcp_cc_name(enum us_tcp_cc cc);
int us_setsockopt(struct us_stack *st, int fd, enum us_sockopt opt, int value);
int us_getsockopt(struct us_stack *st, int fd, enum us_sockopt opt, int *value);

struct us_tcp_info;
int us_tcp_get_info(struct us_stack *st, int fd, struct us_tcp_info *out);

/* RFC 9293 3.3.2 connection states. Order matters only where static_assert pins it. */
enum us_tcp_state {
    US_TCPS_CLOSED = 0,
    US_TCPS_LISTEN,
    US_TCPS_SYN_SENT,
    US_TCPS_SYN_RECEIVED,
    US_TCPS_ESTABLISHED,
    US_TCPS_FIN_WAIT_1,
    US_TCPS_FIN_WAIT_2,
    US_TCPS_CLOSE_WAIT,
    US_TCPS_CLOSING,
    US_TCPS_LAST_ACK,
    US_TCPS_TIME_WAIT,
    US_TCPS__COUNT
};
/* "ESTABLISHED", "SYN-SENT", ... (RFC 9293's spelling); "?" for another value. This and
 * us_tcp_cc_name need nothing else of libustack: a client of the daemon may link them alone. */
const char *us_tcp_state_name(enum us_tcp_state s);

/* What `ss -ti` shows for a connection (netstat -i). Numbers only (no pointers), so the daemon
 * can hand it to another process as it is. */
struct us_tcp_info {
    enum us_tcp_state state;
    enum us_tcp_cc cc;
    uint32_t cwnd, ssthresh;        /* bytes */
    uint32_t mss_snd, mss_rcv;
    us_time_t srtt, rttvar, rto;    /* ns */
    uint8_t snd_wscale, rcv_wscale; /* meaningful when wscale */
    bool wscale, ts, sack;
    bool ecn;                       /* RFC 3168 ECN negotiated */
    uint32_t snd_wnd, rcv_wnd;
    uint64_t retrans, bytes_sent, bytes_acked, bytes_received;
    uint32_t unacked, sacked, lost; /* bytes; lost: marked lost by RACK, not yet resent */
    us_time_t min_rtt, reo_wnd;     /* RACK (RFC 8985 6.2), ns; 0 without RACK records */
    bool reord_seen;                /* RACK.reordering_seen */
};
/* What netstat prints, read straight from the control block. */
struct us_sock_info {
    int fd;
    enum us_sock_type type;
    size_t recv_q; /* bytes received, not yet read */
    size_t send_q; /* bytes sent, not yet acknowledged (0 for UDP) */
    struct us_sockaddr local, remote;
    enum us_tcp_state state; /* TCP only (US_TCPS_CLOSED for datagram sockets) */
    struct us_tcp_info tcp; /* TCP only (netstat -i) */
};
/* Fills up to max entries; returns the number of open sockets. */
size_t us_sock_list(struct us_stack *st, struct us_sock_info *out, size_t max);

USTACK_END_DECLS

#endif
