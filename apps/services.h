/* Built-in services run inside the daemon on the stack's own sockets: echo (RFC 862), discard
 * (RFC 863), chargen (RFC 864) over UDP and TCP, and HTTP (http=DIR). Layer: application. */
#ifndef US_APPS_SERVICES_H
#define US_APPS_SERVICES_H

#include <ustack.h>

struct us_services;

/* Parses the comma list ("echo,discard,chargen") and opens the sockets. NULL/empty list: none.
 * Returns 0 or a negative code for us_services_error(). */
int us_services_start(struct us_services **out, struct us_stack *st, const char *list,
                      us_time_t now);
/* The services' sockets are watched (us_sock_watch) and served when us_ready_dispatch reports
 * them. us_services_run continues the connections that used up their work budget in their last
 * step (bounded work per connection), and closes HTTP connections whose lingering close (RFC
 * 9112 9.6: FIN sent, waiting for the client's) ran out; us_services_next_deadline is 0 while
 * there are connections to continue, else the earliest such close, else US_TIME_NEVER. Neither
 * looks at idle connections. */
void us_services_run(struct us_services *s, struct us_stack *st, us_time_t now);
us_time_t us_services_next_deadline(const struct us_services *s);
void us_services_stop(struct us_services *s, struct us_stack *st, us_time_t now);
const char *us_services_error(int err);

#endif
