/* echo_tap: a TCP echo server (RFC 862, port 7) on a TAP device: one stack, one loop.
 * Build:  cc echo_tap.c $(pkg-config --cflags --libs ustack) -o echo_tap
 * Run (as root):  ./echo_tap tap0 192.0.2.2/24
 *   then: ip addr add 192.0.2.1/24 dev tap0; ip link set tap0 up; nc 192.0.2.2 7 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ustack.h>
#include <ustack/tap.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static us_time_t
now_ns(void) /* the stack reads no clock: the caller passes the time in */
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (us_time_t)ts.tv_sec * US_NSEC_PER_SEC + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
    unsigned a, b, c, d, prefix;
    if (argc != 3 || sscanf(argv[2], "%u.%u.%u.%u/%u", &a, &b, &c, &d, &prefix) != 5 ||
        a > 255 || b > 255 || c > 255 || d > 255 || prefix > 32) {
        fprintf(stderr, "usage: %s TAP IP/PREFIX\n", argv[0]);
        return 2;
    }
    struct us_tap tap;
    int err = us_tap_open(&tap, argv[1], 0);
    if (err < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(-err));
        return 1;
    }
    struct us_stack *st = us_stack_new(NULL, (uint64_t)now_ns()); /* default configuration */
    struct us_iface_conf ic;
    us_iface_conf_init(&ic);
    ic.name = tap.name;
    ic.addr = US_IP4(a, b, c, d);
    ic.prefix_len = (uint8_t)prefix;
    memcpy(ic.mac, (uint8_t[US_ETH_ALEN]){0x02, 0, 0, 0, 0, 0x02}, US_ETH_ALEN);
    ic.tx = us_tap_write; /* frames the stack sends go straight to the TAP */
    ic.tx_ctx = &tap;
    struct us_iface *ifp = st ? us_iface_add(st, &ic, now_ns()) : NULL;
    int lfd = st ? us_socket(st, US_SOCK_STREAM) : -1;
    struct us_sockaddr port7 = {US_IP4_ANY, 7};
    if (!ifp || lfd < 0 || us_bind(st, lfd, &port7) < 0 || us_listen(st, lfd, 16) < 0) {
        fprintf(stderr, "echo_tap: cannot set up the stack\n");
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("echo_tap: %s %s, listening on port 7\n", tap.name, argv[2]);
    fflush(stdout);
    static uint8_t frame[US_TAP_FRAME_MAX], buf[65536];
    int conns[64], n = 0;
    while (!stop) {
        us_time_t now = now_ns(), next = us_next_deadline(st); /* sleep until input or a timer */
        us_time_t wait = next <= now ? 0 : next - now > US_SEC(1) ? US_SEC(1) : next - now;
        int ms = (int)((wait + US_MSEC(1) - 1) / US_MSEC(1));
        struct pollfd pfd = {us_tap_fd(&tap), POLLIN, 0};
        poll(&pfd, 1, ms);
        now = now_ns();
        ssize_t len;
        while ((len = us_tap_read(&tap, frame, sizeof(frame), NULL)) > 0)
            us_input(st, ifp, frame, (size_t)len, now);
        us_poll(st, now); /* fires due timers */
        int fd;
        while (n < 64 && (fd = us_accept(st, lfd, NULL)) >= 0)
            conns[n++] = fd;
        for (int i = 0; i < n; i++) { /* peek, send what fits, then drop what was sent */
            ssize_t r = us_recvfrom(st, conns[i], buf, sizeof(buf), US_MSG_PEEK, NULL, NULL, now);
            ssize_t s = r > 0 ? us_sendto(st, conns[i], buf, (size_t)r, 0, NULL, now) : 0;
            if (s > 0)
                us_recvfrom(st, conns[i], NULL, (size_t)s, US_MSG_TRUNC, NULL, NULL, now);
            if (r == 0 || (r < 0 && r != -EAGAIN) || (s < 0 && s != -EAGAIN)) {
                us_close(st, conns[i], now); /* end of stream or error: close our side too */
                conns[i--] = conns[--n];
            }
        }
    }
    us_stack_free(st);
    us_tap_close(&tap);
    return 0;
}
