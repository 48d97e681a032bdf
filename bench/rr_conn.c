/* Request/response and connection-rate load over plain BSD sockets, so that the same binary
 * runs on the kernel's stack and under `ustack run` (bench/run_ustack_run.sh runs it both ways).
 *
 *   rr_conn server PORT            echo server: every byte read is written back; a connection
 *                                  is closed on end-of-file (one thread, epoll, non-blocking)
 *   rr_conn rr HOST PORT SECONDS   one connection, TCP_NODELAY: write 1 byte, read 1 byte,
 *                                  repeated for SECONDS; prints "rr_tps=N transactions=N"
 *   rr_conn conn HOST PORT SECONDS connect, write 1 byte, read 1 byte, close, repeated for
 *                                  SECONDS; prints "conn_ps=N connections=N"
 * The clients also print seconds=S (wall), cpu_s=S (their own user + system time) and sleeps=N
 * (their voluntary context switches: each a wait for a wake-up).
 *
 * The clients use blocking calls only (socket, connect, write, read, close), the plainest way
 * a program talks TCP. The client closes first, so TIME-WAIT stays on the client's side. */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sock_common.h"

static _Noreturn void
serve(int port)
{
    int ls = listen_on(port, SOCK_NONBLOCK, 4096), one = 1;
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0)
        die("epoll_ctl");
    struct epoll_event evs[256];
    char buf[65536];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce) < 0)
                        close(c);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r > 0) {
                /* 1-byte requests: the reply fits the send buffer; a short write would only
                 * mean a client that sends more than it reads, which ours never does. */
                if (write(fd, buf, (size_t)r) != r) {
                    close(fd);
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fd); /* also leaves the epoll set */
            }
        }
    }
}

static double
cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long
sleeps(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw;
}

static void
exchange(int s)
{
    char c = 'x';
    if (write(s, &c, 1) != 1)
        die("write");
    ssize_t r;
    while ((r = read(s, &c, 1)) < 0 && errno == EINTR)
        ;
    if (r != 1) {
        fprintf(stderr, "read: %s\n", r == 0 ? "end of file" : strerror(errno));
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        serve(atoi(argv[2]));
    if (argc != 5 || (strcmp(argv[1], "rr") != 0 && strcmp(argv[1], "conn") != 0)) {
        fprintf(stderr, "usage: rr_conn server PORT | rr_conn rr|conn HOST PORT SECONDS\n");
        return 2;
    }
    struct sockaddr_in a;
    if (!parse_addr("rr_conn", argv[2], atoi(argv[3]), &a))
        return 2;
    double secs = atof(argv[4]);
    long n = 0;
    double t0 = now_s(), t = t0, c0 = cpu_s();
    long v0 = sleeps();
    if (strcmp(argv[1], "rr") == 0) {
        int s = dial(&a);
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        exchange(s); /* warm-up, not counted */
        t0 = t = now_s();
        c0 = cpu_s();
        v0 = sleeps();
        while (t - t0 < secs) {
            for (int i = 0; i < 64; i++)
                exchange(s);
            n += 64;
            t = now_s();
        }
        close(s);
        printf("rr_tps=%.0f transactions=%ld seconds=%.3f cpu_s=%.3f sleeps=%ld\n",
               (double)n / (t - t0), n, t - t0, cpu_s() - c0, sleeps() - v0);
    } else {
        while (t - t0 < secs) {
            for (int i = 0; i < 16; i++) {
                int s = dial(&a);
                exchange(s);
                close(s);
            }
            n += 16;
            t = now_s();
        }
        printf("conn_ps=%.0f connections=%ld seconds=%.3f cpu_s=%.3f sleeps=%ld\n",
               (double)n / (t - t0), n, t - t0, cpu_s() - c0, sleeps() - v0);
    }
    return 0;
}
