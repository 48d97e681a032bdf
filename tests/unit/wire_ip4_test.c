/* Unit tests for the IPv4 header (RFC 791): known header, every drop reason in check order,
 * truncation at every length, option TLV edge cases, link padding, fragment bounds, emit. */
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

/* The classic example header (total length 115, DF, TTL 64, UDP, checksum b861). */
static const uint8_t hdr_b861[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

/* Returns a heap buffer of exactly `len` bytes: the b861 header followed by payload 0,1,2... */
static uint8_t *
make_b861(size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < len; i++)
        b[i] = i < 20 ? hdr_b861[i] : (uint8_t)(i - 20);
    return b;
}

static void
fix_csum(uint8_t *b)
{
    size_t hl = (size_t)(b[0] & 0x0f) * 4;
    us_store_be16(b + 10, 0);
    us_store_be16(b + 10, us_csum_finish(us_csum_add(0, b, hl)));
}

/* Header with the given options (opt_len a multiple of 4), total length = header, checksum set.
 * Parses from an exactly sized buffer with checksum verification on. */
static int
parse_with_options(const uint8_t *opt, size_t opt_len)
{
    ck_assert_uint_eq(opt_len % 4, 0);
    ck_assert_uint_le(opt_len, 40);
    size_t hl = 20 + opt_len;
    uint8_t *b = malloc(hl);
    ck_assert_ptr_nonnull(b);
    memcpy(b, hdr_b861, 20);
    memcpy(b + 20, opt, opt_len);
    b[0] = (uint8_t)(0x40 | hl / 4);
    us_store_be16(b + 2, (uint16_t)hl);
    fix_csum(b);
    struct us_ip4_repr r;
    int rc = us_wire_ip4_parse(&r, b, hl, true);
    if (rc == 0) {
        ck_assert_uint_eq(r.hdr_len, hl);
        ck_assert_uint_eq(r.payload_len, 0);
        ck_assert_ptr_eq(r.payload, b + hl);
    }
    free(b);
    return rc;
}

START_TEST(test_parse_b861)
{
    uint8_t *b = make_b861(115);
    struct us_ip4_repr r;
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), 0);
    ck_assert_uint_eq(r.tos, 0);
    ck_assert_uint_eq(r.id, 0);
    ck_assert(r.df);
    ck_assert(!r.mf);
    ck_assert_uint_eq(r.frag_off, 0);
    ck_assert_uint_eq(r.ttl, 64);
    ck_assert_uint_eq(r.proto, US_IPPROTO_UDP);
    ck_assert_uint_eq(r.src, US_IP4(192, 168, 0, 1));
    ck_assert_uint_eq(r.dst, US_IP4(192, 168, 0, 199));
    ck_assert_uint_eq(r.hdr_len, 20);
    ck_assert_ptr_eq(r.payload, b + 20);
    ck_assert_uint_eq(r.payload_len, 95);
    free(b);
}
END_TEST

START_TEST(test_truncated_every_length)
{
    for (size_t n = 0; n <= 115; n++) {
        uint8_t *b = make_b861(n);
        struct us_ip4_repr r;
        int want = n < 20 ? US_DROP_IP_TRUNCATED : n < 115 ? US_DROP_IP_BAD_TOTAL_LEN : 0;
        ck_assert_msg(us_wire_ip4_parse(&r, b, n, true) == want, "len %zu", n);
        free(b);
    }
}
END_TEST

START_TEST(test_ethernet_padding_trimmed)
{
    /* A 28-byte datagram in a minimum Ethernet frame arrives with 18 bytes of padding. */
    uint8_t *b = make_b861(46);
    us_store_be16(b + 2, 28);
    fix_csum(b);
    struct us_ip4_repr r;
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 46, true), 0);
    ck_assert_uint_eq(r.payload_len, 8);
    ck_assert_ptr_eq(r.payload, b + 20);
    free(b);
    b = make_b861(120);
    struct us_ip4_repr r2;
    ck_assert_int_eq(us_wire_ip4_parse(&r2, b, 120, true), 0);
    ck_assert_uint_eq(r2.payload_len, 95);
    free(b);
}
END_TEST

START_TEST(test_bad_version)
{
    uint8_t *b = make_b861(115);
    struct us_ip4_repr r;
    for (unsigned v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        b[0] = (uint8_t)(v << 4 | 5);
        fix_csum(b);
        ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_VERSION);
    }
    /* Version is checked before the header length. */
    b[0] = 0x60;
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_VERSION);
    free(b);
}
END_TEST

START_TEST(test_bad_hdr_len)
{
    uint8_t *b = make_b861(115);
    struct us_ip4_repr r;
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        b[0] = (uint8_t)(0x40 | ihl);
        ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, false), US_DROP_IP_BAD_HDR_LEN);
    }
    free(b);
    /* IHL 15 claims 60 bytes; only 20..59 present. */
    for (size_t n = 20; n < 60; n++) {
        b = make_b861(n);
        b[0] = 0x4f;
        ck_assert_msg(us_wire_ip4_parse(&r, b, n, false) == US_DROP_IP_BAD_HDR_LEN, "len %zu", n);
        free(b);
    }
}
END_TEST

START_TEST(test_bad_total_len)
{
    uint8_t *b = make_b861(115);
    struct us_ip4_repr r;
    us_store_be16(b + 2, 19); /* less than the header */
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_TOTAL_LEN);
    us_store_be16(b + 2, 0);
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_TOTAL_LEN);
    us_store_be16(b + 2, 116); /* more than we have */
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_TOTAL_LEN);
    /* With options: total length 20 < IHL 6 * 4. */
    b[0] = 0x46;
    memset(b + 20, 1, 4);
    us_store_be16(b + 2, 20);
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_TOTAL_LEN);
    us_store_be16(b + 2, 24); /* header only: fine */
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), 0);
    ck_assert_uint_eq(r.payload_len, 0);
    free(b);
}
END_TEST

START_TEST(test_bad_csum)
{
    uint8_t *b = make_b861(115);
    struct us_ip4_repr r;
    b[11] ^= 0x01;
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_CSUM);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, false), 0);
    b[11] ^= 0x01;
    b[8] = 63; /* TTL change without checksum update */
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_CSUM);
    free(b);
    /* The checksum covers options too. */
    b = make_b861(115);
    b[0] = 0x46;
    memset(b + 20, 1, 4);
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), 0);
    b[22] = 0;
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_CSUM);
    /* Bad checksum is reported before bad options; without verification the options fail. */
    b[22] = 1;
    b[23] = 0x44; /* timestamp option type with no room for its length */
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, true), US_DROP_IP_BAD_CSUM);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 115, false), US_DROP_IP_BAD_OPTIONS);
    free(b);
}
END_TEST

START_TEST(test_options_ok)
{
    const uint8_t nops[4] = {1, 1, 1, 1};
    ck_assert_int_eq(parse_with_options(nops, 4), 0);
    const uint8_t eol_garbage[8] = {1, 0, 0xff, 0x00, 0x07, 0xff, 0x44, 0x01};
    ck_assert_int_eq(parse_with_options(eol_garbage, 8), 0); /* after EOL: padding */
    const uint8_t eols[4] = {0, 0, 0, 0};
    ck_assert_int_eq(parse_with_options(eols, 4), 0);
    const uint8_t router_alert[4] = {0x94, 0x04, 0x00, 0x00}; /* RFC 2113, exact fit */
    ck_assert_int_eq(parse_with_options(router_alert, 4), 0);
    const uint8_t min_len[4] = {0x82, 0x02, 0x01, 0x00}; /* length 2, then NOP, EOL */
    ck_assert_int_eq(parse_with_options(min_len, 4), 0);
    uint8_t full[40] = {0x07, 40, 4}; /* record route filling all 40 bytes */
    ck_assert_int_eq(parse_with_options(full, 40), 0);
    uint8_t rr_eol[40] = {0x07, 39, 4}; /* 39 bytes then EOL */
    ck_assert_int_eq(parse_with_options(rr_eol, 40), 0);
}
END_TEST

START_TEST(test_options_bad)
{
    const uint8_t len0[4] = {0x44, 0x00, 0x01, 0x01};
    ck_assert_int_eq(parse_with_options(len0, 4), US_DROP_IP_BAD_OPTIONS);
    const uint8_t len1[4] = {0x44, 0x01, 0x01, 0x01};
    ck_assert_int_eq(parse_with_options(len1, 4), US_DROP_IP_BAD_OPTIONS);
    const uint8_t past[4] = {0x07, 0x05, 0x04, 0x00};
    ck_assert_int_eq(parse_with_options(past, 4), US_DROP_IP_BAD_OPTIONS);
    const uint8_t past_after_nop[4] = {0x01, 0x94, 0x04, 0x00};
    ck_assert_int_eq(parse_with_options(past_after_nop, 4), US_DROP_IP_BAD_OPTIONS);
    const uint8_t no_len_byte[4] = {0x01, 0x01, 0x01, 0x07};
    ck_assert_int_eq(parse_with_options(no_len_byte, 4), US_DROP_IP_BAD_OPTIONS);
    const uint8_t second_bad[8] = {0x94, 0x04, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00};
    ck_assert_int_eq(parse_with_options(second_bad, 8), US_DROP_IP_BAD_OPTIONS);
    uint8_t over[40] = {0x07, 41, 4};
    ck_assert_int_eq(parse_with_options(over, 40), US_DROP_IP_BAD_OPTIONS);
    uint8_t len255[40] = {0x01, 0x07, 0xff};
    ck_assert_int_eq(parse_with_options(len255, 40), US_DROP_IP_BAD_OPTIONS);
}
END_TEST

START_TEST(test_fragment_fields_and_bound)
{
    uint8_t *b = make_b861(28);
    struct us_ip4_repr r;
    us_store_be16(b + 2, 28);
    us_store_be16(b + 6, 0x2000 | 185); /* MF, offset 1480 */
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 28, true), 0);
    ck_assert(r.mf);
    ck_assert(!r.df);
    ck_assert_uint_eq(r.frag_off, 1480);
    /* Largest offset 65528: 7 payload bytes reach 65535 exactly, 8 pass it. */
    us_store_be16(b + 6, 0x1fff);
    us_store_be16(b + 2, 27);
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 28, true), 0);
    ck_assert_uint_eq(r.frag_off, 65528);
    ck_assert_uint_eq(r.payload_len, 7);
    us_store_be16(b + 2, 28);
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 28, true), US_DROP_IP_BAD_FRAG);
    /* Options are checked before the fragment bound. */
    free(b);
    b = make_b861(32);
    b[0] = 0x46;
    us_store_be16(b + 2, 32);
    us_store_be16(b + 6, 0x1fff);
    b[20] = 0x44;
    b[21] = 0;
    fix_csum(b);
    ck_assert_int_eq(us_wire_ip4_parse(&r, b, 32, true), US_DROP_IP_BAD_OPTIONS);
    free(b);
}
END_TEST

START_TEST(test_emit_b861)
{
    struct us_ip4_repr r = {
        .tos = 0, .id = 0, .df = true, .mf = false, .frag_off = 0, .ttl = 64,
        .proto = US_IPPROTO_UDP, .src = US_IP4(192, 168, 0, 1), .dst = US_IP4(192, 168, 0, 199),
        .hdr_len = 99, .payload = NULL, .payload_len = 95,
    };
    uint8_t out[20];
    us_wire_ip4_emit(&r, out);
    ck_assert_mem_eq(out, hdr_b861, 20);
}
END_TEST

START_TEST(test_emit_round_trip)
{
    struct us_ip4_repr r = {
        .tos = 0xb8, .id = 0xbeef, .df = false, .mf = true, .frag_off = 65520, .ttl = 1,
        .proto = US_IPPROTO_ICMP, .src = US_IP4(198, 51, 100, 7), .dst = US_IP4(192, 0, 2, 255),
        .payload_len = 15,
    };
    uint8_t *b = malloc(35);
    ck_assert_ptr_nonnull(b);
    memset(b + 20, 0x5a, 15);
    us_wire_ip4_emit(&r, b);
    ck_assert_uint_eq(b[0], 0x45);
    ck_assert_uint_eq(us_load_be16(b + 2), 35);
    ck_assert_uint_eq(us_load_be16(b + 6), 0x2000 | 8190);
    struct us_ip4_repr p;
    ck_assert_int_eq(us_wire_ip4_parse(&p, b, 35, true), 0);
    ck_assert_uint_eq(p.tos, r.tos);
    ck_assert_uint_eq(p.id, r.id);
    ck_assert(p.df == r.df && p.mf == r.mf);
    ck_assert_uint_eq(p.frag_off, r.frag_off);
    ck_assert_uint_eq(p.ttl, r.ttl);
    ck_assert_uint_eq(p.proto, r.proto);
    ck_assert_uint_eq(p.src, r.src);
    ck_assert_uint_eq(p.dst, r.dst);
    ck_assert_uint_eq(p.hdr_len, 20);
    ck_assert_ptr_eq(p.payload, b + 20);
    ck_assert_uint_eq(p.payload_len, 15);
    free(b);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_ip4");
    TCase *tc = tcase_create("ip4");
    tcase_add_test(tc, test_parse_b861);
    tcase_add_test(tc, test_truncated_every_length);
    tcase_add_test(tc, test_ethernet_padding_trimmed);
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_bad_hdr_len);
    tcase_add_test(tc, test_bad_total_len);
    tcase_add_test(tc, test_bad_csum);
    tcase_add_test(tc, test_options_ok);
    tcase_add_test(tc, test_options_bad);
    tcase_add_test(tc, test_fragment_fields_and_bound);
    tcase_add_test(tc, test_emit_b861);
    tcase_add_test(tc, test_emit_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
