/* Ethernet II framing: parse and build the 14-byte header.
 * Layer: wire. No state; does not decide whether a frame is for us (that is link/). */
#include <string.h>

#include "wire/wire.h"

int
us_wire_eth_parse(struct us_eth_repr *r, const uint8_t *b, size_t len)
{
    if (len < US_ETH_HDR_LEN)
        return US_DROP_ETH_TRUNCATED;
    uint16_t type = us_load_be16(b + 12);
    /* IEEE 802.3: values below 0x0600 are a length (802.3/LLC framing), not an ethertype. */
    if (type < 0x0600)
        return US_DROP_ETH_UNKNOWN_TYPE;
    memcpy(r->dst, b, US_ETH_ALEN);
    memcpy(r->src, b + 6, US_ETH_ALEN);
    r->type = type;
    r->payload = b + US_ETH_HDR_LEN;
    r->payload_len = len - US_ETH_HDR_LEN;
    return 0;
}

void
us_wire_eth_emit(const struct us_eth_repr *r, uint8_t *out)
{
    memcpy(out, r->dst, US_ETH_ALEN);
    memcpy(out + 6, r->src, US_ETH_ALEN);
    us_store_be16(out + 12, r->type);
}

bool
us_eth_is_bcast(const uint8_t mac[US_ETH_ALEN])
{
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

bool
us_eth_is_mcast(const uint8_t mac[US_ETH_ALEN])
{
    /* IEEE 802: the I/G bit (least significant bit of the first octet) marks group addresses. */
    return (mac[0] & 0x01) != 0;
}
