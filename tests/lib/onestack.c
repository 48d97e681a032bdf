/* One-stack harness; see onestack.h. */
#include "lib/onestack.h"

#include <check.h>
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

void
os_init(struct onestack *o, const struct us_config *cfg, uint16_t mtu)
{
    memset(o, 0, sizeof(*o));
    o->st = us_stack_new(cfg, 12345);
    ck_assert_ptr_nonnull(o->st);
    struct us_iface_conf c = {.name = "os0", .addr = OS_IP, .prefix_len = 24, .mtu = mtu,
                              .tx = os_tx, .tx_ctx = o};
    memcpy(c.mac, os_mac, US_ETH_ALEN);
    o->ifp = us_iface_add(o->st, &c, 0);
    ck_assert_ptr_nonnull(o->ifp);
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
