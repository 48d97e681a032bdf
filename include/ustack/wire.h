/* In-memory link between two stacks in one process, with seeded impairments (loss, duplication,
 * reordering, corruption, delay, jitter, rate, blackout, CE marks). Public; part of libustack.
 * Holds frames in link-owned buffers; of what they contain it knows only the Ethernet header, to
 * model what the frame check sequence would catch (see `corrupt`), and the IPv4 header's ECN
 * field and checksum, to mark congestion (see `ce`). Time is always passed in:
 * a program drives both stacks and the link from one clock of its own. */
#ifndef USTACK_WIRE_H
#define USTACK_WIRE_H

#include <ustack/types.h>

USTACK_BEGIN_DECLS

/* ---- impairments ---------------------------------------------------------------------------- */

/* All zero means a perfect link: no loss, no delay, unlimited rate. Probabilities are per frame,
 * in [0, 1]. */
struct us_impair {
    double loss;               /* frame dropped */
    double dup;                /* frame delivered twice */
    double reorder;            /* frame held back by reorder_gap, so later frames overtake it */
    /* One random bit of one random byte flipped, after the Ethernet header and never in an ARP
     * frame. A real link's FCS drops frames damaged on the wire; what escapes it is damage
     * above the link (a router's memory, a bad NIC), which IP, TCP and UDP checksums must
     * catch. ARP has no checksum and is not forwarded, so such damage does not reach it (and
     * a poisoned ARP cache is not what the IP/TCP/UDP checks are there to catch). The counter
     * counts frames corrupted, not frames offered. */
    double corrupt;
    us_time_t delay;           /* fixed one-way delay */
    us_time_t jitter;          /* extra delay, uniform in [0, jitter]; may itself reorder */
    us_time_t reorder_gap;     /* how long a reordered frame is held back; 0 means 1 ms */
    uint64_t rate_bps;         /* serialisation rate in bit/s (frame bytes only); 0 = unlimited */
    unsigned queue_limit;      /* frames waiting for the serialiser (rate only); 0 = 1000 */
    us_time_t blackout_start;  /* frames sent in [start, start + len) are dropped */
    us_time_t blackout_len;    /* 0 = no blackout */
    /* Bit errors on the wire: one random bit of the whole frame flipped, ARP and the Ethernet
     * header included. The sending end's FCS (CRC-32, IEEE 802.3 3.2.9) travels with the frame
     * and the receiving end checks it, as a NIC does: the damaged frame is dropped there and
     * counted in fcs_drops, so nothing damaged on the wire reaches a stack. */
    double biterr;
    /* RFC 3168 5 as a router's active queue management does it: an IPv4 packet whose ECN field
     * says ECN-capable (ECT(0) or ECT(1)) is marked CE, with its header checksum mended. Other
     * frames pass untouched and draw nothing. */
    double ce;
    /* Repeats the blackout: frames sent in [start + k * every, start + k * every + len), for
     * every k >= 0, are dropped (a link that fails for len once a period). 0 = once. */
    us_time_t blackout_every;
    /* Frame skips delay and jitter and goes out at once, overtaking the frames still delayed
     * (netem's "delay D reorder P"; reorder above holds a frame back instead). Counted in
     * reordered. */
    double early;
};

/* Parses "loss=0.05,dup=0.01,reorder=0.02,corrupt=0.001,delay=5ms,jitter=1ms,rate=100mbit,
 * seed=7". Keys: loss dup reorder early corrupt biterr ce (probabilities), delay jitter
 * reorder_gap blackout_start blackout_len blackout_every (durations with unit ns/us/ms/s; bare
 * 0 allowed), rate (with unit bit/kbit/mbit/gbit, decimal powers of ten), queue (frames), seed
 * (integer; seed may be NULL if the spec has none). *imp is reset to all zero first; *seed is
 * set only when the spec has seed=. An empty spec is a perfect link. Returns 0 or -EINVAL
 * (unknown key, bad value, repeat). */
int us_impair_parse(struct us_impair *imp, uint64_t *seed, const char *spec);

/* Per direction. sent = frames offered; every offered frame ends up delivered (counted by the
 * link, or by the daemon when it delivers) or in exactly one of lost, blackout, queue_drops,
 * fcs_drops (a duplicate is a copy: both copies carry the same bit error, and each is dropped);
 * duplicated frames are delivered twice. biterrs counts frames damaged on the wire. */
struct us_wire_stats {
    uint64_t sent, delivered, lost, duplicated, reordered, corrupted, queue_drops, blackout;
    uint64_t biterrs, fcs_drops;
    uint64_t ce_marked;
    uint64_t delayed; /* frames given a delivery time later than when they were offered */
};

/* Largest frame the link carries (a GSO super-frame and its headers). */
#define US_WIRE_FRAME_MAX 65560u

/* ---- the link ------------------------------------------------------------------------------- */

struct us_wire_link;
struct us_wire_end;

/* Receive callback for one end: frame is borrowed. Wire it to us_input(). */
typedef void (*us_wire_rx_fn)(void *ctx, const uint8_t *frame, size_t len, us_time_t now);

/* Most frames one us_wire_link_deliver() call hands over. */
#define US_WIRE_DELIVER_MAX 256

/* Both directions get imp (NULL = perfect link), each with its own random stream derived from
 * seed. NULL on allocation failure. */
struct us_wire_link *us_wire_link_new(const struct us_impair *imp, uint64_t seed);
void us_wire_link_free(struct us_wire_link *l);
/* End i (0 or 1): the tx_ctx to give the stack along with us_wire_end_tx. */
struct us_wire_end *us_wire_link_end(struct us_wire_link *l, int i);
/* us_tx_fn: copies the frame into the link, stamped with the link's current time, for the
 * opposite end. Returns 0 even when the impairments drop it (as a real wire would);
 * -EMSGSIZE for frames over US_WIRE_FRAME_MAX. */
int us_wire_end_tx(void *end, const uint8_t *frame, size_t len);
/* The harness's clock: call before feeding either stack. */
void us_wire_link_set_now(struct us_wire_link *l, us_time_t now);
/* Delivers every frame due at or before now (at most US_WIRE_DELIVER_MAX) to the opposite end's
 * rx: frames sent by end 0 go to rx(ctx1, ...), from end 1 to rx(ctx0, ...). Also sets the
 * link's time to now. Returns the number delivered. */
size_t us_wire_link_deliver(struct us_wire_link *l, us_time_t now, us_wire_rx_fn rx, void *ctx0,
                            void *ctx1);
us_time_t us_wire_link_next_due(const struct us_wire_link *l);
/* Frame buffers the link has allocated so far (see us_delayq_allocated()). */
size_t us_wire_link_buffers(const struct us_wire_link *l);
/* Counters of frames sent by end i. */
const struct us_wire_stats *us_wire_link_stats(const struct us_wire_link *l, int i);

USTACK_END_DECLS

#endif
