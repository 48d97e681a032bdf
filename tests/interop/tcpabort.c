/* tcpabort: a TCP client on a running ustack daemon that ends its connection with an RST, for
 * the interop tests.
 *     tcpabort [-u] [-w MS] HOST PORT < PAYLOAD
 * Connects to HOST:PORT through the daemon at $USTACK_CTL, sends stdin (up to 64 KiB), waits MS
 * milliseconds (default 500), then closes abortively: by default with SO_LINGER 0; with -u
 * instead by closing with received data still unread (RFC 1122 4.2.2.13; the test's server sends
 * some first). Prints "sent N", the connection's state and congestion control as the daemon's
 * TCP_INFO reports them ("info ESTABLISHED cubic"), and "closed"; exit status 0, 3 on a socket error (printed as
 * "error: what: text"), 2 on usage or when the daemon is unreachable. */
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

int
main(int argc, char **argv)
{
    int unread = 0, wait_ms = 500, opt;
    while ((opt = getopt(argc, argv, "uw:")) != -1) {
        if (opt == 'u')
            unread = 1;
        else if (opt == 'w')
            wait_ms = atoi(optarg);
        else
            return 2;
    }
    struct in_addr ia;
    if (optind != argc - 2 || inet_pton(AF_INET, argv[optind], &ia) != 1) {
        fprintf(stderr, "usage: tcpabort [-u] [-w MS] HOST PORT < PAYLOAD\n");
        return 2;
    }
    struct us_sockaddr to = {ntohl(ia.s_addr), (uint16_t)atoi(argv[optind + 1])};
    static uint8_t buf[65536];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) && (n = read(0, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)n;

    int err = 0;
    struct usc *c = usc_open(NULL, &err);
    if (!c) {
        fprintf(stderr, "tcpabort: cannot reach the daemon: %s\n", strerror(-err));
        return 2;
    }
    int rc = 0;
    int fd = usc_socket(c, US_SOCK_STREAM);
    if (fd < 0) {
        rc = report("socket", fd);
        goto out;
    }
    if ((err = usc_connect(c, fd, &to)) < 0) {
        rc = report("connect", err);
        goto out;
    }
    if (len && (n = usc_send(c, fd, buf, len)) < 0) {
        rc = report("send", n);
        goto out;
    }
    printf("sent %zu\n", len);
    struct us_tcp_info ti;
    if ((err = usc_tcp_info(c, fd, &ti)) < 0) {
        rc = report("tcp_info", err);
        goto out;
    }
    printf("info %s %s\n", us_tcp_state_name(ti.state), us_tcp_cc_name(ti.cc));
    fflush(stdout);
    usleep((useconds_t)wait_ms * 1000);
    if (!unread && (err = usc_setsockopt(c, fd, US_SO_LINGER, 0)) < 0) {
        rc = report("setsockopt SO_LINGER", err);
        goto out;
    }
    if ((err = usc_closefd(c, fd)) < 0) {
        rc = report("close", err);
        goto out;
    }
    fd = -1;
    printf("closed\n");
out:
    if (fd >= 0)
        usc_closefd(c, fd);
    usc_close(c);
    return rc;
}
