/* netstat: the socket table and counters of a stack as text. Layer: application. */
#ifndef US_APPS_NETSTAT_H
#define US_APPS_NETSTAT_H

#include <ustack.h>
#include <ustack_client.h> /* US_NETSTAT_* flags */

/* Who holds stack descriptor fd ("PID/NAME"), or NULL; for the US_NETSTAT_PROGRAM column. */
typedef const char *(*us_netstat_owner_fn)(void *ctx, int fd, char *buf, size_t len);

/* Writes the table (and with US_NETSTAT_STATS every counter and drop reason) into buf,
 * NUL-terminated, truncated to cap. Returns the length written. owner may be NULL. */
size_t us_netstat_format(struct us_stack *st, int flags, us_netstat_owner_fn owner, void *ctx,
                         char *buf, size_t cap);

#endif
