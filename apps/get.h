/* get and connect: TCP clients over a ustack daemon. Layer: application. */
#ifndef US_APPS_GET_H
#define US_APPS_GET_H

#include <stdio.h>

#include <ustack_client.h>

/* Downloads url (http://host[:port]/path) to out, resolving a host name with DNS server `dns`
 * (0: only dotted quads work). Progress and a summary go to `log` (NULL: quiet).
 * Returns 0 for a complete 2xx response, else a negative errno or -EPROTO for other statuses. */
int us_get(struct usc *c, const char *url, us_ip4_t dns, FILE *out, FILE *log);

/* An nc-like byte pipe: stdin to a TCP connection to host:port, the connection to stdout.
 * Returns 0 when both directions finished cleanly. */
int us_connect_pipe(struct usc *c, us_ip4_t addr, uint16_t port, FILE *log);

#endif
