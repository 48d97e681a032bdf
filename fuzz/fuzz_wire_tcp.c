/* libFuzzer target: TCP parse. Input = source address (4) + destination address (4) + segment.
 * Parses with and without checksum verification (they must agree except TCP_BAD_CSUM), then
 * re-emits into a buffer sized by us_wire_tcp_hdr_len + payload and re-parses with verification:
 * ports, seq/ack, flags, window, urgent pointer, options (SACK blocks possibly cut to fit) and
 * payload must survive. Any disagreement aborts. */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* SACK blocks the emitter has room for next to r's other options: 40 option bytes, of which
 * MSS 4, TS 12 (SACK-OK rides in it) or SACK-OK 4, WS 4; then 4 + 8 per block. */
static size_t
expected_sack(const struct us_tcp_repr *r)
{
    size_t fixed = (r->has_mss ? 4u : 0u) + (r->has_ts ? 12u : r->sack_ok ? 4u : 0u) +
                   (r->has_wscale ? 4u : 0u);
    size_t fit = (US_TCP_MAX_OPT_LEN - fixed - 4) / 8;
    return r->n_sack < fit ? r->n_sack : fit;
}

static void
check_same(const struct us_tcp_repr *a, const struct us_tcp_repr *p)
{
    if (p->src_port != a->src_port || p->dst_port != a->dst_port || p->seq != a->seq ||
        p->ack != a->ack || p->flags != a->flags || p->wnd != a->wnd || p->urg_ptr != a->urg_ptr)
        abort();
    if (p->has_mss != a->has_mss || (a->has_mss && p->mss != a->mss))
        abort();
    if (p->has_wscale != a->has_wscale || (a->has_wscale && p->wscale != a->wscale))
        abort();
    if (p->sack_ok != a->sack_ok || p->has_ts != a->has_ts)
        abort();
    if (a->has_ts && (p->ts_val != a->ts_val || p->ts_ecr != a->ts_ecr))
        abort();
    size_t n = expected_sack(a);
    if (p->n_sack != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (p->sack[i].start != a->sack[i].start || p->sack[i].end != a->sack[i].end)
            abort();
    if (p->payload_len != a->payload_len || memcmp(p->payload, a->payload, a->payload_len) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The IP layer never hands TCP more than 65535 - 20 bytes. */
    if (size < 8 || size - 8 > US_IP4_MAX_LEN - US_IP4_HDR_LEN)
        return 0;
    us_ip4_t src = us_load_be32(data), dst = us_load_be32(data + 4);
    const uint8_t *b = data + 8;
    size_t len = size - 8;

    struct us_tcp_repr r, rv;
    memset(&r, 0, sizeof(r)); /* padding too: the reprs are compared with memcmp */
    memset(&rv, 0, sizeof(rv));
    int rc = us_wire_tcp_parse(&r, b, len, src, dst, false);
    int rcv = us_wire_tcp_parse(&rv, b, len, src, dst, true);
    if (rcv == 0 && (rc != 0 || memcmp(&r, &rv, sizeof(r)) != 0))
        abort();
    if (rcv != 0 && rcv != US_DROP_TCP_BAD_CSUM && rcv != rc)
        abort();
    /* The checksum is checked after the length checks and before flags and options. */
    if (rcv == US_DROP_TCP_BAD_CSUM && (rc == US_DROP_TCP_TRUNCATED || rc == US_DROP_TCP_BAD_DOFF))
        abort();
    if (rc != 0)
        return 0;
    size_t in_hl = (size_t)(b[12] >> 4) * 4;
    if (r.payload != b + in_hl || in_hl + r.payload_len != len || r.n_sack > US_TCP_MAX_SACK)
        abort();
    unsigned ctl = r.flags & (US_TCP_SYN | US_TCP_FIN | US_TCP_RST);
    if ((ctl & (ctl - 1)) != 0)
        abort();

    size_t hl = us_wire_tcp_hdr_len(&r);
    if (hl % 4 != 0 || hl < US_TCP_HDR_LEN || hl > US_TCP_HDR_LEN + US_TCP_MAX_OPT_LEN)
        abort();
    size_t n = hl + r.payload_len;
    if (n > US_IP4_MAX_LEN - US_IP4_HDR_LEN)
        return 0; /* input header was shorter than ours and the payload is at the limit */
    uint8_t *out = malloc(n ? n : 1);
    if (out == NULL)
        return 0;
    if (r.payload_len > 0)
        memcpy(out + hl, r.payload, r.payload_len);
    us_wire_tcp_emit(&r, out, hl, r.payload_len, src, dst);
    struct us_tcp_repr p;
    if (us_wire_tcp_parse(&p, out, n, src, dst, true) != 0)
        abort();
    check_same(&r, &p);
    /* When the input already used our option bytes and no reserved bits, the emitted segment is
     * the input, except that a verified checksum may differ as 0x0000 against 0xffff (both are
     * zero in one's complement) and an unverified one may differ at all. */
    if (hl == in_hl && (b[12] & 0x0f) == 0 && memcmp(out + 20, b + 20, hl - 20) == 0) {
        if (memcmp(out, b, 16) != 0 || memcmp(out + 18, b + 18, n - 18) != 0)
            abort();
        uint16_t c_in = us_load_be16(b + 16), c_out = us_load_be16(out + 16);
        if (rcv == 0 && c_in != c_out && !(c_in == 0 && c_out == 0xffff) &&
            !(c_in == 0xffff && c_out == 0))
            abort();
    }
    free(out);
    return 0;
}
