/* Linux TAP driver: moves Ethernet frames between a TAP device and a stack (us_tap_write is a
 * us_tx_fn; what us_tap_read returns goes to us_input). Public; part of libustack. Does I/O on
 * one non-blocking fd; knows nothing of the protocols above Ethernet except what checksum
 * offload needs (an offset and a length).
 * In vnet mode the kernel may hand us GSO super-frames (up to 64 KiB) with partial checksums;
 * us_tap_rxmeta says so and us_tap_complete_csum() finishes the checksum when someone needs it. */
#ifndef USTACK_TAP_H
#define USTACK_TAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <ustack/types.h>

USTACK_BEGIN_DECLS

/* us_tap_open() flags. */
#define US_TAP_VNET_HDR 0x1u /* virtio-net header on every frame: checksum offload and TSO */

/* Largest frame us_tap_read() can return in vnet mode: a 64 KiB IP datagram, Ethernet header
 * and one VLAN tag. Without vnet, the device MTU + 14 is enough. A buffer too small for the
 * pending frame makes the kernel drop it (read fails, frame lost). */
#define US_TAP_FRAME_MAX (65535 + 14 + 4)

/* Size of the virtio-net header we use: the plain struct virtio_net_hdr (10 bytes). The 12-byte
 * mergeable-buffer variant only adds num_buffers, which means nothing on a TAP fd. */
#define US_TAP_VNET_HDR_LEN 10

/* GSO types (the values of VIRTIO_NET_HDR_GSO_*, restated so users need no Linux headers). */
enum us_tap_gso_type {
    US_TAP_GSO_NONE = 0,
    US_TAP_GSO_TCPV4 = 1,
    US_TAP_GSO_UDP = 3,
    US_TAP_GSO_TCPV6 = 4,
};
#define US_TAP_GSO_ECN 0x80 /* or'ed into gso_type: the TCP segments carry ECN (CWR) */

struct us_tap {
    int fd;             /* -1 when closed */
    unsigned flags;     /* US_TAP_* given to us_tap_open() */
    char name[16];      /* the device's name as the kernel knows it (IFNAMSIZ bytes) */
};

/* What the kernel's virtio-net header said about a received frame. Offsets count from the first
 * byte of the Ethernet header. All zero when not in vnet mode. */
struct us_tap_rxmeta {
    bool needs_csum;      /* L4 checksum is partial: field holds the pseudo-header sum only */
    bool csum_valid;      /* kernel already verified the checksum (DATA_VALID) */
    uint8_t gso_type;     /* enum us_tap_gso_type, maybe | US_TAP_GSO_ECN */
    uint16_t gso_size;    /* segment payload size when gso_type != NONE */
    uint16_t hdr_len;     /* Ethernet + IP + L4 header bytes (a hint; may be 0) */
    uint16_t csum_start;  /* where the one's-complement sum starts (needs_csum) */
    uint16_t csum_offset; /* where, after csum_start, the result goes (needs_csum) */
};

/* Offload request for us_tap_write_gso(). The frame's L4 checksum field must hold the
 * pseudo-header sum (not complemented), as for CHECKSUM_PARTIAL in Linux; the kernel finishes
 * it (and, for GSO, cuts the frame into gso_size segments with correct headers). */
struct us_tap_txgso {
    uint8_t gso_type;     /* US_TAP_GSO_NONE (checksum offload only) or US_TAP_GSO_TCPV4 */
    uint16_t gso_size;    /* TCP payload bytes per segment (the MSS) */
    uint16_t hdr_len;     /* Ethernet + IP + TCP header bytes */
    uint16_t csum_start;  /* offset of the L4 header in the frame */
    uint16_t csum_offset; /* offset of the checksum field in the L4 header (16 TCP, 6 UDP) */
};

/* Creates the TAP device `name` (kernel picks "tapN" when name is NULL or "") or attaches to an
 * existing one. The fd is non-blocking and close-on-exec. Returns 0 or a negative errno;
 * on failure t->fd is -1. */
int us_tap_open(struct us_tap *t, const char *name, unsigned flags);
void us_tap_close(struct us_tap *t);
int us_tap_fd(const struct us_tap *t);

/* Sets the transmit queue length (txqueuelen) of the device's kernel side: the frames the kernel
 * may hold for us before it drops. Raises it only (a larger one set by hand stays). Needs
 * CAP_NET_ADMIN. Returns 0 or a negative errno. */
int us_tap_raise_txqlen(const struct us_tap *t, unsigned qlen);
/* The frames the kernel dropped on their way to us (the device's tx_dropped, as `ip -s link`
 * shows it), read from /proc/net/dev of the calling thread's network namespace, which must be
 * the device's. Returns 0 or a negative errno. */
int us_tap_tx_dropped(const struct us_tap *t, uint64_t *dropped);

/* Reads one frame into buf (without the vnet header). Returns its length, -EAGAIN when no frame
 * is waiting, or another negative errno. meta may be NULL. */
ssize_t us_tap_read(struct us_tap *t, uint8_t *buf, size_t cap, struct us_tap_rxmeta *meta);

/* Finishes a partial checksum in place: one's-complement sum from csum_start to the end of the
 * frame, complemented, stored big-endian at csum_start + csum_offset. Does nothing when
 * meta->needs_csum is false or the offsets fall outside the frame. */
void us_tap_complete_csum(uint8_t *frame, size_t len, const struct us_tap_rxmeta *meta);

/* us_tx_fn: writes one complete frame (a zeroed vnet header goes in front in vnet mode).
 * tap is a struct us_tap *. Returns 0 or a negative errno (-EIO on a short write). */
int us_tap_write(void *tap, const uint8_t *frame, size_t len);

/* Writes one frame with checksum offload and optional TSO (for the TCP layer, later): the
 * kernel completes the checksum and segments a TCPv4 super-frame. Needs vnet mode
 * (-EOPNOTSUPP otherwise); -EINVAL when the offsets do not fit the frame. */
int us_tap_write_gso(struct us_tap *t, const uint8_t *frame, size_t len,
                     const struct us_tap_txgso *gso);
/* The same with the frame in n pieces (1..8), written by one writev: the headers (through the
 * checksum field and hdr_len) in the first piece, the payload after it from anywhere. */
int us_tap_writev_gso(struct us_tap *t, const struct iovec *frame, int n,
                      const struct us_tap_txgso *gso);

USTACK_END_DECLS

#endif
