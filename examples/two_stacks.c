/* two_stacks: two stacks in one process joined by the in-memory wire, on a virtual clock. Stack A
 * sends BYTES over TCP to stack B through a link that loses, duplicates and reorders frames; B
 * checks that it got every byte, in order, by FNV-1a hash and count. Exits 0 only if so.
 * Build:  cc two_stacks.c $(pkg-config --cflags --libs ustack) -o two_stacks
 * Run:    ./two_stacks [BYTES] [IMPAIRMENTS]    (default 4194304 "loss=0.02,dup=0.01,reorder=0.02,
 *         delay=1ms,seed=1"; "" is a perfect link) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack.h>
#include <ustack/wire.h>

struct side {
    struct us_stack *st;
    struct us_iface *ifp;
};

/* The link hands a frame to the end it was sent to: into that side's stack. */
static void
deliver(void *ctx, const uint8_t *frame, size_t len, us_time_t now)
{
    struct side *s = ctx;
    us_input(s->st, s->ifp, frame, len, now);
}

static uint64_t
fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

int
main(int argc, char **argv)
{
    size_t total = argc > 1 ? strtoull(argv[1], NULL, 0) : 4u << 20;
    const char *spec = argc > 2 ? argv[2] : "loss=0.02,dup=0.01,reorder=0.02,delay=1ms,seed=1";
    printf("two_stacks: ustack %s, %zu bytes A -> B over a link with \"%s\"\n", us_version(),
           total, spec);
    struct us_impair imp;
    uint64_t seed = 1;
    if (us_impair_parse(&imp, &seed, spec) < 0) {
        fprintf(stderr, "two_stacks: bad impairment spec '%s'\n", spec);
        return 2;
    }
    struct us_wire_link *link = us_wire_link_new(&imp, seed);
    struct side side[2];
    us_time_t now = 0; /* virtual time: the program decides what "now" is */
    for (int i = 0; i < 2; i++) {
        struct us_config cfg;
        us_config_default(&cfg);
        side[i].st = us_stack_new(&cfg, seed + (uint64_t)i);
        struct us_iface_conf ic;
        us_iface_conf_init(&ic);
        ic.name = i ? "b" : "a";
        ic.addr = US_IP4(192, 0, 2, 1 + i);
        ic.prefix_len = 24;
        memcpy(ic.mac, (uint8_t[US_ETH_ALEN]){0x02, 0, 0, 0, 0, (uint8_t)(1 + i)}, US_ETH_ALEN);
        ic.tx = us_wire_end_tx; /* what the stack sends goes into its end of the link */
        ic.tx_ctx = link ? us_wire_link_end(link, i) : NULL;
        side[i].ifp = side[i].st && link ? us_iface_add(side[i].st, &ic, now) : NULL;
        if (!side[i].ifp) {
            fprintf(stderr, "two_stacks: cannot set up stack %c\n", 'A' + i);
            return 1;
        }
    }
    struct us_stack *a = side[0].st, *b = side[1].st;
    int lfd = us_socket(b, US_SOCK_STREAM), cfd = us_socket(a, US_SOCK_STREAM), sfd = -1;
    struct us_sockaddr baddr = {US_IP4(192, 0, 2, 2), 5001};
    us_bind(b, lfd, &(struct us_sockaddr){US_IP4_ANY, 5001});
    us_listen(b, lfd, 1);
    if (us_connect(a, cfd, &baddr, now) != -EINPROGRESS) {
        fprintf(stderr, "two_stacks: connect did not start\n");
        return 1;
    }
    static uint8_t src[65536], dst[65536];
    uint64_t h_sent = 0xcbf29ce484222325ull, h_recv = h_sent;
    size_t sent = 0, recvd = 0;
    bool eof = false, closed = false;
    while (!eof && now < US_SEC(600)) {
        us_wire_link_set_now(link, now);
        us_wire_link_deliver(link, now, deliver, &side[0], &side[1]);
        us_poll(a, now);
        us_poll(b, now);
        while (sent < total) { /* A writes a deterministic byte stream while there is room */
            size_t n = total - sent < sizeof(src) ? total - sent : sizeof(src);
            for (size_t i = 0; i < n; i++)
                src[i] = (uint8_t)((sent + i) * 2654435761u >> 13);
            ssize_t w = us_sendto(a, cfd, src, n, 0, NULL, now);
            if (w <= 0)
                break;
            h_sent = fnv1a(h_sent, src, (size_t)w);
            sent += (size_t)w;
        }
        if (sent == total && !closed) {
            closed = us_close(a, cfd, now) == 0; /* FIN after the last byte */
        }
        if (sfd < 0)
            sfd = us_accept(b, lfd, NULL);
        ssize_t r;
        while (sfd >= 0 && (r = us_recvfrom(b, sfd, dst, sizeof(dst), 0, NULL, NULL, now)) >= 0) {
            if (r == 0) {
                eof = true;
                break;
            }
            h_recv = fnv1a(h_recv, dst, (size_t)r);
            recvd += (size_t)r;
        }
        /* Nothing more to do at this instant: jump to the next timer or frame due. */
        us_time_t next = us_next_deadline(a), nb = us_next_deadline(b);
        us_time_t nl = us_wire_link_next_due(link);
        next = nb < next ? nb : next;
        next = nl < next ? nl : next;
        now = next == US_TIME_NEVER ? now + US_SEC(1) : next > now ? next : now + 1000;
    }
    const struct us_wire_stats *ws = us_wire_link_stats(link, 0);
    printf("two_stacks: received %zu of %zu bytes in %.3f s of virtual time; link A->B: %llu "
           "frames, %llu lost, %llu duplicated, %llu reordered\n",
           recvd, total, (double)now / 1e9, (unsigned long long)ws->sent,
           (unsigned long long)ws->lost, (unsigned long long)ws->duplicated,
           (unsigned long long)ws->reordered);
    int ok = eof && recvd == total && h_recv == h_sent;
    printf("two_stacks: %s (hash sent %016llx, received %016llx)\n", ok ? "ok" : "FAILED",
           (unsigned long long)h_sent, (unsigned long long)h_recv);
    us_close(b, sfd, now);
    us_close(b, lfd, now);
    us_stack_free(a);
    us_stack_free(b);
    us_wire_link_free(link);
    return ok ? 0 : 1;
}
