/* The TAP ceiling for bench_tap (the TCP issue, part 2): a program that only reads and writes
 * frames on the same kind of TAP device, against the same kernel peers, with no TCP stack.
 * Usage: tap_ceiling NETNS [--mtu 1500] [--bytes N] [--rr N] [--runs N] [--vnet 0|1]
 *
 * It is a stateless TCP reflector for 192.0.2.2: SYN -> SYN-ACK (MSS for the MTU, window scale
 * 7, window 65535 << 7, no SACK or timestamps), every data segment -> one cumulative ACK, FIN ->
 * FIN-ACK; in rr mode each data segment's payload is echoed back in the ACK. No buffering, no
 * copies beyond read(2)/write(2), checksums computed only for what it writes (received ones are
 * not verified). So the kernel's sender meets a receiver that costs one read and one small write
 * per frame: the most a user-space process reading this TAP can see.
 *   rx: the kernel connects to :5002 and sends N bytes (Gbit/s, frames/s read);
 *   rr: the kernel connects to :5003, 1 byte each way, TCP_NODELAY (transactions/s).
 * With --vnet 1 the TAP has IFF_VNET_HDR and TSO/checksum offloads, so the kernel hands over up
 * to 64 KiB super-frames per read (the offloaded ceiling ustack cannot use yet). */
#include <poll.h>

#include <ustack.h>

#include "tap_common.h"
#include "wire/bytes.h"
#include "wire/wire.h"

#define MAX_RUNS 9

static struct us_tap tap;
static uint8_t in[US_TAP_FRAME_MAX + 64], out[2048];
static const uint8_t my_mac[6] = {2, 0, 0, 0, 0, 2};
static int g_mtu = 1500;
static uint32_t my_seq; /* next sequence number we send */
static uint64_t frames_read;

/* Handles one frame; returns payload bytes acknowledged. */
static size_t
reflect(const uint8_t *f, size_t n, const struct us_tap_rxmeta *m)
{
    (void)m;
    if (n < 14 + 20 + 20 || us_load_be16(f + 12) != 0x0800)
        return 0;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = us_load_be16(ip + 2);
    if (ip[9] != 6 || tot > n - 14 || ihl < 20)
        return 0;
    const uint8_t *th = ip + ihl;
    size_t thl = (size_t)(th[12] >> 4) * 4;
    size_t plen = tot - ihl - thl;
    uint8_t flags = th[13];
    uint32_t seq = us_load_be32(th + 4);
    bool syn = flags & 0x02, fin = flags & 0x01;
    if (!syn && !fin && plen == 0)
        return 0; /* pure ACK: nothing to answer */
    /* build the reply: Ethernet, IPv4, TCP (+ options on SYN-ACK, + echoed payload) */
    size_t echo = 0;
    uint16_t dport = us_load_be16(th + 2);
    if (dport == 5003 && plen > 0 && plen <= 1024)
        echo = plen;
    size_t opt = syn ? 8 : 0, tcp_len = 20 + opt + echo, ip_len = 20 + tcp_len;
    memcpy(out, f + 6, 6);
    memcpy(out + 6, my_mac, 6);
    us_store_be16(out + 12, 0x0800);
    uint8_t *oi = out + 14, *ot = oi + 20;
    memset(oi, 0, 20);
    oi[0] = 0x45;
    us_store_be16(oi + 2, (uint16_t)ip_len);
    oi[6] = 0x40; /* DF */
    oi[8] = 64;
    oi[9] = 6;
    memcpy(oi + 12, ip + 16, 4);
    memcpy(oi + 16, ip + 12, 4);
    us_store_be16(oi + 10, us_csum_finish(us_csum_add(0, oi, 20)));
    memset(ot, 0, 20 + opt);
    memcpy(ot, th + 2, 2);
    memcpy(ot + 2, th, 2);
    if (syn)
        my_seq = 0x10000000u;
    us_store_be32(ot + 4, my_seq);
    us_store_be32(ot + 8, seq + (uint32_t)plen + syn + fin);
    ot[12] = (uint8_t)(((20 + opt) / 4) << 4);
    ot[13] = (uint8_t)(0x10 | (syn ? 0x02 : 0) | (fin ? 0x01 : 0) | (echo ? 0x08 : 0));
    us_store_be16(ot + 14, 65535);
    if (syn) {
        ot[20] = 2, ot[21] = 4;
        us_store_be16(ot + 22, (uint16_t)(g_mtu - 40));
        ot[24] = 1, ot[25] = 3, ot[26] = 3, ot[27] = 7; /* NOP, window scale 7 */
    }
    if (echo)
        memcpy(ot + 20 + opt, th + thl, echo);
    uint32_t sum = us_csum_pseudo4(us_load_be32(oi + 12), us_load_be32(oi + 16), 6,
                                   (uint16_t)tcp_len);
    us_store_be16(ot + 16, us_csum_finish(us_csum_add(sum, ot, tcp_len)));
    my_seq += (uint32_t)echo + syn + fin;
    us_tap_write(&tap, out, 14 + ip_len);
    return plen;
}

static void
drain(void)
{
    for (int i = 0; i < 256; i++) {
        struct us_tap_rxmeta m;
        ssize_t n = us_tap_read(&tap, in, sizeof(in), &m);
        if (n <= 0)
            return;
        frames_read++;
        reflect(in, (size_t)n, &m);
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
        if (read(rep, &r, sizeof(r)) == (ssize_t)sizeof(r))
            break;
    }
    *cpu = tb_cpu() - c0;
    *frames = frames_read - f0;
    waitpid(pid, NULL, 0);
    close(rep);
    return r;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tap_ceiling NETNS [--mtu N] [--bytes N] [--rr N] [--runs N] "
                        "[--vnet 0|1]\n");
        return 2;
    }
    const char *ns = argv[1];
    int runs = 3, vnet = 0;
    unsigned long long bytes = 256ull << 20, rr = 20000;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--mtu"))
            g_mtu = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--bytes"))
            bytes = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--rr"))
            rr = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--vnet"))
            vnet = atoi(argv[i + 1]);
    }
    if (runs < 1 || runs > MAX_RUNS)
        runs = 3;
    signal(SIGPIPE, SIG_IGN);
    tb_open_tap(&tap, ns, g_mtu, vnet ? US_TAP_VNET_HDR : 0);
    double g[MAX_RUNS], fps[MAX_RUNS], t[MAX_RUNS], gc[MAX_RUNS], tc[MAX_RUNS];
    for (int i = 0; i < runs; i++) {
        double cpu;
        uint64_t fr;
        struct tb_report r = run(ns, TB_SOURCE, 5002, bytes, &cpu, &fr);
        g[i] = (double)r.bytes * 8 / r.secs / 1e9;
        gc[i] = (double)r.bytes * 8 / cpu / 1e9;
        fps[i] = (double)fr / r.secs;
        r = run(ns, TB_RR, 5003, rr, &cpu, &fr);
        t[i] = (double)r.trans / r.secs;
        tc[i] = (double)r.trans / cpu;
    }
    double *all[5] = {g, fps, t, gc, tc};
    for (int k = 0; k < 5; k++)
        qsort(all[k], (size_t)runs, sizeof(double), tb_cmp_double);
    int m = runs / 2;
    printf("ceiling tap mtu=%d vnet=%d rx_gbps=%.3f rx_frames_per_s=%.0f rx_gbps_cpu=%.3f "
           "rr_kps=%.3f rr_kps_cpu=%.3f\n",
           g_mtu, vnet, g[m], fps[m], gc[m], t[m] * 1e-3, tc[m] * 1e-3);
    us_tap_close(&tap);
    return 0;
}
