/* udpclient: a tiny UDP client on a running ustack daemon, for the interop tests.
 *     udpclient [-c] [-t MS] HOST PORT < PAYLOAD
 * Sends stdin (up to 65507 bytes) as one datagram to HOST:PORT through the daemon at
 * $USTACK_CTL, waits up to MS milliseconds (default 3000) for one reply and writes its bytes to
 * stdout. -c connects the socket first (so ICMP errors are reported, as ECONNREFUSED).
 * Exit status: 0 reply received, 3 socket error (printed as "error: NAME (text)"), 4 timeout,
 * 2 usage or daemon unreachable. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack_client.h>

static const char *
errname(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case ENETUNREACH:
        return "ENETUNREACH";
    case EMSGSIZE:
        return "EMSGSIZE";
    case EAGAIN:
        return "EAGAIN";
    default:
        return "E?";
    }
}

static int
report(const char *what, long err)
{
    int e = (int)-err;
    printf("error: %s (%s: %s)\n", errname(e), what, strerror(e));
    return e == EAGAIN ? 4 : 3;
}

int
main(int argc, char **argv)
{
    int connect_first = 0, timeout_ms = 3000, opt;
    while ((opt = getopt(argc, argv, "ct:")) != -1) {
        if (opt == 'c')
            connect_first = 1;
        else if (opt == 't')
            timeout_ms = atoi(optarg);
        else
            return 2;
    }
    struct in_addr ia;
    if (optind != argc - 2 || inet_pton(AF_INET, argv[optind], &ia) != 1) {
        fprintf(stderr, "usage: udpclient [-c] [-t MS] HOST PORT < PAYLOAD\n");
        return 2;
    }
    struct us_sockaddr to = {ntohl(ia.s_addr), (uint16_t)atoi(argv[optind + 1])};
    static uint8_t buf[65536], rep[65536];
    size_t len = 0;
    ssize_t n;
    while (len < 65507 && (n = read(0, buf + len, 65507 - len)) > 0)
        len += (size_t)n;

    int err = 0;
    struct usc *c = usc_open(NULL, &err);
    if (!c) {
        fprintf(stderr, "udpclient: cannot reach the daemon: %s\n", strerror(-err));
        return 2;
    }
    int rc = 0;
    int fd = usc_socket(c, US_SOCK_DGRAM);
    if (fd < 0) {
        rc = report("socket", fd);
        goto out;
    }
    if (connect_first && (err = usc_connect(c, fd, &to)) < 0) {
        rc = report("connect", err);
        goto out;
    }
    n = usc_sendto(c, fd, buf, len, 0, connect_first ? NULL : &to);
    if (n < 0) {
        rc = report("sendto", n);
        goto out;
    }
    struct us_sockaddr from = {0};
    struct us_msginfo info = {0};
    n = usc_recvfrom(c, fd, rep, sizeof(rep), 0, &from, &info, timeout_ms);
    if (n < 0) {
        rc = report("recvfrom", n);
        goto out;
    }
    fwrite(rep, 1, (size_t)n, stdout);
    struct in_addr fa = {htonl(from.addr)};
    fprintf(stderr, "udpclient: %zd-byte reply from %s:%u\n", n, inet_ntoa(fa), (unsigned)from.port);
out:
    if (fd >= 0)
        usc_closefd(c, fd);
    usc_close(c);
    return rc;
}
