/* In-memory link between two stacks in one process, and the seeded impairments it applies
 * (loss, duplication, reordering, corruption, delay, jitter, rate, blackout).
 * Layer: drivers. Holds frames in link-owned buffers; of what they contain it knows only the
 * Ethernet header, to model what the frame check sequence would catch (see `corrupt`).
 * Three pieces, usable apart: us_impairer (decides the fate of one frame), us_delayq (holds
 * frames until their delivery time), us_wire_link (two ends joined through both). The daemon
 * uses the first two on its TAP path, in both directions. Time is always passed in. */
#ifndef US_DRIVERS_WIRE_H
#define US_DRIVERS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

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
    /* Bit errors on the wire: one random bit of the whole frame flipped, ARP and the Ethernet
     * header included. The sending end's FCS (CRC-32, IEEE 802.3 3.2.9) travels with the frame
     * and the receiving end checks it, as a NIC does: the damaged frame is dropped there and
     * counted in fcs_drops, so nothing damaged on the wire reaches a stack. */
    double biterr;
    us_time_t delay;           /* fixed one-way delay */
    us_time_t jitter;          /* extra delay, uniform in [0, jitter]; may itself reorder */
    us_time_t reorder_gap;     /* how long a reordered frame is held back; 0 means 1 ms */
    uint64_t rate_bps;         /* serialisation rate in bit/s (frame bytes only); 0 = unlimited */
    unsigned queue_limit;      /* frames waiting for the serialiser (rate only); 0 = 1000 */
    us_time_t blackout_start;  /* frames sent in [start, start + len) are dropped */
    us_time_t blackout_len;    /* 0 = no blackout */
};

/* Parses "loss=0.05,dup=0.01,reorder=0.02,corrupt=0.001,delay=5ms,jitter=1ms,rate=100mbit,
 * seed=7". Keys: loss dup reorder corrupt biterr (probabilities), delay jitter reorder_gap
 * blackout_start blackout_len (durations with unit ns/us/ms/s; bare 0 allowed), rate (with unit
 * bit/kbit/mbit/gbit, decimal powers of ten), queue (frames), seed (integer; seed may be NULL if
 * the spec has none). *imp is reset to all zero first; *seed is set only when the spec has seed=.
 * An empty spec is a perfect link. Returns 0 or -EINVAL (unknown key, bad value, repeat). */
int us_impair_parse(struct us_impair *imp, uint64_t *seed, const char *spec);

/* Per direction. sent = frames offered; every offered frame ends up delivered (counted by the
 * link, or by the daemon when it delivers) or in exactly one of lost, blackout, queue_drops,
 * fcs_drops (a duplicate is a copy: both copies carry the same bit error, and each is dropped);
 * duplicated frames are delivered twice. biterrs counts frames damaged on the wire. */
struct us_wire_stats {
    uint64_t sent, delivered, lost, duplicated, reordered, corrupted, queue_drops, blackout;
    uint64_t biterrs, fcs_drops;
};

/* The fate of one frame. */
struct us_impair_verdict {
    int copies;         /* 0 dropped, 1, or 2 (duplicated) */
    us_time_t at[2];    /* delivery time of each copy */
    bool corrupt;       /* flip corrupt_mask in byte corrupt_byte (of every copy) */
    size_t corrupt_byte;
    uint8_t corrupt_mask;
    bool fcs;           /* the frame carries an FCS (the impairer models bit errors) */
    bool biterr;        /* flip biterr_mask in byte biterr_byte after the FCS was computed */
    size_t biterr_byte;
    uint8_t biterr_mask;
};

struct us_impairer;

/* Returns NULL on allocation failure. Decisions come from xoshiro256** seeded with seed, so the
 * same frames offered at the same times get the same fates. */
struct us_impairer *us_impairer_new(const struct us_impair *imp, uint64_t seed);
void us_impairer_free(struct us_impairer *im);
/* Decides the fate of an Ethernet frame of len bytes offered at now (the frame is read only
 * to see whether it may be corrupted), counts it, returns v->copies. */
int us_impairer_decide(struct us_impairer *im, const uint8_t *frame, size_t len, us_time_t now,
                       struct us_impair_verdict *v);
struct us_wire_stats *us_impairer_stats(struct us_impairer *im);

/* ---- delay queue ---------------------------------------------------------------------------- */

/* Frames waiting for a delivery time, each with a small integer tag (the link uses the
 * receiving end; the daemon can use the direction). Frames due at the same time come out in the
 * order they went in. Buffers are recycled through free lists: no malloc per frame once warm. */
struct us_delayq;

#define US_DELAYQ_FRAME_MAX 65560u /* largest frame accepted (a GSO super-frame + headers) */

/* Delivery callback: frame is borrowed for the duration of the call. The callback may push more
 * frames into the same queue. */
typedef void (*us_delayq_fn)(void *ctx, int tag, const uint8_t *frame, size_t len,
                             us_time_t now);

/* max_frames bounds the frames held at once (0 = 16384: an ideal link holds what two TCP
 * senders with 4 MiB windows put on it). NULL on allocation failure. */
struct us_delayq *us_delayq_new(size_t max_frames);
void us_delayq_free(struct us_delayq *q);
/* Copies the frame in. 0, -EMSGSIZE (too big), -ENOBUFS (queue full) or -ENOMEM. */
int us_delayq_push(struct us_delayq *q, const uint8_t *frame, size_t len, us_time_t at, int tag);
/* The frame check sequence of IEEE 802.3 3.2.9 over frame (destination address to the end of
 * the data): CRC-32, zlib's crc32. */
uint32_t us_wire_fcs(const uint8_t *frame, size_t len);
/* Runs the impairer on the frame and queues what it decides (copies, corrupted bytes). A frame
 * with bit errors is queued with the FCS of the frame as sent; us_delayq_deliver checks it and
 * drops a frame that fails, counting it in the impairer's fcs_drops (so the impairer must
 * outlive the frames it queued, or the queue must be freed first).
 * Returns the number of copies queued (0 when dropped), or a negative errno from the push, in
 * which case the frame counts as a queue drop. */
int us_delayq_push_impaired(struct us_delayq *q, struct us_impairer *im, const uint8_t *frame,
                            size_t len, us_time_t now, int tag);
/* Delivers up to max frames due at or before now, earliest first. Returns how many. */
size_t us_delayq_deliver(struct us_delayq *q, us_time_t now, size_t max, us_delayq_fn fn,
                         void *ctx);
/* The earliest delivery time held, or US_TIME_NEVER. */
us_time_t us_delayq_next_due(const struct us_delayq *q);
size_t us_delayq_len(const struct us_delayq *q);
/* Frame buffers ever allocated; stops growing once the queue has seen its peak (tests check
 * that steady state costs no malloc). */
size_t us_delayq_allocated(const struct us_delayq *q);

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
 * -EMSGSIZE for frames over US_DELAYQ_FRAME_MAX. */
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

#endif
