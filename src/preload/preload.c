/* libustack-preload.so: puts an unmodified program's IPv4 TCP and UDP sockets into the ustack
 * daemon (doc/run.md). Layer: preload (a client of the runtime's control protocol; it links no
 * part of the stack).
 *
 * Each ustack socket is one end of an AF_UNIX pair whose other end the daemon holds, so the
 * program's descriptor is a real kernel descriptor: data calls, poll/select/epoll, dup, fork and
 * exec need no hook. The hooks below are the control calls, which travel to the daemon over one
 * SOCK_SEQPACKET connection per process, carrying the socket's own descriptor in SCM_RIGHTS; and
 * the datagram calls on UDP sockets, whose messages carry a small address header.
 *
 * State per process (this library is the process's socket layer, so it has some): the control
 * connection, and one byte per descriptor saying whether it is a ustack socket and of which
 * kind. Both are rebuilt when needed: after fork the child opens its own control connection,
 * after exec the descriptors are identified again by asking the daemon. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/netlink.h>

#include <ustack.h>

#include "preload/preload.h"
#include "runtime/ctl_proto.h"

/* ---- the kernel's functions ------------------------------------------------------------------ */

static struct {
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*shutdown)(int, int);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*ioctl)(int, unsigned long, ...);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
} real;

/* ---- per-process state ----------------------------------------------------------------------- */

/* What a descriptor is, one byte each. */
#define K_STREAM US_SOCK_STREAM /* 3 */
#define K_DGRAM US_SOCK_DGRAM   /* 1 */
#define K_KIND 0x0f
#define K_INET6 US_CTL_DS_INET6 /* made as AF_INET6: addresses go back as ::ffff:a.b.c.d */
#define K_LINGER US_CTL_DS_LINGER /* TCP with SO_LINGER on and a time: close waits */
#define K_ERR 0x10 /* TCP: poll or epoll saw an error waiting (us_preload_stream_error) */
#define FD_TABLE US_PRELOAD_FD_TABLE
static uint8_t fd_kind[FD_TABLE];
/* TCP: the socket's slot in the daemon's error hints (ctl_proto.h), mapped here read-only at
 * HELLO; slot 0's counter is always 0. */
static uint16_t fd_slot[FD_TABLE];
static const _Atomic uint32_t *err_hints;
static uint32_t slot_seq; /* spreads the slots this process chooses (socket_local) */
/* UDP destinations known to pass the send checks (dgram_send): one per slot, descriptor,
 * address and port in one word, so threads never see half an entry. */
#define DST_SLOTS 1024
static _Atomic uint64_t dst_ok[DST_SLOTS];

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static int ctl_fd = -1;
static dev_t ctl_dev; /* what ctl_fd is: a program may close it behind our back (closefrom, */
static ino_t ctl_ino; /* close_range) and the number may then name something else */
static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool active; /* USTACK_CTL names a daemon */
/* Sockets this process may still make itself (US_CTL_DS_NEW, no round trip), as the daemon's
 * last reply to HELLO or US_CTL_DS_SOCKET granted, and how many it made since that reply. */
static uint32_t ctl_credit;
static unsigned ctl_unanswered;

static void
resolve_real(void)
{
#define R(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)
    R(socket);
    R(bind);
    R(listen);
    R(accept4);
    R(connect);
    R(shutdown);
    R(getsockopt);
    R(setsockopt);
    R(getsockname);
    R(getpeername);
    R(ioctl);
    R(sendto);
    R(recvfrom);
    R(sendmsg);
    R(recvmsg);
    R(sendmmsg);
    R(recvmmsg);
    R(send);
    R(recv);
    R(read);
    R(write);
    R(readv);
    R(writev);
    R(close);
    R(dup);
    R(dup2);
    R(dup3);
    R(fcntl);
    R(poll);
    R(ppoll);
#undef R
}

/* A hook may run before this library's constructor (another library's constructor calls it):
 * the kernel's functions are looked up on first use. */
#define REAL(f) (real.f ? real.f : (resolve_real(), real.f))

static int
kind_of(int fd)
{
    return fd >= 0 && fd < FD_TABLE ? fd_kind[fd] : 0;
}

static uint64_t
dst_key(int fd, uint32_t addr, uint16_t port)
{
    return (uint64_t)fd << 48 | (uint64_t)addr << 16 | port;
}

static bool
dst_known(int fd, uint32_t addr, uint16_t port)
{
    return atomic_load_explicit(&dst_ok[fd % DST_SLOTS], memory_order_relaxed) ==
           dst_key(fd, addr, port);
}

static void
dst_remember(int fd, uint32_t addr, uint16_t port)
{
    atomic_store_explicit(&dst_ok[fd % DST_SLOTS], dst_key(fd, addr, port), memory_order_relaxed);
}

static void
set_kind(int fd, int k)
{
    if (fd >= 0 && fd < FD_TABLE) {
        fd_kind[fd] = (uint8_t)k;
        atomic_store_explicit(&dst_ok[fd % DST_SLOTS], 0, memory_order_relaxed);
    }
}

/* newfd is now a duplicate of oldfd. */
static void
copy_kind(int oldfd, int newfd)
{
    set_kind(newfd, kind_of(oldfd));
    if (newfd >= 0 && newfd < FD_TABLE)
        fd_slot[newfd] = oldfd >= 0 && oldfd < FD_TABLE ? fd_slot[oldfd] : 0;
}

static void
set_slot(int fd, uint32_t slot)
{
    if (fd >= 0 && fd < FD_TABLE)
        fd_slot[fd] = slot < US_CTL_HINT_SLOTS ? (uint16_t)slot : 0;
}

/* ---- the control connection ------------------------------------------------------------------ */

static void
ctl_drop(void)
{
    if (ctl_fd >= 0)
        REAL(close)(ctl_fd);
    ctl_fd = -1;
    ctl_credit = 0;
}

/* Is ctl_fd still our connection? If not, forget it (never close what is not ours). */
static void
ctl_check_locked(void)
{
    struct stat sb;
    if (ctl_fd >= 0 && (fstat(ctl_fd, &sb) < 0 || sb.st_dev != ctl_dev || sb.st_ino != ctl_ino)) {
        ctl_fd = -1;
        ctl_credit = 0;
    }
}

/* Sends q (payload, descriptors) and waits for the reply; the lock is held. Returns the reply's
 * result, or -errno when the daemon cannot be reached. */
static long ctl_call_locked(struct us_ctl_req *q, const void *pl, size_t pl_len, const int *fds,
                            int n_fds, struct us_ctl_resp *r, void *out, size_t out_cap,
                            int *fd_out, int recv_flags);

static int
ctl_open_locked(void)
{
    if (ctl_fd >= 0)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, ctl_path, sizeof(sa.sun_path));
    int s = REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    if (REAL(connect)(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        REAL(close)(s);
        return -e;
    }
    /* Out of the way of programs that expect low descriptor numbers to be free. */
    int hi = REAL(fcntl)(s, F_DUPFD_CLOEXEC, 900);
    if (hi >= 0) {
        REAL(close)(s);
        s = hi;
    }
    ctl_fd = s;
    struct stat sb;
    if (fstat(s, &sb) == 0) {
        ctl_dev = sb.st_dev;
        ctl_ino = sb.st_ino;
    }
    /* The daemon watches the pairs we make ourselves (socket_local) with the kernel's socket
     * diagnostics of this network namespace, which may not be its own. */
    int diag = REAL(socket)(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    struct us_ctl_req q = {.op = US_CTL_HELLO, .arg = US_CTL_VERSION};
    struct us_ctl_resp r;
    int hints = -1;
    long ret = ctl_call_locked(&q, NULL, 0, diag >= 0 ? &diag : NULL, diag >= 0 ? 1 : 0, &r, NULL,
                               0, &hints, MSG_CMSG_CLOEXEC);
    if (diag >= 0)
        REAL(close)(diag);
    if (hints >= 0) {
        /* The same table for every connection (one daemon): mapped once, kept over fork. */
        size_t hl = US_CTL_HINT_SLOTS * sizeof(*err_hints);
        struct stat hs;
        if (!err_hints && fstat(hints, &hs) == 0 && (size_t)hs.st_size >= hl) {
            void *m = mmap(NULL, hl, PROT_READ, MAP_SHARED, hints, 0);
            if (m != MAP_FAILED)
                err_hints = m;
        }
        REAL(close)(hints);
    }
    if (ret < 0) {
        if (ret == -EPROTO)
            fprintf(stderr, "ustack-preload: the daemon at %s speaks another protocol version "
                            "(this library: %d)\n", ctl_path, US_CTL_VERSION);
        ctl_drop();
        return (int)ret;
    }
    ctl_credit = r.addr;
    return 0;
}

/* Sends q (payload, descriptors) on ctl_fd; the lock is held. 0, or -errno (connection lost). */
static long
ctl_send_locked(struct us_ctl_req *q, const void *pl, size_t pl_len, const int *fds, int n_fds)
{
    q->magic = US_CTL_MAGIC;
    q->len = (uint32_t)pl_len;
    struct iovec iov[2] = {{q, sizeof(*q)}, {(void *)pl, pl_len}};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * US_CTL_MAX_FDS)];
    } cm;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = pl_len ? 2 : 1};
    if (n_fds > 0) {
        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n_fds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n_fds);
    }
    ssize_t n;
    do
        n = REAL(sendmsg)(ctl_fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        ctl_drop();
        return -e;
    }
    return 0;
}

static long
ctl_call_locked(struct us_ctl_req *q, const void *pl, size_t pl_len, const int *fds, int n_fds,
                struct us_ctl_resp *r, void *out, size_t out_cap, int *fd_out, int recv_flags)
{
    if (q->op != US_CTL_HELLO)
        ctl_check_locked();
    if (ctl_fd < 0 && q->op != US_CTL_HELLO) {
        int err = ctl_open_locked();
        if (err < 0)
            return err;
    }
    long err = ctl_send_locked(q, pl, pl_len, fds, n_fds);
    if (err < 0)
        return err;
    struct iovec riov[2] = {{r, sizeof(*r)}, {out, out_cap}};
    ssize_t n;
    struct msghdr rh = {.msg_iov = riov, .msg_iovlen = out_cap ? 2 : 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } rcm;
    rh.msg_control = rcm.b;
    rh.msg_controllen = sizeof(rcm.b);
    do
        n = REAL(recvmsg)(ctl_fd, &rh, recv_flags);
    while (n < 0 && errno == EINTR);
    if (n < (ssize_t)sizeof(*r)) {
        ctl_drop();
        return n < 0 ? -errno : -ECONNRESET;
    }
    ctl_unanswered = 0; /* the daemon has taken every US_CTL_DS_NEW sent before */
    int got = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&rh); c; c = CMSG_NXTHDR(&rh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len >= CMSG_LEN(sizeof(int)))
            memcpy(&got, CMSG_DATA(c), sizeof(int));
    if (fd_out)
        *fd_out = got;
    else if (got >= 0)
        REAL(close)(got);
    return (long)r->ret;
}

/* One control call on the socket `fd`. */
static long
ctl_call(struct us_ctl_req *q, int fd, const void *pl, size_t pl_len, struct us_ctl_resp *r,
         void *out, size_t out_cap, int *fd_out, int recv_flags)
{
    q->flags |= fd >= 0 ? US_CTL_F_DS : 0;
    q->fd = -1;
    pthread_mutex_lock(&ctl_lock);
    long ret = ctl_call_locked(q, pl, pl_len, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, r, out,
                               out_cap, fd_out, recv_flags);
    pthread_mutex_unlock(&ctl_lock);
    return ret;
}

static int
fail(long ret)
{
    errno = (int)-ret;
    return -1;
}

/* ---- addresses ------------------------------------------------------------------------------- */

/* The program's address as ustack's (IPv4 host order). Returns 0, or -errno: -EAFNOSUPPORT for a
 * family we do not carry, -ENETUNREACH for a native IPv6 address (ustack speaks IPv4 only; it
 * must never fall back to the kernel). */
static int
addr_in(const struct sockaddr *sa, socklen_t len, struct us_sockaddr *out, bool *unspec)
{
    if (unspec)
        *unspec = false;
    if (!sa)
        return -EFAULT;
    if (len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC && unspec) {
        *unspec = true;
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        if (len < sizeof(struct sockaddr_in))
            return -EINVAL;
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        out->addr = ntohl(s->sin_addr.s_addr);
        out->port = ntohs(s->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        if (len < sizeof(struct sockaddr_in6))
            return -EINVAL;
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        out->port = ntohs(s->sin6_port);
        if (IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr)) {
            out->addr = 0;
            return 0;
        }
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
            uint32_t a;
            memcpy(&a, &s->sin6_addr.s6_addr[12], 4);
            out->addr = ntohl(a);
            return 0;
        }
        return -ENETUNREACH;
    }
    return -EAFNOSUPPORT;
}

/* Writes ustack's address in the socket's family, truncating as the kernel does. */
static void
addr_out(const struct us_sockaddr *a, int kind, struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
    memset(&u, 0, sizeof(u));
    socklen_t n;
    if (kind & K_INET6) {
        u.v6.sin6_family = AF_INET6;
        u.v6.sin6_port = htons(a->port);
        if (a->addr) {
            u.v6.sin6_addr.s6_addr[10] = 0xff;
            u.v6.sin6_addr.s6_addr[11] = 0xff;
            uint32_t be = htonl(a->addr);
            memcpy(&u.v6.sin6_addr.s6_addr[12], &be, 4);
        }
        n = sizeof(u.v6);
    } else {
        u.v4.sin_family = AF_INET;
        u.v4.sin_port = htons(a->port);
        u.v4.sin_addr.s_addr = htonl(a->addr);
        n = sizeof(u.v4);
    }
    memcpy(sa, &u, *len < n ? *len : n);
    *len = n;
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* After exec: the descriptors we inherited that are ustack sockets, as the daemon knows them. */
static void
identify_inherited(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int fds[US_CTL_MAX_FDS];
    int n = 0;
    int dfd = dirfd(d);
    struct dirent *e;
    for (;;) {
        e = readdir(d);
        if (e) {
            int fd = atoi(e->d_name);
            if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dfd || fd >= FD_TABLE)
                continue;
            struct stat sb;
            int dom = 0;
            socklen_t dl = sizeof(dom);
            if (fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode) ||
                REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_UNIX)
                continue;
            fds[n++] = fd;
        }
        if (n == US_CTL_MAX_FDS || (!e && n > 0)) {
            struct us_ctl_req q = {.op = US_CTL_DS_IDENTIFY, .flags = US_CTL_F_DS, .fd = -1};
            struct us_ctl_resp r;
            uint8_t kinds[US_CTL_MAX_FDS * (1 + sizeof(uint16_t))]; /* then the hint slots */
            pthread_mutex_lock(&ctl_lock);
            long ret = ctl_call_locked(&q, NULL, 0, fds, n, &r, kinds, sizeof(kinds), NULL, 0);
            pthread_mutex_unlock(&ctl_lock);
            bool whole = ret == n && r.len >= (uint32_t)n * (1 + sizeof(uint16_t));
            for (long i = 0; whole && i < n; i++) {
                uint16_t slot;
                memcpy(&slot, kinds + n + i * (long)sizeof(slot), sizeof(slot));
                set_kind(fds[i], kinds[i]);
                set_slot(fds[i], slot);
            }
            n = 0;
        }
        if (!e)
            break;
    }
    closedir(d);
}

/* Before fork: the daemon must have taken every pair made here before a child (after exec,
 * perhaps) asks about them on its own connection (US_CTL_DS_IDENTIFY): any reply says so. */
static void
before_fork(void)
{
    if (pthread_mutex_trylock(&ctl_lock) != 0)
        return; /* a fork from a signal handler that interrupted a control call: no wait */
    if (ctl_unanswered && ctl_fd >= 0) {
        struct us_ctl_req q = {.op = US_CTL_HELLO, .arg = US_CTL_VERSION};
        struct us_ctl_resp r;
        if (ctl_call_locked(&q, NULL, 0, NULL, 0, &r, NULL, 0, NULL, 0) == 0)
            ctl_credit = r.addr;
    }
    pthread_mutex_unlock(&ctl_lock);
}

static void
after_fork_child(void)
{
    /* The parent's control connection is shared with it: open our own when first needed. */
    pthread_mutex_init(&ctl_lock, NULL);
    if (ctl_fd >= 0)
        REAL(close)(ctl_fd);
    ctl_fd = -1;
    ctl_credit = 0;
    ctl_unanswered = 0;
}

__attribute__((constructor)) static void
preload_init(void)
{
    resolve_real();
    const char *p = getenv("USTACK_CTL");
    if (!p || !*p || strlen(p) >= sizeof(ctl_path))
        return;
    memcpy(ctl_path, p, strlen(p) + 1);
    active = true;
    pthread_atfork(before_fork, NULL, after_fork_child);
    identify_inherited();
}

bool
us_preload_active(void)
{
    return active;
}

void *
us_preload_real(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

uint32_t
us_preload_dns(void)
{
    static uint32_t dns;
    static bool asked;
    if (!asked && active) {
        struct us_ctl_req q = {.op = US_CTL_CONFIG};
        struct us_ctl_resp r;
        if (ctl_call(&q, -1, NULL, 0, &r, NULL, 0, NULL, 0) >= 0) {
            dns = r.addr;
            asked = true;
        }
    }
    return dns;
}

/* ---- sockets ---------------------------------------------------------------------------------- */

static bool
is_ours(int domain, int type, int protocol)
{
    if (!active || (domain != AF_INET && domain != AF_INET6))
        return false;
    int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (t == SOCK_STREAM)
        return protocol == 0 || protocol == IPPROTO_TCP;
    if (t == SOCK_DGRAM)
        return protocol == 0 || protocol == IPPROTO_UDP;
    return false;
}

/* Applies SOCK_NONBLOCK to a descriptor the daemon handed us. */
static void
apply_flags(int fd, int flags)
{
    if (flags & SOCK_NONBLOCK) {
        int fl = REAL(fcntl)(fd, F_GETFL);
        REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK);
    }
}

/* socket() with no round trip (doc/run.md): while the daemon's credit lasts, the library makes
 * the pair itself and hands the daemon its end with US_CTL_DS_NEW, which has no reply; the
 * next control call is answered after it. Returns the program's end, or -1 (then ask). */
static int
socket_local(int k, int domain, int type)
{
    int fd = -1;
    pthread_mutex_lock(&ctl_lock);
    ctl_check_locked();
    if (ctl_fd < 0)
        ctl_open_locked();
    int sv[2];
    uint32_t slot = 0;
    if (ctl_fd >= 0 && ctl_credit > 0 &&
        socketpair(AF_UNIX, (k == K_STREAM ? SOCK_STREAM : SOCK_SEQPACKET) |
                                (type & (SOCK_NONBLOCK | SOCK_CLOEXEC)), 0, sv) == 0) {
        /* Its error hint's slot: ours to choose (a collision costs only a question). */
        slot = 1 + ((uint32_t)getpid() * 40503u + slot_seq++ * 2654435761u) % (US_CTL_HINT_SLOTS - 1);
        struct us_ctl_req q = {.op = US_CTL_DS_NEW, .arg = k, .arg2 = domain, .fd = -1,
                               .addr = slot};
        if (ctl_send_locked(&q, NULL, 0, sv, 2) == 0) {
            ctl_credit--;
            ctl_unanswered++;
            fd = sv[1];
        } else {
            REAL(close)(sv[1]);
        }
        REAL(close)(sv[0]); /* the daemon's end, now the daemon's */
    }
    pthread_mutex_unlock(&ctl_lock);
    if (fd >= 0) {
        set_kind(fd, k | (domain == AF_INET6 ? K_INET6 : 0));
        set_slot(fd, slot);
    }
    return fd;
}

US_EXPORT int
socket(int domain, int type, int protocol)
{
    if (!is_ours(domain, type, protocol))
        return REAL(socket)(domain, type, protocol);
    int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int k = t == SOCK_STREAM ? K_STREAM : K_DGRAM;
    int fd = socket_local(k, domain, type);
    if (fd >= 0)
        return fd;
    struct us_ctl_req q = {.op = US_CTL_DS_SOCKET, .arg = k, .arg2 = domain};
    struct us_ctl_resp r;
    pthread_mutex_lock(&ctl_lock);
    long ret = ctl_call_locked(&q, NULL, 0, NULL, 0, &r, NULL, 0, &fd,
                               (type & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
    if (ret >= 0)
        ctl_credit = r.addr;
    pthread_mutex_unlock(&ctl_lock);
    if (ret < 0 || fd < 0) {
        if (fd >= 0)
            REAL(close)(fd);
        /* No daemon: the program gets an error, never the kernel's stack. */
        return fail(ret < 0 ? (ret == -ENOENT || ret == -ECONNREFUSED ? -ENETDOWN : ret) : -EIO);
    }
    apply_flags(fd, type);
    set_kind(fd, k | (domain == AF_INET6 ? K_INET6 : 0));
    set_slot(fd, r.dst);
    return fd;
}

US_EXPORT int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    int k = kind_of(fd);
    if (!k)
        return REAL(bind)(fd, sa, len);
    struct us_sockaddr a;
    int err = addr_in(sa, len, &a, NULL);
    if (err == -ENETUNREACH)
        err = -EADDRNOTAVAIL;
    if (err)
        return fail(err);
    struct us_ctl_req q = {.op = US_CTL_BIND, .addr = a.addr, .port = a.port};
    struct us_ctl_resp r;
    long ret = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
    return ret < 0 ? fail(ret) : 0;
}

US_EXPORT int
listen(int fd, int backlog)
{
    if (!kind_of(fd))
        return REAL(listen)(fd, backlog);
    struct us_ctl_req q = {.op = US_CTL_LISTEN, .arg = backlog};
    struct us_ctl_resp r;
    long ret = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
    return ret < 0 ? fail(ret) : 0;
}

US_EXPORT int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    int k = kind_of(fd);
    if (!k)
        return REAL(accept4)(fd, sa, len, flags);
    if ((k & K_KIND) != K_STREAM)
        return fail(-EOPNOTSUPP);
    for (;;) {
        /* One token byte per connection ready to be accepted (doc/run.md): reading it is the
         * wait, with the descriptor's own blocking mode, signals and EINTR. */
        char token;
        ssize_t n = REAL(recv)(fd, &token, 1, 0);
        if (n < 0)
            return -1; /* EAGAIN for a non-blocking listener, EINTR, ... */
        if (n == 0)
            return fail(-EINVAL); /* not listening */
        struct us_ctl_req q = {.op = US_CTL_ACCEPT};
        struct us_ctl_resp r;
        int nfd = -1;
        long ret = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, &nfd,
                            (flags & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
        if (ret == -EAGAIN) /* the connection went away before we came: wait for the next */
            continue;
        if (ret < 0 || nfd < 0) {
            if (nfd >= 0)
                REAL(close)(nfd);
            return fail(ret < 0 ? ret : -EIO);
        }
        apply_flags(nfd, flags);
        set_kind(nfd, k);
        set_slot(nfd, r.dst);
        struct us_sockaddr a = {r.addr, r.port};
        addr_out(&a, k, sa, len);
        return nfd;
    }
}

US_EXPORT int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    return accept4(fd, sa, len, 0);
}

/* While TCP connects, the daemon keeps the pair's send buffer at its minimum (doc/run.md); once
 * the program learns the handshake is over, the library gives the buffer back. */
static void
restore_sndbuf(int fd, bool lowered)
{
    int cur = 0;
    socklen_t l = sizeof(cur);
    if (lowered || (REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDBUF, &cur, &l) == 0 && cur < 16384)) {
        int want = 128 * 1024; /* the kernel doubles it: the daemon's pair buffer */
        REAL(setsockopt)(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
    }
}

static long
sock_error(int fd)
{
    if (fd >= 0 && fd < FD_TABLE)
        fd_kind[fd] &= (uint8_t)~K_ERR; /* taken now, if it was there */
    struct us_ctl_req q = {.op = US_CTL_SOCKERR};
    struct us_ctl_resp r;
    long e = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
    if (e >= 0 && r.port && (kind_of(fd) & K_KIND) == K_STREAM)
        restore_sndbuf(fd, false);
    return e;
}

US_EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    int k = kind_of(fd);
    if (!k)
        return REAL(connect)(fd, sa, len);
    struct us_sockaddr a = {0};
    bool unspec;
    int err = addr_in(sa, len, &a, &unspec);
    if (err)
        return fail(err);
    bool block = (k & K_KIND) == K_STREAM && !(REAL(fcntl)(fd, F_GETFL) & O_NONBLOCK);
    struct us_ctl_req q = {.op = US_CTL_CONNECT, .addr = a.addr, .port = a.port,
                           .flags = (unspec ? US_CTL_F_UNSPEC : 0) | (block ? US_CTL_F_BLOCK : 0)};
    struct us_ctl_resp r;
    long ret = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
    if (ret != -EINPROGRESS || (k & K_KIND) != K_STREAM)
        return ret < 0 ? fail(ret) : 0;
    if (!block)
        return fail(-EINPROGRESS);
    /* A blocking connect: the descriptor turns writable when the handshake ends either way. A
     * failed one is shut first (POLLIN, POLLHUP), so POLLOUT alone means connected and needs no
     * question to the daemon. */
    struct pollfd p = {.fd = fd, .events = POLLOUT | POLLIN | POLLRDHUP};
    for (;;) {
        int n = poll(&p, 1, -1);
        if (n > 0)
            break;
        if (n < 0)
            return -1; /* EINTR: the connection goes on in the background, as Linux's does */
    }
    if (p.revents == POLLOUT) {
        restore_sndbuf(fd, r.port != 0); /* the reply said whether it was lowered */
        return 0;
    }
    long e = sock_error(fd);
    if (e < 0)
        return fail(e);
    return e ? fail(-e) : 0;
}

US_EXPORT int
shutdown(int fd, int how)
{
    if (!kind_of(fd))
        return REAL(shutdown)(fd, how);
    struct us_ctl_req q = {.op = US_CTL_SHUTDOWN, .arg = how};
    struct us_ctl_resp r;
    long ret = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
    if (ret < 0)
        return fail(ret);
    /* The daemon reads the end of the program's data from the pair, after the data. */
    return REAL(shutdown)(fd, how);
}

static int
name_call(int fd, int op, struct sockaddr *sa, socklen_t *len)
{
    struct us_ctl_req q = {.op = (uint32_t)op};
    struct us_ctl_resp r;
    long ret = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
    if (ret < 0)
        return fail(ret);
    struct us_sockaddr a = {r.addr, r.port};
    addr_out(&a, kind_of(fd), sa, len);
    return 0;
}

US_EXPORT int
getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    if (!kind_of(fd))
        return REAL(getsockname)(fd, sa, len);
    return name_call(fd, US_CTL_GETSOCKNAME, sa, len);
}

US_EXPORT int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    if (!kind_of(fd))
        return REAL(getpeername)(fd, sa, len);
    return name_call(fd, US_CTL_GETPEERNAME, sa, len);
}

/* ---- options ---------------------------------------------------------------------------------- */

/* ustack's option for (level, name), or 0. */
static int
opt_map(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_RCVBUF: return US_SO_RCVBUF;
        case SO_SNDBUF: return US_SO_SNDBUF;
        case SO_BROADCAST: return US_SO_BROADCAST;
        case SO_REUSEADDR: return US_SO_REUSEADDR;
        case SO_KEEPALIVE: return US_SO_KEEPALIVE;
        case SO_LINGER: return US_SO_LINGER;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return US_TCP_NODELAY;
        case TCP_KEEPIDLE: return US_TCP_KEEPIDLE;
        case TCP_KEEPINTVL: return US_TCP_KEEPINTVL;
        case TCP_KEEPCNT: return US_TCP_KEEPCNT;
        case TCP_USER_TIMEOUT: return US_TCP_USER_TIMEOUT;
        case TCP_CONGESTION: return US_TCP_CONGESTION;
        }
    }
    return 0;
}

/* Options a program may set that change nothing ustack does: accepted, as Linux accepts them. */
static bool
opt_harmless(int level, int name)
{
    switch (level) {
    case SOL_SOCKET:
        return name == SO_REUSEPORT || name == SO_PRIORITY || name == SO_TIMESTAMP ||
               name == SO_PASSCRED;
    case IPPROTO_IP:
        return name == IP_TOS || name == IP_RECVERR || name == IP_PKTINFO ||
               name == IP_MTU_DISCOVER || name == IP_RECVTOS;
    case IPPROTO_IPV6:
        return name == IPV6_V6ONLY || name == IPV6_TCLASS || name == IPV6_RECVERR;
    case IPPROTO_TCP:
        return name == TCP_DEFER_ACCEPT || name == TCP_QUICKACK || name == TCP_FASTOPEN ||
               name == TCP_CORK || name == TCP_MAXSEG;
    }
    return false;
}

static long
opt_call(int fd, int op, int opt, int value)
{
    struct us_ctl_req q = {.op = (uint32_t)op, .arg = opt, .arg2 = value};
    struct us_ctl_resp r;
    return ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
}

US_EXPORT int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    if (!kind_of(fd))
        return REAL(setsockopt)(fd, level, name, val, len);
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
        return REAL(setsockopt)(fd, level, name, val, len); /* the pair's own waits */
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && len >= sizeof(int) &&
        *(const int *)val != 0)
        return 0; /* an IPv6-only socket could never be reached: ustack speaks IPv4 */
    int opt = opt_map(level, name);
    if (!opt)
        return opt_harmless(level, name) ? 0 : fail(-ENOPROTOOPT);
    int v;
    if (opt == US_SO_LINGER) {
        if (len < sizeof(struct linger))
            return fail(-EINVAL);
        const struct linger *l = val;
        v = l->l_onoff ? l->l_linger : -1;
    } else if (opt == US_TCP_CONGESTION) {
        char cc[16] = {0};
        memcpy(cc, val, len < sizeof(cc) - 1 ? len : sizeof(cc) - 1);
        if (!strcmp(cc, "cubic"))
            v = US_CC_CUBIC;
        else if (!strcmp(cc, "reno") || !strcmp(cc, "newreno"))
            v = US_CC_NEWRENO;
        else
            return fail(-ENOENT); /* Linux's answer for a module it does not have */
    } else {
        if (len < sizeof(int))
            return fail(-EINVAL);
        v = *(const int *)val;
    }
    long ret = opt_call(fd, US_CTL_SETSOCKOPT, opt, v);
    if (ret < 0)
        return fail(ret);
    if (opt == US_SO_LINGER && (kind_of(fd) & K_KIND) == K_STREAM)
        set_kind(fd, (kind_of(fd) & ~K_LINGER) | (v > 0 ? K_LINGER : 0));
    if (opt == US_SO_BROADCAST)
        set_kind(fd, kind_of(fd)); /* forgets the destination checked (dgram_send) */
    return 0;
}

static void
put_int(void *val, socklen_t *len, int v)
{
    if (*len >= sizeof(int)) {
        memcpy(val, &v, sizeof(int));
        *len = sizeof(int);
    }
}

/* struct tcp_info from ustack's, for programs (iperf3, ss-like tools) that read TCP_INFO. */
static int
tcp_info_get(int fd, void *val, socklen_t *len)
{
    struct us_ctl_req q = {.op = US_CTL_TCPINFO};
    struct us_ctl_resp r;
    struct us_tcp_info ti;
    long ret = ctl_call(&q, fd, NULL, 0, &r, &ti, sizeof(ti), NULL, 0);
    if (ret < 0)
        return fail(ret);
    if (r.len < sizeof(ti))
        return fail(-EPROTO);
    static const uint8_t linux_state[] = {7 /* CLOSE */, 10 /* LISTEN */, 2 /* SYN_SENT */,
                                          3 /* SYN_RECV */, 1 /* ESTABLISHED */, 4, 5,
                                          8 /* CLOSE_WAIT */, 11 /* CLOSING */, 9, 6};
    struct tcp_info t;
    memset(&t, 0, sizeof(t));
    t.tcpi_state = (unsigned)ti.state < sizeof(linux_state) ? linux_state[ti.state] : 0;
    t.tcpi_options = (ti.ts ? TCPI_OPT_TIMESTAMPS : 0) | (ti.sack ? TCPI_OPT_SACK : 0) |
                     (ti.wscale ? TCPI_OPT_WSCALE : 0);
    t.tcpi_snd_wscale = ti.snd_wscale;
    t.tcpi_rcv_wscale = ti.rcv_wscale;
    t.tcpi_rto = (uint32_t)(ti.rto / 1000);
    t.tcpi_snd_mss = ti.mss_snd;
    t.tcpi_rcv_mss = ti.mss_rcv;
    t.tcpi_unacked = ti.mss_snd ? ti.unacked / ti.mss_snd : 0;
    t.tcpi_sacked = ti.mss_snd ? ti.sacked / ti.mss_snd : 0;
    t.tcpi_lost = ti.mss_snd ? ti.lost / ti.mss_snd : 0;
    t.tcpi_rtt = (uint32_t)(ti.srtt / 1000);
    t.tcpi_rttvar = (uint32_t)(ti.rttvar / 1000);
    t.tcpi_snd_ssthresh = ti.mss_snd ? ti.ssthresh / ti.mss_snd : 0;
    t.tcpi_snd_cwnd = ti.mss_snd ? ti.cwnd / ti.mss_snd : 0;
    t.tcpi_total_retrans = (uint32_t)ti.retrans;
    t.tcpi_pmtu = ti.mss_snd + 40;
    socklen_t n = *len < sizeof(t) ? *len : sizeof(t);
    memcpy(val, &t, n);
    *len = n;
    return 0;
}

US_EXPORT int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int k = kind_of(fd);
    if (!k)
        return REAL(getsockopt)(fd, level, name, val, len);
    if (!val || !len)
        return fail(-EFAULT);
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR: {
            long e = sock_error(fd);
            if (e < 0)
                return fail(e);
            put_int(val, len, (int)e);
            return 0;
        }
        case SO_TYPE:
            put_int(val, len, (k & K_KIND) == K_STREAM ? SOCK_STREAM : SOCK_DGRAM);
            return 0;
        case SO_DOMAIN:
            put_int(val, len, (k & K_INET6) ? AF_INET6 : AF_INET);
            return 0;
        case SO_PROTOCOL:
            put_int(val, len, (k & K_KIND) == K_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
            return 0;
        case SO_ACCEPTCONN: {
            long v = opt_call(fd, US_CTL_GETSOCKOPT, US_CTL_OPT_ACCEPTCONN, 0);
            if (v < 0)
                return fail(v);
            put_int(val, len, (int)v);
            return 0;
        }
        case SO_RCVTIMEO:
        case SO_SNDTIMEO:
            return REAL(getsockopt)(fd, level, name, val, len);
        }
    }
    if (level == IPPROTO_TCP && name == TCP_INFO && (k & K_KIND) == K_STREAM)
        return tcp_info_get(fd, val, len);
    if (level == IPPROTO_TCP && name == TCP_MAXSEG && (k & K_KIND) == K_STREAM) {
        struct us_ctl_req q = {.op = US_CTL_TCPINFO};
        struct us_ctl_resp r;
        struct us_tcp_info ti;
        long ret = ctl_call(&q, fd, NULL, 0, &r, &ti, sizeof(ti), NULL, 0);
        put_int(val, len, ret == 0 && ti.mss_snd ? (int)ti.mss_snd : 536);
        return 0;
    }
    int opt = opt_map(level, name);
    if (!opt) {
        if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
            put_int(val, len, 0);
            return 0;
        }
        return fail(-ENOPROTOOPT);
    }
    long v = opt_call(fd, US_CTL_GETSOCKOPT, opt, 0);
    if (v < 0)
        return fail(v);
    if (opt == US_SO_LINGER) {
        struct linger l = {.l_onoff = v >= 0 && v != 0xffff, .l_linger = (int)v};
        if ((int)v < 0)
            l.l_onoff = 0, l.l_linger = 0;
        socklen_t n = *len < sizeof(l) ? *len : sizeof(l);
        memcpy(val, &l, n);
        *len = n;
        return 0;
    }
    if (opt == US_TCP_CONGESTION) {
        const char *cc = v == US_CC_CUBIC ? "cubic" : "reno";
        socklen_t n = *len < 16 ? *len : 16;
        memset(val, 0, n);
        memcpy(val, cc, strlen(cc) < n ? strlen(cc) : n);
        *len = n;
        return 0;
    }
    put_int(val, len, (int)v);
    return 0;
}

US_EXPORT int
ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int k = kind_of(fd);
    if (k && (k & K_KIND) == K_DGRAM && req == FIONREAD) {
        /* The size of the next datagram: its message's length (MSG_TRUNC) less our header. The
         * kernel's FIONREAD would give every queued message's bytes for a SEQPACKET pair. */
        struct us_ds_dgram h;
        ssize_t m = REAL(recv)(fd, &h, sizeof(h), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
        int n = m > (ssize_t)sizeof(h) && !(h.flags & US_DS_DGRAM_ERR)
                    ? (int)(m - (ssize_t)sizeof(h)) : 0;
        memcpy(arg, &n, sizeof(n));
        return 0;
    }
    return REAL(ioctl)(fd, req, arg);
}

/* ---- errors on TCP descriptor sockets ---------------------------------------------------------- */

/* RFC 9293 3.10.7.4: after a RST, RECEIVEs and SENDs get "reset" responses. A reset ends the
 * pair's data both ways (doc/run.md, Closing), which the program reads as end of file and EPIPE;
 * Linux first reports the error that ended the connection (ECONNRESET, ETIMEDOUT) once, to
 * whichever call comes first: read, write or SO_ERROR. The daemon keeps that error, so these
 * ask it, only when the pair's answer is the one the error would replace. A call that moved
 * data costs nothing more, and each makes the system call the program asked for: programs in a
 * seccomp sandbox (sshd's pre-authentication child) may be allowed no other. */

/* The bytes an I/O vector spans. */
static size_t
iov_total(const struct iovec *iov, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += iov[i].iov_len;
    return len;
}

/* Might an error wait on TCP descriptor fd, one that its pair reports as end of file or EPIPE?
 * poll or epoll reported it (K_ERR), or the daemon's hint for the socket's slot (doc/run.md)
 * counts one of that slot's sockets: one load from memory, no system call. Without hints (or
 * a slot), nothing; or, with may_poll, a pair shut both ways may have one (POLLHUP: the
 * daemon's doing after a reset, or the program's own shutdown of its sending side), which a
 * poll without waiting tells. */
static bool
stream_error_hinted(int fd, bool may_poll)
{
    if (fd_kind[fd] & K_ERR)
        return true;
    if (err_hints && fd_slot[fd])
        return atomic_load_explicit(&err_hints[fd_slot[fd]], memory_order_relaxed) != 0;
    struct pollfd p = {.fd = fd};
    return may_poll && REAL(poll)(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/* A TCP read of len bytes that returned 0: the pending error, or 0 (end of file); a peer's FIN
 * costs no round trip. */
static ssize_t
stream_eof(int fd, size_t len)
{
    if (len == 0 || !stream_error_hinted(fd, true))
        return 0;
    long e = sock_error(fd);
    return e > 0 ? fail(-e) : 0;
}

/* A TCP send that failed: with EPIPE, the pending error instead if there is one. The send
 * calls write the pair with MSG_NOSIGNAL, so that no SIGPIPE comes with an error Linux returns
 * without one, and raise it here (to the calling thread, as the kernel does) with a real EPIPE
 * unless the caller said MSG_NOSIGNAL. write and writev keep their system call, and the kernel
 * raised SIGPIPE already (signalled): a program that ignores or handles it still gets the
 * error (doc/run.md). */
static ssize_t
stream_send_failed(int fd, int flags, bool signalled)
{
    if (errno != EPIPE)
        return -1;
    long e = stream_error_hinted(fd, true) ? sock_error(fd) : 0;
    if (e > 0)
        return fail(-e);
    if (!signalled && !(flags & MSG_NOSIGNAL))
        pthread_kill(pthread_self(), SIGPIPE);
    errno = EPIPE;
    return -1;
}

static bool
is_stream(int fd)
{
    return (kind_of(fd) & K_KIND) == K_STREAM;
}

bool
us_preload_is_stream(int fd)
{
    return is_stream(fd);
}

bool
us_preload_stream_error(int fd)
{
    if (!is_stream(fd) || opt_call(fd, US_CTL_GETSOCKOPT, US_CTL_OPT_ERRPEEK, 0) <= 0)
        return false;
    fd_kind[fd] |= K_ERR;
    return true;
}

/* A write or writev to a TCP descriptor whose error is hinted (stream_error_hinted: before the
 * pair's EPIPE and its SIGPIPE): the error, taken, without writing (Linux returns it once, without SIGPIPE), or 0 when
 * there is none (taken meanwhile, or another socket's of the slot): the write goes ahead. */
static ssize_t
stream_error_first(int fd)
{
    long e = sock_error(fd);
    return e > 0 ? fail(-e) : 0;
}

/* poll: Linux adds POLLERR to the hang-up of a connection while its error is not yet taken.
 * Asked only for a TCP descriptor that reports POLLHUP (reset, or both sides done). epoll is
 * hooked for the same (epoll.c); select is not: it has no error set (the descriptor is readable
 * and writable, as on Linux). */
static void
poll_errors(struct pollfd *p, nfds_t n, int ready)
{
    for (nfds_t i = 0; i < n && ready > 0; i++) {
        if (!p[i].revents)
            continue;
        ready--;
        if ((p[i].revents & POLLHUP) && us_preload_stream_error(p[i].fd))
            p[i].revents |= POLLERR;
    }
}

US_EXPORT int
poll(struct pollfd *p, nfds_t n, int timeout)
{
    int r = REAL(poll)(p, n, timeout);
    if (r > 0 && active)
        poll_errors(p, n, r);
    return r;
}

US_EXPORT int
ppoll(struct pollfd *p, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
    int r = REAL(ppoll)(p, n, ts, mask);
    if (r > 0 && active)
        poll_errors(p, n, r);
    return r;
}

/* ---- datagrams (UDP descriptor sockets) ------------------------------------------------------- */

static ssize_t
dgram_send(int fd, const struct iovec *iov, size_t iovlen, int flags, const struct sockaddr *sa,
           socklen_t salen)
{
    struct us_ds_dgram h = {0};
    if (sa) {
        struct us_sockaddr a;
        int err = addr_in(sa, salen, &a, NULL);
        if (err)
            return fail(err);
        h.addr = a.addr;
        h.port = a.port;
        if (!h.addr && !h.port)
            return fail(-EINVAL);
    }
    struct iovec v[1 + 64];
    if (iovlen > 64)
        return fail(-EMSGSIZE);
    v[0].iov_base = &h;
    v[0].iov_len = sizeof(h);
    for (size_t i = 0; i < iovlen; i++)
        v[1 + i] = iov[i];
    size_t total = iov_total(iov, iovlen);
    if (total > 65507)
        return fail(-EMSGSIZE);
    if (sa && !dst_known(fd, h.addr, h.port)) {
        /* Linux's sendto fails at once on a destination with no route (ENETUNREACH), a
         * broadcast without SO_BROADCAST (EACCES), a datagram too big (EMSGSIZE); the daemon
         * sends later. So the first datagram to each destination asks it (US_MSG_PROBE) and
         * the answer is kept until another destination is used; a connected socket's
         * destination was checked by connect, a datagram's source by its arrival. */
        struct us_ctl_req q = {.op = US_CTL_SENDTO, .addr = h.addr, .port = h.port,
                               .arg = (int32_t)total};
        struct us_ctl_resp r;
        long e = ctl_call(&q, fd, NULL, 0, &r, NULL, 0, NULL, 0);
        if (e < 0)
            return fail(e);
        dst_remember(fd, h.addr, h.port);
    }
    h.len = (uint32_t)total;
    struct msghdr mh = {.msg_iov = v, .msg_iovlen = 1 + iovlen};
    ssize_t n = REAL(sendmsg)(fd, &mh, (flags & MSG_DONTWAIT) | MSG_NOSIGNAL);
    if (n < 0)
        return -1;
    return n >= (ssize_t)sizeof(h) ? n - (ssize_t)sizeof(h) : 0;
}

static ssize_t
dgram_recv(int fd, const struct iovec *iov, size_t iovlen, int flags, struct sockaddr *sa,
           socklen_t *salen, int *msg_flags)
{
    struct us_ds_dgram h;
    struct iovec v[1 + 64];
    if (iovlen > 64)
        return fail(-EINVAL);
    v[0].iov_base = &h;
    v[0].iov_len = sizeof(h);
    for (size_t i = 0; i < iovlen; i++)
        v[1 + i] = iov[i];
    struct msghdr mh = {.msg_iov = v, .msg_iovlen = 1 + iovlen};
    ssize_t n = REAL(recvmsg)(fd, &mh, flags & (MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL));
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    if (n < (ssize_t)sizeof(h))
        return fail(-EIO);
    if (h.flags & US_DS_DGRAM_ERR) /* an ICMP error, reported once, as Linux does */
        return fail(-(long)h.len);
    size_t got = (size_t)n - sizeof(h);
    if (msg_flags)
        *msg_flags = h.len > got ? MSG_TRUNC : 0;
    if (!(flags & MSG_PEEK))
        dst_remember(fd, h.addr, h.port); /* a reply goes where this came from */
    struct us_sockaddr a = {h.addr, h.port};
    if (sa && salen)
        addr_out(&a, kind_of(fd), sa, salen);
    return (flags & MSG_TRUNC) ? (ssize_t)h.len : (ssize_t)got;
}

static bool
is_dgram(int fd)
{
    return (kind_of(fd) & K_KIND) == K_DGRAM;
}

US_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa, socklen_t salen)
{
    if (!is_dgram(fd)) {
        if (kind_of(fd)) { /* a stream ignores the address, as TCP */
            ssize_t n = REAL(send)(fd, buf, len, flags | MSG_NOSIGNAL);
            return n < 0 ? stream_send_failed(fd, flags, false) : n;
        }
        return REAL(sendto)(fd, buf, len, flags, sa, salen);
    }
    struct iovec v = {(void *)buf, len};
    return dgram_send(fd, &v, 1, flags, sa, salen);
}

US_EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    if (is_stream(fd)) {
        ssize_t n = REAL(send)(fd, buf, len, flags | MSG_NOSIGNAL);
        return n < 0 ? stream_send_failed(fd, flags, false) : n;
    }
    if (!is_dgram(fd))
        return REAL(send)(fd, buf, len, flags);
    struct iovec v = {(void *)buf, len};
    return dgram_send(fd, &v, 1, flags, NULL, 0);
}

US_EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
    if (is_stream(fd)) {
        if (stream_error_hinted(fd, false) && stream_error_first(fd) < 0)
            return -1;
        ssize_t n = REAL(write)(fd, buf, len);
        return n < 0 ? stream_send_failed(fd, 0, true) : n;
    }
    if (!is_dgram(fd))
        return REAL(write)(fd, buf, len);
    struct iovec v = {(void *)buf, len};
    return dgram_send(fd, &v, 1, 0, NULL, 0);
}

US_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int n)
{
    if (is_stream(fd)) {
        if (stream_error_hinted(fd, false) && stream_error_first(fd) < 0)
            return -1;
        ssize_t w = REAL(writev)(fd, iov, n);
        return w < 0 ? stream_send_failed(fd, 0, true) : w;
    }
    if (!is_dgram(fd))
        return REAL(writev)(fd, iov, n);
    return n < 0 ? fail(-EINVAL) : dgram_send(fd, iov, (size_t)n, 0, NULL, 0);
}

US_EXPORT ssize_t
readv(int fd, const struct iovec *iov, int n)
{
    if (is_stream(fd)) {
        ssize_t r = REAL(readv)(fd, iov, n);
        return r != 0 ? r : stream_eof(fd, iov_total(iov, (size_t)n));
    }
    if (!is_dgram(fd))
        return REAL(readv)(fd, iov, n);
    return n < 0 ? fail(-EINVAL) : dgram_recv(fd, iov, (size_t)n, 0, NULL, NULL, NULL);
}

US_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
    if (!is_dgram(fd)) {
        if (kind_of(fd)) {
            struct msghdr c = *m;
            c.msg_name = NULL;
            c.msg_namelen = 0;
            ssize_t n = REAL(sendmsg)(fd, &c, flags | MSG_NOSIGNAL);
            return n < 0 ? stream_send_failed(fd, flags, false) : n;
        }
        return REAL(sendmsg)(fd, m, flags);
    }
    return dgram_send(fd, m->msg_iov, m->msg_iovlen, flags, m->msg_name, m->msg_namelen);
}

US_EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    if (!is_dgram(fd))
        return REAL(sendmmsg)(fd, v, n, flags);
    unsigned i;
    for (i = 0; i < n; i++) {
        ssize_t r = sendmsg(fd, &v[i].msg_hdr, flags);
        if (r < 0)
            return i ? (int)i : -1;
        v[i].msg_len = (unsigned)r;
    }
    return (int)i;
}

US_EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa, socklen_t *salen)
{
    if (!is_dgram(fd)) {
        if (kind_of(fd)) {
            ssize_t n = REAL(recv)(fd, buf, len, flags);
            if (n == 0 && stream_eof(fd, len) < 0)
                return -1;
            if (n >= 0 && sa && salen)
                name_call(fd, US_CTL_GETPEERNAME, sa, salen);
            return n;
        }
        return REAL(recvfrom)(fd, buf, len, flags, sa, salen);
    }
    struct iovec v = {buf, len};
    return dgram_recv(fd, &v, 1, flags, sa, salen, NULL);
}

US_EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    if (is_stream(fd)) {
        ssize_t n = REAL(recv)(fd, buf, len, flags);
        return n == 0 ? stream_eof(fd, len) : n;
    }
    if (!is_dgram(fd))
        return REAL(recv)(fd, buf, len, flags);
    struct iovec v = {buf, len};
    return dgram_recv(fd, &v, 1, flags, NULL, NULL, NULL);
}

US_EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
    if (is_stream(fd)) {
        ssize_t n = REAL(read)(fd, buf, len);
        return n == 0 ? stream_eof(fd, len) : n;
    }
    if (!is_dgram(fd))
        return REAL(read)(fd, buf, len);
    struct iovec v = {buf, len};
    return dgram_recv(fd, &v, 1, 0, NULL, NULL, NULL);
}

US_EXPORT ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
    if (!is_dgram(fd)) {
        if (kind_of(fd)) {
            struct msghdr c = *m;
            c.msg_name = NULL;
            c.msg_namelen = 0;
            ssize_t n = REAL(recvmsg)(fd, &c, flags);
            if (n == 0 && stream_eof(fd, iov_total(c.msg_iov, c.msg_iovlen)) < 0)
                return -1;
            m->msg_flags = c.msg_flags;
            m->msg_controllen = c.msg_controllen;
            if (m->msg_name)
                name_call(fd, US_CTL_GETPEERNAME, m->msg_name, &m->msg_namelen);
            return n;
        }
        return REAL(recvmsg)(fd, m, flags);
    }
    socklen_t nl = m->msg_namelen;
    int mf = 0;
    ssize_t n = dgram_recv(fd, m->msg_iov, m->msg_iovlen, flags, m->msg_name,
                           m->msg_name ? &nl : NULL, &mf);
    if (n >= 0) {
        m->msg_namelen = m->msg_name ? nl : 0;
        m->msg_flags = mf;
        m->msg_controllen = 0;
    }
    return n;
}

US_EXPORT int
recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *timeout)
{
    if (!is_dgram(fd))
        return REAL(recvmmsg)(fd, v, n, flags, timeout);
    unsigned i;
    for (i = 0; i < n; i++) {
        /* After the first datagram, take only what is already there (MSG_WAITFORONE). */
        int f = flags & ~MSG_WAITFORONE;
        if (i > 0 && (flags & MSG_WAITFORONE))
            f |= MSG_DONTWAIT;
        ssize_t r = recvmsg(fd, &v[i].msg_hdr, f);
        if (r < 0)
            return i ? (int)i : -1;
        v[i].msg_len = (unsigned)r;
    }
    return (int)i;
}

/* ---- descriptors ------------------------------------------------------------------------------ */

/* close() of a TCP descriptor with SO_LINGER on and a time (doc/run.md): Linux's last close
 * waits until TCP's FIN is acknowledged or the time is up. The daemon knows both: the library
 * asks it once, naming the socket by its inode, and the daemon answers when the close is over
 * (at once when the descriptor was not the last copy). The question goes on a connection of its
 * own, so that the process's other threads keep theirs meanwhile; a signal ends the wait, as it
 * ends Linux's (the connection closes, and the daemon forgets the question). */
static int
close_linger(int fd)
{
    struct stat sb;
    bool known = fstat(fd, &sb) == 0;
    int r = REAL(close)(fd);
    if (r < 0 || !known)
        return r;
    int saved = errno;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, ctl_path, sizeof(sa.sun_path));
    int c = REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c >= 0 && REAL(connect)(c, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        /* HELLO (no diagnostics socket: this connection makes no sockets) and the question at
         * once: the daemon answers them in order. */
        uint64_t ino = sb.st_ino;
        struct us_ctl_req q[2] = {
            {.magic = US_CTL_MAGIC, .op = US_CTL_HELLO, .arg = US_CTL_VERSION},
            {.magic = US_CTL_MAGIC, .op = US_CTL_DS_LINGER, .addr = (uint32_t)ino,
             .arg = (int32_t)(uint32_t)(ino >> 32)}};
        struct us_ctl_resp rr;
        if (REAL(send)(c, &q[0], sizeof(q[0]), MSG_NOSIGNAL) == sizeof(q[0]) &&
            REAL(send)(c, &q[1], sizeof(q[1]), MSG_NOSIGNAL) == sizeof(q[1]) &&
            REAL(recv)(c, &rr, sizeof(rr), 0) == sizeof(rr) && rr.ret == 0)
            REAL(recv)(c, &rr, sizeof(rr), 0); /* held until the close is over */
    }
    if (c >= 0)
        REAL(close)(c);
    errno = saved;
    return 0;
}

US_EXPORT int
close(int fd)
{
    if (fd >= 0 && fd == ctl_fd) {
        /* The program closes every descriptor (a daemon starting up): let ours go too; the next
         * call opens a new one. */
        pthread_mutex_lock(&ctl_lock);
        ctl_fd = -1;
        pthread_mutex_unlock(&ctl_lock);
    }
    int k = kind_of(fd);
    set_kind(fd, 0);
    if (fd >= 0)
        us_preload_epoll_closed((unsigned)fd, (unsigned)fd);
    return (k & K_LINGER) ? close_linger(fd) : REAL(close)(fd);
}

US_EXPORT int
dup(int fd)
{
    int n = REAL(dup)(fd);
    if (n >= 0)
        copy_kind(fd, n);
    return n;
}

static void
dup_onto(int oldfd, int newfd)
{
    if (newfd == ctl_fd && newfd != oldfd)
        ctl_fd = -1; /* the program took our number: open another when needed */
    if (newfd != oldfd)
        us_preload_epoll_closed((unsigned)newfd, (unsigned)newfd);
    copy_kind(oldfd, newfd);
}

US_EXPORT int
dup2(int oldfd, int newfd)
{
    int n = REAL(dup2)(oldfd, newfd);
    if (n >= 0)
        dup_onto(oldfd, n);
    return n;
}

US_EXPORT int
dup3(int oldfd, int newfd, int flags)
{
    int n = REAL(dup3)(oldfd, newfd, flags);
    if (n >= 0)
        dup_onto(oldfd, n);
    return n;
}

US_EXPORT int
fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    int n = REAL(fcntl)(fd, cmd, arg);
    if (n >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        copy_kind(fd, n);
    return n;
}

/* The fortified forms glibc's headers call when the buffer's size is known (_FORTIFY_SOURCE, as
 * Debian builds its programs): the same hooks, after the same check. */
US_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
US_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
US_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                 struct sockaddr *sa, socklen_t *salen);

US_EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    if (len > buflen)
        abort(); /* what glibc's __chk_fail does, less its message */
    return read(fd, buf, len);
}

US_EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        abort();
    return recv(fd, buf, len, flags);
}

US_EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *sa,
               socklen_t *salen)
{
    if (len > buflen)
        abort();
    return recvfrom(fd, buf, len, flags, sa, salen);
}

US_EXPORT int __poll_chk(struct pollfd *p, nfds_t n, int timeout, size_t plen);
US_EXPORT int
__poll_chk(struct pollfd *p, nfds_t n, int timeout, size_t plen)
{
    if (plen / sizeof(*p) < n)
        abort();
    return poll(p, n, timeout);
}

US_EXPORT int __ppoll_chk(struct pollfd *p, nfds_t n, const struct timespec *ts,
                          const sigset_t *mask, size_t plen);
US_EXPORT int
__ppoll_chk(struct pollfd *p, nfds_t n, const struct timespec *ts, const sigset_t *mask,
            size_t plen)
{
    if (plen / sizeof(*p) < n)
        abort();
    return ppoll(p, n, ts, mask);
}

/* closefrom and close_range close descriptors without close(): ours may be among them. */
US_EXPORT void closefrom(int lowfd);
US_EXPORT void
closefrom(int lowfd)
{
    void (*real_closefrom)(int) = us_preload_real("closefrom");
    pthread_mutex_lock(&ctl_lock);
    if (ctl_fd >= lowfd)
        ctl_fd = -1;
    pthread_mutex_unlock(&ctl_lock);
    for (int fd = lowfd < 0 ? 0 : lowfd; fd < FD_TABLE; fd++)
        fd_kind[fd] = 0;
    us_preload_epoll_closed(lowfd < 0 ? 0 : (unsigned)lowfd, FD_TABLE - 1);
    real_closefrom(lowfd);
}

US_EXPORT int close_range(unsigned first, unsigned last, int flags);
US_EXPORT int
close_range(unsigned first, unsigned last, int flags)
{
    int (*real_close_range)(unsigned, unsigned, int) = us_preload_real("close_range");
    int r = real_close_range(first, last, flags);
    if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC)) {
        pthread_mutex_lock(&ctl_lock);
        if (ctl_fd >= 0 && (unsigned)ctl_fd >= first && (unsigned)ctl_fd <= last)
            ctl_fd = -1;
        pthread_mutex_unlock(&ctl_lock);
        for (unsigned fd = first; fd <= last && fd < FD_TABLE; fd++)
            fd_kind[fd] = 0;
        us_preload_epoll_closed(first, last);
    }
    return r;
}

/* glibc 2.28 and later also export fcntl as fcntl64; programs built for large files call it. */
US_EXPORT int fcntl64(int fd, int cmd, ...);
US_EXPORT int
fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}
