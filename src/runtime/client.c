/* Client library: BSD-shaped socket calls carried to the ustack daemon over its control socket.
 * Layer: runtime (client side). One request, one reply; the daemon does any waiting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <ustack_client.h>

#include "runtime/ctl_proto.h"

struct usc {
    int sock;
    uint8_t *nonblock; /* per descriptor */
    size_t nb_len;
    uint8_t buf[sizeof(struct us_ctl_resp) + US_CTL_MAX_PAYLOAD];
};

const char *
usc_default_path(const char *path)
{
    if (path && *path)
        return path;
    const char *env = getenv("USTACK_CTL");
    if (env && *env)
        return env;
    return US_CTL_DEFAULT_DIR "/ustack.ctl";
}

static long usc_simple(struct usc *c, struct us_ctl_req *q, const void *payload, size_t len);

struct usc *
usc_open(const char *path, int *err)
{
    path = usc_default_path(path);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    strcpy(sa.sun_path, path);
    struct usc *c = calloc(1, sizeof(*c));
    if (!c) {
        *err = -ENOMEM;
        return NULL;
    }
    c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        *err = -errno;
        if (c->sock >= 0)
            close(c->sock);
        free(c);
        return NULL;
    }
    /* Every connection starts by naming the protocol version; a daemon of another version says
     * -EPROTO. */
    struct us_ctl_req q = {.op = US_CTL_HELLO, .arg = US_CTL_VERSION};
    long ret = usc_simple(c, &q, NULL, 0);
    if (ret < 0) {
        *err = (int)ret;
        usc_close(c);
        return NULL;
    }
    return c;
}

void
usc_close(struct usc *c)
{
    if (!c)
        return;
    close(c->sock);
    free(c->nonblock);
    free(c);
}

/* Sends a request with payload, waits for the reply. Returns the reply header (payload follows
 * in c->buf) or NULL with *err set. */
static const struct us_ctl_resp *
usc_call(struct usc *c, struct us_ctl_req *q, const void *payload, size_t len, long *err)
{
    if (len > US_CTL_MAX_PAYLOAD) {
        *err = -EMSGSIZE;
        return NULL;
    }
    q->magic = US_CTL_MAGIC;
    q->len = (uint32_t)len;
    struct iovec iov[2] = {{q, sizeof(*q)}, {(void *)payload, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    ssize_t n;
    do
        n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        *err = -errno;
        return NULL;
    }
    do
        n = recv(c->sock, c->buf, sizeof(c->buf), 0);
    while (n < 0 && errno == EINTR);
    if (n < (ssize_t)sizeof(struct us_ctl_resp)) {
        *err = n < 0 ? -errno : -ECONNRESET; /* the daemon went away */
        return NULL;
    }
    const struct us_ctl_resp *r = (const struct us_ctl_resp *)c->buf;
    if (r->len > (size_t)n - sizeof(*r)) {
        *err = -EPROTO;
        return NULL;
    }
    return r;
}

static long
usc_simple(struct usc *c, struct us_ctl_req *q, const void *payload, size_t len)
{
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, q, payload, len, &err);
    return r ? (long)r->ret : err;
}

int
usc_socket(struct usc *c, enum us_sock_type type)
{
    struct us_ctl_req q = {.op = US_CTL_SOCKET, .arg = (int32_t)type};
    long fd = usc_simple(c, &q, NULL, 0);
    if (fd >= 0)
        usc_set_nonblock(c, (int)fd, false);
    return (int)fd;
}

int
usc_bind(struct usc *c, int fd, const struct us_sockaddr *a)
{
    struct us_ctl_req q = {.op = US_CTL_BIND, .fd = fd, .addr = a->addr, .port = a->port};
    return (int)usc_simple(c, &q, NULL, 0);
}

static bool usc_is_nonblock(const struct usc *c, int fd);

int
usc_connect(struct usc *c, int fd, const struct us_sockaddr *a)
{
    struct us_ctl_req q = {.op = US_CTL_CONNECT, .fd = fd};
    if (a) {
        q.addr = a->addr;
        q.port = a->port;
    } else {
        q.flags = US_CTL_F_UNSPEC;
    }
    int r = (int)usc_simple(c, &q, NULL, 0);
    if (r != -EINPROGRESS || usc_is_nonblock(c, fd))
        return r;
    /* A blocking connect waits for the handshake's outcome, as connect(2) does. */
    int m = usc_poll(c, fd, US_POLLOUT, -1);
    if (m < 0)
        return m;
    int err = usc_sockerror(c, fd);
    return err > 0 ? -err : err;
}

ssize_t
usc_sendto(struct usc *c, int fd, const void *buf, size_t len, int flags,
           const struct us_sockaddr *to)
{
    struct us_ctl_req q = {.op = US_CTL_SENDTO, .fd = fd, .flags = flags << 8};
    if (to) {
        q.flags |= US_CTL_F_ADDR;
        q.addr = to->addr;
        q.port = to->port;
    }
    return usc_simple(c, &q, buf, len);
}

static bool
usc_is_nonblock(const struct usc *c, int fd)
{
    return fd >= 0 && (size_t)fd < c->nb_len && c->nonblock[fd];
}

ssize_t
usc_recvfrom(struct usc *c, int fd, void *buf, size_t len, int flags, struct us_sockaddr *from,
             struct us_msginfo *info, int timeout_ms)
{
    if (usc_is_nonblock(c, fd))
        timeout_ms = 0;
    struct us_ctl_req q = {.op = US_CTL_RECVFROM, .fd = fd, .flags = flags << 8,
                           .timeout_ms = timeout_ms,
                           .arg = (int32_t)(len > US_CTL_MAX_PAYLOAD ? US_CTL_MAX_PAYLOAD : len)};
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, &q, NULL, 0, &err);
    if (!r)
        return err;
    if (r->ret < 0)
        return (ssize_t)r->ret;
    memcpy(buf, r + 1, r->len < len ? r->len : len);
    if (from) {
        from->addr = r->addr;
        from->port = r->port;
    }
    if (info) {
        info->ttl = r->ttl;
        info->dst = r->dst;
    }
    return (ssize_t)r->ret;
}

static int
usc_name(struct usc *c, enum us_ctl_op op, int fd, struct us_sockaddr *out)
{
    struct us_ctl_req q = {.op = op, .fd = fd};
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, &q, NULL, 0, &err);
    if (!r)
        return (int)err;
    if (r->ret == 0) {
        out->addr = r->addr;
        out->port = r->port;
    }
    return (int)r->ret;
}

int
usc_getsockname(struct usc *c, int fd, struct us_sockaddr *out)
{
    return usc_name(c, US_CTL_GETSOCKNAME, fd, out);
}

int
usc_getpeername(struct usc *c, int fd, struct us_sockaddr *out)
{
    return usc_name(c, US_CTL_GETPEERNAME, fd, out);
}

int
usc_closefd(struct usc *c, int fd)
{
    struct us_ctl_req q = {.op = US_CTL_CLOSE, .fd = fd};
    return (int)usc_simple(c, &q, NULL, 0);
}

int
usc_poll(struct usc *c, int fd, int events, int timeout_ms)
{
    struct us_ctl_req q = {.op = US_CTL_POLL, .fd = fd, .arg = events, .timeout_ms = timeout_ms};
    return (int)usc_simple(c, &q, NULL, 0);
}

int
usc_setsockopt(struct usc *c, int fd, enum us_sockopt opt, int value)
{
    struct us_ctl_req q = {.op = US_CTL_SETSOCKOPT, .fd = fd, .arg = (int32_t)opt, .arg2 = value};
    return (int)usc_simple(c, &q, NULL, 0);
}

int
usc_sockerror(struct usc *c, int fd)
{
    struct us_ctl_req q = {.op = US_CTL_SOCKERR, .fd = fd};
    return (int)usc_simple(c, &q, NULL, 0);
}

int
usc_set_nonblock(struct usc *c, int fd, bool on)
{
    if (fd < 0)
        return -EBADF;
    if ((size_t)fd >= c->nb_len) {
        size_t n = (size_t)fd + 64;
        uint8_t *p = realloc(c->nonblock, n);
        if (!p)
            return -ENOMEM;
        memset(p + c->nb_len, 0, n - c->nb_len);
        c->nonblock = p;
        c->nb_len = n;
    }
    c->nonblock[fd] = on;
    return 0;
}

int
usc_listen(struct usc *c, int fd, int backlog)
{
    struct us_ctl_req q = {.op = US_CTL_LISTEN, .fd = fd, .arg = backlog};
    return (int)usc_simple(c, &q, NULL, 0);
}

int
usc_accept(struct usc *c, int fd, struct us_sockaddr *peer, int timeout_ms)
{
    if (usc_is_nonblock(c, fd))
        timeout_ms = 0;
    struct us_ctl_req q = {.op = US_CTL_ACCEPT, .fd = fd, .timeout_ms = timeout_ms};
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, &q, NULL, 0, &err);
    if (!r)
        return (int)err;
    if (r->ret >= 0) {
        usc_set_nonblock(c, (int)r->ret, false);
        if (peer) {
            peer->addr = r->addr;
            peer->port = r->port;
        }
    }
    return (int)r->ret;
}

ssize_t
usc_send(struct usc *c, int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < US_CTL_MAX_PAYLOAD ? len - done : US_CTL_MAX_PAYLOAD;
        ssize_t w = usc_sendto(c, fd, p + done, n, 0, NULL);
        if (w == -EAGAIN && !usc_is_nonblock(c, fd)) {
            int m = usc_poll(c, fd, US_POLLOUT, -1);
            if (m < 0)
                return done ? (ssize_t)done : m;
            continue;
        }
        if (w < 0)
            return done ? (ssize_t)done : w;
        done += (size_t)w;
        if (usc_is_nonblock(c, fd) && (size_t)w < n)
            break;
    }
    return (ssize_t)done;
}

ssize_t
usc_recv(struct usc *c, int fd, void *buf, size_t len, int timeout_ms)
{
    return usc_recvfrom(c, fd, buf, len, 0, NULL, NULL, timeout_ms);
}

int
usc_shutdown(struct usc *c, int fd, int how)
{
    struct us_ctl_req q = {.op = US_CTL_SHUTDOWN, .fd = fd, .arg = how};
    return (int)usc_simple(c, &q, NULL, 0);
}

int
usc_getsockopt(struct usc *c, int fd, enum us_sockopt opt, int *value)
{
    struct us_ctl_req q = {.op = US_CTL_GETSOCKOPT, .fd = fd, .arg = (int32_t)opt};
    long r = usc_simple(c, &q, NULL, 0);
    if (r < 0)
        return (int)r;
    *value = (int)r;
    return 0;
}

int
usc_tcp_info(struct usc *c, int fd, struct us_tcp_info *out)
{
    struct us_ctl_req q = {.op = US_CTL_TCPINFO, .fd = fd};
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, &q, NULL, 0, &err);
    if (!r)
        return (int)err;
    if (r->ret == 0 && r->len == sizeof(*out))
        memcpy(out, r + 1, sizeof(*out)); /* numbers and enums only: valid in this process */
    return (int)r->ret;
}

us_ip4_t
usc_dns_server(struct usc *c)
{
    struct us_ctl_req q = {.op = US_CTL_CONFIG};
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, &q, NULL, 0, &err);
    return r && r->ret == 0 ? r->addr : 0;
}

ssize_t
usc_netstat(struct usc *c, int flags, char *buf, size_t cap)
{
    struct us_ctl_req q = {.op = US_CTL_NETSTAT, .arg = flags};
    long err = 0;
    const struct us_ctl_resp *r = usc_call(c, &q, NULL, 0, &err);
    if (!r)
        return err;
    if (r->ret < 0)
        return (ssize_t)r->ret;
    if (cap == 0)
        return -ENOSPC;
    size_t n = r->len < cap - 1 ? r->len : cap - 1;
    memcpy(buf, r + 1, n);
    buf[n] = '\0';
    return (ssize_t)n;
}
