/* The internet layer's state: allocation, teardown and the protocol-number dispatch tables.
 * Layer: internet. */
#include <errno.h>
#include <stdlib.h>

#include "ip/ip.h"

int
us_ip_init(struct us_stack *st)
{
    st->ip = calloc(1, sizeof(*st->ip));
    if (!st->ip)
        return -ENOMEM;
    st->ip->id = (uint16_t)us_rand_next(&st->rand);
    us_icmp_init(st);
    us_ip_register(st, US_IPPROTO_ICMP, us_icmp_input);
    int err = us_frag_init(st);
    if (err == 0)
        err = us_eth_register(st, US_ETHERTYPE_IPV4, us_ip4_input);
    return err;
}

void
us_ip_destroy(struct us_stack *st)
{
    if (!st->ip)
        return;
    us_frag_destroy(st);
    free(st->ip);
    st->ip = NULL;
}

void
us_ip_register(struct us_stack *st, uint8_t proto, us_ip_proto_fn input)
{
    st->ip->protos[proto] = input;
}

void
us_ip_register_err(struct us_stack *st, uint8_t proto, us_ip_err_fn err)
{
    st->ip->errs[proto] = err;
}
