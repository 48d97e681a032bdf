/* UDP: checksum, demultiplexing to sockets, port unreachable, output.
 * Layer: transport. RFC 768, RFC 1122 4.1.3. */
#include <errno.h>
#include <string.h>

#include "udp/udp.h"

void
us_udp_input(struct us_stack *st, const struct us_ip4_rx *rx, us_time_t now)
{
    struct us_udp_repr u;
    us_stat_inc(st, US_STAT_UDP_IN);
    int err = us_wire_udp_parse(&u, rx->ip.payload, rx->ip.payload_len, rx->ip.src, rx->ip.dst,
                                !rx->l4_csum_ok);
    if (err) {
        us_drop(st, (enum us_drop_reason)err);
        return;
    }
    struct us_pcb *pcb =
        us_pcb_lookup(st, US_IPPROTO_UDP, rx->ip.dst, u.dst_port, rx->ip.src, u.src_port);
    char a[16];
    if (!pcb) {
        US_TRACE(st, "udp: port %u from %s:%u -> no socket", (unsigned)u.dst_port,
                 us_ip4_ntoa(rx->ip.src, a), (unsigned)u.src_port);
        us_drop(st, US_DROP_UDP_NO_PORT);
        /* RFC 1122 4.1.3.1: port unreachable (us_icmp_send_error skips broadcasts). */
        us_icmp_send_error(st, rx, US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_PORT, 0, now);
        return;
    }
    if (!us_pcb_enqueue(st, pcb, u.payload, u.payload_len, rx->ip.src, u.src_port, rx->ip.dst,
                        rx->ip.ttl))
        return;
    US_TRACE(st, "udp: %zu bytes to port %u from %s:%u -> socket %d", u.payload_len,
             (unsigned)u.dst_port, us_ip4_ntoa(rx->ip.src, a), (unsigned)u.src_port, pcb->fd);
}

ssize_t
us_udp_output(struct us_stack *st, struct us_pcb *pcb, const void *buf, size_t len, us_ip4_t dst,
              uint16_t dport, bool probe, us_time_t now)
{
    if (len > st->cfg.udp_sndbuf || len > US_IP4_MAX_LEN - US_IP4_HDR_LEN - US_UDP_HDR_LEN)
        return -EMSGSIZE;
    us_ip4_t src = pcb->laddr ? pcb->laddr : us_ip4_select_src(st, dst);
    if (!src && dst != US_IP4_BROADCAST)
        return -ENETUNREACH;
    if (probe)
        return (ssize_t)len;
    if (src == 0 && st->link->n_ifaces)
        src = st->link->ifaces[0].addr;
    struct us_pkt *pkt = us_pkt_alloc(st->pools, US_UDP_HDR_LEN + len);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        return -ENOBUFS;
    }
    uint8_t *h = us_pkt_put(pkt, US_UDP_HDR_LEN + len);
    memcpy(h + US_UDP_HDR_LEN, buf, len);
    struct us_udp_repr u = {.src_port = pcb->lport, .dst_port = dport};
    us_wire_udp_emit(&u, h, len, src, dst);
    us_stat_inc(st, US_STAT_UDP_OUT);
    char a[16];
    US_TRACE(st, "udp: socket %d sends %zu bytes %u -> %s:%u", pcb->fd, len, (unsigned)pcb->lport,
             us_ip4_ntoa(dst, a), (unsigned)dport);
    struct us_ip4_tx tx = {.src = src, .dst = dst, .proto = US_IPPROTO_UDP};
    int err = us_ip4_output(st, pkt, &tx, now);
    return err < 0 ? err : (ssize_t)len;
}

void
us_udp_icmp_error(struct us_stack *st, const struct us_icmp_err *e, us_time_t now)
{
    (void)now;
    us_pcb_notify_error(st, US_IPPROTO_UDP, e->src, us_load_be16(e->l4), e->dst,
                        us_load_be16(e->l4 + 2), e->err);
}

int
us_udp_init(struct us_stack *st)
{
    int err = us_pcb_table_init(st, 256);
    if (err)
        return err;
    us_ip_register(st, US_IPPROTO_UDP, us_udp_input);
    us_ip_register_err(st, US_IPPROTO_UDP, us_udp_icmp_error);
    return 0;
}

void
us_udp_destroy(struct us_stack *st)
{
    us_pcb_table_destroy(st);
}
