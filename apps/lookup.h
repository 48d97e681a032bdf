/* lookup: resolve a name with the DNS stub resolver over the daemon's UDP. Layer: application. */
#ifndef US_APPS_LOOKUP_H
#define US_APPS_LOOKUP_H

#include <ustack_client.h>

#include "dns.h"

/* Resolves name by asking server (port 53) through a ustack UDP socket. Returns 0 or a negative
 * us_dns_* / errno code (us_dns_strerror explains it). */
int us_lookup(struct usc *c, us_ip4_t server, const char *name, const struct us_dns_opts *opts,
              struct us_dns_result *res);

#endif
