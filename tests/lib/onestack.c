/* One-stack harness; see onestack.h. */
#include "lib/onestack.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t os_mac[US_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t os_peer_mac[US_ETH_ALEN] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t os_bcast_mac[US_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static int
os_tx(void *ctx, const uint8_t *frame, size_t len)
{
    struct onestack *o = ctx;
    if (o->n_out == o->cap_out) {
        o->cap_out = o->cap_out ? o->cap_out * 2 : 64;
        o->out = realloc(o->out, o->cap_out * sizeof(*o->out));
        ck_assert_ptr_nonnull(o->out);
    }
    uint8_t *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b, frame, len);
    o->out[o->n_out].b = b;
    o->out[o->n_out].len = len;
    o->n_out++;
    return 0;
}

static void
os_trace(void *ctx, const char *line)
{
    const struct onestack *o = ctx;
    fprintf(stderr, "%10.3f ms  %s\n", (double)o->now / 1e6, line);
}

void
os_init(struct onestack *o, const struct us_config *cfg, uint16_t mtu)
{
    memset(o, 0, sizeof(*o));
    o->st = us_stack_new(cfg, 12345);
    ck_assert_ptr_nonnull(o->st);
    struct us_iface_conf c = {.size = sizeof(struct us_iface_conf),
                              .name = "os0", .addr = OS_IP, .prefix_len = 24, .mtu = mtu,
                              .tx = os_tx, .tx_ctx = o};
    memcpy(c.mac, os_mac, US_ETH_ALEN);
    if (getenv("OS_TRACE")) /* OS_TRACE=1: every layer's trace lines on stderr */
        us_set_trace(o->st, os_trace, o);
    o->ifp = us_iface_add(o->st, &c, 0);
    ck_assert_ptr_nonnull(o->ifp);
}

void
os_start(struct onestack *o, const struct us_config *cfg)
{
    os_init(o, cfg, 0);
    os_clear(o);
}

void
os_advance(struct onestack *o, us_time_t dur)
{
    us_time_t end = o->now + dur;
    for (;;) {
        us_time_t t = us_next_deadline(o->st);
        if (t > end)
            break;
        if (t > o->now)
            o->now = t;
        us_poll(o->st, o->now);
    }
    o->now = end;
    us_poll(o->st, o->now);
}

void
os_clear(struct onestack *o)
{
    for (size_t i = 0; i < o->n_out; i++)
        free(o->out[i].b);
    o->n_out = 0;
    o->taken = 0;
}

void
os_finish(struct onestack *o)
{
    os_advance(o, US_SEC(300));
    struct us_pool_info pi;
    us_pool_info(o->st, &pi);
    ck_assert_uint_eq(pi.small_in_use, 0);
    ck_assert_uint_eq(pi.large_in_use, 0);
    ck_assert_int_eq(us_next_deadline(o->st), US_TIME_NEVER);
    us_stack_free(o->st);
    os_clear(o);
    free(o->out);
    memset(o, 0, sizeof(*o));
}

void
os_input(struct onestack *o, const uint8_t *frame, size_t len)
{
    us_input(o->st, o->ifp, frame, len, o->now);
}

size_t
os_pending(const struct onestack *o)
{
    return o->n_out - o->taken;
}

const struct os_frame *
os_take(struct onestack *o)
{
    ck_assert_msg(o->taken < o->n_out, "expected a transmitted frame, none left");
    return &o->out[o->taken++];
}

size_t
os_build_arp(uint8_t *out, const uint8_t eth_dst[US_ETH_ALEN], uint16_t op,
             const uint8_t sha[US_ETH_ALEN], us_ip4_t spa, const uint8_t tha[US_ETH_ALEN],
             us_ip4_t tpa)
{
    struct us_eth_repr e = {.type = US_ETHERTYPE_ARP};
    memcpy(e.dst, eth_dst, US_ETH_ALEN);
    memcpy(e.src, sha, US_ETH_ALEN);
    us_wire_eth_emit(&e, out);
    struct us_arp_repr a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, sha, US_ETH_ALEN);
    memcpy(a.tha, tha, US_ETH_ALEN);
    us_wire_arp_emit(&a, out + US_ETH_HDR_LEN);
    return US_ETH_HDR_LEN + US_ARP_LEN;
}

struct us_ip4_repr
os_ip_hdr(us_ip4_t src, us_ip4_t dst, uint8_t proto)
{
    struct us_ip4_repr ip = {.id = 0x1234, .ttl = 64, .proto = proto, .src = src, .dst = dst};
    return ip;
}

size_t
os_build_ip(uint8_t *out, const uint8_t *eth_dst, const struct us_ip4_repr *ip,
            const void *payload, size_t plen)
{
    struct us_eth_repr e = {.type = US_ETHERTYPE_IPV4};
    memcpy(e.dst, eth_dst ? eth_dst : os_mac, US_ETH_ALEN);
    memcpy(e.src, os_peer_mac, US_ETH_ALEN);
    us_wire_eth_emit(&e, out);
    struct us_ip4_repr r = *ip;
    r.payload_len = plen;
    us_wire_ip4_emit(&r, out + US_ETH_HDR_LEN);
    memmove(out + US_ETH_HDR_LEN + US_IP4_HDR_LEN, payload, plen);
    return US_ETH_HDR_LEN + US_IP4_HDR_LEN + plen;
}

size_t
os_build_udp_seg(uint8_t *out, us_ip4_t src, us_ip4_t dst, uint16_t sport, uint16_t dport,
                 const void *data, size_t dlen)
{
    memmove(out + US_UDP_HDR_LEN, data, dlen);
    struct us_udp_repr u = {.src_port = sport, .dst_port = dport};
    us_wire_udp_emit(&u, out, dlen, src, dst);
    return US_UDP_HDR_LEN + dlen;
}

size_t
os_build_udp(uint8_t *out, us_ip4_t src, us_ip4_t dst, uint16_t sport, uint16_t dport,
             const void *data, size_t dlen)
{
    static _Thread_local uint8_t seg[OS_MAX_FRAME];
    size_t n = os_build_udp_seg(seg, src, dst, sport, dport, data, dlen);
    struct us_ip4_repr ip = os_ip_hdr(src, dst, US_IPPROTO_UDP);
    return os_build_ip(out, NULL, &ip, seg, n);
}

size_t
os_build_icmp_msg(uint8_t *out, const struct us_icmp_repr *m)
{
    size_t n = us_wire_icmp_emit_len(m);
    us_wire_icmp_emit(m, out, n);
    return n;
}

size_t
os_build_echo(uint8_t *out, us_ip4_t src, us_ip4_t dst, uint16_t id, uint16_t seq,
              const void *data, size_t dlen)
{
    static _Thread_local uint8_t msg[OS_MAX_FRAME];
    struct us_icmp_repr m = {.type = US_ICMP_ECHO_REQUEST, .id = id, .seq = seq, .data = data,
                             .data_len = dlen};
    size_t n = os_build_icmp_msg(msg, &m);
    struct us_ip4_repr ip = os_ip_hdr(src, dst, US_IPPROTO_ICMP);
    return os_build_ip(out, NULL, &ip, msg, n);
}

void
os_fix_ip_csum(uint8_t *frame)
{
    uint8_t *h = frame + US_ETH_HDR_LEN;
    size_t hl = (size_t)(h[0] & 0x0f) * 4;
    us_store_be16(h + 10, 0);
    us_store_be16(h + 10, us_csum_finish(us_csum_add(0, h, hl)));
}

void
os_parse(const struct os_frame *f, struct os_pkt *p)
{
    memset(p, 0, sizeof(*p));
    ck_assert_int_eq(us_wire_eth_parse(&p->eth, f->b, f->len), 0);
    ck_assert_mem_eq(p->eth.src, os_mac, US_ETH_ALEN);
    if (p->eth.type == US_ETHERTYPE_ARP) {
        ck_assert_uint_eq(p->eth.payload_len, US_ARP_LEN);
        ck_assert_int_eq(us_wire_arp_parse(&p->arp, p->eth.payload, p->eth.payload_len), 0);
        return;
    }
    ck_assert_uint_eq(p->eth.type, US_ETHERTYPE_IPV4);
    ck_assert_int_eq(us_wire_ip4_parse(&p->ip, p->eth.payload, p->eth.payload_len, true), 0);
    ck_assert_uint_eq(p->ip.hdr_len + p->ip.payload_len, p->eth.payload_len); /* no padding */
    if (p->ip.mf || p->ip.frag_off)
        return;
    if (p->ip.proto == US_IPPROTO_UDP)
        ck_assert_int_eq(us_wire_udp_parse(&p->udp, p->ip.payload, p->ip.payload_len, p->ip.src,
                                           p->ip.dst, true),
                         0);
    if (p->ip.proto == US_IPPROTO_ICMP)
        ck_assert_int_eq(us_wire_icmp_parse(&p->icmp, p->ip.payload, p->ip.payload_len), 0);
}

struct os_pkt
os_take_arp(struct onestack *o)
{
    struct os_pkt p;
    os_parse(os_take(o), &p);
    ck_assert_uint_eq(p.eth.type, US_ETHERTYPE_ARP);
    return p;
}

struct os_pkt
os_take_ip(struct onestack *o)
{
    struct os_pkt p;
    os_parse(os_take(o), &p);
    ck_assert_uint_eq(p.eth.type, US_ETHERTYPE_IPV4);
    return p;
}

void
os_learn(struct onestack *o, us_ip4_t ip, const uint8_t mac[US_ETH_ALEN])
{
    uint8_t f[64];
    static const uint8_t zero[US_ETH_ALEN];
    size_t n = os_build_arp(f, os_bcast_mac, US_ARP_OP_REQUEST, mac, ip, zero, OS_IP);
    os_input(o, f, n);
    struct os_pkt p = os_take_arp(o);
    ck_assert_uint_eq(p.arp.op, US_ARP_OP_REPLY);
    ck_assert_uint_eq(p.arp.tpa, ip);
}

int
os_udp_bound(struct onestack *o, uint16_t port)
{
    int fd = us_socket(o->st, US_SOCK_DGRAM);
    ck_assert_int_ge(fd, 0);
    struct us_sockaddr a = {0, port};
    ck_assert_int_eq(us_bind(o->st, fd, &a), 0);
    return fd;
}

/* ---- TCP ---- */

size_t
os_build_tcp(uint8_t *out, us_ip4_t src, us_ip4_t dst, const struct us_tcp_repr *r)
{
    static _Thread_local uint8_t seg[OS_MAX_FRAME];
    size_t hl = us_wire_tcp_hdr_len(r);
    ck_assert_uint_le(hl + r->payload_len, sizeof(seg));
    if (r->payload_len)
        memcpy(seg + hl, r->payload, r->payload_len);
    us_wire_tcp_emit(r, seg, hl, r->payload_len, src, dst);
    struct us_ip4_repr ip = os_ip_hdr(src, dst, US_IPPROTO_TCP);
    return os_build_ip(out, NULL, &ip, seg, hl + r->payload_len);
}

void
os_tcp_send(struct onestack *o, const struct us_tcp_repr *r)
{
    static _Thread_local uint8_t f[OS_MAX_FRAME];
    size_t n = os_build_tcp(f, OS_PEER_IP, OS_IP, r);
    os_input(o, f, n);
}

const char *
os_tcp_str(const struct us_tcp_repr *r, char *buf, size_t n)
{
    snprintf(buf, n, "[%s%s%s%s%s%s] seq %u ack %u win %u len %zu urg %u",
             r->flags & US_TCP_SYN ? "S" : "", r->flags & US_TCP_FIN ? "F" : "",
             r->flags & US_TCP_RST ? "R" : "", r->flags & US_TCP_PSH ? "P" : "",
             r->flags & US_TCP_URG ? "U" : "", r->flags & US_TCP_ACK ? "." : "", (unsigned)r->seq,
             (unsigned)r->ack, (unsigned)r->wnd, r->payload_len, (unsigned)r->urg_ptr);
    return buf;
}

/* ARP traffic between TCP segments (the neighbour entry ages out during long virtual waits):
 * answers requests for the peer, as the peer would, and skips the rest. */
static void
skip_arp(struct onestack *o)
{
    while (o->taken < o->n_out) {
        struct us_eth_repr e;
        const struct os_frame *f = &o->out[o->taken];
        if (us_wire_eth_parse(&e, f->b, f->len) != 0 || e.type != US_ETHERTYPE_ARP)
            return;
        struct os_pkt p = os_take_arp(o);
        if (p.arp.op == US_ARP_OP_REQUEST && p.arp.tpa == OS_PEER_IP) {
            uint8_t rep[64];
            size_t n = os_build_arp(rep, os_mac, US_ARP_OP_REPLY, os_peer_mac, OS_PEER_IP, os_mac,
                                    OS_IP);
            os_input(o, rep, n);
        }
    }
}

size_t
os_tcp_pending(struct onestack *o)
{
    skip_arp(o);
    return os_pending(o);
}

void
os_tcp_pop(struct onestack *o, struct us_tcp_repr *out)
{
    skip_arp(o);
    struct os_pkt p = os_take_ip(o);
    ck_assert_uint_eq(p.ip.proto, US_IPPROTO_TCP);
    ck_assert(!p.ip.mf && p.ip.frag_off == 0);
    ck_assert_uint_eq(p.ip.src, OS_IP);
    ck_assert_uint_eq(p.ip.dst, OS_PEER_IP);
    ck_assert_mem_eq(p.eth.dst, os_peer_mac, US_ETH_ALEN);
    ck_assert_int_eq(us_wire_tcp_parse(out, p.ip.payload, p.ip.payload_len, p.ip.src, p.ip.dst,
                                       true),
                     0);
}

void
os_tcp_expect(struct onestack *o, const struct us_tcp_repr *want, unsigned ignore,
              struct us_tcp_repr *got)
{
    struct us_tcp_repr g;
    os_tcp_pop(o, &g);
    char a[96], b[96];
    os_tcp_str(want, a, sizeof(a));
    os_tcp_str(&g, b, sizeof(b));
    ck_assert_msg(g.src_port == want->src_port && g.dst_port == want->dst_port,
                  "ports %u->%u, want %u->%u", g.src_port, g.dst_port, want->src_port,
                  want->dst_port);
    bool ok = g.flags == want->flags && g.seq == want->seq &&
              (!(want->flags & US_TCP_ACK) || g.ack == want->ack) &&
              (!(want->flags & US_TCP_URG) || g.urg_ptr == want->urg_ptr) &&
              g.payload_len == want->payload_len && ((ignore & OS_IGN_WND) || g.wnd == want->wnd);
    ck_assert_msg(ok, "got %s, want %s", b, a);
    if (want->payload_len && want->payload)
        ck_assert_mem_eq(g.payload, want->payload, want->payload_len);
    if (!(ignore & OS_IGN_OPTS)) {
        ck_assert_msg(g.has_mss == want->has_mss && (!g.has_mss || g.mss == want->mss),
                      "mss %d/%u, want %d/%u", g.has_mss, g.mss, want->has_mss, want->mss);
        ck_assert_msg(g.has_wscale == want->has_wscale &&
                          (!g.has_wscale || g.wscale == want->wscale),
                      "ws %d/%u, want %d/%u", g.has_wscale, g.wscale, want->has_wscale,
                      want->wscale);
        ck_assert_int_eq(g.sack_ok, want->sack_ok);
    }
    if (!(ignore & OS_IGN_TS)) {
        ck_assert_int_eq(g.has_ts, want->has_ts);
        if (want->has_ts)
            ck_assert_uint_eq(g.ts_ecr, want->ts_ecr);
    }
    ck_assert_uint_eq(g.n_sack, want->n_sack);
    for (uint8_t i = 0; i < g.n_sack; i++) {
        ck_assert_uint_eq(g.sack[i].start, want->sack[i].start);
        ck_assert_uint_eq(g.sack[i].end, want->sack[i].end);
    }
    if (got)
        *got = g;
}

struct us_tcp_repr
os_tcp_seg(const struct os_tcp *t, uint8_t flags)
{
    struct us_tcp_repr r = {.src_port = t->pport, .dst_port = t->port, .seq = t->seq,
                            .flags = flags, .wnd = t->wnd};
    if (flags & US_TCP_ACK)
        r.ack = t->ack;
    if (t->ts) {
        r.has_ts = true;
        r.ts_val = t->ts_val;
        r.ts_ecr = t->ts_ecr;
    }
    return r;
}

void
os_tcp_tx(struct onestack *o, struct os_tcp *t, uint8_t flags, const void *data, size_t len)
{
    struct us_tcp_repr r = os_tcp_seg(t, flags);
    r.payload = data;
    r.payload_len = len;
    t->seq += (uint32_t)len + ((flags & US_TCP_SYN) ? 1 : 0) + ((flags & US_TCP_FIN) ? 1 : 0);
    os_tcp_send(o, &r);
}

void
os_tcp_rx(struct onestack *o, struct os_tcp *t, struct us_tcp_repr *out)
{
    os_tcp_pop(o, out);
    ck_assert_uint_eq(out->src_port, t->port);
    ck_assert_uint_eq(out->dst_port, t->pport);
    if (out->has_ts)
        t->ts_ecr = out->ts_val;
}

static struct us_tcp_repr
rx_expect(struct onestack *o, struct os_tcp *t, uint8_t flags, uint32_t seq, uint32_t ack,
          size_t len)
{
    struct us_tcp_repr r;
    os_tcp_rx(o, t, &r);
    char b[96];
    os_tcp_str(&r, b, sizeof(b));
    ck_assert_msg(r.flags == flags && r.seq == seq && (!(flags & US_TCP_ACK) || r.ack == ack) &&
                      r.payload_len == len,
                  "got %s, want flags 0x%x seq %u ack %u len %zu", b, flags, (unsigned)seq,
                  (unsigned)ack, len);
    return r;
}

void
os_tcp_rx_expect(struct onestack *o, struct os_tcp *t, uint8_t flags, uint32_t seq, uint32_t ack,
                 size_t len)
{
    rx_expect(o, t, flags, seq, ack, len);
}

static void
syn_opts(struct us_tcp_repr *r, unsigned opts)
{
    r->has_mss = opts & OS_OPT_MSS;
    r->mss = 1460;
    r->has_wscale = opts & OS_OPT_WS;
    r->wscale = 7;
    r->sack_ok = opts & OS_OPT_SACK;
    r->has_ts = opts & OS_OPT_TS;
    r->ts_val = r->has_ts ? 100000 : 0;
}

void
os_tcp_finish(struct onestack *o)
{
    os_advance(o, US_SEC(300));
    struct us_sock_info s[8];
    ck_assert_uint_eq(us_sock_list(o->st, s, 8), 0);
    os_finish(o);
}

int
os_tcp_listen(struct onestack *o, uint16_t port, int backlog)
{
    os_learn(o, OS_PEER_IP, os_peer_mac);
    int l = us_socket(o->st, US_SOCK_STREAM);
    ck_assert_int_ge(l, 0);
    struct us_sockaddr a = {0, port};
    ck_assert_int_eq(us_bind(o->st, l, &a), 0);
    ck_assert_int_eq(us_listen(o->st, l, backlog), 0);
    return l;
}

void
os_tcp_syn(struct onestack *o, struct os_tcp *t, uint8_t flags, unsigned opts, uint8_t want,
           struct us_tcp_repr *sa)
{
    if (opts & OS_OPT_TS) {
        t->ts = true;
        t->ts_val = 100000;
    }
    struct us_tcp_repr syn = os_tcp_seg(t, flags);
    syn_opts(&syn, opts);
    os_tcp_send(o, &syn);
    t->seq++;
    struct us_tcp_repr r;
    os_tcp_rx(o, t, &r);
    char b[96];
    ck_assert_msg(r.flags == want, "SYN-ACK %s: flags 0x%x, want 0x%x", os_tcp_str(&r, b, sizeof(b)),
                  (unsigned)r.flags, (unsigned)want);
    ck_assert_uint_eq(r.ack, t->seq);
    t->ack = r.seq + 1;
    if (sa)
        *sa = r;
}

void
os_tcp_synack(struct onestack *o, struct os_tcp *t, uint8_t flags, unsigned opts,
              const struct us_tcp_repr *syn, struct us_tcp_repr *ack)
{
    t->ts = (opts & OS_OPT_TS) && syn->has_ts;
    t->ts_val = 100000;
    t->ts_ecr = syn->ts_val;
    struct us_tcp_repr sa = os_tcp_seg(t, US_TCP_SYN | US_TCP_ACK | flags);
    syn_opts(&sa, opts);
    sa.ts_ecr = syn->ts_val;
    os_tcp_send(o, &sa);
    t->seq++;
    struct us_tcp_repr r = rx_expect(o, t, US_TCP_ACK, t->ack, t->seq, 0);
    if (ack)
        *ack = r;
}

int
os_tcp_open_passive(struct onestack *o, uint16_t port, unsigned opts, struct os_tcp *t, int *lfd)
{
    int l = os_tcp_listen(o, port, 8);
    *t = (struct os_tcp){.port = port, .pport = 40000, .seq = 1000, .wnd = 65535};
    os_tcp_syn(o, t, US_TCP_SYN, opts, US_TCP_SYN | US_TCP_ACK, NULL);
    os_tcp_tx(o, t, US_TCP_ACK, NULL, 0);
    ck_assert_uint_eq(os_tcp_pending(o), 0);
    struct us_sockaddr peer;
    int fd = us_accept(o->st, l, &peer);
    ck_assert_int_ge(fd, 0);
    ck_assert_uint_eq(peer.addr, OS_PEER_IP);
    ck_assert_uint_eq(peer.port, 40000);
    *lfd = l;
    return fd;
}

int
os_tcp_connect(struct onestack *o, int fd, uint16_t port, uint16_t wnd, struct os_tcp *t,
               struct us_tcp_repr *syn)
{
    os_learn(o, OS_PEER_IP, os_peer_mac);
    if (fd < 0)
        fd = us_socket(o->st, US_SOCK_STREAM);
    ck_assert_int_ge(fd, 0);
    struct us_sockaddr to = {OS_PEER_IP, port};
    ck_assert_int_eq(us_connect(o->st, fd, &to, o->now), -EINPROGRESS);
    struct us_tcp_repr s;
    os_tcp_pop(o, &s);
    ck_assert_uint_eq(s.flags, US_TCP_SYN);
    ck_assert_uint_eq(s.dst_port, port);
    *t = (struct os_tcp){.port = s.src_port, .pport = port, .seq = 5000, .ack = s.seq + 1,
                         .wnd = wnd};
    if (syn)
        *syn = s;
    return fd;
}

int
os_tcp_open_active(struct onestack *o, uint16_t port, unsigned opts, struct os_tcp *t)
{
    struct us_tcp_repr syn;
    int fd = os_tcp_connect(o, -1, port, 65535, t, &syn);
    os_tcp_synack(o, t, 0, opts, &syn, NULL);
    ck_assert_uint_eq(os_tcp_pending(o), 0);
    ck_assert_int_eq(us_sock_error(o->st, fd), 0);
    return fd;
}

int
os_tcp_accepted(struct onestack *o, struct os_tcp *t, unsigned opts)
{
    int l;
    int fd = os_tcp_open_passive(o, 80, opts, t, &l);
    us_close(o->st, l, o->now);
    return fd;
}

void
os_tcp_abort(struct onestack *o, int fd)
{
    us_setsockopt(o->st, fd, US_SO_LINGER, 0);
    us_close(o->st, fd, o->now);
    os_clear(o);
}

struct us_sock_info
os_sock_info(struct onestack *o, int fd)
{
    struct us_sock_info s[64];
    size_t n = us_sock_list(o->st, s, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (s[i].fd == fd)
            return s[i];
    ck_abort_msg("fd %d not in us_sock_list", fd);
    return s[0];
}

const char *
os_tcp_state(struct onestack *o, int fd, const struct os_tcp *t)
{
    struct us_sock_info s[64];
    size_t n = us_sock_list(o->st, s, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        if (s[i].type != US_SOCK_STREAM)
            continue;
        if (fd >= 0 && s[i].fd == fd)
            return us_tcp_state_name(s[i].state);
        if (fd < 0 && s[i].fd < 0 && t && s[i].local.port == t->port &&
            s[i].remote.port == t->pport && s[i].remote.addr == OS_PEER_IP)
            return us_tcp_state_name(s[i].state);
    }
    return "";
}
