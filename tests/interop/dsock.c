/* dsock: checks that TCP and UDP sockets keep the kernel's descriptor semantics, for `ustack run`
 * (doc/run.md). It uses nothing but the BSD socket calls, so the same binary runs twice in
 * run_dsock.sh: straight on the Linux kernel (the proof that each check is right) and under
 * `ustack run` in a namespace with only `lo`, where any socket that fell back to the kernel fails.
 *     dsock PEER BLACKHOLE SUBTEST
 * PEER runs dsock_peer.py: TCP+UDP echo on 7001, a TCP listener that resets on 7002, a sink that
 * answers "COUNT CRC32\n" after EOF on 7003, a sender of N bytes on 7004, a connect-back service on
 * 7005, a server that sees how a connection ends on 7006 and tells on 7007, a slow sink on 7008,
 * a reader that waits before reading (or never reads) on 7010; nothing listens on 7009. BLACKHOLE is an address whose SYNs nobody answers.
 * Each check prints "ok" or "FAIL"; the last line is "PASS SUBTEST" or "FAIL SUBTEST"; the exit
 * status is 0 only when every check passed (2 on usage). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
    P_ECHO = 7001,
    P_RESET = 7002,
    P_SINK = 7003,
    P_SEND = 7004,
    P_BACK = 7005,
    P_ENDING = 7006,
    P_ENDED = 7007,
    P_SLOW_SINK = 7008,
    P_CLOSED = 7009,
    P_SLOW = 7010
};

static const char *peer_ip, *hole_ip, *subtest;
static int fails;

static void
check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %s: ", cond ? "ok  " : "FAIL", subtest);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!cond)
        fails++;
}

/* errstr: the text of errno e, or "ok" for 0. */
static const char *
errstr(int e)
{
    return e ? strerror(e) : "ok";
}

static struct sockaddr_in
sin4(const char *ip, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "dsock: bad address %s\n", ip);
        exit(2);
    }
    return a;
}

static long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* wait_fd: poll one descriptor; returns revents (0 on timeout, -1 on poll error). */
static int
wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;
    do
        n = poll(&p, 1, ms);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : n == 0 ? 0 : p.revents;
}

/* writeall: writes all of buf (waiting with poll when the descriptor is non-blocking). */
static int
writeall(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait_fd(fd, POLLOUT, 1000);
            continue;
        }
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* readn: reads exactly len bytes within ms milliseconds; returns the count read (short on EOF,
 * error or timeout; errno then says which, 0 for EOF, ETIMEDOUT for the time). */
static size_t
readn(int fd, void *buf, size_t len, int ms)
{
    char *p = buf;
    size_t got = 0;
    long end = now_ms() + ms;
    while (got < len) {
        long left = end - now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            break;
        }
        int r = wait_fd(fd, POLLIN, (int)left);
        if (r == 0)
            continue;
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

/* read_eof: reads until end of file within ms; returns 1 at EOF, 0 on data, timeout or error. */
static int
read_eof(int fd, int ms)
{
    char c;
    if (wait_fd(fd, POLLIN, ms) <= 0)
        return 0;
    return read(fd, &c, 1) == 0;
}

/* check_call: a call that returns 0 on success, with its errno text when it fails. */
static void
check_call(int r, const char *what)
{
    check(r == 0, "%s: %s", what, errstr(r < 0 ? errno : 0));
}

static int
tcp_socket(int flags)
{
    int s = socket(AF_INET, SOCK_STREAM | flags, 0);
    check(s >= 0, "socket(AF_INET, SOCK_STREAM): %s", errstr(s < 0 ? errno : 0));
    return s;
}

/* tcp_connect: a blocking connect to PEER:port; -1 (with a failed check) on error. */
static int
tcp_connect(int port)
{
    int s = tcp_socket(0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = sin4(peer_ip, port);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        check(0, "connect to %s:%d: %s", peer_ip, port, strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

/* echo_once: sends msg on s and expects it back from the echo server. */
static int
echo_once(int s, const char *msg, const char *what)
{
    size_t len = strlen(msg);
    char buf[256];
    if (writeall(s, msg, len) < 0) {
        check(0, "%s: write: %s", what, strerror(errno));
        return -1;
    }
    size_t got = readn(s, buf, len, 5000);
    int ok = got == len && memcmp(buf, msg, len) == 0;
    check(ok, "%s: echo of \"%s\" (%zu of %zu bytes back%s%s)", what, msg, got, len,
          ok ? "" : ", ", ok ? "" : errstr(errno));
    return ok ? 0 : -1;
}

static int
so_error(int s)
{
    int e = -1;
    socklen_t l = sizeof(e);
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
        return -errno;
    return e;
}

static int
is_peer(const struct sockaddr_in *a, int port)
{
    struct sockaddr_in want = sin4(peer_ip, port);
    return a->sin_family == AF_INET && a->sin_port == want.sin_port &&
           a->sin_addr.s_addr == want.sin_addr.s_addr;
}

static const char *
fmt_sin(const struct sockaddr_in *a)
{
    static char buf[64];
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    snprintf(buf, sizeof(buf), "%s:%d (family %d)", ip, ntohs(a->sin_port), a->sin_family);
    return buf;
}

static void
check_peername(int s, int port, const char *what)
{
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    memset(&a, 0, sizeof(a));
    int r = getpeername(s, (struct sockaddr *)&a, &l);
    check(r == 0 && l == sizeof(a) && is_peer(&a, port), "%s: getpeername is %s:%d (got %s, %s)", what,
          peer_ip, port, fmt_sin(&a), errstr(r < 0 ? errno : 0));
}

static uint32_t
crc32_buf(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

/* fill: deterministic pseudo-random bytes. */
static void
fill(unsigned char *p, size_t n, uint32_t seed)
{
    uint32_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/* sink_reply: reads the sink's "COUNT CRC\n" line and its EOF after our shutdown(SHUT_WR). */
static void
sink_reply(int s, size_t count, uint32_t crc, const char *what)
{
    char line[128], want[128];
    size_t n = 0;
    long end = now_ms() + 20000;
    while (n < sizeof(line) - 1 && now_ms() < end) {
        if (wait_fd(s, POLLIN, 1000) <= 0)
            continue;
        ssize_t r = read(s, line + n, sizeof(line) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(line, '\n', n))
            break;
    }
    line[n] = 0;
    snprintf(want, sizeof(want), "%zu %08x\n", count, crc);
    check(strcmp(line, want) == 0, "%s: the peer read %zu bytes with CRC32 %08x (it says \"%.*s\")", what,
          count, crc, (int)strcspn(line, "\n"), line);
    check(read_eof(s, 5000), "%s: end of file after the peer's answer", what);
}

/* ---- subtests --------------------------------------------------------------------------- */

/* Non-blocking connect: EINPROGRESS, POLLOUT when established, SO_ERROR 0, the addresses. */
static void
t_connect_nb(void)
{
    int s = tcp_socket(SOCK_NONBLOCK);
    if (s < 0)
        return;
    struct sockaddr_in a = sin4(peer_ip, P_ECHO);
    int r = connect(s, (struct sockaddr *)&a, sizeof(a));
    int e = r < 0 ? errno : 0;
    check(r < 0 && e == EINPROGRESS, "non-blocking connect returns EINPROGRESS (%s)", errstr(e));
    int ev = wait_fd(s, POLLOUT, 5000);
    check(ev > 0 && (ev & POLLOUT) && !(ev & (POLLERR | POLLHUP)),
          "poll: POLLOUT without POLLERR/POLLHUP once connected (revents 0x%x)", ev);
    check(so_error(s) == 0, "SO_ERROR is 0 after the connect completed (%d)", so_error(s));
    /* Linux: the first connect after completion reports it (0), later ones EISCONN */
    r = connect(s, (struct sockaddr *)&a, sizeof(a));
    e = r < 0 ? errno : 0;
    check(r == 0 || e == EISCONN, "connect again once connected: 0 or EISCONN (%s)", errstr(e));
    r = connect(s, (struct sockaddr *)&a, sizeof(a));
    e = r < 0 ? errno : 0;
    check(r < 0 && e == EISCONN, "connect a third time: EISCONN (%s)", errstr(e));
    check_peername(s, P_ECHO, "after non-blocking connect");
    struct sockaddr_in me;
    socklen_t l = sizeof(me);
    memset(&me, 0, sizeof(me));
    r = getsockname(s, (struct sockaddr *)&me, &l);
    check(r == 0 && me.sin_family == AF_INET && me.sin_port != 0 && me.sin_addr.s_addr != 0,
          "getsockname: a bound local address and port (%s)", fmt_sin(&me));
    char c;
    r = (int)read(s, &c, 1);
    e = r < 0 ? errno : 0;
    check(r < 0 && e == EAGAIN, "read with nothing to read on a non-blocking socket: EAGAIN (%s)",
          errstr(e));
    echo_once(s, "non-blocking hello", "non-blocking socket");
    int nd = 1;
    check(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof(nd)) == 0, "setsockopt TCP_NODELAY");
    nd = 0;
    l = sizeof(nd);
    r = getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nd, &l);
    check(r == 0 && nd != 0,
          "getsockopt TCP_NODELAY reads back set (%d)", nd);
    int type = 0;
    l = sizeof(type);
    r = getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &l);
    check(r == 0 && type == SOCK_STREAM,
          "getsockopt SO_TYPE is SOCK_STREAM (%d)", type);
    close(s);
}

/* A blocking connect to a closed port fails with ECONNREFUSED; a non-blocking one reports it in
 * SO_ERROR after poll, and reading SO_ERROR clears it. */
static void
t_refused(void)
{
    int s = tcp_socket(0);
    if (s < 0)
        return;
    struct sockaddr_in a = sin4(peer_ip, P_CLOSED);
    int r = connect(s, (struct sockaddr *)&a, sizeof(a));
    int e = r < 0 ? errno : 0;
    check(r < 0 && e == ECONNREFUSED, "blocking connect to closed port %d: ECONNREFUSED (%s)", P_CLOSED,
          errstr(e));
    close(s);

    s = tcp_socket(SOCK_NONBLOCK);
    if (s < 0)
        return;
    r = connect(s, (struct sockaddr *)&a, sizeof(a));
    e = r < 0 ? errno : 0;
    check(r < 0 && (e == EINPROGRESS || e == ECONNREFUSED),
          "non-blocking connect to a closed port: EINPROGRESS (or at once ECONNREFUSED) (%s)", errstr(e));
    if (e == EINPROGRESS) {
        int ev = wait_fd(s, POLLOUT, 5000);
        check(ev > 0 && (ev & (POLLOUT | POLLERR | POLLHUP)),
              "poll reports the failed connect (revents 0x%x)", ev);
        e = so_error(s);
        check(e == ECONNREFUSED, "SO_ERROR is ECONNREFUSED (%s)", errstr(e));
        e = so_error(s);
        check(e == 0, "SO_ERROR read a second time is 0 (%s)", errstr(e));
    }
    close(s);
}

static void
on_alarm(int sig)
{
    (void)sig;
}

/* A peer that drops SYNs: the connect stays in progress (no POLLOUT, SO_ERROR 0, EALREADY), and
 * closing it works. */
static void
t_timeout(void)
{
    int s = tcp_socket(SOCK_NONBLOCK);
    if (s < 0)
        return;
    struct sockaddr_in a = sin4(hole_ip, 80);
    int r = connect(s, (struct sockaddr *)&a, sizeof(a));
    int e = r < 0 ? errno : 0;
    check(r < 0 && e == EINPROGRESS, "non-blocking connect to %s:80 (SYNs dropped): EINPROGRESS (%s)",
          hole_ip, errstr(e));
    int ev = wait_fd(s, POLLOUT, 1500);
    check(ev == 0, "poll for POLLOUT times out after 1.5 s (revents 0x%x)", ev);
    e = so_error(s);
    check(e == 0, "SO_ERROR is 0 while the connect is in progress (%s)", errstr(e));
    r = connect(s, (struct sockaddr *)&a, sizeof(a));
    e = r < 0 ? errno : 0;
    check(r < 0 && e == EALREADY, "connect again while in progress: EALREADY (%s)", errstr(e));
    char c = 'x';
    r = (int)send(s, &c, 1, MSG_NOSIGNAL);
    e = r < 0 ? errno : 0;
    check(r < 0 && (e == EAGAIN || e == ENOTCONN),
          "send while the connect is in progress fails (EAGAIN or ENOTCONN) (%s)", errstr(e));
    long t0 = now_ms();
    check(close(s) == 0 && now_ms() - t0 < 1000, "close of the connecting socket returns at once");

    /* A blocking connect with an alarm: EINTR (the call does not swallow signals). */
    s = tcp_socket(0);
    if (s < 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; /* no SA_RESTART: connect must come back with EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {.tv_sec = 1}};
    setitimer(ITIMER_REAL, &it, NULL);
    t0 = now_ms();
    r = connect(s, (struct sockaddr *)&a, sizeof(a));
    e = r < 0 ? errno : 0;
    long took = now_ms() - t0;
    check(r < 0 && e == EINTR && took >= 800 && took < 5000,
          "blocking connect to the black hole interrupted by SIGALRM after 1 s: EINTR (%s after %ld ms)",
          errstr(e), took);
    close(s);
}

/* The peer resets: poll wakes, SO_ERROR says ECONNRESET, then read gives EOF and write EPIPE. */
static void
t_reset(void)
{
    int s = tcp_connect(P_RESET);
    if (s < 0)
        return;
    check(writeall(s, "x", 1) == 0, "write one byte to the resetting peer");
    int ev = wait_fd(s, POLLIN, 5000);
    check(ev > 0 && (ev & (POLLIN | POLLHUP | POLLERR)), "poll wakes on the reset (revents 0x%x)", ev);
    int e = so_error(s);
    check(e == ECONNRESET, "SO_ERROR after the peer's reset: ECONNRESET (%s)", errstr(e));
    char c;
    ssize_t r = read(s, &c, 1);
    e = r < 0 ? errno : 0;
    check(r == 0, "read after the reset (error consumed): 0 (got %zd, %s)", r, errstr(e));
    r = send(s, "y", 1, MSG_NOSIGNAL);
    e = r < 0 ? errno : 0;
    check(r < 0 && e == EPIPE, "send after the reset: EPIPE (%s)", errstr(e));
    close(s);
    /* Another connection works afterwards. */
    s = tcp_connect(P_ECHO);
    if (s >= 0) {
        echo_once(s, "after reset", "new connection after the reset");
        close(s);
    }
}

/* shutdown(SHUT_WR): the peer reads EOF, counts and answers on the half-open connection. */
static void
t_shutdown_wr(void)
{
    int s = tcp_connect(P_SINK);
    if (s < 0)
        return;
    size_t n = 300000;
    unsigned char *buf = malloc(n);
    fill(buf, n, 7);
    check(writeall(s, buf, n) == 0, "write %zu bytes to the sink", n);
    check_call(shutdown(s, SHUT_WR), "shutdown(SHUT_WR)");
    ssize_t r = send(s, "z", 1, MSG_NOSIGNAL);
    int e = r < 0 ? errno : 0;
    check(r < 0 && e == EPIPE, "send after shutdown(SHUT_WR): EPIPE (%s)", errstr(e));
    sink_reply(s, n, crc32_buf(0, buf, n), "after shutdown(SHUT_WR)");
    free(buf);
    close(s);
}

/* shutdown(SHUT_WR) while the data before it still waits in the stack (a slow reader with a
 * small window): the end of the data must still reach the peer after all of it. */
static void
t_shutdown_slow(void)
{
    int s = tcp_connect(P_SLOW_SINK);
    if (s < 0)
        return;
    size_t n = 1 << 20;
    unsigned char *buf = malloc(n);
    fill(buf, n, 5);
    check(writeall(s, buf, n) == 0, "write %zu bytes to the slow sink", n);
    check_call(shutdown(s, SHUT_WR), "shutdown(SHUT_WR)");
    sink_reply(s, n, crc32_buf(0, buf, n), "after shutdown(SHUT_WR) with data waiting");
    free(buf);
    close(s);
}

/* FIONREAD: the bytes waiting on a TCP socket; the size of the next datagram on a UDP socket. */
static void
t_fionread(void)
{
    int s = tcp_connect(P_SEND);
    if (s < 0)
        return;
    enum { N = 12345 };
    check(writeall(s, "12345\n", 6) == 0, "ask the sender for %d bytes", N);
    int avail = -1;
    long end = now_ms() + 5000;
    while (now_ms() < end) {
        wait_fd(s, POLLIN, 100);
        if (ioctl(s, FIONREAD, &avail) < 0) {
            check(0, "ioctl(FIONREAD): %s", strerror(errno));
            break;
        }
        if (avail >= N)
            break;
        usleep(20000);
    }
    check(avail == N, "FIONREAD reports all %d bytes waiting (%d)", N, avail);
    static unsigned char got[N];
    size_t n = readn(s, got, N, 5000);
    int good = n == N;
    for (size_t i = 0; good && i < N; i++)
        good = got[i] == (unsigned char)(i % 251);
    check(good, "read the %d bytes, pattern intact (%zu)", N, n);
    avail = -1;
    int r0 = ioctl(s, FIONREAD, &avail);
    check(r0 == 0 && avail == 0, "FIONREAD after reading them: 0 (%d)", avail);
    close(s);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    check(u >= 0, "socket(AF_INET, SOCK_DGRAM)");
    if (u < 0)
        return;
    struct sockaddr_in a = sin4(peer_ip, P_ECHO);
    check(connect(u, (struct sockaddr *)&a, sizeof(a)) == 0, "UDP connect");
    char d[500];
    memset(d, 'a', sizeof(d));
    check(send(u, d, 300, 0) == 300, "send a 300-byte datagram");
    wait_fd(u, POLLIN, 3000);
    check(send(u, d, 500, 0) == 500, "send a 500-byte datagram");
    usleep(300000); /* both echoes are in */
    avail = -1;
    int r = ioctl(u, FIONREAD, &avail);
    check(r == 0 && avail == 300, "UDP FIONREAD: the first datagram's 300 bytes (%d)", avail);
    check(recv(u, d, sizeof(d), 0) == 300, "recv the 300-byte datagram");
    avail = -1;
    r = ioctl(u, FIONREAD, &avail);
    check(r == 0 && avail == 500, "UDP FIONREAD then: 500 (%d)", avail);
    check(recv(u, d, sizeof(d), 0) == 500, "recv the 500-byte datagram");
    close(u);
}

/* sendfile from a regular file, with and without an offset pointer. */
static void
t_sendfile(void)
{
    char path[] = "/tmp/dsock.sendfile.XXXXXX";
    int f = mkstemp(path);
    check(f >= 0, "mkstemp: %s", errstr(f < 0 ? errno : 0));
    if (f < 0)
        return;
    unlink(path);
    size_t n = 3 * 1024 * 1024 + 123;
    unsigned char *buf = malloc(n);
    fill(buf, n, 11);
    check(write(f, buf, n) == (ssize_t)n, "write the %zu-byte file", n);
    int s = tcp_connect(P_SINK);
    if (s < 0) {
        free(buf);
        close(f);
        return;
    }
    /* The first 1000 bytes from the file position, the rest with an offset pointer. */
    lseek(f, 0, SEEK_SET);
    ssize_t r = sendfile(s, f, NULL, 1000);
    check(r == 1000, "sendfile of 1000 bytes from the file position (%zd, %s)", r, errstr(r < 0 ? errno : 0));
    check(lseek(f, 0, SEEK_CUR) == 1000, "the file position moved to 1000");
    off_t off = 1000;
    size_t left = n - 1000;
    while (left > 0) {
        r = sendfile(s, f, &off, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            check(0, "sendfile at offset %lld: %s", (long long)off, r < 0 ? strerror(errno) : "returned 0");
            break;
        }
        left -= (size_t)r;
    }
    check(left == 0 && off == (off_t)n, "sendfile sent the file up to its end (offset %lld)", (long long)off);
    check(lseek(f, 0, SEEK_CUR) == 1000, "sendfile with an offset pointer left the file position alone");
    shutdown(s, SHUT_WR);
    sink_reply(s, n, crc32_buf(0, buf, n), "sendfile");
    free(buf);
    close(s);
    close(f);
}

/* peer_saw: asks the peer (7007) how the 7006 connection from local port ended, waiting up to
 * 3 s for it to end; writes "eof", "reset", "open" or "unknown" into out. */
static void
peer_saw(int port, char *out, size_t cap)
{
    snprintf(out, cap, "no answer");
    long end = now_ms() + 3000;
    while (now_ms() < end) {
        int q = tcp_connect(P_ENDED);
        if (q < 0)
            return;
        char line[32];
        snprintf(line, sizeof(line), "%d\n", port);
        writeall(q, line, strlen(line));
        char buf[32] = "";
        size_t n = readn(q, buf, sizeof(buf) - 1, 2000);
        close(q);
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        snprintf(out, cap, "%s", buf);
        if (strcmp(buf, "open") != 0)
            return;
        usleep(100000);
    }
}

/* local_port: the local port of a connected socket (0 on error). */
static int
local_port(int s)
{
    struct sockaddr_in me;
    socklen_t l = sizeof(me);
    memset(&me, 0, sizeof(me));
    return getsockname(s, (struct sockaddr *)&me, &l) == 0 ? ntohs(me.sin_port) : 0;
}

/* linger_fill: a connection to the slow reader, told to wait ms before reading; writes until
 * the buffers on the way are full (non-blocking), then sets SO_LINGER {1, secs}. Returns the
 * socket (blocking again), the bytes written in *sent and the local port in *port; -1 on
 * failure. */
static int
linger_fill(int ms, int secs, size_t *sent, int *port)
{
    int s = tcp_connect(P_SLOW);
    if (s < 0)
        return -1;
    *port = local_port(s);
    char line[32];
    snprintf(line, sizeof(line), "%d\n", ms);
    writeall(s, line, strlen(line));
    *sent = 0;
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    static char buf[65536];
    long end = now_ms() + 300;
    while (now_ms() < end && *sent < 64u << 20) {
        ssize_t n = send(s, buf, sizeof(buf), MSG_NOSIGNAL);
        if (n > 0)
            *sent += (size_t)n;
        else if (n < 0 && errno == EAGAIN)
            wait_fd(s, POLLOUT, 50);
        else
            break;
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
    struct linger lg = {.l_onoff = 1, .l_linger = secs};
    check_call(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), "setsockopt SO_LINGER");
    struct linger got = {0, 0};
    socklen_t gl = sizeof(got);
    int r = getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &gl);
    check(r == 0 && got.l_onoff && got.l_linger == secs, "getsockopt SO_LINGER reads back {1, %d} "
          "({%d, %d})", secs, got.l_onoff, got.l_linger);
    return s;
}

/* The voluntary context switches of this process so far: a call that sleeps once adds one, a
 * call that polls adds one per sleep. */
static long
sleeps(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_nvcsw : 0;
}

/* SO_LINGER with a time, as Linux: the last close blocks until the peer has acknowledged
 * everything (here: until the peer, 1.5 s after its accept, reads what filled its window), or
 * until the time is up (a peer that never reads: 1 s), sleeping rather than polling; closing a
 * duplicate does not wait; a signal ends the wait. */
static void
t_linger(void)
{
    size_t sent;
    int port;
    long t0 = now_ms();
    int s = linger_fill(1500, 10, &sent, &port);
    if (s < 0)
        return;
    check(sent > 0, "%zu bytes written before the buffers filled", sent);
    int d = dup(s);
    long t1 = now_ms();
    check(close(d) == 0 && now_ms() - t1 < 500, "close of a duplicate returns at once (%ld ms)",
          now_ms() - t1);
    t1 = now_ms();
    check_call(close(s), "close with SO_LINGER {1, 10}");
    long t2 = now_ms();
    check(t2 - t0 >= 1000 && t2 - t0 < 9000, "close returned once the slow peer read everything: "
          "%ld ms after connecting (close took %ld ms; the peer reads from 1500 ms)", t2 - t0,
          t2 - t1);
    char saw[32], want[32];
    peer_saw(port, saw, sizeof(saw));
    snprintf(want, sizeof(want), "%zu", sent);
    check(strcmp(saw, want) == 0, "the peer read every byte and the end (%s, want %s)", saw, want);

    s = linger_fill(-1, 1, &sent, &port);
    if (s < 0)
        return;
    t1 = now_ms();
    long z = sleeps();
    check_call(close(s), "close with SO_LINGER {1, 1}, a peer that never reads");
    z = sleeps() - z;
    t2 = now_ms();
    check(t2 - t1 >= 800 && t2 - t1 < 4000, "close returned after the linger time, 1 s (%ld ms)",
          t2 - t1);
    /* Linux sleeps until the time is up, woken perhaps by a zero-window probe's ACK; polling
     * every few ms would sleep dozens of times. */
    check(z >= 1 && z <= 8, "that close slept, without polling: %ld voluntary context switches",
          z);

    /* A signal ends the wait: close returns 0 then, the socket goes on. */
    s = linger_fill(-1, 10, &sent, &port);
    if (s < 0)
        return;
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {0, 300000}};
    setitimer(ITIMER_REAL, &it, NULL);
    t1 = now_ms();
    int r = close(s);
    t2 = now_ms();
    check(r == 0 && t2 - t1 >= 200 && t2 - t1 < 3000, "close with SO_LINGER {1, 10} ended by a "
          "signal after 300 ms: returned %d after %ld ms", r, t2 - t1);
}

/* reset_conn: a connection the peer has reset (after our one byte), polled until the reset
 * is seen (POLLHUP); *rev gets the revents for POLLIN|POLLOUT|POLLRDHUP. -1 on failure. */
static int
reset_conn(int *rev)
{
    int s = tcp_connect(P_RESET);
    if (s < 0)
        return -1;
    check(writeall(s, "x", 1) == 0, "write one byte to the resetting peer");
    *rev = 0;
    long end = now_ms() + 5000;
    while (!(*rev & POLLHUP) && now_ms() < end) {
        *rev = wait_fd(s, POLLIN | POLLOUT | POLLRDHUP, 1000);
        if (!(*rev & POLLHUP))
            usleep(10000);
    }
    return s;
}

/* After the peer's reset, as Linux: poll reports POLLERR and POLLHUP (with POLLIN, POLLOUT,
 * POLLRDHUP) until the error is taken; the next read, by any call, fails once with ECONNRESET
 * and then reads 0; SO_ERROR is 0 after that; a send gets EPIPE. A send first gets the
 * ECONNRESET instead, then EPIPE, and then the read reads 0 (so does a write, SIGPIPE ignored). */
static void
t_reset_read(void)
{
    static const char *how[] = {"read", "recv", "readv", "recvmsg", "recvfrom", "send", "write"};
    for (int i = 0; i < 7; i++) {
        int rev;
        int s = reset_conn(&rev);
        if (s < 0)
            return;
        int want = POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP;
        check(rev == want, "%s: poll after the reset: POLLIN|POLLOUT|POLLRDHUP|POLLERR|POLLHUP "
              "(revents 0x%x, want 0x%x)", how[i], rev, want);
        char c;
        struct iovec v = {&c, 1};
        struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t r;
        for (int k = 0; k < 2; k++) {
            errno = 0;
            switch (i) {
            case 0: r = read(s, &c, 1); break;
            case 1: r = recv(s, &c, 1, 0); break;
            case 2: r = readv(s, &v, 1); break;
            case 3: r = recvmsg(s, &m, 0); break;
            case 4: r = recvfrom(s, &c, 1, 0, (struct sockaddr *)&from, &fl); break;
            case 5: r = send(s, "y", 1, MSG_NOSIGNAL); break;
            default: r = write(s, "y", 1); break; /* SIGPIPE is ignored */
            }
            int e = r < 0 ? errno : 0;
            int want_e = k == 0 ? ECONNRESET : i >= 5 ? EPIPE : 0;
            check(r == (want_e ? -1 : 0) && e == want_e, "%s after the reset, call %d: %s (got %zd, %s)",
                  how[i], k + 1, want_e ? strerror(want_e) : "0, end of file", r, errstr(e));
            if (k == 0) {
                rev = wait_fd(s, POLLIN | POLLOUT | POLLRDHUP, 0);
                want = POLLIN | POLLOUT | POLLRDHUP | POLLHUP;
                check(rev == want, "%s: poll once the error was taken: no POLLERR (revents 0x%x, "
                      "want 0x%x)", how[i], rev, want);
            }
        }
        int e = so_error(s);
        check(e == 0, "%s: SO_ERROR once the error was taken: 0 (%s)", how[i], errstr(e));
        r = i >= 5 ? read(s, &c, 1) : send(s, "y", 1, MSG_NOSIGNAL);
        e = r < 0 ? errno : 0;
        if (i >= 5)
            check(r == 0, "read after %s took the error: 0 (got %zd, %s)", how[i], r, errstr(e));
        else
            check(r < 0 && e == EPIPE, "%s: send after the error was taken: EPIPE (%s)", how[i],
                  errstr(e));
        close(s);
    }
}

static volatile sig_atomic_t sigpipes;

static void
on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* After the peer's reset, as Linux: epoll_wait reports EPOLLERR with EPOLLHUP (and EPOLLIN,
 * EPOLLOUT, EPOLLRDHUP) until the error is taken: level-triggered on every wait, edge-triggered
 * once; whatever the event's data (a pointer, a number). Then write fails once with ECONNRESET
 * and no SIGPIPE, and the event has no EPOLLERR; the next write fails with EPIPE and SIGPIPE. */
static void
t_reset_epoll(void)
{
    static int tag;
    const uint32_t want = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR | EPOLLHUP;
    for (int edge = 0; edge < 2; edge++) {
        const char *mode = edge ? "edge-triggered" : "level-triggered";
        int s = tcp_connect(P_RESET);
        if (s < 0)
            return;
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | (edge ? EPOLLET : 0)};
        if (edge)
            e.data.u64 = 0x5eed0000u + (unsigned)s;
        else
            e.data.ptr = &tag;
        uint64_t data = e.data.u64;
        check_call(epoll_ctl(ep, EPOLL_CTL_ADD, s, &e), "epoll_ctl ADD");
        check(writeall(s, "x", 1) == 0, "write one byte to the resetting peer");
        uint32_t got = 0;
        struct epoll_event o[4];
        for (long end = now_ms() + 5000; !(got & EPOLLHUP) && now_ms() < end;) {
            int n = epoll_wait(ep, o, 4, 1000);
            for (int i = 0; i < n; i++)
                if (o[i].data.u64 == data)
                    got = o[i].events;
            if (!(got & EPOLLHUP) && !edge)
                usleep(10000); /* level: EPOLLOUT alone until the reset */
        }
        check(got == want, "%s: epoll_wait after the reset: EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLERR|"
              "EPOLLHUP (events 0x%x, want 0x%x)", mode, got, want);
        int n = epoll_wait(ep, o, 4, 0);
        if (edge)
            check(n == 0, "%s: no second event without a new edge (%d events)", mode, n);
        else
            check(n == 1 && o[0].events == want, "%s: the next wait reports it again (%d events, "
                  "0x%x)", mode, n, n > 0 ? o[0].events : 0);
        struct sigaction sa = {.sa_handler = on_sigpipe}, old;
        sigaction(SIGPIPE, &sa, &old);
        sigpipes = 0;
        errno = 0;
        ssize_t r = write(s, "y", 1);
        int er = r < 0 ? errno : 0;
        check(r < 0 && er == ECONNRESET && sigpipes == 0, "%s: write after the reset: "
              "ECONNRESET without SIGPIPE (got %zd, %s, %d SIGPIPE)", mode, r, errstr(er),
              (int)sigpipes);
        if (!edge) {
            n = epoll_wait(ep, o, 4, 0);
            uint32_t want2 = want & ~(uint32_t)EPOLLERR;
            check(n == 1 && o[0].events == want2, "%s: once the error was taken: no EPOLLERR "
                  "(%d events, 0x%x, want 0x%x)", mode, n, n > 0 ? o[0].events : 0, want2);
        }
        r = write(s, "y", 1);
        er = r < 0 ? errno : 0;
        check(r < 0 && er == EPIPE && sigpipes == 1, "%s: the next write: EPIPE with SIGPIPE "
              "(got %zd, %s, %d SIGPIPE)", mode, r, errstr(er), (int)sigpipes);
        sigaction(SIGPIPE, &old, NULL);
        close(ep);
        close(s);
    }
}

/* A write to a connection the peer has reset, with no poll, read or SO_ERROR since: as Linux,
 * write and writev fail once with ECONNRESET and no SIGPIPE, then with EPIPE and SIGPIPE. The
 * reset is waited for with TCP_INFO (its state CLOSE), which takes no error. */
static void
t_reset_write(void)
{
    for (int v = 0; v < 2; v++) {
        const char *how = v ? "writev" : "write";
        int s = tcp_connect(P_RESET);
        if (s < 0)
            return;
        check(writeall(s, "x", 1) == 0, "write one byte to the resetting peer");
        struct tcp_info ti = {0};
        for (long end = now_ms() + 5000; ti.tcpi_state != TCP_CLOSE && now_ms() < end;) {
            socklen_t tl = sizeof(ti);
            if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
                break;
            usleep(10000);
        }
        check(ti.tcpi_state == TCP_CLOSE, "%s: TCP_INFO says CLOSE after the reset (%u)", how,
              ti.tcpi_state);
        usleep(100000); /* the reset's other effects settle (nothing here asks for them) */
        struct sigaction sa = {.sa_handler = on_sigpipe}, old;
        sigaction(SIGPIPE, &sa, &old);
        sigpipes = 0;
        struct iovec iov = {"y", 1};
        for (int k = 0; k < 2; k++) {
            errno = 0;
            ssize_t r = v ? writev(s, &iov, 1) : write(s, "y", 1);
            int e = r < 0 ? errno : 0;
            int want_e = k == 0 ? ECONNRESET : EPIPE;
            check(r < 0 && e == want_e && sigpipes == k, "%s after the reset, call %d: %s, %d "
                  "SIGPIPE (got %zd, %s, %d SIGPIPE)", how, k + 1, strerror(want_e), k, r,
                  errstr(e), (int)sigpipes);
        }
        sigaction(SIGPIPE, &old, NULL);
        close(s);
    }
}

/* How close ends a connection, as Linux does: FIN after reading everything; RST with received
 * data unread (RFC 2525 2.17), or with SO_LINGER 0. */
static void
t_close(void)
{
    const char *how[3] = {"close after reading everything", "close with 1000 bytes unread",
                          "close with SO_LINGER {1, 0}"};
    const char *want[3] = {"eof", "reset", "reset"};
    for (int i = 0; i < 3; i++) {
        int s = tcp_connect(P_ENDING);
        if (s < 0)
            return;
        int port = local_port(s);
        char buf[1000];
        if (i != 1) {
            check(readn(s, buf, sizeof(buf), 5000) == sizeof(buf), "%s: read the peer's 1000 bytes", how[i]);
        } else {
            int avail = 0;
            for (int t = 0; t < 50 && avail < 1000; t++) {
                usleep(20000);
                ioctl(s, FIONREAD, &avail);
            }
            check(avail == 1000, "%s: the 1000 bytes arrived (FIONREAD %d)", how[i], avail);
        }
        if (i == 2) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            check_call(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), "setsockopt SO_LINGER {1, 0}");
        }
        close(s);
        char saw[32];
        peer_saw(port, saw, sizeof(saw));
        check(strcmp(saw, want[i]) == 0, "%s: the peer sees %s (it says %s)", how[i], want[i], saw);
    }
}

/* ask_connect_back: has the peer connect to our address on port; returns the request socket. */
static int
ask_connect_back(int port)
{
    int c = tcp_connect(P_BACK);
    if (c < 0)
        return -1;
    char line[32];
    snprintf(line, sizeof(line), "%d\n", port);
    check(writeall(c, line, strlen(line)) == 0, "ask the peer to connect back to port %d", port);
    return c;
}

/* accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and plain accept on a listener the peer connects to. */
static void
t_accept4(void)
{
    int l = tcp_socket(0), r;
    if (l < 0)
        return;
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET};
    check_call(bind(l, (struct sockaddr *)&a, sizeof(a)), "bind 0.0.0.0:0");
    check_call(listen(l, 8), "listen");
    socklen_t len = sizeof(a);
    r = getsockname(l, (struct sockaddr *)&a, &len);
    check(r == 0 && a.sin_port != 0,
          "getsockname of the listener: an ephemeral port (%s)", fmt_sin(&a));
    int port = ntohs(a.sin_port);
    int acc = 0;
    len = sizeof(acc);
    r = getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len);
    check(r == 0 && acc == 1, "SO_ACCEPTCONN is 1 (%d)", acc);
    fcntl(l, F_SETFL, fcntl(l, F_GETFL) | O_NONBLOCK);
    r = accept(l, NULL, NULL);
    int e = r < 0 ? errno : 0;
    check(r < 0 && (e == EAGAIN || e == EWOULDBLOCK), "accept with no connection pending: EAGAIN (%s)",
          errstr(e));
    check(wait_fd(l, POLLIN, 0) == 0, "the idle listener is not readable");

    int req = ask_connect_back(port);
    int ev = wait_fd(l, POLLIN, 5000);
    check(ev > 0 && (ev & POLLIN), "the listener becomes readable when the peer connects (0x%x)", ev);
    struct sockaddr_in from;
    len = sizeof(from);
    memset(&from, 0, sizeof(from));
    int c = accept4(l, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    check(c >= 0, "accept4(SOCK_NONBLOCK|SOCK_CLOEXEC): %s", errstr(c < 0 ? errno : 0));
    if (c >= 0) {
        struct sockaddr_in want = sin4(peer_ip, 0);
        check(len == sizeof(from) && from.sin_family == AF_INET && from.sin_addr.s_addr == want.sin_addr.s_addr,
              "accept4 gives the peer's address (%s)", fmt_sin(&from));
        check(fcntl(c, F_GETFL) & O_NONBLOCK, "the accepted socket is O_NONBLOCK");
        check(fcntl(c, F_GETFD) & FD_CLOEXEC, "the accepted socket is FD_CLOEXEC");
        struct sockaddr_in me;
        len = sizeof(me);
        memset(&me, 0, sizeof(me));
        r = getsockname(c, (struct sockaddr *)&me, &len);
        check(r == 0 && ntohs(me.sin_port) == port &&
                  me.sin_addr.s_addr != 0,
              "getsockname of the accepted socket: the listening port, a real address (%s)", fmt_sin(&me));
        char buf[16];
        size_t n = readn(c, buf, 6, 5000);
        check(n == 6 && memcmp(buf, "hello\n", 6) == 0, "read the peer's hello on the accepted socket");
        echo_once(c, "accepted echo", "accepted socket");
        check(wait_fd(l, POLLIN, 200) == 0, "the listener is not readable after its one connection was taken");
        close(c);
    }
    if (req >= 0)
        close(req);

    /* A blocking accept without flags: neither O_NONBLOCK nor FD_CLOEXEC. */
    fcntl(l, F_SETFL, fcntl(l, F_GETFL) & ~O_NONBLOCK);
    req = ask_connect_back(port);
    alarm(10);
    c = accept(l, NULL, NULL);
    alarm(0);
    check(c >= 0, "blocking accept: %s", errstr(c < 0 ? errno : 0));
    if (c >= 0) {
        check(!(fcntl(c, F_GETFL) & O_NONBLOCK), "a plainly accepted socket is blocking");
        check(!(fcntl(c, F_GETFD) & FD_CLOEXEC), "a plainly accepted socket is not FD_CLOEXEC");
        char buf[16];
        check(readn(c, buf, 6, 5000) == 6 && memcmp(buf, "hello\n", 6) == 0, "hello on the blocking accept");
        struct sockaddr_in pa, want = sin4(peer_ip, 0);
        len = sizeof(pa);
        memset(&pa, 0, sizeof(pa));
        r = getpeername(c, (struct sockaddr *)&pa, &len);
        check(r == 0 && pa.sin_family == AF_INET && pa.sin_addr.s_addr == want.sin_addr.s_addr,
              "getpeername of the accepted socket: the peer's address (%s)", fmt_sin(&pa));
        close(c);
    }
    if (req >= 0)
        close(req);
    close(l);
}

/* ep_collect: epoll_wait until fd is seen or ms pass; returns the events seen for fd (0 if not)
 * and ORs every other descriptor's tag into *others. */
static uint32_t
ep_collect(int ep, int fd, int ms, uint64_t *others)
{
    struct epoll_event evs[16];
    uint32_t got = 0;
    long end = now_ms() + ms;
    for (;;) {
        long left = end - now_ms();
        int n = epoll_wait(ep, evs, 16, left < 0 ? 0 : (int)left);
        for (int i = 0; i < n; i++) {
            if ((int)evs[i].data.u64 == fd)
                got |= evs[i].events;
            else if (others)
                *others |= 1ull << (evs[i].data.u64 & 63);
        }
        if (got || left <= 0)
            return got;
    }
}

static int
ep_add(int ep, int fd, uint32_t events, int op)
{
    struct epoll_event e = {.events = events, .data.u64 = (uint64_t)fd};
    return epoll_ctl(ep, op, fd, &e);
}

/* epoll with kernel descriptors (a pipe, an eventfd) and ustack sockets, level, edge, oneshot;
 * EPOLLRDHUP on the peer's FIN; select. */
static void
t_epoll(void)
{
    int p[2];
    check(pipe(p) == 0, "pipe");
    int efd = eventfd(0, EFD_NONBLOCK);
    int lv = tcp_connect(P_ECHO), et = tcp_connect(P_ECHO), os = tcp_connect(P_ECHO);
    if (lv < 0 || et < 0 || os < 0)
        return;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    check(ep >= 0, "epoll_create1");
    check(ep_add(ep, p[0], EPOLLIN, EPOLL_CTL_ADD) == 0, "add the pipe (level)");
    check(ep_add(ep, efd, EPOLLIN, EPOLL_CTL_ADD) == 0, "add the eventfd (level)");
    check(ep_add(ep, lv, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD) == 0, "add socket A (level)");
    check(ep_add(ep, et, EPOLLIN | EPOLLET, EPOLL_CTL_ADD) == 0, "add socket B (edge)");
    check(ep_add(ep, os, EPOLLIN | EPOLLONESHOT, EPOLL_CTL_ADD) == 0, "add socket C (oneshot)");
    struct epoll_event evs[8];
    check(epoll_wait(ep, evs, 8, 200) == 0, "nothing ready at first");

    /* kernel descriptor alone */
    check(write(p[1], "k", 1) == 1, "write to the pipe");
    uint64_t others = 0;
    check(ep_collect(ep, p[0], 2000, &others) & EPOLLIN, "the pipe is reported");
    check(!(others & ((1ull << lv) | (1ull << et) | (1ull << os))), "no socket reported with the pipe");
    char c;
    check(read(p[0], &c, 1) == 1, "read the pipe");

    /* level-triggered */
    check(writeall(lv, "L", 1) == 0, "send on A");
    others = 0;
    check(ep_collect(ep, lv, 3000, &others) & EPOLLIN, "A is reported when its echo arrives");
    check(!(others & (1ull << p[0])), "the drained pipe is not reported");
    check(ep_collect(ep, lv, 200, NULL) & EPOLLIN, "level: A is reported again while unread");
    check(read(lv, &c, 1) == 1 && c == 'L', "read A's echo");
    check(ep_collect(ep, lv, 200, NULL) == 0, "level: A not reported once read");

    /* edge-triggered */
    check(writeall(et, "E", 1) == 0, "send on B");
    check(ep_collect(ep, et, 3000, NULL) & EPOLLIN, "edge: B reported when its echo arrives");
    check(ep_collect(ep, et, 300, NULL) == 0, "edge: B not reported again without new data");
    check(writeall(et, "F", 1) == 0, "send on B again");
    check(ep_collect(ep, et, 3000, NULL) & EPOLLIN, "edge: B reported for the new data");
    char two[2];
    check(readn(et, two, 2, 2000) == 2 && memcmp(two, "EF", 2) == 0, "read both of B's bytes");

    /* oneshot */
    check(writeall(os, "O", 1) == 0, "send on C");
    check(ep_collect(ep, os, 3000, NULL) & EPOLLIN, "oneshot: C reported once");
    check(writeall(os, "P", 1) == 0, "send on C again");
    usleep(300000);
    check(ep_collect(ep, os, 300, NULL) == 0, "oneshot: C disarmed, not reported for more data");
    check(ep_add(ep, os, EPOLLIN | EPOLLONESHOT, EPOLL_CTL_MOD) == 0, "re-arm C (EPOLL_CTL_MOD)");
    check(ep_collect(ep, os, 1000, NULL) & EPOLLIN, "oneshot: C reported after re-arming");
    check(readn(os, two, 2, 2000) == 2 && memcmp(two, "OP", 2) == 0, "read both of C's bytes");

    /* a kernel and a ustack descriptor ready together */
    uint64_t one = 1;
    check(writeall(lv, "M", 1) == 0, "send on A");
    usleep(300000);
    check(write(efd, &one, sizeof(one)) == sizeof(one), "signal the eventfd");
    int n = epoll_wait(ep, evs, 8, 1000);
    int seen_a = 0, seen_e = 0;
    for (int i = 0; i < n; i++) {
        seen_a |= (int)evs[i].data.u64 == lv;
        seen_e |= (int)evs[i].data.u64 == efd;
    }
    check(seen_a && seen_e, "one epoll_wait reports both the eventfd and socket A (%d events)", n);
    check(read(efd, &one, sizeof(one)) == sizeof(one), "read the eventfd");
    check(read(lv, &c, 1) == 1 && c == 'M', "read A's echo");

    /* EPOLLOUT */
    check(ep_add(ep, lv, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD) == 0, "A: add EPOLLOUT");
    check(ep_collect(ep, lv, 1000, NULL) & EPOLLOUT, "A is writable");
    check(ep_add(ep, lv, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD) == 0, "A: drop EPOLLOUT");

    /* select with a pipe and a socket */
    check(write(p[1], "s", 1) == 1, "write to the pipe");
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_SET(lv, &rs);
    struct timeval tv = {.tv_sec = 2};
    n = select((p[0] > lv ? p[0] : lv) + 1, &rs, NULL, NULL, &tv);
    check(n == 1 && FD_ISSET(p[0], &rs) && !FD_ISSET(lv, &rs), "select: the pipe readable, socket A not");
    check(read(p[0], &c, 1) == 1, "read the pipe");
    check(writeall(lv, "S", 1) == 0, "send on A");
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_SET(lv, &rs);
    tv.tv_sec = 3;
    n = select((p[0] > lv ? p[0] : lv) + 1, &rs, NULL, NULL, &tv);
    check(n == 1 && FD_ISSET(lv, &rs), "select: socket A readable with its echo");
    check(read(lv, &c, 1) == 1 && c == 'S', "read A's echo");

    /* the peer's FIN: EPOLLIN|EPOLLRDHUP, then read 0 */
    check(shutdown(lv, SHUT_WR) == 0, "shutdown(SHUT_WR) on A; the echo server closes");
    uint32_t ev = ep_collect(ep, lv, 3000, NULL);
    check((ev & EPOLLIN) && (ev & EPOLLRDHUP), "A reports EPOLLIN|EPOLLRDHUP at the peer's FIN (0x%x)", ev);
    check(read(lv, &c, 1) == 0, "A reads end of file");
    close(ep);
    close(lv);
    close(et);
    close(os);
    close(p[0]);
    close(p[1]);
    close(efd);
}

/* dup2 of a socket onto descriptor 0; the original closed; I/O and control calls on the copy. */
static void
t_dup2(void)
{
    int s = tcp_connect(P_ECHO);
    if (s < 0)
        return;
    int saved = dup(0);
    check(dup2(s, 0) == 0, "dup2(socket, 0)");
    close(s);
    echo_once(0, "through fd 0", "socket as fd 0");
    check_peername(0, P_ECHO, "fd 0");
    int d = dup3(0, 20, O_CLOEXEC);
    check(d == 20, "dup3(0, 20, O_CLOEXEC)");
    echo_once(20, "through fd 20", "socket as fd 20");
    close(20);
    check(shutdown(0, SHUT_WR) == 0, "shutdown(0, SHUT_WR)");
    check(read_eof(0, 5000), "fd 0 reads EOF after the echo server saw our FIN");
    close(0);
    dup2(saved, 0);
    close(saved);
    /* stdio on a socket: fdopen, fprintf, fgets */
    s = tcp_connect(P_ECHO);
    if (s < 0)
        return;
    FILE *f = fdopen(s, "r+");
    check(f != NULL, "fdopen on a socket");
    if (f) {
        fprintf(f, "stdio line\n");
        fflush(f);
        char line[64] = "";
        alarm(10);
        check(fgets(line, sizeof(line), f) && strcmp(line, "stdio line\n") == 0, "fgets the echoed line");
        alarm(0);
        fclose(f);
    }
}

/* A connected socket used by a forked child, then by the parent; a new socket in the child. */
static void
t_fork(void)
{
    int s = tcp_connect(P_ECHO);
    if (s < 0)
        return;
    struct sockaddr_in me;
    socklen_t l = sizeof(me);
    getsockname(s, (struct sockaddr *)&me, &l);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        echo_once(s, "from the child", "child on the inherited socket");
        struct sockaddr_in cme;
        l = sizeof(cme);
        memset(&cme, 0, sizeof(cme));
        int r = getsockname(s, (struct sockaddr *)&cme, &l);
        check(r == 0 && cme.sin_port == me.sin_port,
              "child: getsockname on the inherited socket matches the parent's (%s)", fmt_sin(&cme));
        int n = tcp_connect(P_ECHO);
        if (n >= 0) {
            echo_once(n, "child's own socket", "child's new socket");
            close(n);
        }
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = sin4(peer_ip, P_ECHO);
        char buf[64];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        check(sendto(u, "child udp", 9, 0, (struct sockaddr *)&a, sizeof(a)) == 9, "child: UDP sendto");
        wait_fd(u, POLLIN, 3000);
        check(recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl) == 9 &&
                  is_peer(&from, P_ECHO),
              "child: UDP echo from %s:%d", peer_ip, P_ECHO);
        close(u);
        _exit(fails ? 1 : 0); /* exits without closing s */
    }
    int st = -1;
    alarm(20);
    waitpid(pid, &st, 0);
    alarm(0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's checks passed (status 0x%x)", st);
    echo_once(s, "from the parent", "parent after the child exited");
    check_peername(s, P_ECHO, "parent after fork");
    close(s);
}

/* Sockets kept over exec (a TCP and a UDP one) work in the new program; a SOCK_CLOEXEC one is
 * gone. */
static void
t_exec(const char *self)
{
    int s = tcp_connect(P_ECHO);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    int x = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || u < 0 || x < 0) {
        check(0, "sockets for the exec test");
        return;
    }
    struct sockaddr_in a = sin4(peer_ip, P_ECHO);
    check(connect(u, (struct sockaddr *)&a, sizeof(a)) == 0, "UDP connect");
    check(!(fcntl(s, F_GETFD) & FD_CLOEXEC) && (fcntl(x, F_GETFD) & FD_CLOEXEC),
          "FD_CLOEXEC off on the kept sockets, on for the SOCK_CLOEXEC one");
    char fs[16], fu[16], fx[16];
    snprintf(fs, sizeof(fs), "%d", s);
    snprintf(fu, sizeof(fu), "%d", u);
    snprintf(fx, sizeof(fx), "%d", x);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, peer_ip, hole_ip, "exec-child", fs, fu, fx, (char *)NULL);
        printf("FAIL exec: execl %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    int st = -1;
    alarm(20);
    waitpid(pid, &st, 0);
    alarm(0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exec'd program's checks passed (status 0x%x)", st);
    echo_once(s, "parent after exec", "parent's TCP socket after the child's exec");
    close(s);
    close(u);
    close(x);
}

static void
t_exec_child(int s, int u, int x)
{
    check_peername(s, P_ECHO, "after exec, TCP");
    echo_once(s, "after exec", "TCP socket kept over exec");
    check(fcntl(x, F_GETFD) < 0 && errno == EBADF, "the SOCK_CLOEXEC socket is closed by exec");
    int type = 0;
    socklen_t l = sizeof(type);
    int r = getsockopt(u, SOL_SOCKET, SO_TYPE, &type, &l);
    check(r == 0 && type == SOCK_DGRAM,
          "after exec, the UDP socket is SOCK_DGRAM (%d)", type);
    check_peername(u, P_ECHO, "after exec, UDP");
    /* write/read on a UDP descriptor: one datagram each, boundaries kept */
    check(write(u, "exec-dgram-1", 12) == 12, "after exec: write a datagram on the UDP socket");
    check(write(u, "exec-2", 6) == 6, "after exec: write a second datagram");
    char buf[64];
    wait_fd(u, POLLIN, 3000);
    ssize_t n = read(u, buf, sizeof(buf));
    check(n == 12 && memcmp(buf, "exec-dgram-1", 12) == 0, "after exec: read the first echo, 12 bytes (%zd)", n);
    wait_fd(u, POLLIN, 3000);
    n = recv(u, buf, sizeof(buf), 0);
    check(n == 6 && memcmp(buf, "exec-2", 6) == 0, "after exec: recv the second echo, 6 bytes (%zd)", n);
}

/* UDP: sendto/recvfrom with addresses, boundaries, MSG_TRUNC, sendmsg/recvmsg, sendmmsg/recvmmsg,
 * connected send/recv and read/write. */
static void
t_udp(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    check(u >= 0, "socket(AF_INET, SOCK_DGRAM)");
    if (u < 0)
        return;
    struct sockaddr_in a = sin4(peer_ip, P_ECHO), from;
    socklen_t fl;
    static char big[1472], buf[2000];
    fill((unsigned char *)big, sizeof(big), 3);
    size_t sizes[] = {1, 5, 1472, 0};
    for (int i = 0; i < 4; i++)
        check(sendto(u, big, sizes[i], 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)sizes[i],
              "sendto %zu bytes", sizes[i]);
    for (int i = 0; i < 4; i++) {
        wait_fd(u, POLLIN, 3000);
        fl = sizeof(from);
        memset(&from, 0, sizeof(from));
        ssize_t n = recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        check(n == (ssize_t)sizes[i] && memcmp(buf, big, sizes[i]) == 0 && fl == sizeof(from) &&
                  is_peer(&from, P_ECHO),
              "recvfrom: datagram %d of %zu bytes intact, from %s (got %zd from %s)", i, sizes[i],
              peer_ip, n, fmt_sin(&from));
    }
    struct sockaddr_in me;
    socklen_t ml = sizeof(me);
    memset(&me, 0, sizeof(me));
    int r = getsockname(u, (struct sockaddr *)&me, &ml);
    check(r == 0 && me.sin_port != 0,
          "getsockname after sendto: an ephemeral port (%s)", fmt_sin(&me));

    /* MSG_TRUNC in recvmsg */
    check(sendto(u, big, 100, 0, (struct sockaddr *)&a, sizeof(a)) == 100, "sendto 100 bytes");
    wait_fd(u, POLLIN, 3000);
    struct iovec iov = {.iov_base = buf, .iov_len = 10};
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(u, &mh, 0);
    check(n == 10 && (mh.msg_flags & MSG_TRUNC) && mh.msg_namelen == sizeof(from) && is_peer(&from, P_ECHO),
          "recvmsg into 10 bytes of a 100-byte datagram: 10 and MSG_TRUNC (%zd, flags 0x%x)", n, mh.msg_flags);
    /* MSG_PEEK then recv */
    check(sendto(u, "peek", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4, "sendto 4 bytes");
    wait_fd(u, POLLIN, 3000);
    n = recv(u, buf, sizeof(buf), MSG_PEEK);
    check(n == 4 && memcmp(buf, "peek", 4) == 0, "recv MSG_PEEK sees the datagram (%zd)", n);
    n = recv(u, buf, sizeof(buf), 0);
    check(n == 4 && memcmp(buf, "peek", 4) == 0, "recv then takes it (%zd)", n);
    check(recv(u, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN, "nothing left: EAGAIN");

    /* sendmmsg / recvmmsg: three datagrams in one call each way */
    struct mmsghdr mm[3];
    struct iovec iv[3];
    char rb[3][64];
    const char *msgs[3] = {"mm-one", "mm-second", "mm-3"};
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        iv[i].iov_base = (void *)msgs[i];
        iv[i].iov_len = strlen(msgs[i]);
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &a;
        mm[i].msg_hdr.msg_namelen = sizeof(a);
    }
    check(sendmmsg(u, mm, 3, 0) == 3, "sendmmsg of 3 datagrams");
    usleep(300000);
    struct sockaddr_in froms[3];
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        iv[i].iov_base = rb[i];
        iv[i].iov_len = sizeof(rb[i]);
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &froms[i];
        mm[i].msg_hdr.msg_namelen = sizeof(froms[i]);
    }
    int m = recvmmsg(u, mm, 3, MSG_DONTWAIT, NULL);
    int good = m == 3;
    for (int i = 0; good && i < 3; i++)
        good = mm[i].msg_len == strlen(msgs[i]) && memcmp(rb[i], msgs[i], mm[i].msg_len) == 0 &&
               is_peer(&froms[i], P_ECHO);
    check(good, "recvmmsg gets the 3 echoes, lengths, bytes and sources right (%d)", m);

    /* connected: send/recv, write/read; a datagram from elsewhere is filtered by connect */
    check(connect(u, (struct sockaddr *)&a, sizeof(a)) == 0, "connect the UDP socket");
    check_peername(u, P_ECHO, "connected UDP");
    check(send(u, "conn-send", 9, 0) == 9, "send on the connected socket");
    wait_fd(u, POLLIN, 3000);
    check(recv(u, buf, sizeof(buf), 0) == 9 && memcmp(buf, "conn-send", 9) == 0, "recv its echo");
    check(write(u, "conn-write", 10) == 10, "write on the connected socket");
    wait_fd(u, POLLIN, 3000);
    check(read(u, buf, sizeof(buf)) == 10 && memcmp(buf, "conn-write", 10) == 0, "read its echo");
    close(u);

    /* bound server side: the peer's echo service answers from its port; our bound port is kept */
    u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in b = {.sin_family = AF_INET};
    check(bind(u, (struct sockaddr *)&b, sizeof(b)) == 0, "bind a UDP socket to 0.0.0.0:0");
    ml = sizeof(me);
    getsockname(u, (struct sockaddr *)&me, &ml);
    check(me.sin_port != 0, "bound to an ephemeral port (%s)", fmt_sin(&me));
    close(u);
}

/* A connected UDP socket whose peer port is closed: ICMP port unreachable gives ECONNREFUSED. */
static void
t_udp_refused(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = sin4(peer_ip, P_CLOSED);
    check(connect(u, (struct sockaddr *)&a, sizeof(a)) == 0, "UDP connect to closed port %d", P_CLOSED);
    check(send(u, "anyone?", 7, 0) == 7, "send");
    char buf[16];
    wait_fd(u, POLLIN, 3000);
    ssize_t n = recv(u, buf, sizeof(buf), MSG_DONTWAIT);
    int e = n < 0 ? errno : 0;
    check(n < 0 && e == ECONNREFUSED, "recv after the ICMP port unreachable: ECONNREFUSED (%s)", errstr(e));
    close(u);
}

/* UDP sockets sharing a port with SO_REUSEADDR (iperf3 -s does it): allowed only when every
 * socket on the port set it; a socket connected elsewhere does not take the datagrams of
 * another peer, the other socket does. SO_REUSEPORT is accepted. */
static void
t_udp_reuse(void)
{
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    int u3 = socket(AF_INET, SOCK_DGRAM, 0);
    check(u1 >= 0 && u2 >= 0 && u3 >= 0, "three UDP sockets");
    int one = 1, v = 0;
    socklen_t vl = sizeof(v);
    check_call(setsockopt(u1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), "SO_REUSEADDR on UDP");
    int r = getsockopt(u1, SOL_SOCKET, SO_REUSEADDR, &v, &vl);
    check(r == 0 && v == 1, "getsockopt SO_REUSEADDR reads back 1 (%d, %s)", v, errstr(r < 0 ? errno : 0));
    check_call(setsockopt(u2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), "SO_REUSEADDR on another");
    check_call(setsockopt(u2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), "SO_REUSEPORT on UDP");
    struct sockaddr_in a = sin4("0.0.0.0", 0);
    check_call(bind(u1, (struct sockaddr *)&a, sizeof(a)), "bind the first to a free port");
    socklen_t al = sizeof(a);
    getsockname(u1, (struct sockaddr *)&a, &al);
    r = bind(u3, (struct sockaddr *)&a, sizeof(a));
    int e = r < 0 ? errno : 0;
    check(r < 0 && e == EADDRINUSE, "bind to port %d without SO_REUSEADDR: EADDRINUSE (%s)",
          ntohs(a.sin_port), errstr(e));
    struct sockaddr_in closed = sin4(peer_ip, P_CLOSED);
    check_call(connect(u1, (struct sockaddr *)&closed, sizeof(closed)), "connect the first elsewhere");
    check_call(bind(u2, (struct sockaddr *)&a, sizeof(a)), "bind the second to the same port");
    struct sockaddr_in echo = sin4(peer_ip, P_ECHO);
    check(sendto(u2, "shared", 6, 0, (struct sockaddr *)&echo, sizeof(echo)) == 6, "sendto the echo");
    char buf[16];
    ssize_t n = wait_fd(u2, POLLIN, 3000) > 0 ? recv(u2, buf, sizeof(buf), MSG_DONTWAIT) : -1;
    check(n == 6 && memcmp(buf, "shared", 6) == 0, "the second gets the echo (%zd bytes)", n);
    n = recv(u1, buf, sizeof(buf), MSG_DONTWAIT);
    e = n < 0 ? errno : 0;
    check(n < 0 && e == EAGAIN, "the first, connected elsewhere, gets nothing (%zd, %s)", n, errstr(e));
    close(u1);
    close(u2);
    close(u3);
}

/* UDP send errors come from sendto itself, as on Linux: a broadcast without SO_BROADCAST
 * (EACCES, each time; once it is set, the datagram goes; once cleared, EACCES again) and a
 * datagram too big for IPv4 (EMSGSIZE). */
static void
t_udp_errors(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    check(u >= 0, "UDP socket");
    char bcast[INET_ADDRSTRLEN];
    struct in_addr pa;
    inet_pton(AF_INET, peer_ip, &pa);
    pa.s_addr |= htonl(0xff); /* the /24's broadcast address */
    inet_ntop(AF_INET, &pa, bcast, sizeof(bcast));
    struct sockaddr_in b = sin4(bcast, P_ECHO);
    for (int i = 0; i < 4; i++) {
        if (i == 2 || i == 3) {
            int on = i == 2;
            check_call(setsockopt(u, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)),
                       on ? "SO_BROADCAST on" : "SO_BROADCAST off");
        }
        ssize_t n = sendto(u, "bcast", 5, 0, (struct sockaddr *)&b, sizeof(b));
        int e = n < 0 ? errno : 0;
        if (i == 2)
            check(n == 5, "sendto %s with SO_BROADCAST: 5 (%zd, %s)", bcast, n, errstr(e));
        else
            check(n < 0 && e == EACCES, "sendto %s without SO_BROADCAST (%s): EACCES (%zd, %s)",
                  bcast, i == 0 ? "first" : i == 1 ? "again" : "cleared", n, errstr(e));
    }
    struct sockaddr_in echo = sin4(peer_ip, P_ECHO);
    static char big[65508];
    ssize_t n = sendto(u, big, sizeof(big), 0, (struct sockaddr *)&echo, sizeof(echo));
    int e = n < 0 ? errno : 0;
    check(n < 0 && e == EMSGSIZE, "sendto of %zu bytes: EMSGSIZE (%zd, %s)", sizeof(big), n,
          errstr(e));
    check(sendto(u, "fine", 4, 0, (struct sockaddr *)&echo, sizeof(echo)) == 4, "sendto the echo");
    char buf[16];
    n = wait_fd(u, POLLIN, 3000) > 0 ? recv(u, buf, sizeof(buf), MSG_DONTWAIT) : -1;
    check(n == 4 && memcmp(buf, "fine", 4) == 0, "the echo comes back (%zd bytes)", n);
    close(u);
}

/* With no route to 203.0.113.1 (run_dsock.sh runs this with no default route): sendto fails
 * at once with ENETUNREACH, each time, as do UDP and TCP connect. */
static void
t_noroute(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in far = sin4("203.0.113.1", 9);
    for (int i = 0; i < 2; i++) {
        ssize_t n = sendto(u, "lost", 4, 0, (struct sockaddr *)&far, sizeof(far));
        int e = n < 0 ? errno : 0;
        check(n < 0 && e == ENETUNREACH, "UDP sendto with no route (%s): ENETUNREACH (%zd, %s)",
              i ? "again" : "first", n, errstr(e));
    }
    int r = connect(u, (struct sockaddr *)&far, sizeof(far));
    int e = r < 0 ? errno : 0;
    check(r < 0 && e == ENETUNREACH, "UDP connect with no route: ENETUNREACH (%s)", errstr(e));
    close(u);
    int s = tcp_socket(0);
    r = connect(s, (struct sockaddr *)&far, sizeof(far));
    e = r < 0 ? errno : 0;
    check(r < 0 && e == ENETUNREACH, "TCP connect with no route: ENETUNREACH (%s)", errstr(e));
    close(s);
}

/* AF_INET6 sockets with IPv4-mapped addresses, TCP and UDP. */
static void
t_v6mapped(void)
{
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    check(s >= 0, "socket(AF_INET6, SOCK_STREAM): %s", errstr(s < 0 ? errno : 0));
    if (s < 0)
        return;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(P_ECHO)};
    char mapped[64];
    snprintf(mapped, sizeof(mapped), "::ffff:%s", peer_ip);
    inet_pton(AF_INET6, mapped, &a.sin6_addr);
    int r = connect(s, (struct sockaddr *)&a, sizeof(a));
    check(r == 0, "connect to [%s]:%d: %s", mapped, P_ECHO, errstr(r < 0 ? errno : 0));
    if (r == 0) {
        echo_once(s, "mapped", "AF_INET6 TCP, mapped address");
        struct sockaddr_in6 p;
        socklen_t l = sizeof(p);
        memset(&p, 0, sizeof(p));
        char txt[INET6_ADDRSTRLEN] = "?";
        r = getpeername(s, (struct sockaddr *)&p, &l);
        inet_ntop(AF_INET6, &p.sin6_addr, txt, sizeof(txt));
        check(r == 0 && l == sizeof(p) && p.sin6_family == AF_INET6 && ntohs(p.sin6_port) == P_ECHO &&
                  memcmp(&p.sin6_addr, &a.sin6_addr, 16) == 0,
              "getpeername: AF_INET6 [%s]:%d (got [%s]:%d, family %d)", mapped, P_ECHO, txt,
              ntohs(p.sin6_port), p.sin6_family);
        l = sizeof(p);
        memset(&p, 0, sizeof(p));
        r = getsockname(s, (struct sockaddr *)&p, &l);
        inet_ntop(AF_INET6, &p.sin6_addr, txt, sizeof(txt));
        check(r == 0 && p.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&p.sin6_addr) && p.sin6_port != 0,
              "getsockname: an AF_INET6 IPv4-mapped address ([%s]:%d)", txt, ntohs(p.sin6_port));
    }
    close(s);

    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    check(u >= 0, "socket(AF_INET6, SOCK_DGRAM)");
    if (u < 0)
        return;
    check(sendto(u, "v6udp", 5, 0, (struct sockaddr *)&a, sizeof(a)) == 5, "sendto a mapped address");
    wait_fd(u, POLLIN, 3000);
    struct sockaddr_in6 from;
    socklen_t fl = sizeof(from);
    memset(&from, 0, sizeof(from));
    char buf[16];
    ssize_t n = recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    check(n == 5 && fl == sizeof(from) && from.sin6_family == AF_INET6 &&
              memcmp(&from.sin6_addr, &a.sin6_addr, 16) == 0 && ntohs(from.sin6_port) == P_ECHO,
          "recvfrom: the echo from the mapped address (%zd bytes, family %d)", n, from.sin6_family);
    close(u);
}

/* Several megabytes both ways at once through a non-blocking socket: back-pressure, no loss. */
static void
t_bulk(void)
{
    int s = tcp_socket(0);
    if (s < 0)
        return;
    struct sockaddr_in a = sin4(peer_ip, P_ECHO);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        check(0, "connect: %s", strerror(errno));
        return;
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
    size_t n = 16 * 1024 * 1024;
    unsigned char *out = malloc(n), *in = malloc(n);
    fill(out, n, 5);
    size_t sent = 0, got = 0;
    long end = now_ms() + 30000;
    while (got < n && now_ms() < end) {
        struct pollfd p = {.fd = s, .events = POLLIN | (sent < n ? POLLOUT : 0)};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < n) {
            ssize_t w = send(s, out + sent, n - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN)
                break;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(s, in + got, n - got);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || errno != EAGAIN)
                break;
        }
        if (sent == n)
            shutdown(s, SHUT_WR);
    }
    check(sent == n && got == n && memcmp(out, in, n) == 0,
          "16 MiB echoed through a non-blocking socket, byte-exact (sent %zu, got %zu)", sent, got);
    check(read_eof(s, 5000), "end of file after the echo");
    free(out);
    free(in);
    close(s);
}

/* Small writes, as request/response programs make them (the daemon peeks requests of up to 64
 * bytes and takes them off the pair later, doc/run.md): byte-exact round trips of 1 to 100 bytes
 * (either side of the limit) on a blocking socket; the socket stays writable (POLLOUT) after
 * 200 one-byte writes, as a kernel socket does (each write is a buffer of about 1 KiB in the
 * pair: left there, they would take the room POLLOUT needs); 20000 one-byte writes, each its
 * own write, reach the sink byte-exact. */
static void
t_small(void)
{
    int s = tcp_connect(P_ECHO), one = 1;
    if (s < 0)
        return;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    unsigned char out[100], in[100];
    int bad = -1;
    for (int i = 0; i < 2000 && bad < 0; i++) {
        size_t n = 1 + (size_t)(i * 37 % 100);
        fill(out, n, (uint32_t)i + 1);
        if (write(s, out, n) != (ssize_t)n || readn(s, in, n, 5000) != n || memcmp(in, out, n))
            bad = i;
    }
    check(bad < 0, "2000 round trips of 1 to 100 bytes, byte-exact (first bad: %d)", bad);
    for (int i = 0; i < 200; i++)
        if (write(s, "s", 1) != 1)
            break;
    int w = wait_fd(s, POLLOUT, 2000);
    check(w > 0 && (w & POLLOUT), "200 one-byte writes: still writable (revents %#x)", w);
    unsigned char echo[200];
    size_t got = readn(s, echo, sizeof(echo), 5000);
    check(got == sizeof(echo) && memcmp(echo, "ssssssss", 8) == 0, "their echo (%zu bytes)", got);
    close(s);

    s = tcp_connect(P_SINK);
    if (s < 0)
        return;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    size_t n = 20000;
    unsigned char *buf = malloc(n);
    fill(buf, n, 11);
    size_t i = 0;
    while (i < n && write(s, buf + i, 1) == 1)
        i++;
    check(i == n, "%zu one-byte writes to the sink (%zu done)", n, i);
    check_call(shutdown(s, SHUT_WR), "shutdown(SHUT_WR)");
    sink_reply(s, n, crc32_buf(0, buf, n), "one-byte writes");
    free(buf);
    close(s);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"connect_nb", t_connect_nb}, {"refused", t_refused},     {"timeout", t_timeout},
    {"reset", t_reset},           {"shutdown_wr", t_shutdown_wr},
    {"shutdown_slow", t_shutdown_slow}, {"fionread", t_fionread},
    {"sendfile", t_sendfile},     {"accept4", t_accept4},     {"epoll", t_epoll},
    {"dup2", t_dup2},             {"fork", t_fork},           {"udp", t_udp},
    {"udp_refused", t_udp_refused}, {"v6mapped", t_v6mapped}, {"bulk", t_bulk},
    {"close", t_close},           {"reset_read", t_reset_read}, {"udp_reuse", t_udp_reuse}, {"linger", t_linger},
    {"udp_errors", t_udp_errors}, {"reset_epoll", t_reset_epoll},
    {"reset_write", t_reset_write}, {"small", t_small},
};

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
            printf("%s\n", tests[i].name);
        printf("exec\n");
        return 0;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: dsock PEER BLACKHOLE SUBTEST | dsock list\n");
        return 2;
    }
    peer_ip = argv[1];
    hole_ip = argv[2];
    subtest = argv[3];
    if (strcmp(subtest, "exec-child") == 0 && argc == 7) {
        t_exec_child(atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
        return fails ? 1 : 0;
    }
    int found = 0;
    if (strcmp(subtest, "noroute") == 0) { /* not listed: run_dsock.sh runs it without a route */
        t_noroute();
        found = 1;
    }
    if (strcmp(subtest, "exec") == 0) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
            return 2;
        self[n] = 0;
        t_exec(self);
        found = 1;
    }
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (strcmp(subtest, tests[i].name) == 0) {
            tests[i].fn();
            found = 1;
        }
    if (!found) {
        fprintf(stderr, "dsock: no subtest %s\n", subtest);
        return 2;
    }
    printf("%s %s\n", fails ? "FAIL" : "PASS", subtest);
    return fails ? 1 : 0;
}
