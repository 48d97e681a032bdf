/* `ustack bridge`: joins two Ethernet ports and forwards frames both ways, each direction
 * through its own seeded impairer (drivers/wire.h), so that two Linux hosts can cross exactly
 * the impairment ustack crosses (this kernel has no netem). Layer: runtime. */
#ifndef US_RUNTIME_BRIDGE_H
#define US_RUNTIME_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

/* A port is "tap:NAME[@NETNS]" (a TAP device the bridge opens, creating it when it does not
 * exist, without the virtio-net header: the kernel segments and checksums every frame before
 * the bridge sees it) or "packet:IFNAME[@NETNS]" (an AF_PACKET socket bound to an existing
 * interface, e.g. the TAP of a ustack daemon whose kernel side has no address). NETNS is a name
 * under /run/netns or an absolute path to a network namespace file; without it, the bridge's
 * own namespace. */
struct us_bridge_opts {
    const char *port[2];       /* a, b */
    const char *impair;        /* both directions (NULL or "": none) */
    const char *impair_dir[2]; /* overrides: [0] frames from a to b, [1] from b to a */
    uint64_t seed;             /* a seed= in a spec wins; b->a gets a seed derived from it */
    bool quiet;                /* no "up" line */
};

/* Runs until SIGINT or SIGTERM, then prints the counters of both directions and returns 0;
 * SIGUSR1 prints them without stopping. Returns a negative errno after printing why. */
int us_bridge_run(const struct us_bridge_opts *o);

#endif
