/* Congestion control, pluggable per connection: NewReno (RFC 5681, RFC 6582) and CUBIC
 * (RFC 9438, the default as on Linux). Layer: transport. Slow start with appropriate byte
 * counting (RFC 3465, L = 2 SMSS) is shared; the algorithms differ in congestion avoidance and in
 * the ssthresh they choose on a loss. Fast recovery itself lives in tcp_input.c. */
#include <math.h>

#include "core/core.h"
#include "tcp/tcp.h"

static uint32_t
flight(const struct us_tcp_conn *c)
{
    return c->snd_max - c->snd_una;
}

static bool
slow_start(struct us_tcp_conn *c, uint32_t acked)
{
    if (c->cwnd >= c->ssthresh)
        return false;
    /* RFC 5681 3.1 (3.1) with RFC 3465: at most L = 2 SMSS per ACK, which assumes an ACK for
     * every second segment. DEVIATION(RFC 3465 2.3): a stretch ACK (one ACK for many segments,
     * as from a receiver that coalesces them: Linux's GRO answers a 64 KiB TSO frame with one
     * ACK) counts what it covers, as Linux's tcp_slow_start does; with L the window would grow
     * by 2 segments per 45 acknowledged and slow start would never end. The overshoot above
     * ssthresh is cut off. */
    uint32_t inc = acked > 4u * c->mss ? acked : US_MIN(acked, 2u * c->mss);
    c->cwnd = US_MIN(c->cwnd + inc, US_MAX(c->ssthresh, c->cwnd + 2u * c->mss));
    return true;
}

static void
reno_init(struct us_tcp_conn *c)
{
    c->ca_acked = 0;
}

static void
reno_on_ack(struct us_tcp_conn *c, uint32_t acked, us_time_t now)
{
    (void)now;
    if (slow_start(c, acked))
        return;
    /* RFC 5681 3.1 (3.3): about one SMSS per RTT, counted in bytes. */
    c->ca_acked += acked;
    if (c->ca_acked >= c->cwnd) {
        c->ca_acked -= c->cwnd;
        c->cwnd += c->mss;
    }
}

static uint32_t
reno_on_loss(struct us_tcp_conn *c, us_time_t now)
{
    (void)now;
    c->ca_acked = 0;
    return US_MAX(flight(c) / 2, 2u * c->mss); /* RFC 5681 (4) */
}

const struct us_cc_ops us_cc_newreno = {"reno", reno_init, reno_on_ack, reno_on_loss};

/* ---- CUBIC (RFC 9438) ------------------------------------------------------------------------ */

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

static void
cubic_init(struct us_tcp_conn *c)
{
    c->cubic.w_max = c->cubic.w_last_max = 0;
    c->cubic.epoch_ms = 0;
    c->ca_acked = 0;
}

static void
cubic_on_ack(struct us_tcp_conn *c, uint32_t acked, us_time_t now)
{
    if (slow_start(c, acked))
        return;
    double mss = c->mss, cwnd = c->cwnd / mss; /* in segments; state kept as float */
    uint32_t now_ms = us_tcp_stamp_ms(now);
    if (c->cubic.epoch_ms == 0) { /* RFC 9438 4.2: a new congestion-avoidance epoch */
        c->cubic.epoch_ms = now_ms;
        if (cwnd < c->cubic.w_max) {
            c->cubic.k = (float)cbrt((c->cubic.w_max - cwnd) / CUBIC_C); /* (2) */
            c->cubic.origin = c->cubic.w_max;
        } else {
            c->cubic.k = 0;
            c->cubic.origin = (float)cwnd;
        }
        c->cubic.w_est = (float)cwnd;
    }
    double rtt = c->srtt ? (double)c->srtt / 1e9 : 0.1;
    double t = (double)(now_ms - c->cubic.epoch_ms) / 1e3 + rtt; /* one RTT ahead (4.2) */
    double target = c->cubic.origin + CUBIC_C * pow(t - c->cubic.k, 3); /* (1) */
    /* 4.3: the Reno-friendly estimate, alpha = 3(1 - beta) / (1 + beta) */
    double alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
    c->cubic.w_est += (float)(alpha * ((double)acked / mss) / cwnd);
    double next;
    if (c->cubic.w_est > target)
        next = c->cubic.w_est; /* Reno-friendly region */
    else if (target > cwnd)
        next = cwnd + (target - cwnd) / cwnd * ((double)acked / mss); /* 4.4, 4.5 */
    else
        next = cwnd; /* at or above target: hold */
    if (next > cwnd * 1.5)
        next = cwnd * 1.5; /* 4.4: never more than 1.5x per RTT step */
    c->cwnd = (uint32_t)(next * mss);
}

static uint32_t
cubic_on_loss(struct us_tcp_conn *c, us_time_t now)
{
    (void)now;
    double cwnd = (double)c->cwnd / c->mss;
    /* 4.7 fast convergence: release bandwidth to newer flows */
    if (cwnd < c->cubic.w_last_max)
        c->cubic.w_max = (float)(cwnd * (1.0 + CUBIC_BETA) / 2.0);
    else
        c->cubic.w_max = (float)cwnd;
    c->cubic.w_last_max = (float)cwnd;
    c->cubic.epoch_ms = 0;
    uint32_t ss = (uint32_t)(flight(c) * CUBIC_BETA); /* 4.6 */
    return US_MAX(ss, 2u * c->mss);
}

const struct us_cc_ops us_cc_cubic = {"cubic", cubic_init, cubic_on_ack, cubic_on_loss};

/* ---- shared by the algorithms ---------------------------------------------------------------- */

uint32_t
us_tcp_initial_window(const struct us_tcp_conn *c)
{
    return US_MIN(10u * c->mss, US_MAX(2u * c->mss, 14600u)); /* RFC 6928 IW10 (Linux) */
}

/* Congestion window validation. RFC 9438 5.8: cwnd does not grow while the flow is application
 * limited (it sends less than cwnd allows, for want of data or of peer window); RFC 7661 gives
 * the reason: a window the sender does not fill has not been tested against the path, and a
 * later burst would leave at that size. The mechanism is Linux's tcp_cwnd_validate: after each
 * transmission the sender notes whether cwnd held data back, and otherwise the largest flight
 * of the current usage window, which lasts until what was sent when it began is acknowledged. */
void
us_tcp_cwnd_validate(struct us_tcp_conn *c, bool cwnd_limited)
{
    uint32_t flight = c->snd_nxt - c->snd_una;
    uint32_t segs = US_MIN((flight + c->mss - 1u) / c->mss, 0xffffu);
    /* A fresh block (mark 0, no flight noted) takes the first flight whatever its ISS. */
    if (us_seq_geq(c->snd_una, c->cwnd_usage_seq) || cwnd_limited ||
        (!c->cwnd_limited && segs > c->max_flight_segs)) {
        c->cwnd_limited = cwnd_limited;
        c->max_flight_segs = (uint16_t)segs;
        c->cwnd_usage_seq = c->snd_nxt;
    }
}

/* Whether an ACK may grow cwnd: cwnd held data back in this usage window, or, in slow start,
 * cwnd is below twice the largest flight (slow start doubles what was used: Linux's
 * tcp_is_cwnd_limited). */
bool
us_tcp_cwnd_in_use(const struct us_tcp_conn *c)
{
    if (c->cwnd_limited)
        return true;
    return c->cwnd < c->ssthresh && c->cwnd < 2ull * c->max_flight_segs * c->mss;
}

/* RFC 5681 4.1: a sender that has sent no data for longer than the RTO starts again from the
 * restart window, RW = min(IW, cwnd), as its ACK clock has stopped. Called before new data goes
 * out with nothing in flight; returns whether it restarted. CUBIC starts a new epoch: the idle
 * time is not congestion avoidance (RFC 9438 5.8). */
bool
us_tcp_cwnd_restart(struct us_tcp_conn *c, us_time_t now)
{
    if (!c->last_snd_ms || us_tcp_stamp_ms(now) - c->last_snd_ms <= c->rto / US_NSEC_PER_MSEC)
        return false;
    c->cwnd = US_MIN(c->cwnd, us_tcp_initial_window(c));
    c->cubic.epoch_ms = 0;
    c->ca_acked = 0;
    return true;
}

/* RFC 3168 6.1.2: an ECN-Echo is "treated just as a congestion loss": the algorithm picks
 * ssthresh as for a loss, and cwnd comes down to it at once (Linux's CWR state gets there over one
 * RTT with PRR; nothing is lost, so nothing needs resending). The caller sees to once per window
 * and queues the CWR. */
void
us_tcp_ecn_reduce(struct us_tcp_conn *c, us_time_t now)
{
    c->ssthresh = us_tcp_cc(c)->on_loss(c, now);
    c->cwnd = US_MIN(c->cwnd, c->ssthresh);
}
