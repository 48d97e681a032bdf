/* Built-in services run inside the daemon on the stack's own sockets: echo (RFC 862), discard
 * (RFC 863), chargen (RFC 864) over UDP and TCP, and HTTP (http=DIR). Layer: application. */
#ifndef US_APPS_SERVICES_H
#define US_APPS_SERVICES_H

#include <ustack.h>

struct us_services;

/* The HTTP server's time limits and resource limits (ustack up --http-*). */
struct us_services_limits {
    /* A kept-alive connection with no request for this long is closed with a FIN (nginx's
     * keepalive_timeout). 0: never. */
    us_time_t http_idle_timeout;
    /* A request head must be complete this long after it began: after the accept for the first
     * request, after its first byte for a later one (nginx's client_header_timeout, counted
     * once, not per read). Then a partial head gets "408 Request Timeout" and the connection
     * closes; a connection that sent nothing is just closed. 0: never. */
    us_time_t http_head_timeout;
    /* A response that could not be written for this long, while the client acknowledged
     * nothing (it does not read), ends with an RST: within one to two of these after the last
     * byte the client took (nginx's send_timeout, with reset_timedout_connection). 0: never. */
    us_time_t http_send_timeout;
    /* HTTP connections served at once; the next one is answered "503 Service Unavailable" with
     * Connection: close and closed. */
    size_t http_max_conns;
    /* Bytes the HTTP service may hold (each connection's record and request parser, and output
     * TCP did not take); a connection that would go over it is answered 503 like one over
     * http_max_conns. A connection's memory is taken at its accept, so a request never waits
     * for memory. The TCP buffers belong to the stack and are bounded per socket there. */
    size_t http_max_memory;
};

/* nginx's defaults for the time limits: idle 75 s, head 60 s, send 60 s; 4096 connections,
 * 64 MiB. */
void us_services_limits_default(struct us_services_limits *l);

/* Parses the comma list ("echo,discard,chargen,http=DIR") and opens the sockets. NULL/empty
 * list: none. lim NULL: us_services_limits_default. Returns 0 or a negative code for
 * us_services_error(). */
int us_services_start_limits(struct us_services **out, struct us_stack *st, const char *list,
                             const struct us_services_limits *lim, us_time_t now);
/* us_services_start_limits with the default limits. */
int us_services_start(struct us_services **out, struct us_stack *st, const char *list,
                      us_time_t now);
/* The services' sockets are watched (us_sock_watch) and served when us_ready_dispatch reports
 * them. us_services_run continues the connections that used up their work budget in their last
 * step (bounded work per connection), and acts on the HTTP deadlines that passed (request head,
 * keep-alive idle, lingering close: RFC 9112 9.6, FIN sent, waiting for the client's);
 * us_services_next_deadline is 0 while there are connections to continue, else the earliest
 * such deadline, else US_TIME_NEVER. Each deadline kind is one list in deadline order, so
 * neither looks at idle connections. */
void us_services_run(struct us_services *s, struct us_stack *st, us_time_t now);
us_time_t us_services_next_deadline(const struct us_services *s);
void us_services_stop(struct us_services *s, struct us_stack *st, us_time_t now);
const char *us_services_error(int err);

/* What the HTTP service did, for netstat -s. */
struct us_services_stats {
    uint64_t http_conns;          /* open now (served, not rejected) */
    uint64_t http_memory;         /* bytes held now */
    uint64_t http_accepted;       /* connections served */
    uint64_t http_reject_conns;   /* answered 503: over http_max_conns */
    uint64_t http_reject_memory;  /* answered 503: over http_max_memory */
    uint64_t http_head_timeouts;  /* answered 408: a partial head ran out of time */
    uint64_t http_silent_timeouts;/* closed: no byte of a first request in time */
    uint64_t http_send_timeouts;  /* reset: the client read no response byte in time */
    uint64_t http_idle_timeouts;  /* kept-alive connections closed when idle */
    uint64_t http_linger_timeouts;/* lingering closes whose client never sent its FIN */
};
void us_services_get_stats(const struct us_services *s, struct us_services_stats *out);
/* The stats as netstat -s lines (a heading, then NAME VALUE TEXT) into buf, NUL-terminated;
 * returns the length. Nothing when s is NULL or serves no HTTP. */
size_t us_services_format_stats(const struct us_services *s, char *buf, size_t cap);

#endif
