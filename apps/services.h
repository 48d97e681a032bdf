/* Built-in services run inside the daemon on the stack's own sockets: echo (RFC 862), discard
 * (RFC 863), chargen (RFC 864). Layer: application. UDP for now; TCP and http=DIR come with TCP. */
#ifndef US_APPS_SERVICES_H
#define US_APPS_SERVICES_H

#include <ustack.h>

struct us_services;

/* Parses the comma list ("echo,discard,chargen") and opens the sockets. NULL/empty list: none.
 * Returns 0 or a negative code for us_services_error(). */
int us_services_start(struct us_services **out, struct us_stack *st, const char *list,
                      us_time_t now);
/* Serves whatever arrived; bounded work per call. */
void us_services_run(struct us_services *s, struct us_stack *st, us_time_t now);
us_time_t us_services_next_deadline(const struct us_services *s);
void us_services_stop(struct us_services *s, struct us_stack *st, us_time_t now);
const char *us_services_error(int err);

#endif
