/* libFuzzer target for the whole frame input path (lwIP fuzz2, smoltcp fuzz/iface.rs).
 * Input: records of (2-byte big-endian time delta in ms, 2-byte big-endian length whose top bit
 * asks for the checksums to be fixed up and whose next bit asks for a TCP segment's sequence and
 * acknowledgment numbers to follow what the stack last sent to that port (so handshakes complete
 * and established, closing and TIME-WAIT paths are reachable; checksums are then fixed too),
 * frame bytes);
 * a short last record takes what is left. One stack 192.0.2.2/24 with a UDP socket bound to port
 * 7 and a ping socket; frames are fed with us_input at the advancing virtual time, and the UDP
 * socket echoes what it receives so output paths run too. At the end: close the sockets, run
 * 120 s of virtual time, and abort() if any packet buffer is still in use. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the stack last sent to each of a few peer ports: the sequence number after that segment
 * and its acknowledgment number, for records that ask to be in sync. */
struct tcp_peer {
    uint16_t port;
    uint32_t seq_end, ack;
};
struct harness {
    struct tcp_peer peers[8];
    unsigned next;
};

/* The transmit hook: frames go nowhere, but a TCP segment's numbers are remembered. */
static int
tx_note(void *ctx, const uint8_t *f, size_t len)
{
    struct harness *h = ctx;
    if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6)
        return 0;
    const uint8_t *ip = f + 14, *th = ip + (ip[0] & 15) * 4;
    size_t tot = (size_t)ip[2] << 8 | ip[3], hl = (size_t)(ip[0] & 15) * 4;
    if (th + 20 > f + len || tot < hl + 20 || 14 + tot > len)
        return 0;
    size_t thl = (size_t)(th[12] >> 4) * 4;
    if (thl < 20 || hl + thl > tot)
        return 0;
    uint16_t port = us_load_be16(th + 2);
    struct tcp_peer *p = NULL;
    for (size_t i = 0; i < 8 && !p; i++)
        if (h->peers[i].port == port)
            p = &h->peers[i];
    if (!p)
        p = &h->peers[h->next++ % 8];
    uint8_t fl = th[13];
    p->port = port;
    p->seq_end = us_load_be32(th + 4) + (uint32_t)(tot - hl - thl) + !!(fl & 0x02) + !!(fl & 0x01);
    p->ack = us_load_be32(th + 8);
    return 0;
}

/* Puts a TCP segment's numbers in step with what the stack sent to its source port. */
static void
sync_tcp(const struct harness *h, uint8_t *f, size_t len)
{
    if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6)
        return;
    uint8_t *ip = f + 14, *th = ip + (ip[0] & 15) * 4;
    if ((ip[0] & 15) < 5 || th + 20 > f + len)
        return;
    uint16_t port = us_load_be16(th);
    for (size_t i = 0; i < 8; i++) {
        if (h->peers[i].port != port)
            continue;
        us_store_be32(th + 8, h->peers[i].seq_end);
        if (!(th[13] & 0x02)) /* a SYN keeps its own ISN */
            us_store_be32(th + 4, h->peers[i].ack);
        return;
    }
}

static void
drain(struct us_stack *st, int udp, int ping, us_time_t now)
{
    static uint8_t buf[65536];
    struct us_sockaddr from;
    ssize_t n;
    int rounds = 0;
    while ((n = us_recvfrom(st, udp, buf, sizeof(buf), 0, &from, NULL, now)) >= 0 && rounds++ < 8)
        us_sendto(st, udp, buf, (size_t)n, 0, &from, now); /* errors are fine */
    while (us_recvfrom(st, ping, buf, sizeof(buf), 0, NULL, NULL, now) >= 0)
        ;
}

/* Records whose length field has its top bit set get their IPv4 header checksum and their
 * TCP/UDP/ICMP checksum recomputed first, so the fuzzer can explore past the checksums (the
 * checksum checks themselves are explored by records without the bit). */
static void
fix_checksums(uint8_t *f, size_t len)
{
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return;
    uint8_t *ip = f + 14;
    size_t hl = (size_t)(ip[0] & 15) * 4, tot = (size_t)ip[2] << 8 | ip[3];
    if ((ip[0] >> 4) != 4 || hl < 20 || tot < hl || 14 + tot > len)
        return;
    ip[10] = ip[11] = 0;
    uint16_t c = us_csum_finish(us_csum_add(0, ip, hl));
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    if ((ip[6] & 0x3f) || ip[7]) /* fragments: leave their transport bytes alone */
        return;
    uint8_t *l4 = ip + hl;
    size_t l4len = tot - hl;
    size_t at = ip[9] == 6 ? 16 : ip[9] == 17 ? 6 : ip[9] == 1 ? 2 : 0;
    if (!at || l4len < at + 2)
        return;
    l4[at] = l4[at + 1] = 0;
    uint32_t sum = ip[9] == 1 ? 0
                              : us_csum_pseudo4(us_load_be32(ip + 12), us_load_be32(ip + 16), ip[9],
                                                (uint16_t)l4len);
    c = us_csum_finish(us_csum_add(sum, l4, l4len));
    l4[at] = (uint8_t)(c >> 8);
    l4[at + 1] = (uint8_t)c;
}

static void
trace_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

/* Watched on every socket. Not US_POLLOUT: a level-triggered watch of an always-writable socket
 * keeps it on the ready list for good, where no missing wake-up could show. */
#define WATCHED (US_POLLIN | US_POLLPRI)

/* The readiness oracle: every socket is watched level-triggered, so each one that
 * us_sock_poll finds ready for a watched event (or US_POLLERR/US_POLLHUP, always reported) must
 * be among what us_ready reports. A socket missing there means a place where readiness changed
 * without a wake-up (a program waiting on us_ready would hang). */
static void
check_ready(struct us_stack *st, const int *fds, size_t n)
{
    struct us_ready_event ev[16];
    size_t k = us_ready(st, ev, 16);
    for (size_t i = 0; i < n; i++) {
        int m = us_sock_poll(st, fds[i]);
        m = m > 0 ? m & (WATCHED | US_POLLERR | US_POLLHUP) : 0;
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = ev[j].fd == fds[i] && ev[j].events == (unsigned)m;
        if (m && !seen) {
            fprintf(stderr, "fuzz_stack: fd %d is ready (%#x) but us_ready missed it\n", fds[i],
                    (unsigned)m);
            abort();
        }
    }
}

/* Accepts what the listener holds and echoes what each connection received; EOF closes, and so
 * does a 'q' in the data (then the stack closes first: FIN-WAIT, TIME-WAIT and its records). */
static void
tcp_serve(struct us_stack *st, int lsn, int *conns, size_t *n, us_time_t now)
{
    int fd;
    while (*n < 8 && (fd = us_accept(st, lsn, NULL)) >= 0) {
        conns[(*n)++] = fd;
        us_sock_watch(st, fd, WATCHED, US_WATCH_LEVEL, NULL);
    }
    uint8_t buf[2048];
    for (size_t i = 0; i < *n;) {
        ssize_t r = us_recvfrom(st, conns[i], buf, sizeof(buf), 0, NULL, NULL, now);
        if (r > 0)
            us_sendto(st, conns[i], buf, (size_t)r, 0, NULL, now);
        if (r == 0 || (r < 0 && r != -EAGAIN) || (r > 0 && memchr(buf, 'q', (size_t)r))) {
            us_close(st, conns[i], now);
            conns[i] = conns[--*n];
            continue;
        }
        i++;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct us_config cfg;
    us_config_default(&cfg);
    cfg.pkt_small_max = 256; /* small limits reach the exhaustion paths */
    cfg.pkt_large_max = 8;
    cfg.arp_entries = 8;
    cfg.frag_max_datagrams = 4;
    struct us_stack *st = us_stack_new(&cfg, 1);
    if (!st)
        abort();
    static struct harness h;
    memset(&h, 0, sizeof(h));
    struct us_iface_conf c = {.size = sizeof(struct us_iface_conf),
                              .name = "fz0", .mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addr = US_IP4(192, 0, 2, 2), .prefix_len = 24, .tx = tx_note,
                              .tx_ctx = &h};
    if (getenv("FUZZ_TRACE")) /* replaying a finding: narrate it */
        us_set_trace(st, trace_line, NULL);
    struct us_iface *ifp = us_iface_add(st, &c, 0);
    us_route_add(st, 0, 0, US_IP4(192, 0, 2, 1), ifp);
    int udp = us_socket(st, US_SOCK_DGRAM);
    int ping = us_socket(st, US_SOCK_PING);
    struct us_sockaddr a = {0, 7};
    if (!ifp || udp < 0 || ping < 0 || us_bind(st, udp, &a) != 0)
        abort();
    us_setsockopt(st, udp, US_SO_BROADCAST, 1);
    /* TCP: a listener on 80 whose connections echo, so every TCP path is reachable. */
    int lsn = us_socket(st, US_SOCK_STREAM);
    struct us_sockaddr la = {0, 80};
    if (lsn < 0 || us_bind(st, lsn, &la) != 0 || us_listen(st, lsn, 4) != 0)
        abort();
    int conns[8];
    size_t n_conns = 0;
    us_sock_watch(st, udp, WATCHED, US_WATCH_LEVEL, NULL);
    us_sock_watch(st, ping, WATCHED, US_WATCH_LEVEL, NULL);
    us_sock_watch(st, lsn, WATCHED, US_WATCH_LEVEL, NULL);
    int all[11];
    us_time_t now = 0;
    size_t off = 0;
    while (size - off >= 4) {
        now += US_MSEC(((uint32_t)data[off] << 8) | data[off + 1]);
        size_t len = ((size_t)(data[off + 2] & 0x3f) << 8) | data[off + 3];
        bool fix = data[off + 2] & 0xc0, sync = data[off + 2] & 0x40;
        off += 4;
        if (len > size - off)
            len = size - off;
        /* a private copy, exactly sized, so ASan sees any over-read */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            abort();
        memcpy(frame, data + off, len);
        if (sync)
            sync_tcp(&h, frame, len);
        if (fix)
            fix_checksums(frame, len);
        us_input(st, ifp, frame, len, now);
        free(frame);
        off += len;
        all[0] = udp;
        all[1] = ping;
        all[2] = lsn;
        memcpy(all + 3, conns, n_conns * sizeof(int));
        check_ready(st, all, 3 + n_conns);
        drain(st, udp, ping, now);
        tcp_serve(st, lsn, conns, &n_conns, now);
        us_poll(st, now);
        memcpy(all + 3, conns, n_conns * sizeof(int));
        check_ready(st, all, 3 + n_conns);
        if (us_next_deadline(st) < now)
            abort(); /* us_poll must leave nothing overdue */
    }
    us_close(st, udp, now);
    us_close(st, ping, now);
    for (size_t i = 0; i < n_conns; i++)
        us_close(st, conns[i], now);
    us_close(st, lsn, now);
    /* Run until nothing is pending: orphaned TCP connections retry for up to half an hour of
     * virtual time before they give up, and a retransmission may sit in the ARP queue. */
    for (us_time_t end = now + US_SEC(4 * 3600); now < end;) {
        us_time_t t = us_next_deadline(st);
        if (t == US_TIME_NEVER)
            break;
        now = t < end ? (t > now ? t : now) : end;
        us_poll(st, now);
    }
    struct us_pool_info pi;
    us_pool_info(st, &pi);
    if (pi.small_in_use || pi.large_in_use) {
        fprintf(stderr, "fuzz_stack: %zu small and %zu large buffers still in use\n",
                pi.small_in_use, pi.large_in_use);
        abort();
    }
    us_stack_free(st);
    return 0;
}
