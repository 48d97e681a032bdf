/* Descriptor sockets in the daemon: ustack sockets that unmodified programs hold as one end of an
 * AF_UNIX pair (doc/run.md). Layer: runtime. */
#ifndef US_RUNTIME_SOCKD_H
#define US_RUNTIME_SOCKD_H

#include <stdbool.h>
#include <sys/types.h>

#include <ustack.h>

#include "runtime/ctl_proto.h"

struct us_sockd;
struct us_sockd_diag;

/* An epoll registration: the daemon's loop calls fn with the events (data.ptr points here). */
struct us_evh {
    void (*fn)(struct us_evh *h, uint32_t events, us_time_t now);
};

/* Who a control client is (SO_PEERCRED and /proc), and what it may hold. Shared by the client
 * connection and by every socket it made, which may outlive it (inherited by a child). */
struct us_sockd_owner {
    pid_t pid;
    uid_t uid;
    char comm[16];
    size_t n_socks, max_socks;  /* EMFILE past max_socks */
    size_t mem, max_mem;        /* bytes of pair buffers; ENOBUFS past max_mem */
    unsigned refs;              /* the client connection and its sockets */
    uint32_t credit;            /* US_CTL_DS_NEW the client may still send (ctl_proto.h) */
    struct us_sockd_diag *diag; /* the client's NETLINK_SOCK_DIAG socket, or NULL */
};

struct us_sockd_limits {
    size_t socks_per_client;
    size_t mem_per_client;
    size_t pair_buf;            /* socket buffer of each end of a stream pair */
};
void us_sockd_limits_default(struct us_sockd_limits *l);

struct us_sockd *us_sockd_new(struct us_stack *st, int epfd, const struct us_sockd_limits *l);
/* Closes every descriptor socket (their connections close as the program's would). */
void us_sockd_free(struct us_sockd *sd, us_time_t now);

/* The error hints (ctl_proto.h) the reply to HELLO carries, or -1 (none: not made). */
int us_sockd_hints_fd(const struct us_sockd *sd);

/* Makes an owner for a new client connection (refs 1), from its credentials. */
struct us_sockd_owner *us_sockd_owner_new(struct us_sockd *sd, pid_t pid, uid_t uid);
void us_sockd_owner_put(struct us_sockd_owner *o);
/* Takes fd, which HELLO carries: a NETLINK_SOCK_DIAG socket the client made in its own network
 * namespace, where the pairs it makes itself live (the daemon's own socket diagnostics see only
 * the daemon's namespace). Anything else is closed. Without it the client gets no credit. */
void us_sockd_owner_diag(struct us_sockd_owner *o, int fd);

/* A reply held back: US_CTL_DS_LINGER is answered when the close it asks about is over (or
 * its time is up), through fn. The daemon keeps one per client; sockd sets `on` while it holds
 * it, and us_sockd_forget lets it go when the client leaves first. */
struct us_sockd_waiter {
    void (*fn)(struct us_sockd_waiter *w, int64_t ret);
    void *on; /* sockd's: the socket whose close it waits for, or NULL */
};
void us_sockd_forget(struct us_sockd *sd, struct us_sockd_waiter *w);

/* True for the requests this module answers: US_CTL_DS_* and those flagged US_CTL_F_DS. */
bool us_sockd_handles(const struct us_ctl_req *q);
/* Executes one. fds: the descriptors that came with it (always closed or kept by the callee).
 * Fills *r and up to out_cap bytes of out (*out_len); *give_fd is a descriptor to send with the
 * reply, which the caller closes after sending (-1: none). Returns false for a request that
 * gets no reply now: none at all (US_CTL_DS_NEW), or one held on w (US_CTL_DS_LINGER; w may
 * be NULL: then it is answered at once). */
bool us_sockd_request(struct us_sockd *sd, struct us_sockd_owner *o, const struct us_ctl_req *q,
                      const int *fds, int n_fds, struct us_ctl_resp *r, void *out, size_t out_cap,
                      size_t *out_len, int *give_fd, struct us_sockd_waiter *w, us_time_t now);

/* fn reads what the link (the TAP) holds into the stack; a blocking US_CTL_CONNECT calls it
 * after the SYN went out, and answers 0 if that ended the handshake. */
void us_sockd_set_link_read(struct us_sockd *sd, void (*fn)(void *ctx), void *ctx);
/* Grants client o the credit its limits allow now for US_CTL_DS_NEW, and returns it. */
uint32_t us_sockd_grant(struct us_sockd *sd, struct us_sockd_owner *o);
/* After the stack's ready list was harvested and epoll's events handled: sockets that stopped
 * because their work budget ran out continue, and the pair ends of sockets ended meanwhile are
 * closed. True while some still wait (do not sleep). */
bool us_sockd_run(struct us_sockd *sd, us_time_t now);
/* When us_sockd_run has a lingering close to end (US_TIME_NEVER: none). */
us_time_t us_sockd_next_deadline(const struct us_sockd *sd);

/* Who holds stack descriptor fd, for netstat -p: "PID/NAME", or NULL when it is not a
 * descriptor socket. */
const char *us_sockd_owner_of(struct us_sockd *sd, int fd, char *buf, size_t len);

/* Counters for netstat -s. */
struct us_sockd_stats {
    size_t sockets, listeners;
    uint64_t bytes_in, bytes_out; /* program -> stack, stack -> program */
    uint64_t resets_on_close;     /* connections reset because the program left data unread */
    uint64_t diag_unknown;        /* socket diagnostics gave no answer on a program's end */
};
void us_sockd_stats(const struct us_sockd *sd, struct us_sockd_stats *out);

#endif
