/* libFuzzer target for the whole frame input path (lwIP fuzz2, smoltcp fuzz/iface.rs).
 * Input: records of (2-byte big-endian time delta in ms, 2-byte big-endian length, frame bytes);
 * a short last record takes what is left. One stack 192.0.2.2/24 with a UDP socket bound to port
 * 7 and a ping socket; frames are fed with us_input at the advancing virtual time, and the UDP
 * socket echoes what it receives so output paths run too. At the end: close the sockets, run
 * 120 s of virtual time, and abort() if any packet buffer is still in use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ustack.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
tx_discard(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    (void)frame;
    (void)len;
    return 0;
}

static void
drain(struct us_stack *st, int udp, int ping, us_time_t now)
{
    static uint8_t buf[65536];
    struct us_sockaddr from;
    ssize_t n;
    int rounds = 0;
    while ((n = us_recvfrom(st, udp, buf, sizeof(buf), 0, &from, NULL)) >= 0 && rounds++ < 8)
        us_sendto(st, udp, buf, (size_t)n, 0, &from, now); /* errors are fine */
    while (us_recvfrom(st, ping, buf, sizeof(buf), 0, NULL, NULL) >= 0)
        ;
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
    struct us_iface_conf c = {.name = "fz0", .mac = {0x02, 0, 0, 0, 0, 0x02},
                              .addr = US_IP4(192, 0, 2, 2), .prefix_len = 24, .tx = tx_discard};
    struct us_iface *ifp = us_iface_add(st, &c, 0);
    us_route_add(st, 0, 0, US_IP4(192, 0, 2, 1), ifp);
    int udp = us_socket(st, US_SOCK_DGRAM);
    int ping = us_socket(st, US_SOCK_PING);
    struct us_sockaddr a = {0, 7};
    if (!ifp || udp < 0 || ping < 0 || us_bind(st, udp, &a) != 0)
        abort();
    us_setsockopt(st, udp, US_SO_BROADCAST, 1);
    us_time_t now = 0;
    size_t off = 0;
    while (size - off >= 4) {
        now += US_MSEC(((uint32_t)data[off] << 8) | data[off + 1]);
        size_t len = ((size_t)data[off + 2] << 8) | data[off + 3];
        off += 4;
        if (len > size - off)
            len = size - off;
        /* a private copy, exactly sized, so ASan sees any over-read */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            abort();
        memcpy(frame, data + off, len);
        us_input(st, ifp, frame, len, now);
        free(frame);
        off += len;
        drain(st, udp, ping, now);
        us_poll(st, now);
        if (us_next_deadline(st) < now)
            abort(); /* us_poll must leave nothing overdue */
    }
    us_close(st, udp, now);
    us_close(st, ping, now);
    for (us_time_t end = now + US_SEC(120); now < end;) {
        us_time_t t = us_next_deadline(st);
        now = t < end ? (t > now ? t : now) : end;
        us_poll(st, now);
    }
    struct us_pool_info pi;
    us_pool_info(st, &pi);
    if (pi.small_in_use || pi.large_in_use)
        abort();
    us_stack_free(st);
    return 0;
}
