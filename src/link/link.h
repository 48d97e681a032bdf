/* Link layer: interfaces, Ethernet framing and the ethertype dispatch.
 * Layer: link. Knows Ethernet and the driver callback; knows nothing of IP's protocols. */
#ifndef US_LINK_LINK_H
#define US_LINK_LINK_H

#include <ustack.h>

#include "core/pkt.h"

#define US_MAX_IFACES 8

struct us_iface {
    char name[16];
    int index;
    uint8_t mac[US_ETH_ALEN];
    us_ip4_t addr;
    us_ip4_t mask;
    uint8_t prefix_len;
    uint16_t mtu;
    us_tx_fn tx;
    us_tx_gso_fn tx_gso;
    void *tx_ctx;
};

static inline us_ip4_t
us_iface_bcast(const struct us_iface *ifp)
{
    return (ifp->addr & ifp->mask) | ~ifp->mask;
}

struct us_stack;
/* Receives one frame (borrowed); rx_flags: US_RX_* from the driver. */
void us_eth_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
                  unsigned rx_flags, us_time_t now);
/* Prepends the Ethernet header and hands the frame to the driver. Consumes pkt. */
void us_eth_output(struct us_stack *st, struct us_iface *ifp, const uint8_t dst[US_ETH_ALEN],
                   uint16_t type, struct us_pkt *pkt);

#endif
