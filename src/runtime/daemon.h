/* The ustack daemon: one stack on a TAP device, an epoll loop, the control socket, and the
 * services the program that starts it plugs in. Layer: runtime (names no application). */
#ifndef US_RUNTIME_DAEMON_H
#define US_RUNTIME_DAEMON_H

#include <ustack.h>

/* What the daemon runs beside the stack, plugged in by the program that starts it: the ustack
 * tool plugs in apps/ (the --serve services and netstat's text), so the runtime includes and
 * links no application. Any hook may be NULL: then --serve is refused and netstat answers
 * -EOPNOTSUPP. */
struct us_daemon_services {
    /* Opens the services a --serve list names, with arg (the plugging program's settings);
     * *state is handed to the other hooks. Returns 0 or a negative code that error() explains. */
    int (*start)(void **state, const void *arg, struct us_stack *st, const char *list,
                 us_time_t now);
    const void *arg;
    const char *(*error)(int err);
    /* Serves whatever arrived; bounded work per call. */
    void (*run)(void *state, struct us_stack *st, us_time_t now);
    /* When run() must next be called (US_TIME_NEVER: on input only). */
    us_time_t (*next_deadline)(const void *state);
    void (*stop)(void *state, struct us_stack *st, us_time_t now);
    /* A client's netstat (US_NETSTAT_* flags): the text into buf, NUL-terminated; its length.
     * owner(ctx, fd, ...) names the process that holds a socket ("PID/NAME"), or NULL. */
    size_t (*netstat)(struct us_stack *st, int flags,
                      const char *(*owner)(void *ctx, int fd, char *buf, size_t len), void *ctx,
                      char *buf, size_t cap);
    /* The services' own counters for netstat -s, in its format, into buf (NUL-terminated);
     * their length. */
    size_t (*stats)(const void *state, char *buf, size_t cap);
};

struct us_daemon_opts {
    const struct us_daemon_services *services; /* NULL: none */
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
    unsigned ctl_mode;      /* permissions of the control socket; 0: 0600 (owner only) */
    size_t client_sockets;  /* descriptor sockets one client may hold (EMFILE); 0: default */
    size_t client_memory;   /* bytes of pair buffers one client may hold (ENOBUFS); 0: default */
    bool trace;
    bool no_offload;        /* no virtio-net header: no checksum offload, no TSO/GSO (by
                             * default they are on when the device takes the header) */
    uint64_t seed;
    us_ip4_t dns;           /* DNS server the client commands use by default (0: none) */
    bool ecn_set;           /* ecn given: us_config.tcp_ecn (else the stack's default) */
    uint8_t ecn;
};

/* Runs until SIGINT/SIGTERM. Returns 0, or a negative errno after printing why. */
int us_daemon_run(const struct us_daemon_opts *o);

#endif
