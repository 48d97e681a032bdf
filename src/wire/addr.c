/* Text forms of IPv4 and MAC addresses for traces, configuration and the CLI.
 * Layer: wire. No state, no locale, no allocation. Parsers are strict: one accepted spelling
 * ("192.0.2.1" without leading zeros, "02:00:00:00:00:01" with 1-2 hex digits per group);
 * anything else, including trailing characters, is -EINVAL. */
#include <errno.h>
#include <stdio.h>

#include "wire/wire.h"

char *
us_ip4_ntoa(us_ip4_t a, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(a >> 24), (unsigned)(a >> 16) & 0xffu,
             (unsigned)(a >> 8) & 0xffu, (unsigned)a & 0xffu);
    return buf;
}

int
us_ip4_aton(const char *s, us_ip4_t *out)
{
    uint32_t addr = 0;

    for (int i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return -EINVAL;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        /* A leading zero would be octal to inet_aton(3); refuse the ambiguity. */
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
            return -EINVAL;
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 3)
                return -EINVAL;
            v = v * 10 + (unsigned)(*s++ - '0');
        }
        if (v > 255)
            return -EINVAL;
        addr = addr << 8 | v;
    }
    if (*s != '\0')
        return -EINVAL;
    *out = addr;
    return 0;
}

char *
us_mac_ntoa(const uint8_t mac[US_ETH_ALEN], char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
    return buf;
}

static int
addr_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
us_mac_aton(const char *s, uint8_t mac[US_ETH_ALEN])
{
    uint8_t tmp[US_ETH_ALEN];

    for (int i = 0; i < US_ETH_ALEN; i++) {
        if (i > 0 && *s++ != ':')
            return -EINVAL;
        int hi = addr_hexval(*s);
        if (hi < 0)
            return -EINVAL;
        s++;
        int lo = addr_hexval(*s);
        if (lo >= 0) {
            tmp[i] = (uint8_t)(hi << 4 | lo);
            s++;
        } else {
            tmp[i] = (uint8_t)hi;
        }
    }
    if (*s != '\0')
        return -EINVAL;
    for (int i = 0; i < US_ETH_ALEN; i++)
        mac[i] = tmp[i];
    return 0;
}
