/* tcpurg: TCP urgent data through a running ustack daemon, for the interop tests.
 *     tcpurg serve PORT
 *         Accepts one connection on PORT, waits (10 s at most) until poll reports US_POLLPRI,
 *         then reads to the end of the stream, asking US_SO_ATMARK before each read. Prints
 *         "pri", "oob <rc>" (recv with US_MSG_OOB: urgent data is inline, so an error), one line
 *         "read <atmark> <bytes>" per read (the bytes as printable text), then "eof" and
 *         "pri_after <0|1>" (whether US_POLLPRI is still reported).
 *     tcpurg send HOST PORT BEFORE URGENT AFTER
 *         Connects, sends BEFORE, then URGENT with US_MSG_OOB, then AFTER, waits 500 ms and
 *         closes. Prints "sent".
 * Exit status 0; 3 on a socket error (printed as "error: what: text"); 2 on usage or when the
 * daemon is unreachable. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack_client.h>

static int
report(const char *what, long err)
{
    printf("error: %s: %s\n", what, strerror((int)-err));
    return 3;
}

static int
serve(struct usc *c, uint16_t port)
{
    int l = usc_socket(c, US_SOCK_STREAM);
    if (l < 0)
        return report("socket", l);
    struct us_sockaddr a = {0, port};
    int err;
    if ((err = usc_bind(c, l, &a)) < 0 || (err = usc_listen(c, l, 4)) < 0)
        return report("bind/listen", err);
    printf("listening\n");
    fflush(stdout);
    int fd = usc_accept(c, l, NULL, 20000);
    if (fd < 0)
        return report("accept", fd);
    int m = usc_poll(c, fd, US_POLLPRI, 10000);
    if (m < 0)
        return report("poll", m);
    if (!(m & US_POLLPRI))
        return report("poll (no US_POLLPRI within 10 s)", -ETIMEDOUT);
    printf("pri\n");
    char buf[256];
    printf("oob %zd\n", usc_recvfrom(c, fd, buf, sizeof(buf), US_MSG_OOB, NULL, NULL, 0));
    for (;;) {
        int mark = 0;
        if ((err = usc_getsockopt(c, fd, US_SO_ATMARK, &mark)) < 0)
            return report("getsockopt US_SO_ATMARK", err);
        ssize_t n = usc_recv(c, fd, buf, sizeof(buf) - 1, 10000);
        if (n < 0)
            return report("recv", n);
        if (n == 0)
            break;
        buf[n] = 0;
        printf("read %d %s\n", mark, buf);
        fflush(stdout);
    }
    printf("eof\n");
    m = usc_poll(c, fd, US_POLLPRI, 0);
    printf("pri_after %d\n", m > 0 && (m & US_POLLPRI) ? 1 : 0);
    usc_closefd(c, fd);
    usc_closefd(c, l);
    return 0;
}

static int
send_urgent(struct usc *c, const char *host, uint16_t port, char **parts)
{
    struct in_addr ia;
    if (inet_pton(AF_INET, host, &ia) != 1)
        return 2;
    struct us_sockaddr to = {ntohl(ia.s_addr), port};
    int fd = usc_socket(c, US_SOCK_STREAM);
    if (fd < 0)
        return report("socket", fd);
    int err = usc_connect(c, fd, &to);
    if (err < 0)
        return report("connect", err);
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(parts[i]);
        ssize_t n = usc_sendto(c, fd, parts[i], len, i == 1 ? US_MSG_OOB : 0, NULL);
        if (n != (ssize_t)len)
            return report(i == 1 ? "send MSG_OOB" : "send", n < 0 ? n : -EIO);
    }
    printf("sent\n");
    fflush(stdout);
    usleep(500 * 1000);
    usc_closefd(c, fd);
    return 0;
}

int
main(int argc, char **argv)
{
    bool srv = argc == 3 && strcmp(argv[1], "serve") == 0;
    bool snd = argc == 7 && strcmp(argv[1], "send") == 0;
    if (!srv && !snd) {
        fprintf(stderr, "usage: tcpurg serve PORT | tcpurg send HOST PORT BEFORE URGENT AFTER\n");
        return 2;
    }
    int err = 0;
    struct usc *c = usc_open(NULL, &err);
    if (!c) {
        fprintf(stderr, "tcpurg: cannot reach the daemon: %s\n", strerror(-err));
        return 2;
    }
    int rc = srv ? serve(c, (uint16_t)atoi(argv[2]))
                 : send_urgent(c, argv[2], (uint16_t)atoi(argv[3]), argv + 4);
    fflush(stdout);
    usc_close(c);
    return rc;
}
