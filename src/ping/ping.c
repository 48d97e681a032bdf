/* Ping sockets: ICMP echo from an application, like Linux's SOCK_DGRAM/IPPROTO_ICMP sockets.
 * Layer: transport. They use the datagram control blocks (udp/pcb.h), with the echo identifier
 * as their port; ICMP hands them echo replies and errors through the handlers registered here.
 * RFC 792 (echo), RFC 1122 3.2.2.6. */
#include <errno.h>
#include <string.h>

#include "ping/ping.h"

static void
ping_echo_reply(struct us_stack *st, const struct us_ip4_rx *rx, const struct us_icmp_repr *m,
                us_time_t now)
{
    (void)now;
    struct us_pcb *pcb = us_pcb_lookup(st, US_IPPROTO_ICMP, rx->ip.dst, m->id, rx->ip.src, 0);
    if (!pcb) {
        us_drop(st, US_DROP_ICMP_NO_SOCKET);
        return;
    }
    char a[16];
    US_TRACE(st, "icmp: echo reply id %u seq %u from %s -> socket %d", (unsigned)m->id,
             (unsigned)m->seq, us_ip4_ntoa(rx->ip.src, a), pcb->fd);
    us_pcb_enqueue(st, pcb, rx->ip.payload, rx->ip.payload_len, rx->ip.src, 0, rx->ip.dst,
                   rx->ip.ttl); /* counts its own drop if it cannot queue */
}

ssize_t
us_ping_output(struct us_stack *st, struct us_pcb *pcb, const void *buf, size_t len, us_ip4_t dst,
               us_time_t now)
{
    /* Like Linux ping sockets: the caller gives an echo request (header + data); the stack sets
     * the identifier to the socket's and fills the checksum. */
    if (len < US_ICMP_HDR_LEN || ((const uint8_t *)buf)[0] != US_ICMP_ECHO_REQUEST ||
        ((const uint8_t *)buf)[1] != 0)
        return -EINVAL;
    if (len > US_IP4_MAX_LEN - US_IP4_HDR_LEN)
        return -EMSGSIZE;
    struct us_pkt *pkt = us_pkt_alloc(st->pools, len);
    if (!pkt) {
        us_drop(st, US_DROP_NO_BUFFER);
        return -ENOBUFS;
    }
    uint8_t *m = us_pkt_put(pkt, len);
    memcpy(m, buf, len);
    struct us_icmp_repr r = {.type = US_ICMP_ECHO_REQUEST, .id = pcb->lport,
                             .seq = us_load_be16(m + 6), .data = m + US_ICMP_HDR_LEN,
                             .data_len = len - US_ICMP_HDR_LEN};
    us_wire_icmp_emit(&r, m, len);
    us_stat_inc(st, US_STAT_ICMP_OUT);
    char a[16];
    US_TRACE(st, "icmp: socket %d sends echo request id %u seq %u to %s (%zu bytes)", pcb->fd,
             (unsigned)r.id, (unsigned)r.seq, us_ip4_ntoa(dst, a), len);
    struct us_ip4_tx tx = {.src = pcb->laddr, .dst = dst, .proto = US_IPPROTO_ICMP};
    int err = us_ip4_output(st, pkt, &tx, now);
    return err < 0 ? err : (ssize_t)len;
}

static void
ping_icmp_error(struct us_stack *st, const struct us_icmp_err *e, us_time_t now)
{
    (void)now;
    if (e->l4[0] != US_ICMP_ECHO_REQUEST)
        return; /* only our echo requests have a socket to tell */
    us_pcb_notify_error(st, US_IPPROTO_ICMP, e->src, us_load_be16(e->l4 + 4), e->dst, 0, e->err);
}

void
us_ping_init(struct us_stack *st)
{
    us_icmp_register_echo_reply(st, ping_echo_reply);
    us_ip_register_err(st, US_IPPROTO_ICMP, ping_icmp_error);
}
