/* Unit tests for UDP (RFC 768) parse/emit: known checksum, zero checksum, length checks,
 * truncation, pseudo-header coverage, computed-zero sent as 0xffff. */
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

#define SRC US_IP4(192, 0, 2, 1)
#define DST US_IP4(192, 0, 2, 2)

/* 12345 -> 53, "hello", from 192.0.2.1 to 192.0.2.2; checksum 0790 computed independently. */
static const uint8_t dgram[13] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0x07, 0x90,
                                  'h',  'e',  'l',  'l',  'o'};

static uint8_t *
copy_of(const uint8_t *b, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(c);
    memcpy(c, b, len);
    return c;
}

START_TEST(test_parse_good)
{
    uint8_t *b = copy_of(dgram, sizeof(dgram));
    struct us_udp_repr r;
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(dgram), SRC, DST, true), 0);
    ck_assert_uint_eq(r.src_port, 12345);
    ck_assert_uint_eq(r.dst_port, 53);
    ck_assert_ptr_eq(r.payload, b + 8);
    ck_assert_uint_eq(r.payload_len, 5);
    ck_assert_mem_eq(r.payload, "hello", 5);
    free(b);
}
END_TEST

START_TEST(test_truncated_every_length)
{
    struct us_udp_repr r;
    for (size_t n = 0; n < sizeof(dgram); n++) {
        uint8_t *b = copy_of(dgram, n);
        int want = n < 8 ? US_DROP_UDP_TRUNCATED : US_DROP_UDP_BAD_LEN;
        ck_assert_msg(us_wire_udp_parse(&r, b, n, SRC, DST, true) == want, "len %zu", n);
        ck_assert_msg(us_wire_udp_parse(&r, b, n, SRC, DST, false) == want, "len %zu", n);
        free(b);
    }
}
END_TEST

START_TEST(test_bad_len_field)
{
    uint8_t b[sizeof(dgram)];
    struct us_udp_repr r;
    for (unsigned v = 0; v < 8; v++) {
        memcpy(b, dgram, sizeof(b));
        us_store_be16(b + 4, (uint16_t)v);
        ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, DST, false), US_DROP_UDP_BAD_LEN);
    }
    memcpy(b, dgram, sizeof(b));
    us_store_be16(b + 4, 14); /* length > buffer */
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, DST, false), US_DROP_UDP_BAD_LEN);
    us_store_be16(b + 4, 0xffff);
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, DST, true), US_DROP_UDP_BAD_LEN);
}
END_TEST

START_TEST(test_extra_bytes_ignored)
{
    uint8_t buf[sizeof(dgram) + 7];
    memcpy(buf, dgram, sizeof(dgram));
    memset(buf + sizeof(dgram), 0x77, 7);
    uint8_t *b = copy_of(buf, sizeof(buf));
    struct us_udp_repr r;
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(buf), SRC, DST, true), 0);
    ck_assert_uint_eq(r.payload_len, 5);
    free(b);
    /* Length 8: empty payload (checksum then covers only the header). */
    uint8_t e[8] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};
    ck_assert_int_eq(us_wire_udp_parse(&r, e, 8, SRC, DST, true), 0);
    ck_assert_uint_eq(r.payload_len, 0);
}
END_TEST

START_TEST(test_bad_csum)
{
    uint8_t b[sizeof(dgram)];
    memcpy(b, dgram, sizeof(b));
    struct us_udp_repr r;
    b[12] = 'O';
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, DST, true), US_DROP_UDP_BAD_CSUM);
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, DST, false), 0);
    memcpy(b, dgram, sizeof(b));
    /* The pseudo-header is covered: wrong addresses fail. */
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), DST + 1, DST, true), US_DROP_UDP_BAD_CSUM);
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, SRC, true), US_DROP_UDP_BAD_CSUM);
    /* Swapping source and destination keeps the sum (addition commutes). */
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), DST, SRC, true), 0);
    /* Bytes past the length field are not covered. */
    uint8_t big[sizeof(dgram) + 1];
    memcpy(big, dgram, sizeof(dgram));
    big[sizeof(dgram)] = 0x99;
    ck_assert_int_eq(us_wire_udp_parse(&r, big, sizeof(big), SRC, DST, true), 0);
}
END_TEST

START_TEST(test_zero_csum_means_none)
{
    uint8_t b[sizeof(dgram)];
    memcpy(b, dgram, sizeof(b));
    us_store_be16(b + 6, 0);
    b[8] = 'j'; /* payload changed, but no checksum was sent */
    struct us_udp_repr r;
    ck_assert_int_eq(us_wire_udp_parse(&r, b, sizeof(b), SRC, DST, true), 0);
    ck_assert_uint_eq(r.payload_len, 5);
}
END_TEST

START_TEST(test_emit_exact)
{
    uint8_t *out = malloc(sizeof(dgram));
    ck_assert_ptr_nonnull(out);
    memcpy(out + 8, "hello", 5);
    struct us_udp_repr r = {.src_port = 12345, .dst_port = 53};
    us_wire_udp_emit(&r, out, 5, SRC, DST);
    ck_assert_mem_eq(out, dgram, sizeof(dgram));
    free(out);
}
END_TEST

START_TEST(test_emit_computed_zero_sent_as_ffff)
{
    uint8_t b[10];
    struct us_udp_repr r = {.src_port = 1000, .dst_port = 2000};
    us_store_be16(b + 8, 0);
    us_wire_udp_emit(&r, b, 2, SRC, DST);
    /* Choose the payload word that makes the one's-complement sum 0xffff (checksum 0). */
    uint16_t c = us_load_be16(b + 6);
    ck_assert_uint_ne(c, 0);
    us_store_be16(b + 8, c);
    us_wire_udp_emit(&r, b, 2, SRC, DST);
    ck_assert_uint_eq(us_load_be16(b + 6), 0xffff);
    struct us_udp_repr p;
    ck_assert_int_eq(us_wire_udp_parse(&p, b, sizeof(b), SRC, DST, true), 0);
    ck_assert_uint_eq(p.src_port, 1000);
    ck_assert_uint_eq(p.dst_port, 2000);
    ck_assert_uint_eq(p.payload_len, 2);
}
END_TEST

START_TEST(test_emit_round_trip_sizes)
{
    for (size_t n = 0; n < 300; n++) {
        uint8_t *b = malloc(8 + n);
        ck_assert_ptr_nonnull(b);
        for (size_t i = 0; i < n; i++)
            b[8 + i] = (uint8_t)(i * 7 + n);
        struct us_udp_repr r = {.src_port = (uint16_t)(n + 1), .dst_port = 0xffff};
        us_wire_udp_emit(&r, b, n, US_IP4(10, 0, 0, 1), US_IP4(10, (unsigned)n & 0xff, 0, 2));
        ck_assert_uint_eq(us_load_be16(b + 4), 8 + n);
        ck_assert_uint_ne(us_load_be16(b + 6), 0);
        struct us_udp_repr p;
        ck_assert_int_eq(us_wire_udp_parse(&p, b, 8 + n, US_IP4(10, 0, 0, 1),
                                           US_IP4(10, (unsigned)n & 0xff, 0, 2), true), 0);
        ck_assert_uint_eq(p.src_port, n + 1);
        ck_assert_uint_eq(p.dst_port, 0xffff);
        ck_assert_uint_eq(p.payload_len, n);
        free(b);
    }
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_udp");
    TCase *tc = tcase_create("udp");
    tcase_add_test(tc, test_parse_good);
    tcase_add_test(tc, test_truncated_every_length);
    tcase_add_test(tc, test_bad_len_field);
    tcase_add_test(tc, test_extra_bytes_ignored);
    tcase_add_test(tc, test_bad_csum);
    tcase_add_test(tc, test_zero_csum_means_none);
    tcase_add_test(tc, test_emit_exact);
    tcase_add_test(tc, test_emit_computed_zero_sent_as_ffff);
    tcase_add_test(tc, test_emit_round_trip_sizes);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
