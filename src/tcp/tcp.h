/* TCP (RFC 9293) with RFC 7323 options, SACK (RFC 2018), RFC 6298 timers, RFC 5681/6582
 * congestion control and CUBIC (RFC 9438), RFC 5961 protections, RFC 6528 ISNs and SYN cookies.
 * Layer: transport. The connection control block is the socket: netstat reads it directly. */
#ifndef US_TCP_TCP_H
#define US_TCP_TCP_H

#include "core/core.h"
#include "core/rangeset.h"
#include "core/ring.h"
#include "core/siphash.h"
#include "core/timerq.h"
#include "ip/ip.h"
#include "tcp/tcp_seq.h"

/* Under AddressSanitizer memory that TCP keeps for reuse (a free control block in its page, a
 * spare loss episode) is poisoned, so a use after free is still caught although it stays
 * allocated. */
#if defined(__SANITIZE_ADDRESS__)
#define TCP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TCP_ASAN 1
#endif
#endif
#ifdef TCP_ASAN
#include <sanitizer/asan_interface.h>
#define TCP_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TCP_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TCP_POISON(p, n) ((void)(p), (void)(n))
#define TCP_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* The states (enum us_tcp_state, RFC 9293 3.3.2) are in ustack.h: us_tcp_info carries them. */
/* Invariants per state (checked by us_tcp_check_invariants in debug builds):
 * - LISTEN: no peer; lsn != NULL.
 * - SYN-SENT: snd_una == iss; nothing received (rcv_nxt unset).
 * - SYN-RECEIVED .. TIME-WAIT: snd_una <= snd_nxt <= snd_max; rcv ring holds in-order data only
 *   (a SYN's text waits out of order, at offset 0, until SYN-RECEIVED ends).
 * - FIN-WAIT-1, CLOSING, LAST-ACK: our FIN is queued (fin_queued).
 * - CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer's FIN was received (rcv_fin).
 * - TIME-WAIT: no buffers held. */


/* IDLE releases the data buffers of a connection whose rings stayed empty for a while, so busy
 * connections keep them (no malloc per message) and idle ones cost only the control block. */
enum us_tcp_timer { US_TT_RTO, US_TT_PERSIST, US_TT_KEEP, US_TT_2MSL, US_TT_DELACK, US_TT_IDLE, US_TT_N };

struct us_tcp_conn;
struct us_cc_ops {
    const char *name;
    void (*init)(struct us_tcp_conn *c);
    /* new data acknowledged outside recovery: grow cwnd */
    void (*on_ack)(struct us_tcp_conn *c, uint32_t acked, us_time_t now);
    /* congestion event (fast retransmit or RTO): returns the new ssthresh */
    uint32_t (*on_loss)(struct us_tcp_conn *c, us_time_t now);
};
extern const struct us_cc_ops us_cc_newreno, us_cc_cubic;

/* Listener state, allocated only for LISTEN sockets. */
struct us_tcp_listen {
    int backlog;
    int syn_count;              /* embryonic connections (SYN-RECEIVED): the SYN queue */
    int acc_count;              /* established, waiting for accept(): the accept queue */
    struct us_tcp_conn *syn_head;
    struct us_tcp_conn *acc_head, *acc_tail;
    us_time_t cookie_time;      /* when we last answered with a SYN cookie (0: never) */
};

/* A loss episode: fast recovery or a retransmission timeout, from its start until the D-SACKs
 * of its retransmissions have had time to come back. It holds what undoing the episode's cwnd
 * reduction needs (RFC 3708 D-SACK and RFC 3522/4015 timestamp detection, Linux's
 * tcp_try_undo_*) and the counters of Proportional Rate Reduction (RFC 6937). Taken from the
 * stack's pool of episodes when one begins: loss is rare, and a connection without one carries
 * only the pointer. */
struct us_tcp_episode {
    uint32_t prior_cwnd, prior_ssthresh; /* before the episode's reduction */
    us_seq_t start;             /* SND.UNA when it began: D-SACKs below are from before it */
    us_seq_t end;               /* with `over`: SND.MAX when recovery ended */
    uint32_t retrans;           /* segments resent in it and not yet shown spurious */
    uint32_t rtx_tsval;         /* TSval of its first retransmission (with rtx_ts) */
    uint32_t recover_fs;        /* RFC 6937 RecoverFS: the flight when recovery began */
    uint32_t prr_delivered, prr_out; /* RFC 6937 */
    bool rto : 1;               /* began with a retransmission timeout */
    bool rtx_ts : 1;            /* something was resent, with timestamps: rtx_tsval is set */
    bool eifel_done : 1;        /* the first ACK after the first retransmission was judged */
    bool over : 1;              /* recovery ended: only late D-SACKs may still undo it */
};

struct us_tcp_conn {
    /* common socket header: must come first (socket/socket.c) */
    enum us_sock_type type;
    int fd;                     /* -1: no descriptor (embryonic, queued, or orphaned) */

    uint8_t state;
    uint8_t snd_wscale, rcv_wscale;
    uint8_t dupacks;
    uint8_t backoff;            /* RTO doublings since the last good ACK */
    uint8_t keep_cnt, keep_probes;
    uint8_t cc_id;
    /* flags */
    bool nodelay : 1, keepalive : 1, reuseaddr : 1, linger_on : 1;
    bool ws_ok : 1, ts_ok : 1, sack_ok : 1;
    bool fin_queued : 1;        /* user shut the send side: FIN follows the data */
    bool rcv_fin : 1;           /* peer's FIN received (in order) */
    bool rcv_fin_ooo : 1;       /* a FIN beyond a hole is held: the last byte of ooo's last range
                                 * (a byte that is not in the ring) stands for it */
    bool rd_shut : 1;           /* SHUT_RD: discard what arrives */
    bool ack_now : 1;           /* an ACK must go out at the next output */
    bool in_recovery : 1;
    bool rtt_timing : 1;        /* Karn: timing snd_rtt_seq (no timestamps) */
    bool passive : 1;           /* came from a listener */
    bool cookie : 1;            /* created from a SYN cookie */
    bool in_ehash : 1;
    bool port_ref : 1;          /* holds a reference on lport in the port table */
    bool delack_pending : 1;
    bool used : 1;              /* connect() or listen() was called: the socket has a past */
    bool tso : 1;               /* the route's device takes checksum offload and TSO */
    bool in_accq : 1;           /* on the listener's accept queue (else its SYN queue) */
    bool snd_urg : 1;           /* SND.UP is meaningful: urgent data not yet acknowledged */
    bool rcv_urg : 1;           /* urgent mode: RCV.UP is ahead of what the user has read */
    /* RFC 8985 7 tail loss probe */
    bool tlp_pto : 1;           /* the RTO slot holds the probe timeout, not the RTO */
    bool tlp_out : 1;           /* a probe is out and unresolved: TLP.end_seq is tlp_end */
    bool tlp_rtx : 1;           /* that probe resent data (TLP.is_retrans) */
    bool tlp_lost : 1;          /* this recovery counts every hole below tlp_end as lost */
    bool tlp_rtt : 1;           /* an RTT sample came since the last probe (RFC 8985 7.3) */
    bool sndbuf_lock : 1;       /* SO_SNDBUF was set: no send-buffer auto-tuning */
    bool snd_nospace : 1;       /* the last send found the buffer full: the writer has more */
    bool cwnd_limited : 1;      /* cwnd held data back in this usage window (cc.c) */
    /* RFC 3168 ECN. ecn_ok: negotiated (before the handshake ends: our SYN offers it, or the
     * peer's SYN did and we accept). */
    bool ecn_ok : 1;
    bool ecn_ece : 1;           /* a CE mark arrived: ECE on every segment until a CWR (6.1.3) */
    bool ecn_cwr : 1;           /* cwnd was reduced: CWR on the next new data segment (6.1.2) */
    bool ecn_cwr_wnd : 1;       /* an ECE reduced cwnd; its window lasts until `recover` */
    bool rack_reo : 1;          /* the RTO slot holds RACK's reordering timer (RFC 8985 8) */
    bool rack_off : 1;          /* RACK's records could not be allocated: RFC 6675 instead */
    bool rto_loss : 1;          /* recovery after an RTO that kept the SACKs (RFC 8985 6.3):
                                 * resend what is marked lost until SND.UNA passes `recover` */
    uint8_t so_error;           /* pending error (errno), reported once */
    uint8_t soft_err;           /* last ICMP soft error, reported if the connection times out */

    us_ip4_t laddr, raddr;
    uint16_t lport, rport;
    uint16_t mss;               /* effective send MSS (payload per segment) */
    uint16_t rcv_mss;           /* MSS we advertised */
    int16_t linger_secs;
    uint16_t unacked_segs;      /* full segments received since our last ACK */
    uint16_t max_flight_segs;   /* most segments in flight in this cwnd usage window */
    uint32_t id, gen;           /* slot in the connection table; bumped when freed */

    struct us_tcp_conn *hnext;  /* ehash or lhash chain */
    struct us_tcp_conn *listener;
    struct us_tcp_conn *qnext, *qprev; /* listener's SYN queue or accept queue */
    struct us_tcp_listen *lsn;

    /* RFC 9293 3.3.1 send sequence variables */
    us_seq_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    us_seq_t snd_buf_seq;       /* sequence number of sndbuf's first byte */
    us_seq_t recover;           /* RFC 6582 */
    us_seq_t rtt_seq;
    us_seq_t snd_up;            /* RFC 9293 3.8.5, RFC 6093: the byte after the urgent data */
    uint32_t snd_wnd, max_snd_wnd;
    /* receive sequence variables */
    us_seq_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge of the window we advertised */
    us_seq_t rcv_up;            /* the byte after the peer's urgent data (valid with rcv_urg) */

    uint32_t cwnd, ssthresh;
    uint32_t ca_acked;          /* bytes acked toward the next congestion-avoidance step */
    uint32_t ts_recent, ts_offset;
    uint32_t ts_recent_age;     /* seconds on the stack clock when ts_recent was taken */
    uint32_t user_timeout_ms;
    uint32_t last_oow_ack_ms;   /* last ACK sent for an unacceptable segment (rate limit) */
    uint32_t rtt_start_us;      /* when rtt_seq went out, in microseconds (wraps: differences) */
    uint32_t last_snd_ms;       /* stack clock when data last went out (odd; 0: never) */
    us_time_t srtt, rttvar, rto;
    us_time_t last_rx;          /* for keepalive and user timeout */

    struct us_ring sndbuf, rcvbuf;
    uint32_t rcvbuf_max;
    us_seq_t rcv_tune_seq;      /* (next to rcvbuf_max: two 32-bit fields, no padding) */
    us_seq_t tlp_end;           /* SND.MAX after the probe; or, with tlp_lost, the loss bound */
    us_seq_t cwnd_usage_seq;    /* SND.NXT when the cwnd usage window began */
    us_time_t rcv_tune_time;    /* auto-tuning measurement start */
    /* Both range sets exist only while they hold something (loss is rare; idle is common). */
    struct us_rangeset *ooo;    /* received out of order, relative to rcv_nxt */
    struct us_rangeset *sacked; /* SACK scoreboard, relative to snd_una */
    us_seq_t high_rxt;          /* RFC 6675 HighRxt: retransmitted up to here in this recovery */
    us_seq_t rtx_mark;          /* SND.MAX when the last hole was resent (lost-retransmit check) */
    struct us_tcp_episode *ep;  /* the loss episode, while one lasts (tcp_recovery.c) */
    struct us_tcp_rack *rack;   /* RACK's segment records and state, while data is in flight */

    struct {                    /* CUBIC (RFC 9438), in segments */
        float w_max, w_last_max, k, origin, w_est;
        uint32_t epoch_ms;      /* start of the congestion-avoidance epoch; 0: none */
    } cubic;

    us_time_t t[US_TT_N];       /* logical deadlines, US_TIME_NEVER = off */
    us_time_t tq[US_TT_N];      /* deadline currently in the stack's heap for each timer */

    uint64_t bytes_sent, bytes_acked, bytes_received;
    uint32_t retrans;           /* segments sent again (Linux's tcpi_total_retrans is 32 bits) */
    uint16_t keep_idle, keep_intvl; /* seconds (Linux caps both at 32767) */
};

/* Control blocks come from pages of US_TCP_PAGE_CONNS blocks (tcp_conn.c), not one malloc each:
 * no allocator header per connection, and the page table is the id -> block map. A block's id is
 * page index * US_TCP_PAGE_CONNS + slot; timers name connections by id and generation. */
#define US_TCP_PAGE_SHIFT 6
#define US_TCP_PAGE_CONNS (1u << US_TCP_PAGE_SHIFT)
struct us_tcp_page;
struct us_tcp_tw;
union us_tcp_ep_slot;

/* Per-stack TCP state (inside struct us_stack). */
struct us_tcp_globals {
    struct us_tcp_page **pages; /* by page index; NULL: released */
    uint32_t n_pages, cap_pages;
    uint32_t partial;           /* first page with a free slot (list through the pages), or NONE */
    uint32_t spare;             /* one empty page kept for reuse, or NONE */
    uint32_t n_released;        /* NULL entries below n_pages */
    uint32_t n_live;            /* blocks in use */
    struct us_tcp_conn **ehash; /* 4-tuple hash */
    size_t ehash_n, ehash_count;
    struct us_tcp_tw **twhash;  /* compact TIME-WAIT records by 4-tuple (tcp_tw.c) */
    size_t twhash_n, tw_count;
    struct us_tcp_tw *tw_head, *tw_tail; /* TIME-WAIT records, oldest deadline first */
    struct us_tcp_conn *lhash[256]; /* listeners by port */
    uint16_t *port_refs;        /* 65536 counters: sockets holding each local port */
    struct us_siphash_key isn_key, cookie_key;
    us_time_t chal_window;      /* RFC 5961 7: challenge ACK budget per second */
    uint32_t chal_count;
    uint32_t eph_counter;
    /* RFC 2883: the bytes the segment being processed repeated, for the first SACK block of the
     * ACK it triggers; set and used within one us_tcp_input (NULL: none). */
    const struct us_tcp_conn *dsack_conn;
    us_seq_t dsack_start, dsack_end;
    union us_tcp_ep_slot *ep_free; /* spare loss episodes (tcp_recovery.c) */
    uint32_t ep_spares;         /* how many (at most US_TCP_EP_SPARES) */
    bool timers_lost;           /* a timer could not be queued: us_tcp_timers_retry */
    us_time_t timers_retry_at;  /* when to retry (valid with timers_lost): the lost timer's own
                                 * deadline, then 1 ms after each failed retry */
    uint8_t timer_kind;         /* first of the US_TT_N timer kinds us_tcp_init registered */
};

struct us_stack;
int us_tcp_init(struct us_stack *st);
void us_tcp_destroy(struct us_stack *st);
void us_tcp_input(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now);
/* What us_poll does for TCP besides its timers: retries timers that could not be queued and
 * ends expired TIME-WAIT records. us_tcp_next_deadline: when that is next needed. */
void us_tcp_poll(struct us_stack *st, us_time_t now);
us_time_t us_tcp_next_deadline(const struct us_stack *st);
/* Runs the TCP timer a popped heap entry names (kind timer_kind + enum us_tcp_timer). */
void us_tcp_timer(struct us_stack *st, const struct us_timer_ent *e, us_time_t now);
/* For us_timerq_purge: false when the entry is dead (its block freed, its deadline superseded,
 * its timer stopped). */
bool us_tcp_timer_live(struct us_stack *st, const struct us_timer_ent *e);
void us_tcp_icmp_error(struct us_stack *st, us_ip4_t laddr, uint16_t lport, us_ip4_t raddr,
                       uint16_t rport, us_seq_t seq, uint8_t type, uint8_t code, uint16_t mtu,
                       us_time_t now);

void us_tcp_icmp_error_quoted(struct us_stack *st, const struct us_icmp_err *e, us_time_t now);
/* Fast recovery; `timed`: the probe timeout found SACKed data above holes (tcp_input.c). */
void us_tcp_enter_recovery(struct us_stack *st, struct us_tcp_conn *c, bool timed, us_time_t now);
/* RFC 8985 7.4.2: the loss probe repaired a lost tail: the congestion response (tcp_input.c). */
void us_tcp_tlp_repaired(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);

/* The 4-tuple hash (ehash and TIME-WAIT records): a 64-bit mix; callers mask the low bits. */
static inline uint64_t
us_tcp_tuple_hash(us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp)
{
    uint64_t k = ((uint64_t)ra << 32 | (uint64_t)rp << 16 | lp) ^ ((uint64_t)la * 0x9e3779b97f4a7c15ull);
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ull;
    return k ^ (k >> 32);
}

/* compact TIME-WAIT records (tcp_tw.c) */
struct us_tcp_tw {          /* an orphan's TIME-WAIT, without its control block */
    struct us_tcp_tw *hnext;       /* twhash chain */
    struct us_tcp_tw *next, *prev; /* expiry order (oldest deadline first) */
    us_time_t deadline;            /* 2*MSL after the last FIN (or the close that orphaned it) */
    us_ip4_t laddr, raddr;
    uint16_t lport, rport;
    us_seq_t iss, irs, snd_nxt, rcv_nxt, rcv_adv;
    uint32_t ts_recent, ts_recent_age, ts_offset;
    uint32_t last_oow_ack_ms;
    uint16_t mss, rcv_mss;
    uint8_t snd_wscale, rcv_wscale;
    bool ws_ok : 1, ts_ok : 1, sack_ok : 1, port_ref : 1, passive : 1;
};
static inline us_time_t
us_tcp_tw_next(const struct us_tcp_globals *t)
{
    return t->tw_head ? t->tw_head->deadline : US_TIME_NEVER;
}
struct us_tcp_tw *us_tcp_tw_lookup(struct us_stack *st, us_ip4_t la, uint16_t lp, us_ip4_t ra,
                                   uint16_t rp);
/* Replaces an orphan in TIME-WAIT (its 2MSL deadline in t[US_TT_2MSL]) by a record and frees
 * the block. False when it cannot (no memory, data left, still on a listener's queue): the
 * caller keeps the block and queues its timer. */
bool us_tcp_tw_enter(struct us_stack *st, struct us_tcp_conn *c);
/* The record as a control block in TIME-WAIT again (the record is gone); NULL if out of memory
 * (the record is gone too: its TIME-WAIT ended early). */
struct us_tcp_conn *us_tcp_tw_inflate(struct us_stack *st, struct us_tcp_tw *w);
void us_tcp_tw_kill(struct us_stack *st, struct us_tcp_tw *w, const char *why);
/* Ends the records whose 2*MSL is over; the earliest deadline left is us_tcp_tw_next. */
void us_tcp_tw_expire(struct us_stack *st, us_time_t now);
void us_tcp_tw_destroy(struct us_stack *st);
size_t us_tcp_tw_list(struct us_stack *st, struct us_sock_info *out, size_t max);

/* connections (tcp_conn.c) */
struct us_tcp_conn *us_tcp_conn_new(struct us_stack *st);
/* The live block with this id, or NULL (never allocated, or freed). */
struct us_tcp_conn *us_tcp_conn_by_id(struct us_stack *st, uint32_t id);
void us_tcp_conn_free(struct us_stack *st, struct us_tcp_conn *c);
void us_tcp_set_state(struct us_stack *st, struct us_tcp_conn *c, int state, const char *why);
struct us_tcp_conn *us_tcp_lookup(struct us_stack *st, us_ip4_t laddr, uint16_t lport,
                                  us_ip4_t raddr, uint16_t rport);
struct us_tcp_conn *us_tcp_lookup_listener(struct us_stack *st, us_ip4_t laddr, uint16_t lport);
int us_tcp_ehash_insert(struct us_stack *st, struct us_tcp_conn *c);
void us_tcp_ehash_remove(struct us_stack *st, struct us_tcp_conn *c);
void us_tcp_lhash_insert(struct us_stack *st, struct us_tcp_conn *c);
void us_tcp_lhash_remove(struct us_stack *st, struct us_tcp_conn *c);
int us_tcp_port_ref(struct us_stack *st, struct us_tcp_conn *c, uint16_t port);
void us_tcp_port_unref(struct us_stack *st, struct us_tcp_conn *c);
bool us_tcp_port_busy(struct us_stack *st, uint16_t port, bool reuse);
us_seq_t us_tcp_isn(struct us_stack *st, us_ip4_t la, uint16_t lp, us_ip4_t ra, uint16_t rp,
                    us_time_t now);
void us_tcp_timer_arm(struct us_stack *st, struct us_tcp_conn *c, int kind, us_time_t when);
/* Queues the timers a failed push left out (out of memory); clears timers_lost when all are in. */
void us_tcp_timers_retry(struct us_stack *st, us_time_t now);
static inline void
us_tcp_timer_stop(struct us_tcp_conn *c, int kind)
{
    c->t[kind] = US_TIME_NEVER;
}
/* The retransmission timer proper (the slot may also carry the tail loss probe's timeout or
 * RACK's reordering timer: RFC 8985 8, one timer and a note of what it is). */
static inline void
us_tcp_rto_arm(struct us_stack *st, struct us_tcp_conn *c, us_time_t when)
{
    c->tlp_pto = c->rack_reo = false;
    us_tcp_timer_arm(st, c, US_TT_RTO, when);
}
/* How long a peer may hold an ACK while more than one segment is out (us_tcp_tlp_arm): Linux's
 * least delayed-ACK time (TCP_DELACK_MIN, 40 ms) and some slack for its timer. */
#define US_TCP_PTO_DELACK US_MSEC(50)
/* The least probe timeout for a probe of new data (Linux: TCP_TIMEOUT_MIN, 2 jiffies). */
#define US_TCP_PTO_MIN US_MSEC(2)
/* RFC 8985 7.2: puts the probe timeout in the RTO slot if a probe may go out; rto_at is when the
 * RTO would expire. Returns false (and changes nothing) when the RTO should run instead. */
bool us_tcp_tlp_arm(struct us_stack *st, struct us_tcp_conn *c, us_time_t now, us_time_t rto_at);
/* Enters CLOSED: unhashes, frees buffers; frees the block unless a descriptor still names it.
 * Not for a listener with children: us_tcp_listener_close. */
void us_tcp_close_conn(struct us_stack *st, struct us_tcp_conn *c, int err, const char *why);
/* Closes a listener and its children (those past the handshake get a RST sent at `now`). */
void us_tcp_listener_close(struct us_stack *st, struct us_tcp_conn *l, const char *why,
                           us_time_t now);
/* The connection's congestion control (us_tcp_set_cc picks it). */
static inline const struct us_cc_ops *
us_tcp_cc(const struct us_tcp_conn *c)
{
    return c->cc_id == US_CC_NEWRENO ? &us_cc_newreno : &us_cc_cubic;
}
void us_tcp_set_cc(struct us_tcp_conn *c, unsigned id);
/* The window of the last congestion response is over (SND.UNA reached `recover`): a new one may
 * start. A loss may also end the window of an ECN reduction early: fast recovery then starts
 * without a second reduction (us_tcp_enter_recovery), as Linux enters Recovery from CWR. */
static inline bool
us_tcp_recover_passed(const struct us_tcp_conn *c)
{
    return us_seq_geq(c->snd_una, c->recover) || c->ecn_cwr_wnd;
}
/* The pipe and the scoreboard decide what goes: SACK fast recovery, or the recovery after an RTO
 * that kept the SACKs. */
static inline bool
us_tcp_sack_recovery(const struct us_tcp_conn *c)
{
    return c->sack_ok && (c->in_recovery || c->rto_loss);
}
/* cc.c, shared by every algorithm: the initial window (RFC 6928 IW10, as Linux), the window's
 * validation (grow it only while it is used) and its restart after an idle period. */
uint32_t us_tcp_initial_window(const struct us_tcp_conn *c);
void us_tcp_cwnd_validate(struct us_tcp_conn *c, bool cwnd_limited);
bool us_tcp_cwnd_in_use(const struct us_tcp_conn *c);
bool us_tcp_cwnd_restart(struct us_tcp_conn *c, us_time_t now);
/* RFC 3168 6.1.2: an ECN-Echo reduces the window as a loss would, once per window of data. */
void us_tcp_ecn_reduce(struct us_tcp_conn *c, us_time_t now);

/* The stack clock in microseconds (wraps after 71 minutes: compare differences only), and the time
 * since such a stamp. */
static inline uint32_t
us_tcp_stamp_us(us_time_t now)
{
    return (uint32_t)(now / 1000);
}
static inline us_time_t
us_tcp_since_us(us_time_t now, uint32_t stamp_us)
{
    return (us_time_t)(uint32_t)(us_tcp_stamp_us(now) - stamp_us) * 1000;
}
/* The stack clock in milliseconds, made odd so that 0 can mean "never" (wraps after 49 days:
 * compare differences only). */
static inline uint32_t
us_tcp_stamp_ms(us_time_t now)
{
    return (uint32_t)(now / US_NSEC_PER_MSEC) | 1u;
}
/* A listener's children: embryonic ones on the SYN queue, established ones on the accept queue. */
void us_tcp_child_add(struct us_tcp_conn *l, struct us_tcp_conn *c);
void us_tcp_child_established(struct us_stack *st, struct us_tcp_conn *c);
void us_tcp_child_unlink(struct us_tcp_conn *c);
void us_tcp_check_invariants(const struct us_tcp_conn *c);
/* The lazily allocated range sets: get (allocating; NULL if out of memory) and release if empty. */
struct us_rangeset *us_tcp_rs_get(struct us_rangeset **p);
void us_tcp_rs_trim(struct us_rangeset **p);
static inline uint8_t
us_tcp_rs_n(const struct us_rangeset *s)
{
    return s ? s->n : 0;
}
/* Sequence number of the next byte recv() returns: RCV.NXT less the bytes waiting in the ring
 * and less the peer's FIN, which takes a sequence number but no room. */
static inline us_seq_t
us_tcp_read_seq(const struct us_tcp_conn *c)
{
    return c->rcv_nxt - (uint32_t)us_ring_len(&c->rcvbuf) - (c->rcv_fin ? 1u : 0u);
}
/* netstat: what a connection shows (`ss -ti` style), and connections without a descriptor. */
void us_tcp_conn_info(const struct us_tcp_conn *c, struct us_tcp_info *o);
void us_tcp_conn_sockinfo(const struct us_tcp_conn *c, struct us_sock_info *s);
size_t us_tcp_list_orphans(struct us_stack *st, struct us_sock_info *out, size_t max);

/* loss episodes (tcp_recovery.c): undo of spurious retransmissions, PRR */
/* A loss episode begins (before cwnd and ssthresh are cut): fast recovery or an RTO. */
void us_tcp_episode_begin(struct us_stack *st, struct us_tcp_conn *c, bool rto);
/* `len` bytes were sent again (count them against the episode, if one is under way). */
void us_tcp_episode_rtx(struct us_tcp_conn *c, uint32_t len, us_time_t now);
/* Whether the episode under way has resent something with a timestamp (before an ACK: only an
 * ACK sent after the retransmission can judge it). */
bool us_tcp_episode_rtx_sent(const struct us_tcp_conn *c);
/* An acceptable ACK: its D-SACK (RFC 2883) and timestamp echo may show the episode's
 * retransmissions spurious (then cwnd and ssthresh are restored); `una0` is SND.UNA before it,
 * `rtx_before` what us_tcp_episode_rtx_sent said before it, `delivered` the bytes it newly ACKed
 * or SACKed (PRR's DeliveredData), `newly_lost` the segments RACK marked lost on it; PRR sets
 * cwnd during SACK recovery. */
void us_tcp_episode_ack(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r,
                        us_seq_t una0, bool rtx_before, uint32_t delivered, uint32_t newly_lost);
/* RFC 6937: fast recovery with SACK begins; sets cwnd for the fast retransmit. */
void us_tcp_prr_start(struct us_tcp_conn *c);
/* Fast recovery ended (full ACK, or an RTO took over). */
void us_tcp_episode_recovered(struct us_tcp_conn *c);
/* Ends the episode, if any: it goes back to the stack's pool. */
void us_tcp_episode_free(struct us_stack *st, struct us_tcp_conn *c);
/* Frees the pool's spare episodes (us_tcp_destroy). */
void us_tcp_episode_pool_destroy(struct us_tcp_globals *t);

/* RACK (RFC 8985 6; tcp_rack.c): per-segment send times decide what is lost. A connection with
 * SACK keeps records while data is in flight (c->rack); without them (tcp_recovery 0, no SACK,
 * no memory) RFC 6675's rule and the duplicate-ACK count decide. */
/* A data segment went out: `len` bytes at `seq` (new, or sent again). */
void us_tcp_rack_sent(struct us_stack *st, struct us_tcp_conn *c, us_seq_t seq, uint32_t len,
                      us_time_t now);
/* An acceptable ACK, after its SACK blocks are in the scoreboard and before SND.UNA moves:
 * RFC 8985 6.2 steps 1 to 3 for the segments it delivers. */
void us_tcp_rack_ack(struct us_stack *st, struct us_tcp_conn *c, const struct us_tcp_repr *r,
                     us_time_t now);
/* SND.UNA moved: the records below it go. */
void us_tcp_rack_acked(struct us_tcp_conn *c);
/* RFC 8985 6.2 steps 4 and 5 after an ACK (r) or at the reordering timer (r NULL): marks lost
 * segments, starts recovery or sends, and arms the reordering timer. Returns how many it marked. */
uint32_t us_tcp_rack_detect(struct us_stack *st, struct us_tcp_conn *c,
                            const struct us_tcp_repr *r, us_time_t now);
/* The reordering timer fired (it shares the RTO's slot, RFC 8985 8). */
void us_tcp_rack_timeout(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
/* RFC 8985 6.3, a retransmission timeout: marks lost what was not SACKed (the first segment, and
 * every other sent longer than RACK.rtt + reo_wnd ago). False: no records cover SND.UNA (the
 * caller goes back to SND.UNA instead). */
bool us_tcp_rack_rto(struct us_tcp_conn *c, us_time_t now);
/* The SACK and loss marks restart: the peer dropped data it had SACKed (reneging), or an RTO
 * goes back to SND.UNA. */
void us_tcp_rack_forget(struct us_tcp_conn *c);
/* Recovery (fast or after an RTO) ended; or its retransmissions were all spurious (undone). */
void us_tcp_rack_recovery_exit(struct us_tcp_conn *c);
void us_tcp_rack_undo(struct us_tcp_conn *c);
/* Bytes marked lost and not yet sent again. */
uint32_t us_tcp_rack_lost_bytes(const struct us_tcp_conn *c);
/* The next segment marked lost at or after record *idx (at most one MSS; false: none), for
 * the SACK recovery to resend; *idx moves past it. */
bool us_tcp_rack_next_lost(struct us_tcp_conn *c, uint32_t *idx, us_seq_t *seq, uint32_t *len);
/* Releases the records (connection closed, or idle with nothing in flight). */
void us_tcp_rack_free(struct us_tcp_conn *c);
void us_tcp_rack_info(const struct us_tcp_conn *c, struct us_tcp_info *o);
/* RFC 2883 4, RFC 3708: segments the ACK's D-SACK block reports (0: it has none). */
uint32_t us_tcp_dsack_segs(const struct us_tcp_conn *c, const struct us_tcp_repr *r);

/* output (tcp_output.c) */
void us_tcp_output(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
void us_tcp_send_ack(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
/* A SYN-ACK from c's fields alone (SYN cookies answer with a block that is never kept). */
void us_tcp_send_synack(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
void us_tcp_send_rst_for(struct us_stack *st, const struct us_ip4_rx *rx,
                         const struct us_tcp_repr *seg, us_time_t now);
void us_tcp_send_rst(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
void us_tcp_send_probe(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
void us_tcp_send_keepalive(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
/* RFC 8985 7.3: new data if the peer's window allows, else the last segment again. */
int us_tcp_send_loss_probe(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
/* The new data a loss probe would send now (0: it would send the last segment again). */
size_t us_tcp_probe_new_len(const struct us_tcp_conn *c);
/* RFC 6675: bytes in flight during SACK recovery, and the next hole to retransmit. */
uint32_t us_tcp_sack_pipe(const struct us_tcp_conn *c, us_seq_t *hole, uint32_t *hole_len);
void us_tcp_retransmit_head(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
uint32_t us_tcp_rcv_window(const struct us_tcp_conn *c);
/* The window a SYN (synack false) or SYN-ACK offers: unscaled, in whole segments. */
uint32_t us_tcp_syn_window(const struct us_tcp_conn *c, bool synack);
uint32_t us_tcp_ts_now(const struct us_tcp_conn *c, us_time_t now);
uint16_t us_tcp_mss_for(struct us_stack *st, us_ip4_t dst);
void us_tcp_syn_options(struct us_stack *st, struct us_tcp_conn *c);

/* user calls (tcp_user.c), used by the socket layer */
int us_tcp_user_connect(struct us_stack *st, struct us_tcp_conn *c, us_ip4_t addr, uint16_t port,
                        us_time_t now);
int us_tcp_user_listen(struct us_stack *st, struct us_tcp_conn *c, int backlog);
struct us_tcp_conn *us_tcp_user_accept(struct us_stack *st, struct us_tcp_conn *l);
ssize_t us_tcp_user_send(struct us_stack *st, struct us_tcp_conn *c, const void *buf, size_t len,
                         int flags, us_time_t now);
ssize_t us_tcp_user_recv(struct us_stack *st, struct us_tcp_conn *c, void *buf, size_t len,
                         int flags, us_time_t now);
int us_tcp_user_shutdown(struct us_stack *st, struct us_tcp_conn *c, int how, us_time_t now);
void us_tcp_user_close(struct us_stack *st, struct us_tcp_conn *c, us_time_t now);
int us_tcp_user_poll(const struct us_tcp_conn *c);
/* SIOCATMARK: is the next byte recv() returns the last urgent byte (the byte sent with MSG_OOB)? */
bool us_tcp_user_atmark(const struct us_tcp_conn *c);
/* Bytes us_tcp_user_send would take now (US_SO_SNDSPACE). */
size_t us_tcp_user_sndspace(struct us_stack *st, struct us_tcp_conn *c);

#endif
