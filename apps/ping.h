/* ping over a ustack daemon's ICMP echo sockets, printing like iputils ping. Layer: application. */
#ifndef US_APPS_PING_H
#define US_APPS_PING_H

#include <stdio.h>

#include <ustack_client.h>

struct us_ping_opts {
    us_ip4_t dst;
    const char *dst_text;
    int count;        /* 0: until interrupted */
    size_t size;      /* data bytes after the 8-byte ICMP header (default 56) */
    double interval;  /* seconds between requests (default 1) */
    double timeout;   /* seconds to wait for the last reply (default 2; 0: 2) */
    int ttl_unused;
};

/* Returns 0 if at least one reply came back, 1 if none, 2 on error (iputils' exit codes). */
int us_ping_run(struct usc *c, const struct us_ping_opts *o, FILE *out);

#endif
