/* TCP header (RFC 9293 3.1) with options MSS, window scale, timestamps (RFC 7323) and SACK
 * (RFC 2018): validating parse with pseudo-header checksum, and emit in Linux's option layout.
 * Layer: wire. No state; sequence checks, option negotiation and clamping belong to src/tcp/.
 * The parser reports options as found in any segment; deciding which matter (MSS/WS/SACK-OK only
 * on SYN) is the TCB's job. The emitter checksums the payload in place, so it must come first. */
#include <string.h>

#include "wire/wire.h"

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_OK 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_OPT_MSS_LEN 4
#define TCP_OPT_WS_LEN 3
#define TCP_OPT_SACK_OK_LEN 2
#define TCP_OPT_TS_LEN 10
#define TCP_OPT_SACK_BLOCK_LEN 8

/* Emitted sizes, each padded with NOPs to a 4-byte boundary as Linux does. */
#define TCP_EMIT_MSS_LEN 4      /* MSS */
#define TCP_EMIT_TS_LEN 12      /* SACK-OK + TS, or NOP NOP TS */
#define TCP_EMIT_SACK_OK_LEN 4  /* NOP NOP SACK-OK */
#define TCP_EMIT_WS_LEN 4       /* NOP WS */
#define TCP_EMIT_SACK_HDR_LEN 4 /* NOP NOP kind len, then 8 per block */

#define TCP_DOFF_MIN 5
#define TCP_CTL_MASK (US_TCP_SYN | US_TCP_FIN | US_TCP_RST)

/* Records one option whose kind and length byte are already known to fit in the header.
 * RFC 9293 3.1 MUST-6 says unknown options are skipped; a known option with the wrong length is
 * ignored too rather than failing the segment (Linux does the same), so a peer's odd encoding
 * cannot reset a connection. A repeated option overwrites the earlier one. */
static void
tcp_opt_record(struct us_tcp_repr *r, uint8_t kind, const uint8_t *data, size_t olen)
{
    switch (kind) {
    case TCP_OPT_MSS: /* RFC 9293 3.2: kind 2, length 4, 16-bit MSS. */
        if (olen == TCP_OPT_MSS_LEN) {
            r->has_mss = true;
            r->mss = us_load_be16(data);
        }
        break;
    case TCP_OPT_WS: /* RFC 7323 2.2: kind 3, length 3, shift.cnt kept as sent (2.3 clamps). */
        if (olen == TCP_OPT_WS_LEN) {
            r->has_wscale = true;
            r->wscale = data[0];
        }
        break;
    case TCP_OPT_SACK_OK: /* RFC 2018 2: kind 4, length 2. */
        if (olen == TCP_OPT_SACK_OK_LEN)
            r->sack_ok = true;
        break;
    case TCP_OPT_TS: /* RFC 7323 3.2: kind 8, length 10, TSval then TSecr. */
        if (olen == TCP_OPT_TS_LEN) {
            r->has_ts = true;
            r->ts_val = us_load_be32(data);
            r->ts_ecr = us_load_be32(data + 4);
        }
        break;
    case TCP_OPT_SACK: { /* RFC 2018 3: kind 5, length 2 + 8n, n blocks of left/right edge. */
        size_t body = olen - 2;
        size_t n = body / TCP_OPT_SACK_BLOCK_LEN;
        if (body % TCP_OPT_SACK_BLOCK_LEN != 0 || n < 1 || n > US_TCP_MAX_SACK)
            break;
        r->n_sack = (uint8_t)n;
        for (size_t i = 0; i < n; i++) {
            r->sack[i].start = us_load_be32(data + i * TCP_OPT_SACK_BLOCK_LEN);
            r->sack[i].end = us_load_be32(data + i * TCP_OPT_SACK_BLOCK_LEN + 4);
        }
        break;
    }
    default: /* RFC 9293 3.1 MUST-6: ignore options we do not implement. */
        break;
    }
}

/* RFC 9293 3.1 "Options": EOL ends the list (what follows is padding, not examined), NOP is one
 * octet, every other option carries a length counting kind and length octets (so >= 2) that must
 * end inside the header (MUST-7: be prepared for an illegal length such as 0). `remaining` is
 * the number of option bytes left; it only ever decreases. Returns 0 or US_DROP_TCP_BAD_OPTIONS. */
static int
tcp_parse_options(struct us_tcp_repr *r, const uint8_t *opt, size_t remaining)
{
    while (remaining > 0) {
        uint8_t kind = opt[0];
        if (kind == TCP_OPT_EOL)
            return 0;
        if (kind == TCP_OPT_NOP) {
            opt++;
            remaining--;
            continue;
        }
        if (remaining < 2)
            return US_DROP_TCP_BAD_OPTIONS;
        size_t olen = opt[1];
        if (olen < 2 || olen > remaining)
            return US_DROP_TCP_BAD_OPTIONS;
        tcp_opt_record(r, kind, opt + 2, olen);
        opt += olen;
        remaining -= olen;
    }
    return 0;
}

int
us_wire_tcp_parse(struct us_tcp_repr *r, const uint8_t *b, size_t len, us_ip4_t src,
                  us_ip4_t dst, bool verify_csum)
{
    if (len < US_TCP_HDR_LEN)
        return US_DROP_TCP_TRUNCATED;
    /* RFC 9293 3.1 "Data Offset": header length in 32-bit words; 5 is the option-free minimum,
     * and the header must be inside the segment (microps trusted it; we do not). */
    size_t doff = b[12] >> 4;
    size_t hdr_len = doff * 4;
    if (doff < TCP_DOFF_MIN || hdr_len > len)
        return US_DROP_TCP_BAD_DOFF;
    /* RFC 9293 3.1 "Checksum": covers the pseudo-header (TCP length = header + data), the header
     * and the data. The IP layer hands us at most 65515 bytes, so the length fits 16 bits. */
    if (verify_csum) {
        uint32_t sum = us_csum_pseudo4(src, dst, US_IPPROTO_TCP, (uint16_t)len);
        if (us_csum_finish(us_csum_add(sum, b, len)) != 0)
            return US_DROP_TCP_BAD_CSUM;
    }
    /* RFC 9293 3.10.7: SYN, FIN and RST each start or end a connection in a different way; a
     * segment with two of them has no meaning, so it never reaches the state machine.
     * DEVIATION(RFC 9293 3.10.7.2, 3.10.7.3): a FIN on a SYN or SYN-ACK is legal there, to be
     * queued with the SYN's text; we drop the whole segment, unacknowledged, as Linux does in
     * LISTEN (SYN+FIN is a scanning pattern more than a real open). A peer that sent one sends
     * it again and never connects, exactly as against Linux; nothing of it is acknowledged. */
    uint8_t flags = b[13];
    uint8_t ctl = flags & TCP_CTL_MASK;
    if ((ctl & (ctl - 1)) != 0)
        return US_DROP_TCP_BAD_FLAGS;

    /* Zero everything, padding included, so reprs can be compared byte-wise (fuzz target). */
    memset(r, 0, sizeof(*r));
    const uint8_t *opt = b + US_TCP_HDR_LEN;
    if (hdr_len == US_TCP_HDR_LEN + 12 && us_load_be32(opt) == 0x0101080au) {
        /* RFC 7323 Appendix A: the layout nearly every segment of a connection with timestamps
         * uses (NOP, NOP, TS): taken without walking the list (as Linux's
         * tcp_parse_aligned_timestamp). Anything else takes the general path below. */
        r->has_ts = true;
        r->ts_val = us_load_be32(opt + 4);
        r->ts_ecr = us_load_be32(opt + 8);
    } else {
        int rc = tcp_parse_options(r, opt, hdr_len - US_TCP_HDR_LEN);
        if (rc != 0)
            return rc;
    }
    r->src_port = us_load_be16(b);
    r->dst_port = us_load_be16(b + 2);
    r->seq = us_load_be32(b + 4);
    r->ack = us_load_be32(b + 8);
    r->flags = flags;
    r->wnd = us_load_be16(b + 14);
    r->urg_ptr = us_load_be16(b + 18);
    r->payload = b + hdr_len;
    r->payload_len = len - hdr_len;
    return 0;
}

/* Bytes of options other than SACK blocks that tcp_emit_options writes for r. */
static size_t
tcp_fixed_opts_len(const struct us_tcp_repr *r)
{
    size_t n = 0;
    if (r->has_mss)
        n += TCP_EMIT_MSS_LEN;
    if (r->has_ts)
        n += TCP_EMIT_TS_LEN; /* SACK-OK, if any, shares the TS word's two leading bytes */
    else if (r->sack_ok)
        n += TCP_EMIT_SACK_OK_LEN;
    if (r->has_wscale)
        n += TCP_EMIT_WS_LEN;
    return n;
}

/* How many of r's SACK blocks fit after `fixed` option bytes within the 40-byte limit
 * (RFC 2018 3: with timestamps at most 3 blocks fit; fewer with MSS/WS on the same segment). */
static size_t
tcp_sack_fit(const struct us_tcp_repr *r, size_t fixed)
{
    size_t want = US_MIN((size_t)r->n_sack, (size_t)US_TCP_MAX_SACK);
    if (want == 0 || fixed + TCP_EMIT_SACK_HDR_LEN + TCP_OPT_SACK_BLOCK_LEN > US_TCP_MAX_OPT_LEN)
        return 0;
    size_t room = (US_TCP_MAX_OPT_LEN - fixed - TCP_EMIT_SACK_HDR_LEN) / TCP_OPT_SACK_BLOCK_LEN;
    return US_MIN(want, room);
}

size_t
us_wire_tcp_hdr_len(const struct us_tcp_repr *r)
{
    size_t fixed = tcp_fixed_opts_len(r);
    size_t n = tcp_sack_fit(r, fixed);
    size_t opts = fixed + (n > 0 ? TCP_EMIT_SACK_HDR_LEN + n * TCP_OPT_SACK_BLOCK_LEN : 0);
    /* Every piece is a multiple of 4, so no trailing padding is needed. */
    return US_TCP_HDR_LEN + opts;
}

/* The header is written one 32-bit word at a time, each word also added to a running sum of
 * word values: the checksum then never reads back what was just stored. */
struct tcp_out {
    uint8_t *p;
    uint64_t sum;
};

static inline void
tcp_put32(struct tcp_out *o, uint32_t w)
{
    us_store_be32(o->p, w);
    o->sum += w;
    o->p += 4;
}

/* Four option bytes as one word. */
static inline uint32_t
tcp_opt_word(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

/* Writes the options in Linux's order; returns the number of bytes written. */
static size_t
tcp_emit_options(const struct us_tcp_repr *r, struct tcp_out *o)
{
    uint8_t *start = o->p;
    if (r->has_mss) /* RFC 9293 3.2 */
        tcp_put32(o, tcp_opt_word(TCP_OPT_MSS, TCP_OPT_MSS_LEN, 0, 0) | r->mss);
    if (r->has_ts) { /* RFC 7323 3.2, preceded by RFC 2018 2 SACK-OK or by two NOPs */
        tcp_put32(o, r->sack_ok ? tcp_opt_word(TCP_OPT_SACK_OK, TCP_OPT_SACK_OK_LEN, TCP_OPT_TS,
                                               TCP_OPT_TS_LEN)
                                : tcp_opt_word(TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_TS,
                                               TCP_OPT_TS_LEN));
        tcp_put32(o, r->ts_val);
        tcp_put32(o, r->ts_ecr);
    } else if (r->sack_ok) {
        tcp_put32(o, tcp_opt_word(TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK_OK, TCP_OPT_SACK_OK_LEN));
    }
    if (r->has_wscale) /* RFC 7323 2.2 */
        tcp_put32(o, tcp_opt_word(TCP_OPT_NOP, TCP_OPT_WS, TCP_OPT_WS_LEN, r->wscale));
    size_t n = tcp_sack_fit(r, (size_t)(o->p - start));
    if (n > 0) { /* RFC 2018 3 */
        tcp_put32(o, tcp_opt_word(TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK,
                                  (uint8_t)(2 + n * TCP_OPT_SACK_BLOCK_LEN)));
        for (size_t i = 0; i < n; i++) {
            tcp_put32(o, r->sack[i].start);
            tcp_put32(o, r->sack[i].end);
        }
    }
    return (size_t)(o->p - start);
}

static void
tcp_emit_common(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len, size_t payload_len,
                us_ip4_t src, us_ip4_t dst, bool partial, const uint32_t *payload_sum)
{
    US_ASSERT(hdr_len == us_wire_tcp_hdr_len(r));
    US_ASSERT(hdr_len % 4 == 0 && hdr_len <= US_TCP_HDR_LEN + US_TCP_MAX_OPT_LEN);
    US_ASSERT(payload_len <= 0xffff - hdr_len);
    struct tcp_out o = {.p = out, .sum = 0};
    tcp_put32(&o, (uint32_t)r->src_port << 16 | r->dst_port);
    tcp_put32(&o, r->seq);
    tcp_put32(&o, r->ack);
    /* data offset (reserved bits zero), flags, window */
    tcp_put32(&o, (uint32_t)(hdr_len / 4) << 28 | (uint32_t)r->flags << 16 | r->wnd);
    tcp_put32(&o, r->urg_ptr); /* checksum field zero for now */
    size_t written = tcp_emit_options(r, &o);
    US_ASSERT(US_TCP_HDR_LEN + written == hdr_len);
    (void)written;
    /* RFC 9293 3.1 "Checksum": pseudo-header, header with the field zero, then the data. */
    uint16_t seg_len = (uint16_t)(hdr_len + payload_len);
    uint32_t sum = us_csum_pseudo4(src, dst, US_IPPROTO_TCP, seg_len);
    if (partial) { /* offload: the field holds the folded pseudo-header sum, uncomplemented */
        us_store_be16(out + 16, (uint16_t)~us_csum_finish(sum));
        return;
    }
    sum += us_csum_fold_words(o.sum);
    if (payload_sum) /* the header has even length, so the payload's sum just adds on */
        sum += *payload_sum;
    else if (payload_len)
        sum = us_csum_add(sum, out + hdr_len, payload_len);
    us_store_be16(out + 16, us_csum_finish(sum));
}

void
us_wire_tcp_emit(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len, size_t payload_len,
                 us_ip4_t src, us_ip4_t dst)
{
    tcp_emit_common(r, out, hdr_len, payload_len, src, dst, false, NULL);
}

void
us_wire_tcp_emit_sum(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len,
                     size_t payload_len, us_ip4_t src, us_ip4_t dst, uint32_t payload_sum)
{
    tcp_emit_common(r, out, hdr_len, payload_len, src, dst, false, &payload_sum);
}

void
us_wire_tcp_emit_partial(const struct us_tcp_repr *r, uint8_t *out, size_t hdr_len,
                         size_t payload_len, us_ip4_t src, us_ip4_t dst)
{
    tcp_emit_common(r, out, hdr_len, payload_len, src, dst, true, NULL);
}
