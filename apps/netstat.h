/* netstat: the socket table and counters of a stack as text. Layer: application. */
#ifndef US_APPS_NETSTAT_H
#define US_APPS_NETSTAT_H

#include <ustack.h>
#include <ustack_client.h> /* US_NETSTAT_* flags */

/* Writes the table (and with US_NETSTAT_STATS every counter and drop reason) into buf,
 * NUL-terminated, truncated to cap. Returns the length written. */
size_t us_netstat_format(struct us_stack *st, int flags, char *buf, size_t cap);

#endif
