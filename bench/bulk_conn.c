/* Bulk transfer over plain BSD sockets, for the loss-recovery rows (bench/run_bridge_loss.sh).
 *
 *   bulk_conn serve PORT [CC]      a chargen-like server on the kernel's stack (RFC 864's
 *                                  rotating pattern, as ustack's --serve chargen sends): every
 *                                  connection gets the pattern in 64 KiB writes until the peer
 *                                  goes away; one connection at a time; with CC, its
 *                                  congestion control (TCP_CONGESTION, whatever the default)
 *   bulk_conn recv HOST PORT BYTES connects, reads BYTES, closes; prints "secs=S bytes=N"
 *                                  (wall time from before connect() to the last byte)
 * The receiver is the same program for ustack's sender and for Linux's, so the two rows differ
 * only in the sending stack. */
#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sock_common.h"

#define CHUNK 65536
#define LINE 74 /* 72 characters, CR, LF */

/* The RFC 864 pattern from position *pos on. */
static void
chargen_fill(char *out, size_t len, unsigned long *pos)
{
    for (size_t n = 0; n < len; n++, (*pos)++) {
        unsigned long line = *pos / LINE, col = *pos % LINE;
        out[n] = col < 72 ? (char)(' ' + (line + col) % 95) : (col == 72 ? '\r' : '\n');
    }
}

static int
serve(int port, const char *cc)
{
    static char buf[CHUNK];
    int l = listen_on(port, 0, 16);
    /* accepted sockets inherit it */
    if (cc && setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
        die("TCP_CONGESTION");
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            die("accept");
        }
        unsigned long pos = 0;
        for (;;) {
            chargen_fill(buf, sizeof(buf), &pos);
            size_t off = 0;
            while (off < sizeof(buf)) {
                ssize_t n = write(c, buf + off, sizeof(buf) - off);
                if (n <= 0)
                    goto next;
                off += (size_t)n;
            }
        }
    next:
        close(c);
    }
}

static int
recv_bytes(const char *host, int port, unsigned long long want)
{
    static char buf[CHUNK];
    struct sockaddr_in sa;
    if (!parse_addr("bulk_conn", host, port, &sa))
        return 2;
    double t0 = now_s();
    int s = dial(&sa);
    unsigned long long got = 0;
    while (got < want) {
        size_t n = want - got < sizeof(buf) ? (size_t)(want - got) : sizeof(buf);
        ssize_t r = read(s, buf, n);
        if (r <= 0) {
            fprintf(stderr, "bulk_conn: %s after %llu bytes\n", r < 0 ? strerror(errno) : "EOF",
                    got);
            return 1;
        }
        got += (unsigned long long)r;
    }
    double t1 = now_s();
    close(s);
    printf("secs=%.4f bytes=%llu\n", t1 - t0, got);
    return 0;
}

int
main(int argc, char **argv)
{
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "serve") == 0)
        return serve(atoi(argv[2]), argc == 4 ? argv[3] : NULL);
    if (argc == 5 && strcmp(argv[1], "recv") == 0)
        return recv_bytes(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    fprintf(stderr, "usage: bulk_conn serve PORT [CC] | bulk_conn recv HOST PORT BYTES\n");
    return 2;
}
