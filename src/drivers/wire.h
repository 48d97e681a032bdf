/* In-memory link between two stacks in one process, and the seeded impairments it applies
 * (loss, duplication, reordering, corruption, delay, jitter, rate, blackout).
 * Layer: drivers. Holds frames in link-owned buffers; of what they contain it knows only the
 * Ethernet header, to model what the frame check sequence would catch (see `corrupt`).
 * Three pieces, usable apart: us_impairer (decides the fate of one frame), us_delayq (holds
 * frames until their delivery time), us_wire_link (two ends joined through both). The daemon
 * uses the first two on its TAP path, in both directions. Time is always passed in. */
#ifndef US_DRIVERS_WIRE_H
#define US_DRIVERS_WIRE_H

#include <ustack/wire.h>

#include "core/types.h"

/* The public part (include/ustack/wire.h): struct us_impair, us_impair_parse, the statistics
 * and the link. Here: the two pieces the link is made of, which the daemon uses on its TAP. */

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
    bool ce;            /* mark the IPv4 packet CE (us_wire_mark_ce) */
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
/* True when the impairer changes nothing: every frame goes through at once, untouched. */
bool us_impairer_clean(const struct us_impairer *im);
/* RFC 3168 5: marks an Ethernet frame's IPv4 packet CE if its ECN field is ECT(0) or ECT(1),
 * mending the header checksum (RFC 1624); false, and nothing changed, for any other frame. */
bool us_wire_mark_ce(uint8_t *frame, size_t len);

/* ---- delay queue ---------------------------------------------------------------------------- */

/* Frames waiting for a delivery time, each with a small integer tag (the link uses the
 * receiving end; the daemon can use the direction). Frames due at the same time come out in the
 * order they went in. Buffers are recycled through free lists: no malloc per frame once warm. */
struct us_delayq;

#define US_DELAYQ_FRAME_MAX US_WIRE_FRAME_MAX /* largest frame accepted */

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

#endif
