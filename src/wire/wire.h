/* Wire formats: bounds-checked parse and build of each header (doc/design.md, Wire formats).
 * Layer: wire. Stateless; includes only core types. Parsers take untrusted bytes and return 0 or
 * a US_DROP_* reason; on success the repr's pointers point into the caller's buffer (no copy).
 * Emitters write into a buffer the caller sized with the matching *_LEN / *_emit_len. */
#ifndef US_WIRE_WIRE_H
#define US_WIRE_WIRE_H

#include <string.h>

#include "core/csum.h"
#include "core/drop.h"
#include "core/types.h"
#include "wire/bytes.h"

/* The Internet checksum (RFC 1071) lives in core/csum.h: drivers finish offloaded checksums
 * with it too. */

/* ---- Ethernet II ------------------------------------------------------------------------------- */

#define US_ETH_HDR_LEN 14
#define US_ETHERTYPE_IPV4 0x0800
#define US_ETHERTYPE_ARP 0x0806

struct us_eth_repr {
    uint8_t dst[US_ETH_ALEN];
    uint8_t src[US_ETH_ALEN];
    uint16_t type;
    const uint8_t *payload; /* points into the parsed frame */
    size_t payload_len;
};

/* Checks len >= 14. Frames whose type field is < 0x0600 (802.3 length) -> ETH_UNKNOWN_TYPE. */
int us_wire_eth_parse(struct us_eth_repr *r, const uint8_t *b, size_t len);
/* Writes the 14-byte header (payload fields ignored). */
void us_wire_eth_emit(const struct us_eth_repr *r, uint8_t *out);
bool us_eth_is_bcast(const uint8_t mac[US_ETH_ALEN]);
bool us_eth_is_mcast(const uint8_t mac[US_ETH_ALEN]); /* includes broadcast */

/* ---- ARP (RFC 826), Ethernet/IPv4 only ------------------------------------------------------- */

#define US_ARP_LEN 28
#define US_ARP_OP_REQUEST 1
#define US_ARP_OP_REPLY 2

struct us_arp_repr {
    uint16_t op;
    uint8_t sha[US_ETH_ALEN];
    us_ip4_t spa;
    uint8_t tha[US_ETH_ALEN];
    us_ip4_t tpa;
};

/* Checks len >= 28, htype 1 / hlen 6 (ARP_BAD_HW), ptype 0x0800 / plen 4 (ARP_BAD_PROTO),
 * op 1 or 2 (ARP_BAD_OP). Trailing bytes (ethernet padding) are ignored. */
int us_wire_arp_parse(struct us_arp_repr *r, const uint8_t *b, size_t len);
void us_wire_arp_emit(const struct us_arp_repr *r, uint8_t *out); /* writes 28 bytes */

/* ---- IPv4 (RFC 791) ---------------------------------------------------------------------------- */

#define US_IP4_HDR_LEN 20 /* without options; we never emit options */
#define US_IP4_MAX_LEN 65535
#define US_IPPROTO_ICMP 1
#define US_IPPROTO_TCP 6
#define US_IPPROTO_UDP 17
/* RFC 3168 5: the ECN field, the low two bits of the TOS octet. */
#define US_IP_ECN_MASK 0x03
#define US_IP_ECN_NOT_ECT 0x00
#define US_IP_ECN_ECT1 0x01
#define US_IP_ECN_ECT0 0x02
#define US_IP_ECN_CE 0x03

struct us_ip4_repr {
    uint8_t tos;            /* DSCP and the ECN field (US_IP_ECN_*) */
    uint16_t id;
    bool df, mf;
    uint16_t frag_off; /* in bytes (field * 8) */
    uint8_t ttl;
    uint8_t proto;
    us_ip4_t src, dst;
    size_t hdr_len;         /* 20..60 */
    const uint8_t *payload; /* after the header, trimmed to total length */
    size_t payload_len;
};

/* Checks, in order: len >= 20 (IP_TRUNCATED), version 4 (IP_BAD_VERSION), 20 <= ihl*4 <= len
 * (IP_BAD_HDR_LEN), ihl*4 <= total length <= len (IP_BAD_TOTAL_LEN; bytes past total length are
 * link padding and ignored), header checksum when verify_csum (IP_BAD_CSUM), option TLVs well
 * formed: EOL/NOP single byte, others length >= 2 and within the header (IP_BAD_OPTIONS),
 * frag_off + payload_len <= 65535 (IP_BAD_FRAG). Options are otherwise skipped. */
int us_wire_ip4_parse(struct us_ip4_repr *r, const uint8_t *b, size_t len, bool verify_csum);
/* Writes a 20-byte header with total length = 20 + payload_len and a correct checksum.
 * r->hdr_len and r->payload are ignored. */
void us_wire_ip4_emit(const struct us_ip4_repr *r, uint8_t *out);

/* ---- ICMP (RFC 792) ---------------------------------------------------------------------------- */

#define US_ICMP_HDR_LEN 8
#define US_ICMP_ECHO_REPLY 0
#define US_ICMP_DEST_UNREACH 3
#define US_ICMP_SOURCE_QUENCH 4
#define US_ICMP_REDIRECT 5
#define US_ICMP_ECHO_REQUEST 8
#define US_ICMP_TIME_EXCEEDED 11
#define US_ICMP_PARAM_PROBLEM 12
#define US_ICMP_UNREACH_NET 0
#define US_ICMP_UNREACH_HOST 1
#define US_ICMP_UNREACH_PROTO 2
#define US_ICMP_UNREACH_PORT 3
#define US_ICMP_UNREACH_NEEDFRAG 4
#define US_ICMP_TIMXCEED_REASM 1

struct us_icmp_repr {
    uint8_t type, code;
    uint16_t id, seq;       /* echo request/reply only */
    uint16_t next_hop_mtu;  /* destination unreachable / fragmentation needed (RFC 1191) */
    uint8_t pointer;        /* parameter problem */
    const uint8_t *data;    /* after the 8-byte header: echo data, or the quoted datagram */
    size_t data_len;
};

/* Checks len >= 8 (ICMP_TRUNCATED) and the checksum over all len bytes (ICMP_BAD_CSUM).
 * Fills the fields that apply to r->type; unknown types parse fine (the caller decides). */
int us_wire_icmp_parse(struct us_icmp_repr *r, const uint8_t *b, size_t len);
static inline size_t
us_wire_icmp_emit_len(const struct us_icmp_repr *r)
{
    return US_ICMP_HDR_LEN + r->data_len;
}
/* Writes header + data (copied from r->data with memmove, so r->data may already be out + 8)
 * and the checksum. out_len must be us_wire_icmp_emit_len(r). */
void us_wire_icmp_emit(const struct us_icmp_repr *r, uint8_t *out, size_t out_len);

/* ---- UDP (RFC 768) ----------------------------------------------------------------------------- */

#define US_UDP_HDR_LEN 8

struct us_udp_repr {
    uint16_t src_port, dst_port;
    const uint8_t *payload;
    size_t payload_len;
};

/* Checks len >= 8 (UDP_TRUNCATED), 8 <= length field <= len (UDP_BAD_LEN; extra bytes ignored),
 * and when verify_csum and the checksum field is non-zero, the checksum with the pseudo-header
 * (UDP_BAD_CSUM). A zero checksum field means "none" (RFC 768). */
int us_wire_udp_parse(struct us_udp_repr *r, const uint8_t *b, size_t len, us_ip4_t src,
                      us_ip4_t dst, bool verify_csum);
/* Writes the 8-byte header at out; the payload must already be at out + 8 (r->payload ignored).
 * Checksum over pseudo-header + header + payload; a computed 0 is sent as 0xffff. */
void us_wire_udp_emit(const struct us_udp_repr *r, uint8_t *out, size_t payload_len, us_ip4_t src,
                      us_ip4_t dst);

/* ---- TCP (RFC 9293 3.1, options RFC 7323, RFC 2018) ------------------------------------------ */

#define US_TCP_HDR_LEN 20
#define US_TCP_MAX_OPT_LEN 40
#define US_TCP_FIN 0x01
#define US_TCP_SYN 0x02
#define US_TCP_RST 0x04
#define US_TCP_PSH 0x08
#define US_TCP_ACK 0x10
#define US_TCP_URG 0x20
#define US_TCP_ECE 0x40
#define US_TCP_CWR 0x80
#define US_TCP_MAX_SACK 4

struct us_tcp_sack_block {
    uint32_t start, end;
};

struct us_tcp_repr {
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t flags;          /* US_TCP_* bits as on the wire */
    uint16_t wnd;           /* raw window field (unscaled) */
    uint16_t urg_ptr;
    /* options: each present only if its has_ flag is set */
    bool has_mss, has_wscale, sack_ok, has_ts;
    uint16_t mss;
    uint8_t wscale;         /* as sent; the receiver clamps to 14 (RFC 7323 2.3) */
    uint32_t ts_val, ts_ecr;
    uint8_t n_sack;
    struct us_tcp_sack_block sack[US_TCP_MAX_SACK];
    const uint8_t *payload; /* after the header */
    size_t payload_len;
};

/* Checks len >= 20 (TCP_TRUNCATED), 5 <= data offset <= 15 and doff*4 <= len (TCP_BAD_DOFF),
 * checksum with the pseudo-header when verify_csum (TCP_BAD_CSUM), flag combinations a segment
 * can never carry: SYN+FIN, SYN+RST, FIN+RST... any two of SYN/FIN/RST (TCP_BAD_FLAGS), and
 * options: EOL ends the list, NOP is one byte, every other option has a length byte >= 2 that
 * fits in the header (TCP_BAD_OPTIONS). Known options with a wrong length (MSS 4, WS 3, SACK-OK
 * 2, TS 10, SACK 2+8n with n 1..4) are ignored, not fatal (as Linux does); unknown options are
 * skipped. Fills r; payload points into b. */
int us_wire_tcp_parse(struct us_tcp_repr *r, const uint8_t *b, size_t len, us_ip4_t src,
                      us_ip4_t dst, bool verify_csum);
/* Header length (20 + options padded to 4) that us_wire_tcp_emit will write for r. Options are
 * written in the order MSS, SACK-permitted+TS (or NOP,NOP,TS), NOP+WS, NOP,NOP+SACK blocks, the
 * layout Linux uses, and never exceed 40 bytes (SACK blocks are cut to fit). */
size_t us_wire_tcp_hdr_len(const struct us_tcp_repr *r);
/* Writes the header at out (hdr_len bytes as returned above); the payload of payload_len bytes
 * must already follow it. Computes the checksum over pseudo-header, header and payload. */
void us_wire_tcp_emit(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len,
                      size_t payload_len, us_ip4_t src, us_ip4_t dst);
/* The same with the payload's sum already known (us_csum_copy while copying it in). */
void us_wire_tcp_emit_sum(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len,
                          size_t payload_len, us_ip4_t src, us_ip4_t dst, uint32_t payload_sum);
/* The same, for checksum offload: the checksum field gets the folded pseudo-header sum (not
 * complemented) and the device or kernel finishes it over the segment (or each TSO segment). */
void us_wire_tcp_emit_partial(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len,
                              size_t payload_len, us_ip4_t src, us_ip4_t dst);

/* ---- helpers for trace output ------------------------------------------------------------------ */

/* "a.b.c.d" into buf (at least 16 bytes); returns buf. */
char *us_ip4_ntoa(us_ip4_t a, char *buf);
/* Parses dotted quad; returns 0 or -EINVAL. */
int us_ip4_aton(const char *s, us_ip4_t *out);
/* "aa:bb:cc:dd:ee:ff" into buf (at least 18 bytes); returns buf. */
char *us_mac_ntoa(const uint8_t mac[US_ETH_ALEN], char *buf);
int us_mac_aton(const char *s, uint8_t mac[US_ETH_ALEN]);

#endif
