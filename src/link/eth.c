/* Ethernet II framing and ethertype dispatch. Layer: link.
 * Accepts frames for our MAC or broadcast (we join no multicast groups); super-frames up to
 * 64 KiB pass through untouched. Never looks inside the payload. */
#include <string.h>

#include "link/link.h"
#include "wire/wire.h"

void
us_eth_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
             unsigned rx_flags, us_time_t now)
{
    struct us_eth_repr eth;
    us_stat_inc(st, US_STAT_ETH_IN);
    if (len > US_PKT_LARGE_SIZE - US_PKT_HEADROOM) {
        us_drop(st, US_DROP_ETH_TOO_LONG);
        return;
    }
    int err = us_wire_eth_parse(&eth, frame, len);
    if (err) {
        us_drop(st, (enum us_drop_reason)err);
        return;
    }
    if (memcmp(eth.dst, ifp->mac, US_ETH_ALEN) != 0 && !us_eth_is_bcast(eth.dst)) {
        us_drop(st, US_DROP_ETH_NOT_FOR_US);
        return;
    }
    if (us_eth_is_mcast(eth.src)) { /* a source is never a group address */
        us_drop(st, US_DROP_ETH_BAD_SRC);
        return;
    }
    if (us_trace_on(st)) {
        char s[18];
        US_TRACE(st, "eth: %zu-byte frame from %s type 0x%04x", len, us_mac_ntoa(eth.src, s),
                 (unsigned)eth.type);
    }
    for (size_t i = 0; i < US_MAX_ETH_PROTOS; i++) {
        if (st->link->protos[i].input && st->link->protos[i].type == eth.type) {
            st->link->protos[i].input(st, ifp, eth.payload, eth.payload_len, rx_flags, now);
            return;
        }
    }
    us_drop(st, US_DROP_ETH_UNKNOWN_TYPE);
}

void
us_eth_output(struct us_stack *st, struct us_iface *ifp, const uint8_t dst[US_ETH_ALEN],
              uint16_t type, struct us_pkt *pkt)
{
    struct us_eth_repr eth;
    memcpy(eth.dst, dst, US_ETH_ALEN);
    memcpy(eth.src, ifp->mac, US_ETH_ALEN);
    eth.type = type;
    us_wire_eth_emit(&eth, us_pkt_push(pkt, US_ETH_HDR_LEN));
    /* DEVIATION(IEEE 802.3 minimum frame): we do not pad to 60 bytes; TAP and the in-memory wire
     * carry short frames, and a real NIC driver pads in hardware. */
    int err;
    if (pkt->csum_partial && ifp->tx_gso) {
        /* offload: the device finishes the TCP checksum (and cuts a super-segment); borrowed
         * payload goes as further pieces of one gathered write */
        uint16_t l4 = (uint16_t)(pkt->l4 - pkt->data);
        uint16_t hl = (uint16_t)(l4 + pkt->l4_hdr_len);
        struct iovec iov[3] = {{pkt->data, pkt->len}};
        for (uint8_t i = 0; i < pkt->n_ext; i++)
            iov[1 + i] = (struct iovec){(void *)pkt->ext[i].p, pkt->ext[i].len};
        err = ifp->tx_gso(ifp->tx_ctx, iov, 1 + pkt->n_ext, pkt->gso_size, l4, hl);
    } else {
        us_pkt_linearize(pkt);
        err = ifp->tx(ifp->tx_ctx, pkt->data, pkt->len);
    }
    if (err < 0)
        us_drop(st, US_DROP_TX_DRIVER);
    else
        us_stat_inc(st, US_STAT_ETH_OUT);
    us_pkt_free(st->pools, pkt);
}
