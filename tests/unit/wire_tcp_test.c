/* Unit tests for TCP header parse/emit (RFC 9293 3.1, RFC 7323, RFC 2018): byte-exact Linux
 * style SYN with an independently computed checksum, option round trips and SACK cutting, every
 * drop reason and the order of checks, truncation, malformed and odd options. */
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

#define SRC US_IP4(192, 0, 2, 1)
#define DST US_IP4(192, 0, 2, 2)

/* 192.0.2.1:40000 -> 192.0.2.2:80 SYN, seq 0x12345678, window 64240, options as Linux sends:
 * MSS 1460, SACK-OK, TS (val 0x01020304, ecr 0), NOP, WS 7. Checksum bfc8 computed with an
 * independent Python one's-complement sum. */
static const uint8_t syn_seg[40] = {
    0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xfa, 0xf0, 0xbf, 0xc8, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

/* 192.0.2.1:80 -> 192.0.2.2:40000 ACK|PSH, seq 0x9abcdef0, ack 0x12345679, window 501,
 * NOP NOP TS (0x11223344, 0x01020304), payload "hello, tcp!". Checksum 4077 from Python. */
static const uint8_t data_seg[43] = {
    0x00, 0x50, 0x9c, 0x40, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x79, 0x80, 0x18, 0x01,
    0xf5, 0x40, 0x77, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x01, 0x02,
    0x03, 0x04, 'h',  'e',  'l',  'l',  'o',  ',',  ' ',  't',  'c',  'p',  '!'};

/* Exactly sized heap copy, so ASan flags any read past len. */
static uint8_t *
copy_of(const uint8_t *b, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(c);
    memcpy(c, b, len);
    return c;
}

/* Builds a segment (exactly sized, heap) with the given raw option bytes (optlen % 4 == 0),
 * flags and payload, with a correct checksum. Caller frees. */
static uint8_t *
make_seg(uint8_t flags, const uint8_t *opts, size_t optlen, const void *payload, size_t plen,
         size_t *len_out)
{
    ck_assert_uint_eq(optlen % 4, 0);
    ck_assert_uint_le(optlen, US_TCP_MAX_OPT_LEN);
    size_t len = US_TCP_HDR_LEN + optlen + plen;
    uint8_t *b = calloc(1, len);
    ck_assert_ptr_nonnull(b);
    us_store_be16(b, 1234);
    us_store_be16(b + 2, 80);
    us_store_be32(b + 4, 1000);
    us_store_be32(b + 8, 2000);
    b[12] = (uint8_t)(((US_TCP_HDR_LEN + optlen) / 4) << 4);
    b[13] = flags;
    us_store_be16(b + 14, 4096);
    if (optlen)
        memcpy(b + US_TCP_HDR_LEN, opts, optlen);
    if (plen)
        memcpy(b + US_TCP_HDR_LEN + optlen, payload, plen);
    uint32_t sum = us_csum_pseudo4(SRC, DST, US_IPPROTO_TCP, (uint16_t)len);
    us_store_be16(b + 16, us_csum_finish(us_csum_add(sum, b, len)));
    *len_out = len;
    return b;
}

/* Parses a segment carrying the given options (verifying the checksum); returns the result. */
static int
parse_opts(const uint8_t *opts, size_t optlen, struct us_tcp_repr *r)
{
    size_t len;
    uint8_t *b = make_seg(US_TCP_ACK, opts, optlen, NULL, 0, &len);
    int rc = us_wire_tcp_parse(r, b, len, SRC, DST, true);
    if (rc == 0)
        r->payload = NULL; /* about to be freed */
    free(b);
    return rc;
}

static struct us_tcp_repr
syn_repr(void)
{
    struct us_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.src_port = 40000;
    r.dst_port = 80;
    r.seq = 0x12345678;
    r.flags = US_TCP_SYN;
    r.wnd = 64240;
    r.has_mss = true;
    r.mss = 1460;
    r.sack_ok = true;
    r.has_ts = true;
    r.ts_val = 0x01020304;
    r.has_wscale = true;
    r.wscale = 7;
    return r;
}

START_TEST(test_parse_known_syn)
{
    uint8_t *b = copy_of(syn_seg, sizeof(syn_seg));
    struct us_tcp_repr r;
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(syn_seg), SRC, DST, true), 0);
    ck_assert_uint_eq(r.src_port, 40000);
    ck_assert_uint_eq(r.dst_port, 80);
    ck_assert_uint_eq(r.seq, 0x12345678);
    ck_assert_uint_eq(r.ack, 0);
    ck_assert_uint_eq(r.flags, US_TCP_SYN);
    ck_assert_uint_eq(r.wnd, 64240);
    ck_assert_uint_eq(r.urg_ptr, 0);
    ck_assert(r.has_mss);
    ck_assert_uint_eq(r.mss, 1460);
    ck_assert(r.sack_ok);
    ck_assert(r.has_ts);
    ck_assert_uint_eq(r.ts_val, 0x01020304);
    ck_assert_uint_eq(r.ts_ecr, 0);
    ck_assert(r.has_wscale);
    ck_assert_uint_eq(r.wscale, 7);
    ck_assert_uint_eq(r.n_sack, 0);
    ck_assert_ptr_eq(r.payload, b + 40);
    ck_assert_uint_eq(r.payload_len, 0);
    free(b);
}
END_TEST

START_TEST(test_emit_known_syn_exact)
{
    struct us_tcp_repr r = syn_repr();
    size_t hl = us_wire_tcp_hdr_len(&r);
    ck_assert_uint_eq(hl, sizeof(syn_seg));
    uint8_t *out = malloc(hl);
    ck_assert_ptr_nonnull(out);
    memset(out, 0xee, hl);
    us_wire_tcp_emit(&r, out, hl, 0, SRC, DST);
    ck_assert_mem_eq(out, syn_seg, sizeof(syn_seg));
    free(out);
}
END_TEST

START_TEST(test_aligned_ts_same_as_general)
{
    /* The NOP, NOP, TS layout is taken by a shortcut; the same option in another layout walks
     * the general list. Both must give the same repr, byte for byte. */
    static const uint8_t aligned[12] = {1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 42};
    static const uint8_t trailing[12] = {8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 42, 1, 0};
    struct us_tcp_repr a, g;
    ck_assert_int_eq(parse_opts(aligned, sizeof(aligned), &a), 0);
    ck_assert_int_eq(parse_opts(trailing, sizeof(trailing), &g), 0);
    ck_assert(a.has_ts);
    ck_assert_uint_eq(a.ts_val, 0xdeadbeef);
    ck_assert_uint_eq(a.ts_ecr, 42);
    ck_assert_mem_eq(&a, &g, sizeof(a));
    /* A TS option of the wrong length in the aligned position is no shortcut: it is ignored. */
    static const uint8_t badlen[12] = {1, 1, 8, 9, 0, 0, 0, 1, 0, 0, 0, 0};
    ck_assert_int_eq(parse_opts(badlen, sizeof(badlen), &a), 0);
    ck_assert(!a.has_ts);
}
END_TEST

START_TEST(test_known_data_segment)
{
    uint8_t *b = copy_of(data_seg, sizeof(data_seg));
    struct us_tcp_repr r;
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(data_seg), SRC, DST, true), 0);
    ck_assert_uint_eq(r.src_port, 80);
    ck_assert_uint_eq(r.dst_port, 40000);
    ck_assert_uint_eq(r.seq, 0x9abcdef0);
    ck_assert_uint_eq(r.ack, 0x12345679);
    ck_assert_uint_eq(r.flags, US_TCP_ACK | US_TCP_PSH);
    ck_assert_uint_eq(r.wnd, 501);
    ck_assert(!r.has_mss && !r.has_wscale && !r.sack_ok);
    ck_assert(r.has_ts);
    ck_assert_uint_eq(r.ts_val, 0x11223344);
    ck_assert_uint_eq(r.ts_ecr, 0x01020304);
    ck_assert_ptr_eq(r.payload, b + 32);
    ck_assert_uint_eq(r.payload_len, 11);
    ck_assert_mem_eq(r.payload, "hello, tcp!", 11);

    /* Re-emitting the parsed repr reproduces the segment byte for byte, checksum included. */
    size_t hl = us_wire_tcp_hdr_len(&r);
    ck_assert_uint_eq(hl, 32);
    uint8_t *out = malloc(hl + 11);
    ck_assert_ptr_nonnull(out);
    memcpy(out + hl, "hello, tcp!", 11);
    us_wire_tcp_emit(&r, out, hl, 11, SRC, DST);
    ck_assert_mem_eq(out, data_seg, sizeof(data_seg));
    free(out);
    free(b);
}
END_TEST

START_TEST(test_bad_csum)
{
    uint8_t b[sizeof(data_seg)];
    struct us_tcp_repr r;
    /* Any single flipped bit in header, options or payload fails verification. */
    for (size_t i = 0; i < sizeof(b); i++) {
        memcpy(b, data_seg, sizeof(b));
        b[i] ^= 0x10;
        ck_assert_msg(us_wire_tcp_parse(&r, b, sizeof(b), SRC, DST, true) == US_DROP_TCP_BAD_CSUM,
                      "byte %zu", i);
    }
    memcpy(b, data_seg, sizeof(b));
    b[40] = 'P';
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(b), SRC, DST, false), 0);
    /* The pseudo-header is covered: addresses and the length (via a shorter segment). */
    memcpy(b, data_seg, sizeof(b));
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(b), SRC + 1, DST, true), US_DROP_TCP_BAD_CSUM);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(b), SRC, SRC, true), US_DROP_TCP_BAD_CSUM);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(b), DST, SRC, true), 0);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, sizeof(b) - 1, SRC, DST, true),
                     US_DROP_TCP_BAD_CSUM);
}
END_TEST

START_TEST(test_truncated_every_length)
{
    struct us_tcp_repr r;
    for (size_t n = 0; n < sizeof(syn_seg); n++) {
        uint8_t *b = copy_of(syn_seg, n);
        int want = n < 20 ? US_DROP_TCP_TRUNCATED : US_DROP_TCP_BAD_DOFF;
        ck_assert_msg(us_wire_tcp_parse(&r, b, n, SRC, DST, true) == want, "len %zu", n);
        ck_assert_msg(us_wire_tcp_parse(&r, b, n, SRC, DST, false) == want, "len %zu", n);
        free(b);
    }
    for (size_t n = 0; n <= sizeof(data_seg); n++) {
        uint8_t *b = copy_of(data_seg, n);
        int want = n < 20 ? US_DROP_TCP_TRUNCATED : n < 32 ? US_DROP_TCP_BAD_DOFF : 0;
        ck_assert_msg(us_wire_tcp_parse(&r, b, n, SRC, DST, false) == want, "len %zu", n);
        if (want == 0)
            ck_assert_uint_eq(r.payload_len, n - 32);
        /* Without a length field the checksum is what catches a short segment. */
        if (n >= 32 && n < sizeof(data_seg))
            want = US_DROP_TCP_BAD_CSUM;
        ck_assert_msg(us_wire_tcp_parse(&r, b, n, SRC, DST, true) == want, "len %zu", n);
        free(b);
    }
}
END_TEST

START_TEST(test_doff)
{
    struct us_tcp_repr r;
    uint8_t b[60];
    memset(b, 0, sizeof(b));
    b[13] = US_TCP_ACK;
    for (unsigned d = 0; d < 16; d++) {
        b[12] = (uint8_t)(d << 4);
        int want = d < 5 ? US_DROP_TCP_BAD_DOFF : 0;
        ck_assert_msg(us_wire_tcp_parse(&r, b, sizeof(b), SRC, DST, false) == want, "doff %u", d);
        if (want == 0) {
            ck_assert_uint_eq(r.payload_len, 60 - d * 4);
            ck_assert_ptr_eq(r.payload, b + d * 4);
        }
        /* Past the end of the segment: one byte short of the header. */
        if (d >= 5) {
            uint8_t *c = copy_of(b, d * 4 - 1);
            ck_assert_int_eq(us_wire_tcp_parse(&r, c, d * 4 - 1, SRC, DST, false),
                             d == 5 ? US_DROP_TCP_TRUNCATED : US_DROP_TCP_BAD_DOFF);
            free(c);
        }
    }
    /* Reserved bits next to the data offset are not looked at. */
    b[12] = 0x5f;
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, 20, SRC, DST, false), 0);
    ck_assert_uint_eq(r.payload_len, 0);
}
END_TEST

START_TEST(test_flags_all_combinations)
{
    struct us_tcp_repr r;
    for (unsigned f = 0; f < 256; f++) {
        size_t len;
        uint8_t *b = make_seg((uint8_t)f, NULL, 0, "x", 1, &len);
        unsigned ctl = f & (US_TCP_SYN | US_TCP_FIN | US_TCP_RST);
        bool bad = ctl != 0 && ctl != US_TCP_SYN && ctl != US_TCP_FIN && ctl != US_TCP_RST;
        int rc = us_wire_tcp_parse(&r, b, len, SRC, DST, true);
        ck_assert_msg(rc == (bad ? US_DROP_TCP_BAD_FLAGS : 0), "flags %#x rc %d", f, rc);
        if (rc == 0)
            ck_assert_uint_eq(r.flags, f);
        free(b);
    }
    static const uint8_t pairs[] = {US_TCP_SYN | US_TCP_FIN, US_TCP_SYN | US_TCP_RST,
                                    US_TCP_FIN | US_TCP_RST,
                                    US_TCP_SYN | US_TCP_FIN | US_TCP_RST | US_TCP_ACK};
    for (size_t i = 0; i < sizeof(pairs); i++) {
        size_t len;
        uint8_t *b = make_seg(pairs[i], NULL, 0, NULL, 0, &len);
        ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, true), US_DROP_TCP_BAD_FLAGS);
        free(b);
    }
}
END_TEST

/* Checks run in the documented order: truncated, doff, checksum, flags, options. */
START_TEST(test_check_order)
{
    static const uint8_t bad_opts[4] = {0x02, 0x00, 0x00, 0x00};
    struct us_tcp_repr r;
    size_t len;
    uint8_t *b = make_seg(US_TCP_SYN | US_TCP_FIN, bad_opts, 4, NULL, 0, &len);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, true), US_DROP_TCP_BAD_FLAGS);
    b[16] ^= 1; /* now the checksum is wrong too */
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, true), US_DROP_TCP_BAD_CSUM);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, false), US_DROP_TCP_BAD_FLAGS);
    b[12] = 0x40; /* and the data offset */
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, true), US_DROP_TCP_BAD_DOFF);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, 19, SRC, DST, true), US_DROP_TCP_TRUNCATED);
    b[12] = 0x60;
    b[13] = US_TCP_SYN;
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, false), US_DROP_TCP_BAD_OPTIONS);
    free(b);
}
END_TEST

START_TEST(test_option_bad_lengths)
{
    struct us_tcp_repr r;
    static const uint8_t cases[][8] = {
        {0x02, 0x00, 0x05, 0xb4, 0, 0, 0, 0},       /* MSS length 0 */
        {0x02, 0x01, 0x05, 0xb4, 0, 0, 0, 0},       /* MSS length 1 */
        {0xfe, 0x00, 0x01, 0x01, 0, 0, 0, 0},       /* unknown option, length 0 */
        {0xfe, 0x01, 0x01, 0x01, 0, 0, 0, 0},       /* unknown option, length 1 */
        {0x01, 0x01, 0x01, 0x01, 0x02, 0x05, 0, 0}, /* one byte past the end */
        {0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x08, 0x0a}, /* TS header, no room for data */
        {0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02}, /* kind is the last byte */
        {0x01, 0x05, 0xff, 0, 0, 0, 0, 0},          /* length 255 */
    };
    for (size_t i = 0; i < US_ARRAY_LEN(cases); i++)
        ck_assert_msg(parse_opts(cases[i], 8, &r) == US_DROP_TCP_BAD_OPTIONS, "case %zu", i);
    /* A length running past the header is caught even though payload bytes follow. */
    size_t len;
    static const uint8_t o[4] = {0x01, 0xfe, 0x04, 0x00};
    uint8_t *b = make_seg(US_TCP_ACK, o, 4, "abcdefgh", 8, &len);
    ck_assert_int_eq(us_wire_tcp_parse(&r, b, len, SRC, DST, true), US_DROP_TCP_BAD_OPTIONS);
    free(b);
    /* A 40-byte option area whose last option ends exactly at the header end is fine. */
    uint8_t full[40];
    memset(full, 0x01, sizeof(full));
    full[36] = 0x02;
    full[37] = 0x04;
    full[38] = 0x02;
    full[39] = 0x18;
    ck_assert_int_eq(parse_opts(full, 40, &r), 0);
    ck_assert(r.has_mss);
    ck_assert_uint_eq(r.mss, 536);
}
END_TEST

START_TEST(test_option_eol_early)
{
    struct us_tcp_repr r;
    /* Everything after EOL is padding: even an illegal option there is not examined. */
    static const uint8_t o1[8] = {0x00, 0x02, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4};
    ck_assert_int_eq(parse_opts(o1, 8, &r), 0);
    ck_assert(!r.has_mss);
    static const uint8_t o2[8] = {0x02, 0x04, 0x05, 0xb4, 0x00, 0x03, 0x03, 0x07};
    ck_assert_int_eq(parse_opts(o2, 8, &r), 0);
    ck_assert(r.has_mss);
    ck_assert(!r.has_wscale);
    static const uint8_t o3[4] = {0x00, 0x00, 0x00, 0x00};
    ck_assert_int_eq(parse_opts(o3, 4, &r), 0);
    ck_assert(!r.has_mss && !r.has_wscale && !r.sack_ok && !r.has_ts && r.n_sack == 0);
}
END_TEST

START_TEST(test_option_unknown_skipped)
{
    struct us_tcp_repr r;
    static const uint8_t o[16] = {0xfe, 0x06, 0x02, 0x04, 0x05, 0xb4, /* experimental, 6 */
                                  0x1e, 0x02,                         /* MPTCP, empty */
                                  0x02, 0x04, 0x02, 0x18,             /* MSS 536 */
                                  0x01, 0x03, 0x03, 0x02};            /* WS 2 */
    ck_assert_int_eq(parse_opts(o, sizeof(o), &r), 0);
    ck_assert(r.has_mss);
    ck_assert_uint_eq(r.mss, 536); /* not the MSS-looking bytes inside the unknown option */
    ck_assert(r.has_wscale);
    ck_assert_uint_eq(r.wscale, 2);
}
END_TEST

START_TEST(test_option_wrong_length_ignored)
{
    struct us_tcp_repr r;
    static const uint8_t mss3[4] = {0x02, 0x03, 0x05, 0x01};
    ck_assert_int_eq(parse_opts(mss3, 4, &r), 0);
    ck_assert(!r.has_mss);
    static const uint8_t mss6[8] = {0x02, 0x06, 0x05, 0xb4, 0x00, 0x00, 0x01, 0x01};
    ck_assert_int_eq(parse_opts(mss6, 8, &r), 0);
    ck_assert(!r.has_mss);
    static const uint8_t ws2[4] = {0x03, 0x02, 0x01, 0x01};
    ck_assert_int_eq(parse_opts(ws2, 4, &r), 0);
    ck_assert(!r.has_wscale);
    static const uint8_t ws4[4] = {0x03, 0x04, 0x07, 0x00};
    ck_assert_int_eq(parse_opts(ws4, 4, &r), 0);
    ck_assert(!r.has_wscale);
    static const uint8_t sok3[4] = {0x04, 0x03, 0x00, 0x01};
    ck_assert_int_eq(parse_opts(sok3, 4, &r), 0);
    ck_assert(!r.sack_ok);
    static const uint8_t ts8[8] = {0x08, 0x08, 1, 2, 3, 4, 5, 6};
    ck_assert_int_eq(parse_opts(ts8, 8, &r), 0);
    ck_assert(!r.has_ts);
    static const uint8_t sack_empty[4] = {0x01, 0x01, 0x05, 0x02};
    ck_assert_int_eq(parse_opts(sack_empty, 4, &r), 0);
    ck_assert_uint_eq(r.n_sack, 0);
    static const uint8_t sack9[12] = {0x01, 0x05, 0x09, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x01};
    ck_assert_int_eq(parse_opts(sack9, 12, &r), 0);
    ck_assert_uint_eq(r.n_sack, 0);
    /* A wrong-length option does not hide a good one after it. */
    static const uint8_t mix[8] = {0x02, 0x02, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01};
    ck_assert_int_eq(parse_opts(mix, 8, &r), 0);
    ck_assert(r.has_mss);
    ck_assert_uint_eq(r.mss, 1460);
}
END_TEST

START_TEST(test_option_wscale_kept_as_sent)
{
    struct us_tcp_repr r;
    static const uint8_t vals[] = {0, 14, 15, 200, 255};
    for (size_t i = 0; i < sizeof(vals); i++) {
        uint8_t o[4] = {0x01, 0x03, 0x03, vals[i]};
        ck_assert_int_eq(parse_opts(o, 4, &r), 0);
        ck_assert(r.has_wscale);
        ck_assert_uint_eq(r.wscale, vals[i]); /* RFC 7323 2.3 clamping is the TCB's job */
    }
}
END_TEST

START_TEST(test_option_sack_blocks)
{
    struct us_tcp_repr r;
    uint8_t o[36];
    memset(o, 0, sizeof(o));
    o[0] = 0x01;
    o[1] = 0x01;
    o[2] = 0x05;
    for (unsigned n = 1; n <= 4; n++) {
        o[3] = (uint8_t)(2 + 8 * n);
        for (unsigned i = 0; i < n; i++) {
            us_store_be32(o + 4 + 8 * i, 0xfffffff0u + i * 0x100);
            us_store_be32(o + 8 + 8 * i, 0xfffffff0u + i * 0x100 + 0x80);
        }
        ck_assert_int_eq(parse_opts(o, 4 + 8 * n, &r), 0);
        ck_assert_uint_eq(r.n_sack, n);
        for (unsigned i = 0; i < n; i++) {
            ck_assert_uint_eq(r.sack[i].start, 0xfffffff0u + i * 0x100);
            ck_assert_uint_eq(r.sack[i].end, 0xfffffff0u + i * 0x100 + 0x80);
        }
    }
}
END_TEST

START_TEST(test_option_repeated_last_wins)
{
    struct us_tcp_repr r;
    static const uint8_t o[8] = {0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18};
    ck_assert_int_eq(parse_opts(o, 8, &r), 0);
    ck_assert_uint_eq(r.mss, 536);
    /* A later copy with a wrong length is ignored and does not erase the earlier one. */
    static const uint8_t s[16] = {0x01, 0x01, 0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 9,
                                  0x01, 0x01, 0x05, 0x02};
    ck_assert_int_eq(parse_opts(s, 16, &r), 0);
    ck_assert_uint_eq(r.n_sack, 1);
    ck_assert_uint_eq(r.sack[0].start, 1);
    ck_assert_uint_eq(r.sack[0].end, 9);
}
END_TEST

/* Emits r with a payload, checks the layout invariants, parses back and compares. */
static void
round_trip(const struct us_tcp_repr *r, size_t plen, size_t want_sack)
{
    size_t hl = us_wire_tcp_hdr_len(r);
    ck_assert_uint_eq(hl % 4, 0);
    ck_assert_uint_ge(hl, US_TCP_HDR_LEN);
    ck_assert_uint_le(hl, US_TCP_HDR_LEN + US_TCP_MAX_OPT_LEN);
    uint8_t *b = malloc(hl + plen);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < plen; i++)
        b[hl + i] = (uint8_t)(i * 13 + 1);
    us_wire_tcp_emit(r, b, hl, plen, SRC, DST);
    ck_assert_uint_eq((size_t)(b[12] >> 4) * 4, hl);
    ck_assert_uint_eq(b[12] & 0x0f, 0);

    struct us_tcp_repr p;
    ck_assert_int_eq(us_wire_tcp_parse(&p, b, hl + plen, SRC, DST, true), 0);
    ck_assert_uint_eq(p.src_port, r->src_port);
    ck_assert_uint_eq(p.dst_port, r->dst_port);
    ck_assert_uint_eq(p.seq, r->seq);
    ck_assert_uint_eq(p.ack, r->ack);
    ck_assert_uint_eq(p.flags, r->flags);
    ck_assert_uint_eq(p.wnd, r->wnd);
    ck_assert_uint_eq(p.urg_ptr, r->urg_ptr);
    ck_assert_int_eq(p.has_mss, r->has_mss);
    if (r->has_mss)
        ck_assert_uint_eq(p.mss, r->mss);
    ck_assert_int_eq(p.has_wscale, r->has_wscale);
    if (r->has_wscale)
        ck_assert_uint_eq(p.wscale, r->wscale);
    ck_assert_int_eq(p.sack_ok, r->sack_ok);
    ck_assert_int_eq(p.has_ts, r->has_ts);
    if (r->has_ts) {
        ck_assert_uint_eq(p.ts_val, r->ts_val);
        ck_assert_uint_eq(p.ts_ecr, r->ts_ecr);
    }
    ck_assert_uint_eq(p.n_sack, want_sack);
    for (size_t i = 0; i < want_sack; i++) {
        ck_assert_uint_eq(p.sack[i].start, r->sack[i].start);
        ck_assert_uint_eq(p.sack[i].end, r->sack[i].end);
    }
    ck_assert_ptr_eq(p.payload, b + hl);
    ck_assert_uint_eq(p.payload_len, plen);
    free(b);
}

START_TEST(test_round_trip_all_combinations)
{
    static const size_t plens[] = {0, 1, 2, 3, 1460};
    for (unsigned m = 0; m < 16; m++) {
        for (unsigned n = 0; n <= US_TCP_MAX_SACK; n++) {
            struct us_tcp_repr r;
            memset(&r, 0, sizeof(r));
            r.src_port = (uint16_t)(1000 + m);
            r.dst_port = (uint16_t)(2000 + n);
            r.seq = 0xfffffff0u + m;
            r.ack = 0x80000000u ^ n;
            r.flags = (uint8_t)((m & 1 ? US_TCP_SYN : 0) | US_TCP_ACK | (n & 1 ? US_TCP_PSH : 0));
            r.wnd = (uint16_t)(0xffff - m);
            r.urg_ptr = (uint16_t)n;
            r.has_mss = m & 1;
            r.mss = (uint16_t)(1460 - m);
            r.sack_ok = m & 2;
            r.has_ts = m & 4;
            r.ts_val = 0xdeadbeef + m;
            r.ts_ecr = 0x01020304 + n;
            r.has_wscale = m & 8;
            r.wscale = (uint8_t)(m + 1);
            r.n_sack = (uint8_t)n;
            for (unsigned i = 0; i < n; i++) {
                r.sack[i].start = 100000u * (i + 1) + m;
                r.sack[i].end = 100000u * (i + 1) + 5000 + n;
            }
            /* Independent count of what fits: fixed options in 4-byte words, then 4 + 8n. */
            size_t fixed = (r.has_mss ? 4u : 0u) + (r.has_ts ? 12u : r.sack_ok ? 4u : 0u) +
                           (r.has_wscale ? 4u : 0u);
            size_t fit = fixed + 12 > 40 ? 0 : (40 - fixed - 4) / 8;
            size_t want = n < fit ? n : fit;
            for (size_t k = 0; k < US_ARRAY_LEN(plens); k++)
                round_trip(&r, plens[k], want);
        }
    }
}
END_TEST

START_TEST(test_sack_cut_to_fit)
{
    struct us_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = US_TCP_ACK;
    r.n_sack = 4;
    for (unsigned i = 0; i < 4; i++) {
        r.sack[i].start = 10 * i + 1;
        r.sack[i].end = 10 * i + 5;
    }
    /* No other options: all 4 blocks (4 + 32 = 36 bytes). */
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 20 + 36);
    round_trip(&r, 10, 4);
    /* With timestamps (12 bytes): 3 blocks (12 + 4 + 24 = 40). RFC 2018 3. */
    r.has_ts = true;
    r.ts_val = 7;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 60);
    round_trip(&r, 10, 3);
    r.n_sack = 3;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 60);
    r.n_sack = 2;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 52);
    round_trip(&r, 0, 2);
    /* TS + WS + MSS (20 bytes): 2 blocks. */
    r.n_sack = 4;
    r.has_wscale = true;
    r.has_mss = true;
    r.sack_ok = true;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 60);
    round_trip(&r, 0, 2);
    /* An out-of-range count in the repr is treated as the maximum. */
    memset(&r, 0, sizeof(r));
    r.n_sack = 200;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 56);
}
END_TEST

START_TEST(test_emit_layouts)
{
    struct us_tcp_repr r;
    uint8_t b[60];
    memset(&r, 0, sizeof(r));
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 20);
    us_wire_tcp_emit(&r, b, 20, 0, SRC, DST);
    ck_assert_uint_eq(b[12], 0x50);

    /* TS only: NOP NOP TS. */
    r.has_ts = true;
    r.ts_val = 0x0a0b0c0d;
    r.ts_ecr = 0x01020304;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 32);
    us_wire_tcp_emit(&r, b, 32, 0, SRC, DST);
    static const uint8_t ts_only[12] = {1, 1, 8, 10, 0x0a, 0x0b, 0x0c, 0x0d, 1, 2, 3, 4};
    ck_assert_mem_eq(b + 20, ts_only, 12);

    /* SACK-OK only: NOP NOP SACK-OK; then WS: NOP WS. */
    memset(&r, 0, sizeof(r));
    r.sack_ok = true;
    r.has_wscale = true;
    r.wscale = 14;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 28);
    us_wire_tcp_emit(&r, b, 28, 0, SRC, DST);
    static const uint8_t sok_ws[8] = {1, 1, 4, 2, 1, 3, 3, 14};
    ck_assert_mem_eq(b + 20, sok_ws, 8);

    /* SACK blocks: NOP NOP 05 len. */
    memset(&r, 0, sizeof(r));
    r.n_sack = 1;
    r.sack[0].start = 0x11111111;
    r.sack[0].end = 0x22222222;
    ck_assert_uint_eq(us_wire_tcp_hdr_len(&r), 32);
    us_wire_tcp_emit(&r, b, 32, 0, SRC, DST);
    static const uint8_t sack1[12] = {1, 1, 5, 10, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22};
    ck_assert_mem_eq(b + 20, sack1, 12);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_tcp");
    TCase *tc = tcase_create("tcp");
    tcase_add_test(tc, test_parse_known_syn);
    tcase_add_test(tc, test_emit_known_syn_exact);
    tcase_add_test(tc, test_known_data_segment);
    tcase_add_test(tc, test_aligned_ts_same_as_general);
    tcase_add_test(tc, test_bad_csum);
    tcase_add_test(tc, test_truncated_every_length);
    tcase_add_test(tc, test_doff);
    tcase_add_test(tc, test_flags_all_combinations);
    tcase_add_test(tc, test_check_order);
    tcase_add_test(tc, test_option_bad_lengths);
    tcase_add_test(tc, test_option_eol_early);
    tcase_add_test(tc, test_option_unknown_skipped);
    tcase_add_test(tc, test_option_wrong_length_ignored);
    tcase_add_test(tc, test_option_wscale_kept_as_sent);
    tcase_add_test(tc, test_option_sack_blocks);
    tcase_add_test(tc, test_option_repeated_last_wins);
    tcase_add_test(tc, test_round_trip_all_combinations);
    tcase_add_test(tc, test_sack_cut_to_fit);
    tcase_add_test(tc, test_emit_layouts);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
