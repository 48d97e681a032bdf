/* Interfaces and the ethertype table: the link layer's state. Layer: link. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link/link.h"

int
us_link_init(struct us_stack *st)
{
    st->link = calloc(1, sizeof(*st->link));
    return st->link ? 0 : -ENOMEM;
}

void
us_link_destroy(struct us_stack *st)
{
    free(st->link);
    st->link = NULL;
}

int
us_eth_register(struct us_stack *st, uint16_t type, us_eth_proto_fn input)
{
    for (size_t i = 0; i < US_MAX_ETH_PROTOS; i++) {
        if (!st->link->protos[i].input) {
            st->link->protos[i].type = type;
            st->link->protos[i].input = input;
            return 0;
        }
    }
    return -ENOSPC;
}

struct us_iface *
us_link_iface_add(struct us_stack *st, const struct us_iface_conf *conf)
{
    struct us_link *l = st->link;
    if (l->n_ifaces >= US_MAX_IFACES || conf->prefix_len > 32 || !conf->tx)
        return NULL;
    uint16_t mtu = conf->mtu ? conf->mtu : 1500;
    if (mtu < 68) /* RFC 791: every host must handle 68-byte datagrams unfragmented */
        return NULL;
    struct us_iface *ifp = &l->ifaces[l->n_ifaces];
    memset(ifp, 0, sizeof(*ifp));
    snprintf(ifp->name, sizeof(ifp->name), "%s", conf->name ? conf->name : "eth");
    ifp->index = (int)l->n_ifaces;
    memcpy(ifp->mac, conf->mac, US_ETH_ALEN);
    ifp->addr = conf->addr;
    ifp->prefix_len = conf->prefix_len;
    ifp->mask = conf->prefix_len ? ~(us_ip4_t)0 << (32 - conf->prefix_len) : 0;
    ifp->mtu = mtu;
    ifp->tx = conf->tx;
    ifp->tx_gso = conf->tx_gso;
    ifp->tx_ctx = conf->tx_ctx;
    l->n_ifaces++;
    return ifp;
}

struct us_iface *
us_iface_by_addr(struct us_stack *st, us_ip4_t a)
{
    for (size_t i = 0; i < st->link->n_ifaces; i++)
        if (st->link->ifaces[i].addr == a)
            return &st->link->ifaces[i];
    return NULL;
}
