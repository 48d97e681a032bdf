/* Linux TAP driver: open/attach a TAP device, read and write Ethernet frames, virtio-net
 * header handling for checksum offload and TSO.
 * Layer: drivers. The only file that talks to /dev/net/tun. Never parses protocol headers: the
 * offsets it needs come from the vnet header (rx) or from the caller (tx).
 * The vnet header fields are in host byte order (legacy TAP; we never set TUNSETVNETLE/BE). */
#include "drivers/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/csum.h"

_Static_assert(sizeof(struct virtio_net_hdr) == US_TAP_VNET_HDR_LEN, "vnet header size");
_Static_assert(US_TAP_GSO_TCPV4 == VIRTIO_NET_HDR_GSO_TCPV4, "gso values");
_Static_assert(US_TAP_GSO_UDP == VIRTIO_NET_HDR_GSO_UDP, "gso values");
_Static_assert(US_TAP_GSO_TCPV6 == VIRTIO_NET_HDR_GSO_TCPV6, "gso values");
_Static_assert(US_TAP_GSO_ECN == VIRTIO_NET_HDR_GSO_ECN, "gso values");

/* Offloads we accept from the kernel in vnet mode. TSO6 is harmless for an IPv4 stack and lets
 * the kernel keep IPv6 frames whole; ECN and UFO/USO we do not claim. */
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

static int
tap_setup_vnet(int fd)
{
    int sz = US_TAP_VNET_HDR_LEN;
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
        return -errno;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TAP_OFFLOADS) < 0)
        return -errno;
    return 0;
}

int
us_tap_open(struct us_tap *t, const char *name, unsigned flags)
{
    struct ifreq ifr;
    int fd, err;

    t->fd = -1;
    t->flags = flags;
    memset(t->name, 0, sizeof(t->name));
    if (flags & ~US_TAP_VNET_HDR)
        return -EINVAL;
    if (name != NULL && strlen(name) >= IFNAMSIZ)
        return -ENAMETOOLONG;

    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (flags & US_TAP_VNET_HDR)
        ifr.ifr_flags |= IFF_VNET_HDR;
    if (name != NULL)
        memcpy(ifr.ifr_name, name, strlen(name));
    /* Creates the device, or attaches when it exists (persistent, same owner and flags). */
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        err = -errno;
        goto fail;
    }
    if (flags & US_TAP_VNET_HDR) {
        err = tap_setup_vnet(fd);
        if (err < 0)
            goto fail;
    }
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    t->name[IFNAMSIZ - 1] = '\0';
    t->fd = fd;
    return 0;
fail:
    close(fd);
    return err;
}

void
us_tap_close(struct us_tap *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

int
us_tap_fd(const struct us_tap *t)
{
    return t->fd;
}

int
us_tap_raise_txqlen(const struct us_tap *t, unsigned qlen)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
    if (s < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
    if (ioctl(s, SIOCGIFTXQLEN, &ifr) < 0)
        err = -errno;
    else if ((unsigned)ifr.ifr_qlen < qlen) {
        ifr.ifr_qlen = (int)qlen;
        if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
            err = -errno;
    }
    close(s);
    return err;
}

int
us_tap_tx_dropped(const struct us_tap *t, uint64_t *dropped)
{
    /* /proc/net/dev: "  name: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame rx_compressed
     * rx_multicast tx_bytes tx_packets tx_errs tx_drop ...": tx_drop is the 12th number. */
    FILE *f = fopen("/proc/net/dev", "re");
    char line[512];
    size_t nl = strlen(t->name);
    int err = -ENODEV;
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        unsigned long long v[12];
        while (*p == ' ')
            p++;
        if (strncmp(p, t->name, nl) != 0 || p[nl] != ':')
            continue;
        if (sscanf(p + nl + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                   &v[11]) != 12) {
            err = -EIO;
            break;
        }
        *dropped = v[11];
        err = 0;
        break;
    }
    fclose(f);
    return err;
}

static void
tap_meta_from_hdr(struct us_tap_rxmeta *meta, const struct virtio_net_hdr *h)
{
    meta->needs_csum = (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
    meta->csum_valid = (h->flags & VIRTIO_NET_HDR_F_DATA_VALID) != 0;
    meta->gso_type = h->gso_type;
    meta->gso_size = h->gso_size;
    meta->hdr_len = h->hdr_len;
    meta->csum_start = h->csum_start;
    meta->csum_offset = h->csum_offset;
}

ssize_t
us_tap_read(struct us_tap *t, uint8_t *buf, size_t cap, struct us_tap_rxmeta *meta)
{
    struct virtio_net_hdr h;
    struct iovec iov[2];
    ssize_t n;

    if (meta != NULL)
        memset(meta, 0, sizeof(*meta));
    if (!(t->flags & US_TAP_VNET_HDR)) {
        n = read(t->fd, buf, cap);
        return n < 0 ? -errno : n;
    }
    iov[0].iov_base = &h;
    iov[0].iov_len = sizeof(h);
    iov[1].iov_base = buf;
    iov[1].iov_len = cap;
    n = readv(t->fd, iov, 2);
    if (n < 0)
        return -errno;
    if ((size_t)n < sizeof(h))
        return -EIO;
    if (meta != NULL)
        tap_meta_from_hdr(meta, &h);
    return n - (ssize_t)sizeof(h);
}

void
us_tap_complete_csum(uint8_t *frame, size_t len, const struct us_tap_rxmeta *meta)
{
    size_t start = meta->csum_start, at = (size_t)meta->csum_start + meta->csum_offset;
    uint16_t c;

    if (!meta->needs_csum || start >= len || at + 2 > len)
        return;
    c = us_csum_finish(us_csum_add(0, frame + start, len - start));
    /* RFC 768: a computed UDP checksum of 0 goes out as 0xffff (0 means "none"). For TCP the
     * two are the same number in one's complement, so we do it for every protocol (as Linux's
     * skb_checksum_help does). */
    if (c == 0)
        c = 0xffff;
    frame[at] = (uint8_t)(c >> 8);
    frame[at + 1] = (uint8_t)c;
}

#define TAP_MAX_IOV 8

/* Writes the vnet header (in vnet mode) and the frame given as n pieces, in one writev. */
static int
tap_writev(struct us_tap *t, const struct virtio_net_hdr *h, const struct iovec *frame, int n)
{
    struct iovec iov[TAP_MAX_IOV + 1];
    size_t total = 0;
    int k = 0;
    ssize_t w;

    if (n < 1 || n > TAP_MAX_IOV)
        return -EINVAL;
    if (t->flags & US_TAP_VNET_HDR) {
        iov[k].iov_base = (void *)h;
        iov[k].iov_len = sizeof(*h);
        total += sizeof(*h);
        k++;
    }
    for (int i = 0; i < n; i++) {
        iov[k++] = frame[i];
        total += frame[i].iov_len;
    }
    w = writev(t->fd, iov, k);
    if (w < 0)
        return -errno;
    return (size_t)w == total ? 0 : -EIO;
}

int
us_tap_write(void *tap, const uint8_t *frame, size_t len)
{
    struct virtio_net_hdr h;
    memset(&h, 0, sizeof(h));
    struct iovec v = {(void *)frame, len};
    return tap_writev(tap, &h, &v, 1);
}

int
us_tap_write_gso(struct us_tap *t, const uint8_t *frame, size_t len,
                 const struct us_tap_txgso *gso)
{
    struct iovec v = {(void *)frame, len};
    return us_tap_writev_gso(t, &v, 1, gso);
}

int
us_tap_writev_gso(struct us_tap *t, const struct iovec *frame, int n,
                  const struct us_tap_txgso *gso)
{
    struct virtio_net_hdr h;
    size_t at = (size_t)gso->csum_start + gso->csum_offset;

    if (!(t->flags & US_TAP_VNET_HDR))
        return -EOPNOTSUPP;
    if (n < 1 || at + 2 > frame[0].iov_len || gso->hdr_len > frame[0].iov_len)
        return -EINVAL; /* the headers, checksum field included, are in the first piece */
    if (gso->gso_type != US_TAP_GSO_NONE && gso->gso_type != US_TAP_GSO_TCPV4)
        return -EINVAL;
    if (gso->gso_type != US_TAP_GSO_NONE && gso->gso_size == 0)
        return -EINVAL;
    memset(&h, 0, sizeof(h));
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.gso_type = gso->gso_type;
    h.gso_size = gso->gso_type == US_TAP_GSO_NONE ? 0 : gso->gso_size;
    h.hdr_len = gso->hdr_len;
    h.csum_start = gso->csum_start;
    h.csum_offset = gso->csum_offset;
    return tap_writev(t, &h, frame, n);
}
