/* ctlabuse: misbehaving clients of the daemon's control socket, for run_ctl_abuse.sh.
 *     ctlabuse CTL SCENARIO [SECONDS]
 * Quick scenarios (each check prints "ok" or "FAIL"; exit status 0 when all pass):
 *   garbage     100 connections, each sends one message of random bytes (1..2000)
 *   truncated   every prefix (1..header-1 bytes) of a valid HELLO
 *   badlen      a header whose len says more, or less, than the message holds
 *   oversized   a message past the largest request (US_CTL_MAX_PAYLOAD + 1 KiB, and 256 KiB)
 *   badversion  HELLO with another version: -EPROTO, then the daemon closes the connection
 *   nohello     a NETSTAT as the first request: an error or the end of the connection
 *   badop       after HELLO, an unknown op and a bad magic: an error or the end
 *   fds         after HELLO, 60 pipe descriptors on a NETSTAT and on a DS_IDENTIFY (each
 *               "not ours"); the daemon must close what it was given (the script counts)
 *   dsnew       US_CTL_DS_NEW (a pair the client made) without credit (a HELLO with no socket
 *               diagnostics, or a pipe for one: credit 0), with a bad type, with pipes, with
 *               one descriptor: each refused, the pair closed by the daemon (its other end
 *               hangs up); with credit a pair is taken (DS_IDENTIFY knows it), and beyond the
 *               credit refused again; the connection keeps working throughout
 * After each bad message the daemon must answer or close within 2 s (it never ignores a client
 * into a hang). Holding scenarios (print "holding", keep their connections SECONDS, then exit 0):
 *   stall       connects and sends nothing
 *   hellostall  sends HELLO, never reads the answer, sends nothing more
 *   flood       sends HELLO and NETSTAT requests without reading any answer, until the socket
 *               is full, so the daemon's answers back up
 *   many        200 connections, each after a HELLO
 *   hints       after HELLO, the error hints it carries (a memory file) cannot be mapped
 *               writable nor written: no client can change another's hints */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ustack.h>

#include "runtime/ctl_proto.h"

static const char *ctl;
static int fails;

static void
check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", cond ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!cond)
        fails++;
}

static int
ctl_connect(void)
{
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", ctl);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        check(0, "connect to %s: %s", ctl, strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    return s;
}

static struct us_ctl_req
req(uint32_t op, int32_t arg)
{
    struct us_ctl_req q;
    memset(&q, 0, sizeof(q));
    q.magic = US_CTL_MAGIC;
    q.op = op;
    q.fd = -1;
    q.arg = arg;
    return q;
}

/* outcome: what the daemon did within 2 s after a message: 1 an answer (its ret in *ret),
 * 0 closed the connection, -1 nothing (a hang), -2 a read error other than a reset. */
static int
outcome(int s, int64_t *ret)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 2000) <= 0)
        return -1;
    union {
        struct us_ctl_resp r;
        uint8_t buf[sizeof(struct us_ctl_resp) + US_CTL_MAX_PAYLOAD];
    } u;
    ssize_t n = recv(s, u.buf, sizeof(u.buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
        return 0;
    if (n < 0)
        return -2;
    if ((size_t)n < sizeof(u.r))
        return 1; /* an answer, if a short one */
    if (ret)
        *ret = u.r.ret;
    return 1;
}

/* bad_message WHAT BYTES LEN: sends one message on a fresh connection (after a HELLO when
 * hello is set); the daemon must answer with an error or close. */
static void
bad_message(const char *what, const void *msg, size_t len, int hello)
{
    int s = ctl_connect();
    if (s < 0)
        return;
    int sb = 1 << 20; /* room for the oversized messages */
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
    if (hello) {
        struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
        int64_t ret = -1;
        send(s, &q, sizeof(q), 0);
        int o = outcome(s, &ret);
        check(o == 1 && ret >= 0, "%s: HELLO version %d accepted (outcome %d, ret %lld)", what, US_CTL_VERSION, o,
              (long long)ret);
    }
    ssize_t n = send(s, msg, len, MSG_NOSIGNAL);
    if (n < 0) {
        /* the kernel itself refused it (EMSGSIZE past the socket buffer): nothing reached the daemon */
        check(errno == EMSGSIZE || errno == ENOBUFS || errno == EPIPE || errno == ECONNRESET,
              "%s: send of %zu bytes: %s", what, len, strerror(errno));
        close(s);
        return;
    }
    int64_t ret = 0;
    int o = outcome(s, &ret);
    check(o == 0 || (o == 1 && ret < 0), "%s (%zu bytes): the daemon answers with an error or closes (%s%lld)",
          what, len, o == 1 ? "answer " : o == 0 ? "closed" : o == -1 ? "no answer in 2 s" : "read error",
          o == 1 ? (long long)ret : 0LL);
    close(s);
}

static int
hello(int s)
{
    struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
    int64_t ret = -1;
    if (send(s, &q, sizeof(q), 0) < 0)
        return -1;
    return outcome(s, &ret) == 1 && ret >= 0 ? 0 : -1;
}

static void
sc_garbage(void)
{
    srand(12345);
    static uint8_t buf[2000];
    for (int i = 0; i < 100; i++) {
        size_t len = 1 + (size_t)rand() % sizeof(buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rand();
        char what[64];
        snprintf(what, sizeof(what), "garbage %d", i);
        bad_message(what, buf, len, i % 2);
    }
}

static void
sc_truncated(void)
{
    struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
    for (size_t len = 1; len < sizeof(q); len++) {
        char what[64];
        snprintf(what, sizeof(what), "HELLO cut to %zu bytes", len);
        bad_message(what, &q, len, 0);
    }
    struct us_ctl_req n = req(US_CTL_NETSTAT, 0);
    for (size_t len = 1; len < sizeof(n); len += 7)
        bad_message("NETSTAT cut short after HELLO", &n, len, 1);
}

static void
sc_badlen(void)
{
    static uint8_t buf[sizeof(struct us_ctl_req) + 100];
    struct us_ctl_req q = req(US_CTL_NETSTAT, 0);
    q.len = 1000; /* says 1000, has 0 */
    bad_message("len 1000 with no payload", &q, sizeof(q), 1);
    q.len = 0; /* says 0, has 100 */
    memcpy(buf, &q, sizeof(q));
    bad_message("len 0 with 100 payload bytes", buf, sizeof(buf), 1);
    q.len = 0xffffffffu;
    bad_message("len 0xffffffff", &q, sizeof(q), 1);
}

static void
sc_oversized(void)
{
    size_t sizes[] = {sizeof(struct us_ctl_req) + US_CTL_MAX_PAYLOAD + 1024, 256 * 1024};
    for (int i = 0; i < 2; i++) {
        size_t n = sizes[i];
        uint8_t *buf = calloc(1, n);
        struct us_ctl_req q = req(US_CTL_SENDTO, 0);
        q.len = (uint32_t)(n - sizeof(q));
        memcpy(buf, &q, sizeof(q));
        char what[64];
        snprintf(what, sizeof(what), "oversized message of %zu bytes", n);
        bad_message(what, buf, n, 1);
        free(buf);
    }
}

static void
sc_badversion(void)
{
    int s = ctl_connect();
    if (s < 0)
        return;
    struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION + 1000);
    send(s, &q, sizeof(q), 0);
    int64_t ret = 0;
    int o = outcome(s, &ret);
    check(o == 1 && ret == -EPROTO, "HELLO with version %d: -EPROTO (outcome %d, ret %lld)", US_CTL_VERSION + 1000,
          o, (long long)ret);
    o = outcome(s, NULL);
    check(o == 0, "then the daemon closes the connection (outcome %d)", o);
    close(s);
}

static void
sc_nohello(void)
{
    struct us_ctl_req q = req(US_CTL_NETSTAT, 0);
    bad_message("NETSTAT before HELLO", &q, sizeof(q), 0);
}

static void
sc_hints(void)
{
    int s = ctl_connect();
    if (s < 0)
        return;
    struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
    check(send(s, &q, sizeof(q), 0) == (ssize_t)sizeof(q), "hints: HELLO sent");
    struct us_ctl_resp r;
    union {
        struct cmsghdr c;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct iovec iov = {&r, sizeof(r)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof(u.buf)};
    ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
    int fd = -1;
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    check(fd >= 0, "hints: the reply to HELLO carries a descriptor");
    if (fd >= 0) {
        size_t len = US_CTL_HINT_SLOTS * sizeof(uint32_t);
        void *ro = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        check(ro != MAP_FAILED, "hints: mapped to read");
        void *rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        check(rw == MAP_FAILED && errno == EPERM, "hints: a writable mapping is refused (%s)",
              rw == MAP_FAILED ? strerror(errno) : "it was made");
        uint32_t one = 1;
        check(pwrite(fd, &one, sizeof(one), 4) < 0, "hints: a write is refused");
        check(ftruncate(fd, 0) < 0, "hints: the size cannot change");
        if (ro != MAP_FAILED)
            munmap(ro, len);
        if (rw != MAP_FAILED)
            munmap(rw, len);
        close(fd);
    }
    close(s);
}

static void
sc_badop(void)
{
    struct us_ctl_req q = req(9999, 0);
    bad_message("unknown op 9999", &q, sizeof(q), 1);
    q = req(0, 0);
    bad_message("op 0", &q, sizeof(q), 1);
    q = req(US_CTL_NETSTAT, 0);
    q.magic = 0x12345678;
    bad_message("bad magic", &q, sizeof(q), 1);
    q = req(US_CTL_CLOSE, 0);
    q.fd = 123456;
    bad_message("CLOSE of a socket that does not exist", &q, sizeof(q), 1);
}

/* send_fds: one request with n descriptors in SCM_RIGHTS. */
static ssize_t
send_fds(int s, struct us_ctl_req *q, const int *fds, int n)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 64)];
    memset(cbuf, 0, sizeof(cbuf));
    struct iovec iov = {.iov_base = q, .iov_len = sizeof(*q)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
    return sendmsg(s, &mh, MSG_NOSIGNAL);
}

static void
sc_fds(void)
{
    int fds[64];
    for (int i = 0; i < 60; i += 2) {
        int p[2];
        if (pipe(p) < 0) {
            check(0, "pipe");
            return;
        }
        fds[i] = p[0];
        fds[i + 1] = p[1];
    }
    int s = ctl_connect();
    if (s < 0)
        return;
    check(hello(s) == 0, "HELLO");
    struct us_ctl_req q = req(US_CTL_NETSTAT, 0);
    check(send_fds(s, &q, fds, 60) > 0, "NETSTAT carrying 60 pipe descriptors sent");
    int o = outcome(s, NULL);
    check(o == 0 || o == 1, "the daemon answers or closes (outcome %d)", o);
    close(s);

    s = ctl_connect();
    if (s < 0)
        return;
    check(hello(s) == 0, "HELLO");
    q = req(US_CTL_DS_IDENTIFY, 0);
    q.flags = US_CTL_F_DS;
    check(send_fds(s, &q, fds, 60) > 0, "DS_IDENTIFY of 60 pipe descriptors sent");
    union {
        struct us_ctl_resp r;
        uint8_t buf[sizeof(struct us_ctl_resp) + US_CTL_MAX_PAYLOAD];
    } u;
    struct pollfd p = {.fd = s, .events = POLLIN};
    ssize_t n = poll(&p, 1, 2000) > 0 ? recv(s, u.buf, sizeof(u.buf), 0) : -1;
    /* 60 kinds, then 60 hint slots (two bytes each): all 0 */
    int zeros = n >= (ssize_t)sizeof(u.r) && u.r.ret == 60 && u.r.len == 60 * 3 &&
                (size_t)n == sizeof(u.r) + 60 * 3;
    for (int i = 0; zeros && i < 60 * 3; i++)
        zeros = u.buf[sizeof(u.r) + (size_t)i] == 0;
    check(zeros, "DS_IDENTIFY: each pipe is \"not ours\" (%zd bytes, ret %lld)", n,
          n >= (ssize_t)sizeof(u.r) ? (long long)u.r.ret : 0LL);
    close(s);
    for (int i = 0; i < 60; i++)
        close(fds[i]);
}

/* HELLO carrying fd (-1: none); returns the credit granted, or -1. */
static int64_t
hello_credit(int s, int fd)
{
    struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
    if ((fd >= 0 ? send_fds(s, &q, &fd, 1) : send(s, &q, sizeof(q), 0)) < 0)
        return -1;
    struct pollfd p = {.fd = s, .events = POLLIN};
    struct us_ctl_resp r;
    if (poll(&p, 1, 2000) <= 0 || recv(s, &r, sizeof(r), 0) != (ssize_t)sizeof(r) || r.ret < 0)
        return -1;
    return r.addr;
}

/* Sends a US_CTL_DS_NEW of a fresh stream pair (our copy of the daemon's end closed); returns
 * the program's end, or -1. */
static int
ds_new(int s, int type)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    struct us_ctl_req q = req(US_CTL_DS_NEW, type);
    q.arg2 = AF_INET;
    ssize_t n = send_fds(s, &q, sv, 2);
    close(sv[0]);
    if (n < 0) {
        close(sv[1]);
        return -1;
    }
    return sv[1];
}

/* Did the daemon close its copy of the pair (our end hangs up within 2 s)? */
static int
hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 2000) > 0 && (p.revents & POLLHUP);
}

/* Still answering on s: a DS_IDENTIFY of fd; returns the kind byte, or -1. */
static int
identify(int s, int fd)
{
    struct us_ctl_req q = req(US_CTL_DS_IDENTIFY, 0);
    q.flags = US_CTL_F_DS;
    if (send_fds(s, &q, &fd, 1) < 0)
        return -1;
    struct pollfd p = {.fd = s, .events = POLLIN};
    uint8_t buf[sizeof(struct us_ctl_resp) + 1];
    if (poll(&p, 1, 2000) <= 0 || recv(s, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
        return -1;
    return buf[sizeof(struct us_ctl_resp)];
}

static void
sc_dsnew(void)
{
    int s = ctl_connect();
    if (s < 0)
        return;
    check(hello_credit(s, -1) == 0, "HELLO without socket diagnostics: no credit");
    int fd = ds_new(s, US_SOCK_STREAM);
    check(fd >= 0 && hung_up(fd), "DS_NEW without credit: the daemon closes the pair");
    check(fd >= 0 && identify(s, fd) == 0, "  and does not know it; the connection still works");
    if (fd >= 0)
        close(fd);
    close(s);

    int p[2];
    if (pipe(p) < 0 || (s = ctl_connect()) < 0)
        return;
    check(hello_credit(s, p[0]) == 0, "HELLO with a pipe for socket diagnostics: no credit");
    close(s);

    if ((s = ctl_connect()) < 0)
        return;
    int diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, 4 /* NETLINK_SOCK_DIAG */);
    int64_t credit = hello_credit(s, diag);
    close(diag);
    check(credit > 0 && credit <= US_CTL_CREDIT_MAX, "HELLO with socket diagnostics: credit %lld",
          (long long)credit);
    fd = ds_new(s, 99);
    check(fd >= 0 && hung_up(fd), "DS_NEW of type 99: refused, the pair closed");
    if (fd >= 0)
        close(fd);
    struct us_ctl_req q = req(US_CTL_DS_NEW, US_SOCK_STREAM);
    check(send_fds(s, &q, p, 2) > 0, "DS_NEW carrying two pipe ends sent");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
        check(send_fds(s, &q, &sv[1], 1) > 0, "DS_NEW carrying one descriptor sent");
        close(sv[1]);
        check(hung_up(sv[0]), "DS_NEW with one descriptor: refused, the descriptor closed");
        close(sv[0]);
    }
    fd = ds_new(s, US_SOCK_STREAM);
    check(fd >= 0 && identify(s, fd) == US_SOCK_STREAM,
          "DS_NEW within the credit: DS_IDENTIFY knows the pair as a stream socket");
    /* The refused ones above took credit too; what is left, then one more. */
    int taken[US_CTL_CREDIT_MAX + 1];
    int n = 0;
    for (; n <= US_CTL_CREDIT_MAX; n++) {
        taken[n] = ds_new(s, US_SOCK_STREAM);
        if (taken[n] < 0 || identify(s, taken[n]) != US_SOCK_STREAM)
            break;
    }
    check(n < US_CTL_CREDIT_MAX && taken[n] >= 0 && hung_up(taken[n]),
          "DS_NEW beyond the credit: refused after %d more, the pair closed", n);
    for (int i = 0; i <= n && i <= US_CTL_CREDIT_MAX; i++)
        if (taken[i] >= 0)
            close(taken[i]);
    if (fd >= 0)
        close(fd);
    close(p[0]);
    close(p[1]);
    close(s);
}

static void
hold(int secs)
{
    printf("holding\n");
    fflush(stdout);
    sleep((unsigned)secs);
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        fprintf(stderr, "usage: ctlabuse CTL SCENARIO [SECONDS]\n");
        return 2;
    }
    ctl = argv[1];
    const char *sc = argv[2];
    int secs = argc > 3 ? atoi(argv[3]) : 10;
    if (strcmp(sc, "garbage") == 0)
        sc_garbage();
    else if (strcmp(sc, "truncated") == 0)
        sc_truncated();
    else if (strcmp(sc, "badlen") == 0)
        sc_badlen();
    else if (strcmp(sc, "oversized") == 0)
        sc_oversized();
    else if (strcmp(sc, "badversion") == 0)
        sc_badversion();
    else if (strcmp(sc, "nohello") == 0)
        sc_nohello();
    else if (strcmp(sc, "badop") == 0)
        sc_badop();
    else if (strcmp(sc, "dsnew") == 0)
        sc_dsnew();
    else if (strcmp(sc, "fds") == 0)
        sc_fds();
    else if (strcmp(sc, "hints") == 0)
        sc_hints();
    else if (strcmp(sc, "stall") == 0) {
        int s = ctl_connect();
        if (s < 0)
            return 1;
        hold(secs);
    } else if (strcmp(sc, "hellostall") == 0) {
        int s = ctl_connect();
        struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
        if (s < 0 || send(s, &q, sizeof(q), 0) < 0)
            return 1;
        hold(secs);
    } else if (strcmp(sc, "flood") == 0) {
        int s = ctl_connect();
        if (s < 0)
            return 1;
        int sb = 1 << 20;
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
        struct us_ctl_req q = req(US_CTL_HELLO, US_CTL_VERSION);
        send(s, &q, sizeof(q), 0);
        q = req(US_CTL_NETSTAT, 0x7);
        int sent = 0;
        while (sent < 100000 && send(s, &q, sizeof(q), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
            sent++;
        printf("flood: %d requests sent without reading an answer\n", sent);
        hold(secs);
    } else if (strcmp(sc, "many") == 0) {
        int ok = 0;
        for (int i = 0; i < 200; i++) {
            int s = ctl_connect();
            if (s >= 0 && hello(s) == 0)
                ok++;
        }
        check(ok == 200, "200 clients connected, each said HELLO (%d)", ok);
        hold(secs);
    } else {
        fprintf(stderr, "ctlabuse: no scenario %s\n", sc);
        return 2;
    }
    return fails ? 1 : 0;
}
