/* ustack client library: the socket calls of a ustack daemon, for other processes.
 * Each call is one request over the daemon's control socket. Blocking calls wait in the daemon
 * (the client holds no protocol state); a descriptor set non-blocking returns -EAGAIN instead.
 * Errors are negative errno values, as in the core API. */
#ifndef USTACK_CLIENT_H
#define USTACK_CLIENT_H

#include <ustack.h>

USTACK_BEGIN_DECLS

struct usc;

/* Path of the control socket: `path` if given, else $USTACK_CTL, else /run/ustack/ustack.ctl. */
const char *usc_default_path(const char *path);
/* Connects to the daemon. NULL and *err = -errno on failure. */
struct usc *usc_open(const char *path, int *err);
/* Closes the connection; the daemon closes every socket this client still had. */
void usc_close(struct usc *c);

int usc_socket(struct usc *c, enum us_sock_type type);
int usc_bind(struct usc *c, int fd, const struct us_sockaddr *addr);
int usc_connect(struct usc *c, int fd, const struct us_sockaddr *addr);
ssize_t usc_sendto(struct usc *c, int fd, const void *buf, size_t len, int flags,
                   const struct us_sockaddr *to);
/* timeout_ms: -1 waits forever (unless the descriptor is non-blocking), 0 never waits,
 * > 0 waits that long and then returns -EAGAIN. */
ssize_t usc_recvfrom(struct usc *c, int fd, void *buf, size_t len, int flags,
                     struct us_sockaddr *from, struct us_msginfo *info, int timeout_ms);
int usc_getsockname(struct usc *c, int fd, struct us_sockaddr *out);
int usc_getpeername(struct usc *c, int fd, struct us_sockaddr *out);
int usc_closefd(struct usc *c, int fd);
/* Waits until one of `events` (US_POLL*) holds or timeout_ms passes; returns the mask (0 on
 * timeout). */
int usc_poll(struct usc *c, int fd, int events, int timeout_ms);
int usc_setsockopt(struct usc *c, int fd, enum us_sockopt opt, int value);
int usc_sockerror(struct usc *c, int fd);
/* Non-blocking mode is a property of the descriptor on the client side. */
int usc_set_nonblock(struct usc *c, int fd, bool on);
/* TCP. usc_connect on a stream socket waits for the handshake (unless non-blocking: then
 * -EINPROGRESS, and usc_poll for US_POLLOUT then usc_sockerror). usc_send sends everything on a
 * blocking descriptor, waiting for room as needed; usc_recv returns what is there (0 at EOF). */
int usc_listen(struct usc *c, int fd, int backlog);
/* timeout_ms as for usc_recvfrom. */
int usc_accept(struct usc *c, int fd, struct us_sockaddr *peer, int timeout_ms);
ssize_t usc_send(struct usc *c, int fd, const void *buf, size_t len);
ssize_t usc_recv(struct usc *c, int fd, void *buf, size_t len, int timeout_ms);
int usc_shutdown(struct usc *c, int fd, int how);
int usc_getsockopt(struct usc *c, int fd, enum us_sockopt opt, int *value);
int usc_tcp_info(struct usc *c, int fd, struct us_tcp_info *out);
/* The DNS server the daemon was started with (--dns), or 0. */
us_ip4_t usc_dns_server(struct usc *c);

/* netstat text into buf (NUL-terminated); returns its length or -errno. */
#define US_NETSTAT_ALL 0x1
#define US_NETSTAT_NUMERIC 0x2
#define US_NETSTAT_STATS 0x4
#define US_NETSTAT_INFO 0x8 /* per-connection TCP internals, like ss -ti */
#define US_NETSTAT_PROGRAM 0x10 /* the PID/Program name column, like netstat -p */
ssize_t usc_netstat(struct usc *c, int flags, char *buf, size_t cap);

USTACK_END_DECLS

#endif
