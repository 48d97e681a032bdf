/* Link layer: interfaces, Ethernet framing and the ethertype dispatch.
 * Layer: link. Knows Ethernet and the driver callback; knows nothing of IP's protocols. */
#ifndef US_LINK_LINK_H
#define US_LINK_LINK_H

#include "core/core.h"

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

/* Upward dispatch: the handler of each ethertype is registered at stack creation, so the link
 * layer never names the layers above it (Linux's dev_add_pack). */
typedef void (*us_eth_proto_fn)(struct us_stack *st, struct us_iface *ifp, const uint8_t *b,
                                size_t len, unsigned rx_flags, us_time_t now);
#define US_MAX_ETH_PROTOS 4

/* The link layer's state (st->link). */
struct us_link {
    struct us_iface ifaces[US_MAX_IFACES];
    size_t n_ifaces;
    struct {
        uint16_t type;
        us_eth_proto_fn input;
    } protos[US_MAX_ETH_PROTOS];
};

int us_link_init(struct us_stack *st);
void us_link_destroy(struct us_stack *st);
/* Hands frames of ethertype `type` to `input`. Returns 0 or -ENOSPC. */
int us_eth_register(struct us_stack *st, uint16_t type, us_eth_proto_fn input);
/* Creates an interface (no route, no announcement: the composition root does those). NULL when
 * the table is full or the configuration is invalid. */
struct us_iface *us_link_iface_add(struct us_stack *st, const struct us_iface_conf *conf);
/* Is a one of our interface addresses? Returns the interface or NULL. */
struct us_iface *us_iface_by_addr(struct us_stack *st, us_ip4_t a);

/* Receives one frame (borrowed); rx_flags: US_RX_* from the driver. */
void us_eth_input(struct us_stack *st, struct us_iface *ifp, const uint8_t *frame, size_t len,
                  unsigned rx_flags, us_time_t now);
/* Prepends the Ethernet header and hands the frame to the driver. Consumes pkt. */
void us_eth_output(struct us_stack *st, struct us_iface *ifp, const uint8_t dst[US_ETH_ALEN],
                   uint16_t type, struct us_pkt *pkt);

#endif
