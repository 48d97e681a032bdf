/* Routing table: longest-prefix match over a small sorted array. Layer: internet.
 * A host has few routes (connected subnets and a default gateway), so a sorted array beats a
 * trie here; the table is bounded by US_MAX_ROUTES. */
#include <errno.h>
#include <string.h>

#include "ip/ip.h"

int
us_route_add(struct us_stack *st, us_ip4_t dst, uint8_t prefix_len, us_ip4_t gw,
             struct us_iface *ifp)
{
    struct us_route_table *t = &st->ip->routes;
    if (prefix_len > 32 || !ifp)
        return -EINVAL;
    if (t->n >= US_MAX_ROUTES)
        return -ENOSPC;
    us_ip4_t mask = prefix_len ? ~(us_ip4_t)0 << (32 - prefix_len) : 0;
    struct us_route r = {.dst = dst & mask, .mask = mask, .prefix_len = prefix_len, .gw = gw,
                         .ifp = ifp};
    size_t i = 0;
    while (i < t->n && t->r[i].prefix_len >= prefix_len) {
        if (t->r[i].prefix_len == prefix_len && t->r[i].dst == r.dst)
            return -EEXIST;
        i++;
    }
    memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(t->r[0]));
    t->r[i] = r;
    t->n++;
    char a[16], g[16];
    US_TRACE(st, "ip: route %s/%u via %s dev %s", us_ip4_ntoa(r.dst, a), (unsigned)prefix_len,
             gw ? us_ip4_ntoa(gw, g) : "direct", ifp->name);
    return 0;
}

const struct us_route *
us_route_lookup(const struct us_stack *st, us_ip4_t dst, us_ip4_t *nh)
{
    const struct us_route_table *t = &st->ip->routes;
    for (size_t i = 0; i < t->n; i++) {
        if ((dst & t->r[i].mask) == t->r[i].dst) {
            if (nh)
                *nh = t->r[i].gw ? t->r[i].gw : dst;
            return &t->r[i];
        }
    }
    return NULL;
}

us_ip4_t
us_ip4_select_src(const struct us_stack *st, us_ip4_t dst)
{
    const struct us_route *r = us_route_lookup(st, dst, NULL);
    return r ? r->ifp->addr : 0;
}
