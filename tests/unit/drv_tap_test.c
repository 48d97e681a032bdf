/* TAP driver against the Linux kernel, inside a network namespace each test creates itself
 * (a forked child calls unshare(CLONE_NEWNET); the namespace, the device and the sockets die
 * with the child, even when it fails). Addresses: RFC 5737 192.0.2.0/24 only.
 * Kernel side 192.0.2.1 on the TAP; our pretend host 192.0.2.2 with MAC 02:00:00:00:00:02. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/tap.h"
#include "lib/testutil.h"

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
#define KERN_IP "192.0.2.1"
#define PEER_IP "192.0.2.2"

/* ---- small frame helpers (the test's own, independent of src/wire) -------------------------- */

static uint16_t
ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void
st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t
sum16(uint32_t s, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1)
        s += (uint32_t)b[n - 1] << 8;
    return s;
}

static uint16_t
fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Sum of the UDP/TCP pseudo-header and the L4 bytes of an IPv4 frame; 0xffff when valid. */
static uint16_t
l4_sum(const uint8_t *f, size_t len)
{
    size_t ihl = (size_t)(f[14] & 0xf) * 4, l4 = 14 + ihl;
    uint32_t s = sum16(0, f + 26, 8); /* src and dst addresses */
    s += f[23];
    s += (uint32_t)(len - l4);
    return fold(sum16(s, f + l4, len - l4));
}

static in_addr_t
ip(const char *s)
{
    return inet_addr(s);
}

/* Ethernet + IPv4 + UDP frame from PEER to KERN; checksum field left to the caller. */
static size_t
build_udp(uint8_t *f, const uint8_t *dst_mac, uint16_t sport, uint16_t dport, const char *msg)
{
    size_t plen = strlen(msg), len = 14 + 20 + 8 + plen;
    in_addr_t src = ip(PEER_IP), dst = ip(KERN_IP);

    memset(f, 0, len);
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    st16(f + 12, 0x0800);
    f[14] = 0x45;
    st16(f + 16, (uint16_t)(20 + 8 + plen));
    st16(f + 18, 0x1234);
    f[22] = 64;
    f[23] = 17;
    memcpy(f + 26, &src, 4);
    memcpy(f + 30, &dst, 4);
    st16(f + 24, (uint16_t)~fold(sum16(0, f + 14, 20)));
    st16(f + 34, sport);
    st16(f + 36, dport);
    st16(f + 38, (uint16_t)(8 + plen));
    memcpy(f + 42, msg, plen);
    return len;
}

/* ---- the namespace runner ------------------------------------------------------------------- */

/* A scenario returns NULL on success or a static failure message. */
typedef const char *(*scenario_fn)(void);

static char fail_buf[256];

static const char *
failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fail_buf, sizeof(fail_buf), fmt, ap);
    va_end(ap);
    return fail_buf;
}

/* Runs fn in a forked child inside a fresh network namespace. Returns false (the test SKIPs,
 * visibly, and the program exits US_EXIT_SKIP) only when we are not root; as root any failure,
 * including unshare's, fails the test. */
static bool
run_in_netns_(const char *test, scenario_fn fn)
{
    int pfd[2], status = 0;
    char msg[256] = "";
    ssize_t n;
    pid_t pid;

    if (geteuid() != 0) {
        us_skip_(test, "needs root for network namespaces and TAP");
        return false;
    }
    ck_assert_int_eq(pipe(pfd), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *err;
        close(pfd[0]);
        alarm(20); /* never outlive the test: SIGALRM ends the child and its namespace */
        if (unshare(CLONE_NEWNET) != 0)
            err = failf("unshare(CLONE_NEWNET): %s", strerror(errno));
        else
            err = fn();
        if (err != NULL && write(pfd[1], err, strlen(err)) < 0)
            _exit(2);
        _exit(err == NULL ? 0 : 1);
    }
    close(pfd[1]);
    n = read(pfd[0], msg, sizeof(msg) - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(pfd[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "namespace child failed: %s",
                  msg[0] ? msg : "(crashed)");
    return true;
}
#define run_in_netns(fn) run_in_netns_(__func__, fn)

/* Gives the kernel side of the TAP its address and brings it up (ioctls, no tools needed). */
static const char *
kernel_side_up(const char *dev, uint8_t mac_out[6])
{
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const char *err = NULL;

    if (s < 0)
        return failf("socket: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = ip(KERN_IP);
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
        err = failf("SIOCSIFADDR: %s", strerror(errno));
    sin->sin_addr.s_addr = ip("255.255.255.0");
    if (!err && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
        err = failf("SIOCSIFNETMASK: %s", strerror(errno));
    if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        err = failf("SIOCGIFFLAGS: %s", strerror(errno));
    ifr.ifr_flags |= IFF_UP;
    if (!err && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        err = failf("SIOCSIFFLAGS: %s", strerror(errno));
    if (!err && ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
        err = failf("SIOCGIFHWADDR: %s", strerror(errno));
    if (!err)
        memcpy(mac_out, ifr.ifr_hwaddr.sa_data, 6);
    close(s);
    return err;
}

/* Reads frames until one with this ethertype (and, for IPv4, this protocol) arrives or 3 s pass;
 * the kernel also sends IPv6 chatter, which we skip. Returns the length or -1. */
static ssize_t
read_frame(struct us_tap *t, uint8_t *buf, size_t cap, struct us_tap_rxmeta *meta,
           uint16_t ethertype, int proto)
{
    for (int waited = 0; waited < 3000;) {
        struct pollfd p = {.fd = us_tap_fd(t), .events = POLLIN};
        ssize_t n = us_tap_read(t, buf, cap, meta);
        if (n == -EAGAIN) {
            poll(&p, 1, 50);
            waited += 50;
            continue;
        }
        if (n < 0)
            return -1;
        if (n >= 14 && ld16(buf + 12) == ethertype && (proto < 0 || (n > 23 && buf[23] == proto)))
            return n;
    }
    return -1;
}

/* Kernel sends a UDP datagram to PEER_IP; first an ARP request must come out of the TAP. */
static const char *
expect_arp_request(struct us_tap *t, const uint8_t *kmac, struct us_tap_rxmeta *meta, int *us)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    in_addr_t kip = ip(KERN_IP), pip = ip(PEER_IP);
    uint8_t f[2048];
    ssize_t n;

    to.sin_addr.s_addr = pip;
    *us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (*us < 0)
        return failf("socket: %s", strerror(errno));
    if (sendto(*us, "hello ustack", 12, 0, (struct sockaddr *)&to, sizeof(to)) != 12)
        return failf("sendto: %s", strerror(errno));
    n = read_frame(t, f, sizeof(f), meta, 0x0806, -1);
    if (n < 42)
        return failf("no ARP request read from the TAP (n=%zd)", n);
    if (memcmp(f, bcast, 6) != 0 || memcmp(f + 6, kmac, 6) != 0)
        return "ARP request: wrong Ethernet addresses";
    if (ld16(f + 14) != 1 || ld16(f + 16) != 0x0800 || f[18] != 6 || f[19] != 4 ||
        ld16(f + 20) != 1)
        return "ARP request: bad htype/ptype/hlen/plen/op";
    if (memcmp(f + 22, kmac, 6) != 0 || memcmp(f + 28, &kip, 4) != 0 ||
        memcmp(f + 38, &pip, 4) != 0)
        return "ARP request: wrong sender or target";
    return NULL;
}

/* ---- scenarios ------------------------------------------------------------------------------ */

static const char *
scenario_arp_plain(void)
{
    struct us_tap t;
    struct us_tap_rxmeta meta;
    uint8_t kmac[6], buf[2048];
    const char *err;
    int us = -1, rc;

    rc = us_tap_open(&t, "ustap0", 0);
    if (rc < 0)
        return failf("us_tap_open: %s", strerror(-rc));
    if (strcmp(t.name, "ustap0") != 0)
        err = failf("name %s", t.name);
    else if (us_tap_read(&t, buf, sizeof(buf), NULL) != -EAGAIN)
        err = "read on an idle TAP did not return -EAGAIN";
    else if ((err = kernel_side_up(t.name, kmac)) == NULL)
        err = expect_arp_request(&t, kmac, &meta, &us);
    if (err == NULL && (meta.needs_csum || meta.gso_type != 0 || meta.csum_start != 0))
        err = "non-vnet read: meta not zeroed";
    if (us >= 0)
        close(us);
    us_tap_close(&t);
    return err;
}

static const char *
scenario_kernel_picks_name(void)
{
    struct us_tap t;
    int rc = us_tap_open(&t, NULL, US_TAP_VNET_HDR);
    if (rc < 0)
        return failf("us_tap_open: %s", strerror(-rc));
    rc = strncmp(t.name, "tap", 3) == 0 && us_tap_fd(&t) >= 0;
    us_tap_close(&t);
    return rc ? NULL : failf("unexpected name '%s'", t.name);
}

static int
get_txqlen(const char *dev)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), q = -1;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
    if (s >= 0 && ioctl(s, SIOCGIFTXQLEN, &ifr) == 0)
        q = ifr.ifr_qlen;
    if (s >= 0)
        close(s);
    return q;
}

/* us_tap_raise_txqlen raises and never lowers; us_tap_tx_dropped counts what the kernel dropped
 * towards a TAP nobody reads: 100 broadcast datagrams (no ARP needed) into a queue of 8. */
static const char *
scenario_txqlen_drops(void)
{
    struct us_tap t;
    uint8_t kmac[6];
    uint64_t d0 = 1, d1 = 0;
    const char *err = NULL;
    int rc = us_tap_open(&t, "usq0", 0), s = -1, on = 1;
    if (rc < 0)
        return failf("us_tap_open: %s", strerror(-rc));
    if ((rc = us_tap_raise_txqlen(&t, 4096)) < 0 || get_txqlen("usq0") != 4096)
        err = failf("raise to 4096: %d, txqueuelen %d", rc, get_txqlen("usq0"));
    else if ((rc = us_tap_raise_txqlen(&t, 100)) < 0 || get_txqlen("usq0") != 4096)
        err = failf("raise to 100 lowered it: %d, txqueuelen %d", rc, get_txqlen("usq0"));
    if (!err && system("ip link set dev usq0 txqueuelen 8") != 0)
        err = "ip link set txqueuelen 8 failed";
    if (!err)
        err = kernel_side_up("usq0", kmac);
    if (!err && (rc = us_tap_tx_dropped(&t, &d0)) < 0)
        err = failf("us_tap_tx_dropped: %s", strerror(-rc));
    if (!err && (s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        err = failf("socket: %s", strerror(errno));
    if (!err && setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) < 0)
        err = failf("SO_BROADCAST: %s", strerror(errno));
    for (int i = 0; !err && i < 100; i++) {
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9),
                                 .sin_addr.s_addr = ip("192.0.2.255")};
        if (sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1)
            err = failf("sendto: %s", strerror(errno));
    }
    if (!err && (rc = us_tap_tx_dropped(&t, &d1)) < 0)
        err = failf("us_tap_tx_dropped: %s", strerror(-rc));
    /* the queue holds 8 (IPv6 chatter may take some): 92 are dropped; some slack for the ring */
    if (!err && d1 - d0 < 88)
        err = failf("tx_dropped went %llu -> %llu for 100 datagrams into a queue of 8",
                    (unsigned long long)d0, (unsigned long long)d1);
    if (s >= 0)
        close(s);
    us_tap_close(&t);
    return err;
}

static const char *
scenario_attach_persistent(void)
{
    struct us_tap t;
    const char *err = NULL;
    int rc;

    if (system("ip tuntap add dev ustapp mode tap") != 0)
        return "ip tuntap add failed";
    rc = us_tap_open(&t, "ustapp", 0);
    if (rc < 0)
        err = failf("attach: %s", strerror(-rc));
    else if (strcmp(t.name, "ustapp") != 0)
        err = "attach: wrong name";
    us_tap_close(&t);
    if (system("ip tuntap del dev ustapp mode tap") != 0 && err == NULL)
        err = "ip tuntap del failed";
    return err;
}

/* Answers the kernel's ARP request for PEER_IP. */
static size_t
build_arp_reply(uint8_t *f, const uint8_t *kmac)
{
    in_addr_t kip = ip(KERN_IP), pip = ip(PEER_IP);
    memcpy(f, kmac, 6);
    memcpy(f + 6, peer_mac, 6);
    st16(f + 12, 0x0806);
    st16(f + 14, 1);
    st16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    st16(f + 20, 2);
    memcpy(f + 22, peer_mac, 6);
    memcpy(f + 28, &pip, 4);
    memcpy(f + 32, kmac, 6);
    memcpy(f + 38, &kip, 4);
    return 42;
}

/* The kernel's neighbour entry for PEER_IP, via SIOCGARP. */
static bool
kernel_knows_peer(const char *dev)
{
    struct arpreq r;
    struct sockaddr_in *pa = (struct sockaddr_in *)&r.arp_pa;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool ok;

    memset(&r, 0, sizeof(r));
    pa->sin_family = AF_INET;
    pa->sin_addr.s_addr = ip(PEER_IP);
    snprintf(r.arp_dev, sizeof(r.arp_dev), "%s", dev);
    ok = s >= 0 && ioctl(s, SIOCGARP, &r) == 0 && (r.arp_flags & ATF_COM) &&
         memcmp(r.arp_ha.sa_data, peer_mac, 6) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

/* After the ARP reply the kernel sends its queued datagram, with a partial checksum. */
static const char *
vnet_read_udp(struct us_tap *t, const uint8_t *kmac)
{
    struct us_tap_rxmeta meta;
    uint8_t f[US_TAP_FRAME_MAX];
    ssize_t n = read_frame(t, f, sizeof(f), &meta, 0x0800, 17);

    if (n < 42 + 12)
        return failf("no UDP datagram after the ARP reply (n=%zd)", n);
    if (memcmp(f, peer_mac, 6) != 0 || memcmp(f + 6, kmac, 6) != 0)
        return "UDP frame: wrong MAC addresses";
    if (memcmp(f + 42, "hello ustack", 12) != 0)
        return "UDP frame: wrong payload";
    if (meta.gso_type != US_TAP_GSO_NONE)
        return failf("UDP frame: gso_type %u", meta.gso_type);
    if (!meta.needs_csum)
        return "UDP frame: expected a partial checksum (TUN_F_CSUM offload)";
    if (meta.csum_start != 34 || meta.csum_offset != 6)
        return failf("UDP frame: csum_start %u csum_offset %u", meta.csum_start,
                     meta.csum_offset);
    us_tap_complete_csum(f, (size_t)n, &meta);
    if (ld16(f + 40) == 0 || l4_sum(f, (size_t)n) != 0xffff)
        return failf("UDP checksum wrong after completion: %04x", ld16(f + 40));
    return NULL;
}

static ssize_t
recv_wait(int s, char *buf, size_t cap, int ms)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return -1;
    return recv(s, buf, cap, MSG_DONTWAIT);
}

/* Frames we write must reach a kernel UDP socket: full checksum, bad checksum (dropped, which
 * shows the kernel checks), and checksum offload through us_tap_write_gso(). */
static const char *
vnet_write_udp(struct us_tap *t, const uint8_t *kmac)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7777)};
    struct us_tap_txgso g = {.gso_type = US_TAP_GSO_NONE, .csum_start = 34, .csum_offset = 6};
    const char *err = NULL;
    uint8_t f[256];
    char got[64];
    size_t len;
    ssize_t n;
    int s, rc;

    a.sin_addr.s_addr = ip(KERN_IP);
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        return failf("kernel socket: %s", strerror(errno));

    len = build_udp(f, kmac, 5555, 7777, "bad checksum");
    st16(f + 40, 0x0bad);
    if ((rc = us_tap_write(t, f, len)) != 0)
        err = failf("us_tap_write: %s", strerror(-rc));
    else if (recv_wait(s, got, sizeof(got), 200) >= 0)
        err = "kernel accepted a datagram with a bad checksum";

    len = build_udp(f, kmac, 5555, 7777, "full checksum");
    st16(f + 40, (uint16_t)~l4_sum(f, len));
    if (!err && (rc = us_tap_write(t, f, len)) != 0)
        err = failf("us_tap_write: %s", strerror(-rc));
    if (!err && ((n = recv_wait(s, got, sizeof(got), 2000)) != 13 || memcmp(got, "full checksum", 13)))
        err = "kernel socket did not receive the full-checksum datagram";

    /* Partial: the field holds the pseudo-header sum (not complemented); the kernel trusts it
     * as CHECKSUM_PARTIAL. */
    len = build_udp(f, kmac, 5555, 7777, "offloaded checksum");
    {
        uint32_t ps = sum16(0, f + 26, 8) + 17 + (uint32_t)(len - 34);
        st16(f + 40, fold(ps));
    }
    if (!err && (rc = us_tap_write_gso(t, f, len, &g)) != 0)
        err = failf("us_tap_write_gso: %s", strerror(-rc));
    if (!err && ((n = recv_wait(s, got, sizeof(got), 2000)) != 18 ||
                 memcmp(got, "offloaded checksum", 18)))
        err = "kernel socket did not receive the offloaded-checksum datagram";
    g.csum_start = 250;
    if (!err && us_tap_write_gso(t, f, len, &g) != -EINVAL)
        err = "us_tap_write_gso accepted offsets beyond the frame";
    close(s);
    return err;
}

static const char *
scenario_vnet(void)
{
    struct us_tap t;
    struct us_tap_rxmeta meta;
    uint8_t kmac[6], f[64];
    const char *err;
    int us = -1, rc;

    rc = us_tap_open(&t, "ustapv", US_TAP_VNET_HDR);
    if (rc < 0)
        return failf("us_tap_open(vnet): %s", strerror(-rc));
    err = kernel_side_up(t.name, kmac);
    if (err == NULL)
        err = expect_arp_request(&t, kmac, &meta, &us);
    if (err == NULL && (meta.needs_csum || meta.gso_type != US_TAP_GSO_NONE || meta.gso_size))
        err = "ARP frame: vnet meta not plain";
    if (err == NULL && (rc = us_tap_write(&t, f, build_arp_reply(f, kmac))) != 0)
        err = failf("us_tap_write(ARP reply): %s", strerror(-rc));
    if (err == NULL)
        err = vnet_read_udp(&t, kmac);
    if (err == NULL && !kernel_knows_peer(t.name))
        err = "kernel neighbour table lacks our ARP reply";
    if (err == NULL)
        err = vnet_write_udp(&t, kmac);
    if (us >= 0)
        close(us);
    us_tap_close(&t);
    return err;
}

/* ---- TSO both ways: a hand-made TCP handshake with the kernel ---------------------------- */

/* Ethernet + IPv4 + TCP from PEER:40000 to KERN:8080; with syn, an MSS option (1460). The
 * checksum field gets the pseudo-header sum when partial, else the full checksum. */
static size_t
build_tcp(uint8_t *f, const uint8_t *kmac, uint32_t seq, uint32_t ack, uint8_t flags,
          size_t plen, bool partial)
{
    size_t thl = (flags & 0x02) ? 24 : 20, len = 14 + 20 + thl + plen;
    in_addr_t src = ip(PEER_IP), dst = ip(KERN_IP);

    memset(f, 0, 14 + 20 + thl);
    memcpy(f, kmac, 6);
    memcpy(f + 6, peer_mac, 6);
    st16(f + 12, 0x0800);
    f[14] = 0x45;
    st16(f + 16, (uint16_t)(20 + thl + plen));
    f[20] = 0x40; /* DF */
    f[22] = 64;
    f[23] = 6;
    memcpy(f + 26, &src, 4);
    memcpy(f + 30, &dst, 4);
    st16(f + 24, (uint16_t)~fold(sum16(0, f + 14, 20)));
    st16(f + 34, 40000);
    st16(f + 36, 8080);
    st16(f + 38, (uint16_t)(seq >> 16));
    st16(f + 40, (uint16_t)seq);
    st16(f + 42, (uint16_t)(ack >> 16));
    st16(f + 44, (uint16_t)ack);
    f[46] = (uint8_t)((thl / 4) << 4);
    f[47] = flags;
    st16(f + 48, 65535);
    if (thl == 24) {
        f[54] = 2;
        f[55] = 4;
        st16(f + 56, 1460);
    }
    if (partial)
        st16(f + 50, fold(sum16(0, f + 26, 8) + 6 + (uint32_t)(len - 34)));
    else
        st16(f + 50, (uint16_t)~l4_sum(f, len));
    return len;
}

static uint32_t
ld32(const uint8_t *p)
{
    return (uint32_t)ld16(p) << 16 | ld16(p + 2);
}

/* Static neighbour entry for PEER_IP, so the kernel needs no ARP exchange. */
static const char *
kernel_add_peer(const char *dev)
{
    struct arpreq r;
    struct sockaddr_in *pa = (struct sockaddr_in *)&r.arp_pa;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

    memset(&r, 0, sizeof(r));
    pa->sin_family = AF_INET;
    pa->sin_addr.s_addr = ip(PEER_IP);
    r.arp_ha.sa_family = ARPHRD_ETHER;
    memcpy(r.arp_ha.sa_data, peer_mac, 6);
    r.arp_flags = ATF_COM | ATF_PERM;
    snprintf(r.arp_dev, sizeof(r.arp_dev), "%s", dev);
    rc = s >= 0 ? ioctl(s, SIOCSARP, &r) : -1;
    if (s >= 0)
        close(s);
    return rc == 0 ? NULL : failf("SIOCSARP: %s", strerror(errno));
}

/* Handshake, then one 4000-byte TSO super-frame to the kernel (gso_size 1000), which accept()
 * + recv must see whole; then the kernel's reply, which must come to us as a super-frame. */
static const char *
tso_exchange(struct us_tap *t, const uint8_t *kmac, int ls)
{
    static uint8_t f[US_TAP_FRAME_MAX];
    struct us_tap_txgso g = {.gso_type = US_TAP_GSO_TCPV4, .gso_size = 1000, .hdr_len = 54,
                             .csum_start = 34, .csum_offset = 16};
    struct us_tap_rxmeta meta;
    static char got[20000];
    size_t len, total = 0;
    uint32_t iss;
    ssize_t n;
    int cs, rc;

    len = build_tcp(f, kmac, 1000, 0, 0x02, 0, false);
    if ((rc = us_tap_write(t, f, len)) != 0)
        return failf("write SYN: %s", strerror(-rc));
    n = read_frame(t, f, sizeof(f), &meta, 0x0800, 6);
    if (n < 54 || f[47] != 0x12 || ld32(f + 42) != 1001)
        return failf("no SYN-ACK (n=%zd flags %02x)", n, n >= 54 ? f[47] : 0);
    iss = ld32(f + 38);

    len = build_tcp(f, kmac, 1001, iss + 1, 0x10 | 0x08, 4000, true);
    for (size_t i = 0; i < 4000; i++)
        f[54 + i] = (uint8_t)('a' + i % 26);
    /* Gathered: headers, then the payload in two pieces from elsewhere (as TCP's TSO path
     * writes straight from its send buffer). */
    static uint8_t pay[4000];
    memcpy(pay, f + 54, sizeof(pay));
    memset(f + 54, 0, len - 54);
    struct iovec iov[3] = {{f, 54}, {pay, 1000}, {pay + 1000, len - 54 - 1000}};
    if ((rc = us_tap_writev_gso(t, iov, 3, &g)) != 0)
        return failf("us_tap_writev_gso(TSO): %s", strerror(-rc));
    cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (cs < 0)
        return failf("accept: %s", strerror(errno));
    while (total < 4000 && (n = recv_wait(cs, got + total, sizeof(got) - total, 2000)) > 0)
        total += (size_t)n;
    if (total != 4000 || got[0] != 'a' || got[3999] != (char)('a' + 3999 % 26))
        return close(cs), failf("kernel received %zu of 4000 TSO bytes", total);

    memset(got, 'z', sizeof(got));
    if (send(cs, got, sizeof(got), 0) != (ssize_t)sizeof(got))
        return close(cs), "kernel send failed";
    for (;;) {
        n = read_frame(t, f, sizeof(f), &meta, 0x0800, 6);
        if (n < 0)
            return close(cs), "kernel data never came as a TSO super-frame";
        if (meta.gso_type == US_TAP_GSO_TCPV4 && (size_t)n > 1514)
            break;
    }
    close(cs);
    if (meta.gso_size == 0 || meta.gso_size > 1460 || !meta.needs_csum || meta.csum_start != 34 ||
        meta.csum_offset != 16)
        return failf("TSO meta: gso_size %u needs_csum %d start %u off %u", meta.gso_size,
                     meta.needs_csum, meta.csum_start, meta.csum_offset);
    us_tap_complete_csum(f, (size_t)n, &meta);
    if (l4_sum(f, (size_t)n) != 0xffff)
        return "TSO super-frame: checksum wrong after completion";
    return NULL;
}

static const char *
scenario_tso(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
    struct us_tap t;
    uint8_t kmac[6];
    const char *err;
    int ls = -1, rc;

    rc = us_tap_open(&t, "ustapt", US_TAP_VNET_HDR);
    if (rc < 0)
        return failf("us_tap_open(vnet): %s", strerror(-rc));
    err = kernel_side_up(t.name, kmac);
    if (err == NULL)
        err = kernel_add_peer(t.name);
    a.sin_addr.s_addr = ip(KERN_IP);
    if (err == NULL && ((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
                        bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0))
        err = failf("listen: %s", strerror(errno));
    if (err == NULL)
        err = tso_exchange(&t, kmac, ls);
    if (ls >= 0)
        close(ls);
    us_tap_close(&t);
    return err;
}

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST(test_arp_request_plain)
{
    run_in_netns(scenario_arp_plain);
}
END_TEST

START_TEST(test_kernel_picks_name)
{
    run_in_netns(scenario_kernel_picks_name);
}
END_TEST

START_TEST(test_txqlen_drops)
{
    run_in_netns(scenario_txqlen_drops);
}
END_TEST

START_TEST(test_attach_persistent)
{
    run_in_netns(scenario_attach_persistent);
}
END_TEST

START_TEST(test_vnet_read_write)
{
    run_in_netns(scenario_vnet);
}
END_TEST

START_TEST(test_tso_both_ways)
{
    run_in_netns(scenario_tso);
}
END_TEST

START_TEST(test_bad_args)
{
    struct us_tap t;
    ck_assert_int_eq(us_tap_open(&t, "a-name-much-too-long-for-linux", 0), -ENAMETOOLONG);
    ck_assert_int_eq(t.fd, -1);
    ck_assert_int_eq(us_tap_open(&t, "x", 0x80), -EINVAL);
    us_tap_close(&t); /* closing a failed open is harmless */
}
END_TEST

START_TEST(test_complete_csum)
{
    /* A UDP frame whose checksum field holds the pseudo-header sum, as the kernel hands it. */
    uint8_t f[64];
    struct us_tap_rxmeta m = {.needs_csum = true, .csum_start = 34, .csum_offset = 6};
    size_t len = build_udp(f, peer_mac, 1, 2, "odd");
    uint32_t ps = sum16(0, f + 26, 8) + 17 + (uint32_t)(len - 34);
    st16(f + 40, fold(ps));
    us_tap_complete_csum(f, len, &m);
    ck_assert_uint_eq(l4_sum(f, len), 0xffff);
    /* Offsets outside the frame: untouched. */
    m.csum_start = 60;
    uint8_t copy[64];
    memcpy(copy, f, sizeof(copy));
    us_tap_complete_csum(f, len, &m);
    ck_assert_mem_eq(f, copy, len);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("drv_tap");
    TCase *tc = tcase_create("tap");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_bad_args);
    tcase_add_test(tc, test_complete_csum);
    tcase_add_test(tc, test_arp_request_plain);
    tcase_add_test(tc, test_kernel_picks_name);
    tcase_add_test(tc, test_attach_persistent);
    tcase_add_test(tc, test_txqlen_drops);
    tcase_add_test(tc, test_vnet_read_write);
    tcase_add_test(tc, test_tso_both_ways);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
