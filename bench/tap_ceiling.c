/* The TAP ceiling for bench_tap (the TCP issue, part 2): a program that only reads and writes
 * frames on the same kind of TAP device, against the same kernel peers, with no TCP stack.
 * Usage: tap_ceiling NETNS [--mtu 1500] [--bytes N] [--rr N] [--runs N] [--vnet 0|1]
 *
 * Two halves, one per direction, so each of bench_tap's figures has a baseline going the same way:
 *   tx (sender ceiling, user -> kernel): a minimal TCP sender. It connects to the kernel's sink
 *     at 192.0.2.1:5001 (the TB_SINK child bench_tap's tx run uses) with a SYN (MSS for the MTU,
 *     window scale 7, no SACK or timestamps), ACKs the SYN-ACK, then sends N bytes in full-MSS
 *     segments as fast as the kernel's advertised window allows (its cumulative ACK and scaled
 *     window are the only state; no congestion window), then a FIN, and ACKs the kernel's FIN.
 *     Per frame it does what ustack's send path must do at least: the payload is copied from a
 *     256 KiB source ring (ustack's default send buffer size) into the frame with the TCP
 *     checksum summed on the way (us_csum_copy), then one write(2). With --vnet 1 it sends what
 *     ustack's vnet mode sends: super-frames of as many whole MSS as fit in 64 KiB with TSO and
 *     checksum offload (us_tap_write_gso; the payload is still copied, the checksum field holds
 *     the pseudo-header sum). It does not copy from the application into a send buffer (ustack
 *     does), verify the ACKs' checksums or keep timers. No retransmission: the TAP is loss-free
 *     when the sender stays inside the window, and if a frame is lost anyway the run stops with
 *     an error after 2 s without progress. Figures as bench_tap's tx: payload Gbit/s over the
 *     wall clock from the first data byte to the kernel's report (it read EOF), frames written
 *     per second, and the same bytes over this process's CPU time.
 *   rx (receiver ceiling, kernel -> user): a stateless TCP reflector for 192.0.2.2: SYN ->
 *     SYN-ACK (same options, window 65535 << 7), every data segment -> one cumulative ACK, FIN ->
 *     FIN-ACK; in rr mode each data segment's payload is echoed back in the ACK. No buffering, no
 *     copies beyond read(2)/write(2), checksums computed only for what it writes (received ones
 *     are not verified). So the kernel's sender meets a receiver that costs one read and one
 *     small write per frame: the most a user-space process reading this TAP can see.
 *       rx: the kernel connects to :5002 and sends N bytes (Gbit/s, frames/s read);
 *       rr: the kernel connects to :5003, 1 byte each way, TCP_NODELAY (transactions/s).
 * With --vnet 1 the TAP has IFF_VNET_HDR and TSO/checksum offloads, so the kernel hands over up
 * to 64 KiB super-frames per read and takes them per write.
 * tun hands a written frame to the kernel's stack inside write(2), so a tx run's CPU time includes
 * the kernel's receive work for it; the same holds for bench_tap's tx. */
#include <poll.h>

#include <ustack.h>

#include "tap_common.h"
#include "wire/bytes.h"
#include "wire/wire.h"

#define MAX_RUNS 9
#define SINK_PORT 5001
#define SRC_RING (256u << 10) /* source of the payload, like ustack's default send buffer */
#define STALL_SECS 2.0

static struct us_tap tap;
static uint8_t in[US_TAP_FRAME_MAX + 64], out[US_TAP_FRAME_MAX];
static uint8_t src_ring[SRC_RING + 65536]; /* + the largest segment, so each copy is one run */
static const uint8_t my_mac[6] = {2, 0, 0, 0, 0, 2};
static int g_mtu = 1500;
static bool g_vnet;
static uint32_t my_seq; /* reflector: next sequence number we send */
static uint64_t frames_read, frames_written;

/* ---- frames: one builder for both halves ---------------------------------------------------- */

/* One TCP/IPv4 segment's header fields, host order. */
struct seg {
    const uint8_t *dmac;
    us_ip4_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags; /* US_TCP_* */
    uint16_t wnd;
    bool syn_opts; /* MSS for the MTU, NOP, window scale 7: the options of our SYN and SYN-ACK */
};

/* Writes the Ethernet, IPv4 (DF, TTL 64, header checksum) and TCP headers of a segment that will
 * carry plen payload bytes; the TCP checksum field is left zero for put_csum. Returns the header
 * bytes: the payload goes at out + the result. */
static size_t
put_hdrs(uint8_t *o, const struct seg *s, size_t plen)
{
    size_t thl = US_TCP_HDR_LEN + (s->syn_opts ? 8 : 0);
    memcpy(o, s->dmac, 6);
    memcpy(o + 6, my_mac, 6);
    us_store_be16(o + 12, 0x0800);
    uint8_t *oi = o + 14, *ot = oi + 20;
    memset(oi, 0, 20);
    oi[0] = 0x45;
    us_store_be16(oi + 2, (uint16_t)(20 + thl + plen));
    oi[6] = 0x40; /* DF */
    oi[8] = 64;
    oi[9] = 6;
    us_store_be32(oi + 12, s->src);
    us_store_be32(oi + 16, s->dst);
    us_store_be16(oi + 10, us_csum_finish(us_csum_ip4_hdr(oi)));
    memset(ot, 0, thl);
    us_store_be16(ot, s->sport);
    us_store_be16(ot + 2, s->dport);
    us_store_be32(ot + 4, s->seq);
    us_store_be32(ot + 8, s->ack);
    ot[12] = (uint8_t)((thl / 4) << 4);
    ot[13] = s->flags;
    us_store_be16(ot + 14, s->wnd);
    if (s->syn_opts) {
        ot[20] = 2, ot[21] = 4;
        us_store_be16(ot + 22, (uint16_t)(g_mtu - 40));
        ot[24] = 1, ot[25] = 3, ot[26] = 3, ot[27] = 7; /* NOP, window scale 7 */
    }
    return 14 + 20 + thl;
}

/* Fills the TCP checksum of the segment put_hdrs wrote (hl header bytes, plen payload bytes
 * whose sum is psum). partial: the field gets the folded pseudo-header sum, uncomplemented, and
 * the kernel finishes it (virtio NEEDS_CSUM), as us_wire_tcp_emit_partial does for ustack. */
static void
put_csum(uint8_t *o, const struct seg *s, size_t hl, size_t plen, uint32_t psum, bool partial)
{
    uint8_t *ot = o + 14 + 20;
    size_t thl = hl - 14 - 20;
    uint32_t sum = us_csum_pseudo4(s->src, s->dst, 6, (uint16_t)(thl + plen));
    if (partial)
        us_store_be16(ot + 16, (uint16_t)~us_csum_finish(sum));
    else /* the header has even length, so the payload's sum just adds on */
        us_store_be16(ot + 16, us_csum_finish(us_csum_add(sum + psum, ot, thl)));
}

/* The TCP header of an IPv4/TCP frame and its payload length, or NULL if the frame is not one
 * or its lengths do not add up. Checksums are not verified (the kernel wrote the frame). */
static const uint8_t *
tcp_in(const uint8_t *f, size_t n, size_t *plen)
{
    if (n < 14 + 20 + 20 || us_load_be16(f + 12) != 0x0800)
        return NULL;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = us_load_be16(ip + 2);
    if (ip[9] != 6 || tot > n - 14 || ihl < 20 || ihl + 20 > tot)
        return NULL;
    const uint8_t *th = ip + ihl;
    size_t thl = (size_t)(th[12] >> 4) * 4;
    if (thl < 20 || ihl + thl > tot)
        return NULL;
    *plen = tot - ihl - thl;
    return th;
}

/* ---- rx ceiling: the reflector ------------------------------------------------------------- */

/* Handles one frame; returns payload bytes acknowledged. */
static size_t
reflect(const uint8_t *f, size_t n)
{
    size_t plen;
    const uint8_t *th = tcp_in(f, n, &plen);
    if (!th)
        return 0;
    const uint8_t *ip = f + 14;
    uint8_t flags = th[13];
    bool syn = flags & US_TCP_SYN, fin = flags & US_TCP_FIN;
    if (!syn && !fin && plen == 0)
        return 0; /* pure ACK: nothing to answer */
    size_t echo = 0;
    uint16_t dport = us_load_be16(th + 2);
    if (dport == 5003 && plen > 0 && plen <= 1024)
        echo = plen;
    if (syn)
        my_seq = 0x10000000u;
    struct seg s = {.dmac = f + 6, .src = us_load_be32(ip + 16), .dst = us_load_be32(ip + 12),
                    .sport = dport, .dport = us_load_be16(th),
                    .seq = my_seq, .ack = us_load_be32(th + 4) + (uint32_t)plen + syn + fin,
                    .flags = (uint8_t)(US_TCP_ACK | (syn ? US_TCP_SYN : 0) |
                                       (fin ? US_TCP_FIN : 0) | (echo ? US_TCP_PSH : 0)),
                    .wnd = 65535, .syn_opts = syn};
    size_t hl = put_hdrs(out, &s, echo);
    const uint8_t *payload = th + (size_t)(th[12] >> 4) * 4;
    uint32_t psum = echo ? us_csum_copy(out + hl, payload, echo, 0) : 0;
    put_csum(out, &s, hl, echo, psum, false);
    my_seq += (uint32_t)echo + syn + fin;
    us_tap_write(&tap, out, hl + echo);
    return plen;
}

static void
drain(void)
{
    for (int i = 0; i < 256; i++) {
        ssize_t n = us_tap_read(&tap, in, sizeof(in), NULL);
        if (n <= 0)
            return;
        frames_read++;
        reflect(in, (size_t)n);
    }
}

/* Runs one kernel peer to completion, reflecting; returns its report. */
static struct tb_report
run(const char *ns, enum tb_role role, int port, unsigned long long n, double *cpu,
    uint64_t *frames)
{
    int rep;
    pid_t pid = tb_child(ns, role, port, n, &rep);
    struct tb_report r;
    uint64_t f0 = frames_read;
    double c0 = tb_cpu();
    for (;;) {
        struct pollfd p[2] = {{us_tap_fd(&tap), POLLIN, 0}, {rep, POLLIN, 0}};
        poll(p, 2, 100);
        drain();
        if (tb_report_ready(rep, &r))
            break;
    }
    *cpu = tb_cpu() - c0;
    *frames = frames_read - f0;
    waitpid(pid, NULL, 0);
    close(rep);
    return r;
}

/* ---- tx ceiling: the sender ---------------------------------------------------------------- */

/* The sender's one connection. Data positions are payload offsets (0 = the byte after our SYN),
 * 64-bit so that no comparison wraps; sequence numbers are iss + 1 + offset. */
struct snd {
    struct seg h;      /* addressing, ports; seq/ack/flags set per segment */
    uint32_t iss;
    uint64_t bytes;    /* to send */
    uint64_t una, nxt; /* acknowledged, sent */
    uint64_t edge;     /* right edge of the kernel's window: una + (window << wscale) */
    unsigned wscale;   /* the kernel's window scale (RFC 7323 2.3), 0 if not negotiated */
    size_t mss, seg_max;
    bool established, fin_sent, fin_acked, peer_fin;
};

/* A segment without payload (SYN, ACK, FIN). */
static void
tx_ctl(struct snd *c, uint8_t flags, uint64_t off)
{
    c->h.seq = c->iss + (flags & US_TCP_SYN ? 0 : 1 + (uint32_t)off);
    c->h.flags = flags;
    c->h.syn_opts = flags & US_TCP_SYN;
    size_t hl = put_hdrs(out, &c->h, 0);
    put_csum(out, &c->h, hl, 0, 0, false);
    int r = us_tap_write(&tap, out, hl);
    if (r < 0)
        tb_die("tx: write", r);
}

/* One data segment of len bytes at c->nxt: headers, payload copied from the source ring (summed
 * on the way without offload), checksum, one write. */
static void
tx_data(struct snd *c, size_t len)
{
    c->h.seq = c->iss + 1 + (uint32_t)c->nxt;
    c->h.flags = (uint8_t)(US_TCP_ACK | (c->nxt + len == c->bytes ? US_TCP_PSH : 0));
    c->h.syn_opts = false;
    size_t hl = put_hdrs(out, &c->h, len);
    const uint8_t *src = src_ring + c->nxt % SRC_RING;
    int r;
    if (g_vnet) {
        memcpy(out + hl, src, len);
        put_csum(out, &c->h, hl, len, 0, true);
        struct us_tap_txgso g = {.gso_type = len > c->mss ? US_TAP_GSO_TCPV4 : US_TAP_GSO_NONE,
                                 .gso_size = (uint16_t)(len > c->mss ? c->mss : 0),
                                 .hdr_len = (uint16_t)hl, .csum_start = 14 + 20,
                                 .csum_offset = 16};
        r = us_tap_write_gso(&tap, out, hl + len, &g);
    } else {
        uint32_t psum = us_csum_copy(out + hl, src, len, 0);
        put_csum(out, &c->h, hl, len, psum, false);
        r = us_tap_write(&tap, out, hl + len);
    }
    if (r < 0)
        tb_die("tx: write", r);
    frames_written++;
    c->nxt += len;
}

/* Takes one frame from the kernel: the SYN-ACK, its ACKs and window updates, its FIN. */
static void
tx_input(struct snd *c, const uint8_t *f, size_t n)
{
    size_t plen;
    const uint8_t *th = tcp_in(f, n, &plen);
    if (!th || us_load_be16(th) != SINK_PORT || us_load_be16(th + 2) != c->h.sport)
        return;
    uint8_t flags = th[13];
    if (flags & US_TCP_RST) {
        if (c->established)
            tb_die("tx: the kernel reset the connection", ECONNRESET);
        return; /* no listener yet: the SYN goes again */
    }
    if (!(flags & US_TCP_ACK))
        return;
    uint32_t ack = us_load_be32(th + 8);
    if (!c->established) {
        struct us_tcp_repr r;
        const uint8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if (!(flags & US_TCP_SYN) || ack != c->iss + 1 ||
            us_wire_tcp_parse(&r, th, us_load_be16(ip + 2) - ihl, c->h.dst, c->h.src, false))
            return;
        /* RFC 7323 2.2-2.3: the SYN-ACK's window is unscaled; scaling holds only if both sides
         * sent the option, and a shift above 14 is taken as 14. */
        c->wscale = r.has_wscale ? US_MIN(r.wscale, 14u) : 0;
        c->mss = US_MIN((size_t)(g_mtu - 40), r.has_mss ? (size_t)r.mss : 536u);
        /* With TSO, as many whole segments as fit in a 64 KiB IP datagram (ustack's rule). */
        c->seg_max = g_vnet ? (65535 - 20 - 60) / c->mss * c->mss : c->mss;
        c->h.ack = r.seq + 1;
        c->edge = r.wnd;
        c->established = true;
        return;
    }
    /* RFC 9293 3.10.7.4: an ACK in (SND.UNA, SND.NXT] moves SND.UNA; the window comes with any
     * acceptable ACK (the kernel's segments arrive in order, so SND.WL1/WL2 add nothing). */
    uint64_t max = c->nxt - c->una + (c->fin_sent ? 1 : 0);
    uint32_t d = ack - (c->iss + 1 + (uint32_t)c->una);
    if (d <= max) {
        if (c->fin_sent && d == max) {
            c->fin_acked = true;
            d--;
        }
        c->una += d;
        c->edge = c->una + ((uint64_t)us_load_be16(th + 14) << c->wscale);
    }
    if (flags & US_TCP_FIN) {
        c->peer_fin = true;
        c->h.ack = us_load_be32(th + 4) + (uint32_t)plen + 1;
    }
}

/* Reads every waiting frame into tx_input; returns how many. */
static int
tx_drain(struct snd *c)
{
    int k = 0;
    for (; k < 256; k++) {
        ssize_t n = us_tap_read(&tap, in, sizeof(in), NULL);
        if (n <= 0)
            break;
        frames_read++;
        tx_input(c, in, (size_t)n);
    }
    return k;
}

/* Sends what the window allows, then the FIN once all data is out; returns segments sent. */
static int
tx_push(struct snd *c)
{
    int k = 0;
    while (c->nxt < c->bytes) {
        uint64_t room = c->edge > c->nxt ? c->edge - c->nxt : 0;
        size_t len = (size_t)US_MIN(US_MIN(c->bytes - c->nxt, (uint64_t)c->seg_max), room);
        /* RFC 1122 4.2.3.4 (sender SWS avoidance): a short segment only to finish the data, or
         * when nothing is in flight (no ACK would come to open the window). */
        if (len == 0 || (len < c->mss && len < c->bytes - c->nxt && c->nxt != c->una))
            break;
        tx_data(c, len);
        k++;
    }
    if (c->nxt == c->bytes && !c->fin_sent) {
        tx_ctl(c, US_TCP_ACK | US_TCP_FIN, c->bytes);
        c->fin_sent = true;
        k++;
    }
    return k;
}

/* Waits for the tap (and fd, if >= 0) to be readable, at most ms, then reads what came. */
static void
tx_wait(struct snd *c, int fd, int ms)
{
    struct pollfd p[2] = {{us_tap_fd(&tap), POLLIN, 0}, {fd, POLLIN, 0}};
    poll(p, fd >= 0 ? 2 : 1, ms);
    tx_drain(c);
}

/* User -> kernel, run number i. Returns payload Gbit/s over the wall clock; *cpu the same over
 * this process's CPU time, *fps data frames written per second. */
static double
run_tx(const char *ns, unsigned long long bytes, int i, double *cpu, double *fps)
{
    int rep;
    pid_t pid = tb_child(ns, TB_SINK, SINK_PORT, 0, &rep);
    usleep(200000); /* the kernel's listener, as bench_tap waits */
    struct snd c = {.h = {.src = US_IP4(192, 0, 2, 2), .dst = US_IP4(192, 0, 2, 1),
                          .sport = (uint16_t)(40000 + i), .dport = SINK_PORT, .wnd = 65535},
                    .iss = 0x20000000u + (uint32_t)i * 0x01000000u, .bytes = bytes};
    uint8_t kmac[6];
    tb_kernel_mac(&tap, kmac);
    c.h.dmac = kmac;
    /* Handshake: the SYN goes again every 100 ms until a SYN-ACK (a RST means no listener yet). */
    for (int k = 0; !c.established; k++) {
        if (k == 50)
            tb_die("tx: no SYN-ACK from the kernel", ETIMEDOUT);
        tx_ctl(&c, US_TCP_SYN, 0);
        double t = tb_now();
        while (!c.established && tb_now() - t < 0.1)
            tx_wait(&c, -1, 10);
    }
    tx_ctl(&c, US_TCP_ACK, 0);
    double t0 = tb_now(), c0 = tb_cpu(), progress = t0;
    uint64_t f0 = frames_written, mark = 0; /* progress: bytes acked, + 1 for the FIN */
    struct tb_report rp;
    for (;;) {
        int sent = tx_push(&c);
        int got = tx_drain(&c);
        /* The sink reports after it read EOF, so after our FIN: only then is the pipe worth a
         * system call. */
        if (c.fin_sent && tb_report_ready(rep, &rp))
            break;
        if (!sent && !got)
            tx_wait(&c, c.fin_sent ? rep : -1, 100);
        double now = tb_now();
        if (c.una + c.fin_acked != mark) {
            mark = c.una + c.fin_acked;
            progress = now;
        } else if (now - progress > STALL_SECS) {
            fprintf(stderr, "tap_ceiling: tx: no progress for %.0f s: %llu of %llu bytes acked, "
                            "%llu sent, FIN %s; a frame was lost (the ceiling does not "
                            "retransmit) or the kernel's sink failed\n",
                    STALL_SECS, (unsigned long long)c.una, bytes, (unsigned long long)c.nxt,
                    c.fin_acked ? "acked" : c.fin_sent ? "sent" : "not sent");
            kill(pid, SIGKILL);
            exit(1);
        }
    }
    double dt = tb_now() - t0, dc = tb_cpu() - c0;
    /* The kernel's FIN follows its EOF; ACK it so its socket does not linger in LAST-ACK. */
    for (double t = tb_now(); !c.peer_fin && tb_now() - t < 1.0;)
        tx_wait(&c, -1, 10);
    if (c.peer_fin)
        tx_ctl(&c, US_TCP_ACK, c.bytes + 1);
    waitpid(pid, NULL, 0);
    close(rep);
    if (rp.bytes != bytes || rp.err)
        fprintf(stderr, "tap_ceiling: tx: kernel got %llu of %llu bytes (%s)\n", rp.bytes, bytes,
                strerror(rp.err));
    *fps = (double)(frames_written - f0) / dt;
    *cpu = (double)rp.bytes * 8 / dc / 1e9;
    return (double)rp.bytes * 8 / dt / 1e9;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tap_ceiling NETNS [--mtu N] [--bytes N] [--rr N] [--runs N] "
                        "[--vnet 0|1] [--only tx|rx|rr]\n");
        return 2;
    }
    struct tb_opts o = tb_parse_opts(argc, argv, MAX_RUNS);
    const char *ns = o.ns, *only = o.only;
    bool do_tx = !*only || !strcmp(only, "tx"), do_rx = !*only || !strcmp(only, "rx"),
         do_rr = !*only || !strcmp(only, "rr");
    int runs = o.runs;
    unsigned long long bytes = o.bytes, rr = o.rr;
    g_mtu = o.mtu;
    g_vnet = o.vnet;
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof(src_ring); i++)
        src_ring[i] = (uint8_t)(i * 7 + 1);
    tb_open_tap(&tap, ns, g_mtu, g_vnet ? US_TAP_VNET_HDR : 0);
    double tg[MAX_RUNS] = {0}, tf[MAX_RUNS] = {0}, tgc[MAX_RUNS] = {0};
    double g[MAX_RUNS] = {0}, fps[MAX_RUNS] = {0}, t[MAX_RUNS] = {0}, gc[MAX_RUNS] = {0},
           tc[MAX_RUNS] = {0};
    for (int i = 0; i < runs; i++) {
        double cpu;
        uint64_t fr;
        struct tb_report r;
        if (do_tx)
            tg[i] = run_tx(ns, bytes, i, &tgc[i], &tf[i]);
        if (do_rx) {
            r = run(ns, TB_SOURCE, 5002, bytes, &cpu, &fr);
            g[i] = (double)r.bytes * 8 / r.secs / 1e9;
            gc[i] = (double)r.bytes * 8 / cpu / 1e9;
            fps[i] = (double)fr / r.secs;
        }
        if (do_rr) {
            r = run(ns, TB_RR, 5003, rr, &cpu, &fr);
            t[i] = (double)r.trans / r.secs;
            tc[i] = (double)r.trans / cpu;
        }
    }
    double *all[8] = {tg, tf, tgc, g, fps, t, gc, tc};
    for (int k = 0; k < 8; k++)
        qsort(all[k], (size_t)runs, sizeof(double), tb_cmp_double);
    int m = runs / 2;
    printf("ceiling tap mtu=%d vnet=%d", g_mtu, (int)g_vnet);
    if (do_rx)
        printf(" rx_gbps=%.3f rx_frames_per_s=%.0f rx_gbps_cpu=%.3f", g[m], fps[m], gc[m]);
    if (do_rr)
        printf(" rr_kps=%.3f rr_kps_cpu=%.3f", t[m] * 1e-3, tc[m] * 1e-3);
    if (do_tx)
        printf(" tx_gbps=%.3f tx_frames_per_s=%.0f tx_gbps_cpu=%.3f", tg[m], tf[m], tgc[m]);
    printf("\n");
    us_tap_close(&tap);
    return 0;
}
