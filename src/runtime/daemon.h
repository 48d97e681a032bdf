/* The ustack daemon: one stack on a TAP device, an epoll loop, the control socket and the
 * built-in services. Layer: runtime. */
#ifndef US_RUNTIME_DAEMON_H
#define US_RUNTIME_DAEMON_H

#include <ustack.h>

struct us_daemon_opts {
    const char *tap;
    us_ip4_t addr;
    uint8_t prefix_len;
    us_ip4_t gateway;       /* 0: none */
    uint8_t mac[US_ETH_ALEN];
    bool mac_set;
    uint16_t mtu;           /* 0: 1500 */
    us_ip4_t host_addr;     /* 0: leave the kernel's side alone */
    uint8_t host_prefix;
    const char *serve;      /* comma list: echo, discard, chargen, http=DIR */
    const char *pcap;
    const char *impair;
    const char *ctl;
    bool trace;
    bool vnet;              /* open the TAP with IFF_VNET_HDR (checksum offload) */
    uint64_t seed;
    us_ip4_t dns;           /* DNS server the client commands use by default (0: none) */
};

/* Runs until SIGINT/SIGTERM. Returns 0, or a negative errno after printing why. */
int us_daemon_run(const struct us_daemon_opts *o);

#endif
