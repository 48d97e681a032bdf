/* Unit tests for ICMP (RFC 792, RFC 1191) parse/emit: a known echo request, truncation, checksum,
 * type-specific fields, unknown types, in-place emit. */
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

/* Echo request id 1 seq 1 with the 32-byte "abcdefghijklmnopqrstuvwabcdefghi" pattern (the
 * checksum 4d5a is the one seen in countless Windows ping captures). */
static const uint8_t echo_hdr[8] = {0x08, 0x00, 0x4d, 0x5a, 0x00, 0x01, 0x00, 0x01};
static const char echo_data[] = "abcdefghijklmnopqrstuvwabcdefghi";

static uint8_t *
make_echo(size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < len; i++)
        b[i] = i < 8 ? echo_hdr[i] : (uint8_t)echo_data[i - 8];
    return b;
}

static void
fix_csum(uint8_t *b, size_t len)
{
    us_store_be16(b + 2, 0);
    us_store_be16(b + 2, us_csum_finish(us_csum_add(0, b, len)));
}

START_TEST(test_parse_echo_request)
{
    uint8_t *b = make_echo(40);
    struct us_icmp_repr r;
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, 40), 0);
    ck_assert_uint_eq(r.type, US_ICMP_ECHO_REQUEST);
    ck_assert_uint_eq(r.code, 0);
    ck_assert_uint_eq(r.id, 1);
    ck_assert_uint_eq(r.seq, 1);
    ck_assert_uint_eq(r.next_hop_mtu, 0);
    ck_assert_uint_eq(r.pointer, 0);
    ck_assert_ptr_eq(r.data, b + 8);
    ck_assert_uint_eq(r.data_len, 32);
    free(b);
}
END_TEST

START_TEST(test_truncated_every_length)
{
    struct us_icmp_repr r;
    for (size_t n = 0; n < 8; n++) {
        uint8_t *b = make_echo(n);
        ck_assert_int_eq(us_wire_icmp_parse(&r, b, n), US_DROP_ICMP_TRUNCATED);
        free(b);
    }
    /* Cutting the message short breaks the checksum over "all len bytes". */
    for (size_t n = 8; n < 40; n++) {
        uint8_t *b = make_echo(n);
        ck_assert_msg(us_wire_icmp_parse(&r, b, n) == US_DROP_ICMP_BAD_CSUM, "len %zu", n);
        free(b);
    }
}
END_TEST

START_TEST(test_bad_csum)
{
    uint8_t *b = make_echo(40);
    struct us_icmp_repr r;
    for (size_t i = 0; i < 40; i++) {
        b[i] ^= 0x10;
        ck_assert_msg(us_wire_icmp_parse(&r, b, 40) == US_DROP_ICMP_BAD_CSUM, "byte %zu", i);
        b[i] ^= 0x10;
    }
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, 40), 0);
    free(b);
}
END_TEST

START_TEST(test_odd_length_and_header_only)
{
    uint8_t b[11] = {US_ICMP_ECHO_REPLY, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0xaa, 0xbb, 0xcc};
    fix_csum(b, sizeof(b));
    struct us_icmp_repr r;
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, sizeof(b)), 0);
    ck_assert_uint_eq(r.id, 0x1234);
    ck_assert_uint_eq(r.seq, 0x5678);
    ck_assert_uint_eq(r.data_len, 3);
    fix_csum(b, 8);
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, 8), 0);
    ck_assert_uint_eq(r.data_len, 0);
}
END_TEST

START_TEST(test_dest_unreach_needfrag)
{
    uint8_t b[36] = {US_ICMP_DEST_UNREACH, US_ICMP_UNREACH_NEEDFRAG, 0, 0, 0, 0, 0x05, 0xdc, 0x45};
    fix_csum(b, sizeof(b));
    struct us_icmp_repr r;
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, sizeof(b)), 0);
    ck_assert_uint_eq(r.next_hop_mtu, 1500);
    ck_assert_uint_eq(r.id, 0);
    ck_assert_uint_eq(r.seq, 0);
    ck_assert_uint_eq(r.data_len, 28);
    ck_assert_uint_eq(r.data[0], 0x45);
    /* Other unreachable codes: the word is unused, no MTU. */
    b[1] = US_ICMP_UNREACH_PORT;
    fix_csum(b, sizeof(b));
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, sizeof(b)), 0);
    ck_assert_uint_eq(r.code, US_ICMP_UNREACH_PORT);
    ck_assert_uint_eq(r.next_hop_mtu, 0);
}
END_TEST

START_TEST(test_param_problem_and_unknown)
{
    uint8_t b[8] = {US_ICMP_PARAM_PROBLEM, 0, 0, 0, 20, 0xff, 0xff, 0xff};
    fix_csum(b, sizeof(b));
    struct us_icmp_repr r;
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, sizeof(b)), 0);
    ck_assert_uint_eq(r.pointer, 20);
    ck_assert_uint_eq(r.id, 0);
    b[0] = 42;
    b[1] = 7;
    fix_csum(b, sizeof(b));
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, sizeof(b)), 0);
    ck_assert_uint_eq(r.type, 42);
    ck_assert_uint_eq(r.code, 7);
    ck_assert_uint_eq(r.pointer, 0);
    ck_assert_uint_eq(r.id, 0);
    ck_assert_uint_eq(r.seq, 0);
    ck_assert_uint_eq(r.next_hop_mtu, 0);
}
END_TEST

START_TEST(test_emit_echo_exact)
{
    struct us_icmp_repr r = {
        .type = US_ICMP_ECHO_REQUEST, .id = 1, .seq = 1,
        .next_hop_mtu = 999, .pointer = 9, /* ignored for echo */
        .data = (const uint8_t *)echo_data, .data_len = 32,
    };
    ck_assert_uint_eq(us_wire_icmp_emit_len(&r), 40);
    uint8_t *out = malloc(40);
    ck_assert_ptr_nonnull(out);
    us_wire_icmp_emit(&r, out, 40);
    uint8_t *want = make_echo(40);
    ck_assert_mem_eq(out, want, 40);
    free(want);
    free(out);
}
END_TEST

START_TEST(test_emit_in_place_and_round_trip)
{
    /* Echo reply built in the request's buffer: data already sits at out + 8. */
    uint8_t *b = make_echo(40);
    struct us_icmp_repr r;
    ck_assert_int_eq(us_wire_icmp_parse(&r, b, 40), 0);
    r.type = US_ICMP_ECHO_REPLY;
    us_wire_icmp_emit(&r, b, us_wire_icmp_emit_len(&r));
    ck_assert_uint_eq(b[0], 0);
    ck_assert_uint_eq(us_load_be16(b + 2), 0x555a); /* 4d5a + 0800 */
    ck_assert_mem_eq(b + 8, echo_data, 32);
    struct us_icmp_repr p;
    ck_assert_int_eq(us_wire_icmp_parse(&p, b, 40), 0);
    ck_assert_uint_eq(p.type, US_ICMP_ECHO_REPLY);
    ck_assert_uint_eq(p.id, 1);
    ck_assert_uint_eq(p.seq, 1);
    free(b);

    /* Overlapping move: an error quoting bytes that start 4 bytes into the output. */
    uint8_t buf[8 + 12];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(0xa0 + i);
    struct us_icmp_repr e = {
        .type = US_ICMP_DEST_UNREACH, .code = US_ICMP_UNREACH_NEEDFRAG, .next_hop_mtu = 576,
        .data = buf + 4, .data_len = 12,
    };
    us_wire_icmp_emit(&e, buf, sizeof(buf));
    for (size_t i = 0; i < 12; i++)
        ck_assert_uint_eq(buf[8 + i], 0xa4 + i);
    const uint8_t hdr_tail[4] = {0, 0, 0x02, 0x40};
    ck_assert_mem_eq(buf + 4, hdr_tail, 4);
    ck_assert_int_eq(us_wire_icmp_parse(&p, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(p.next_hop_mtu, 576);

    /* Parameter problem: pointer then three zero bytes; header only. */
    uint8_t pp[8];
    memset(pp, 0xee, sizeof(pp));
    struct us_icmp_repr q = {.type = US_ICMP_PARAM_PROBLEM, .pointer = 13, .id = 5};
    us_wire_icmp_emit(&q, pp, 8);
    const uint8_t pp_tail[4] = {13, 0, 0, 0};
    ck_assert_mem_eq(pp + 4, pp_tail, 4);
    ck_assert_int_eq(us_wire_icmp_parse(&p, pp, 8), 0);
    ck_assert_uint_eq(p.pointer, 13);
    ck_assert_uint_eq(p.data_len, 0);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_icmp");
    TCase *tc = tcase_create("icmp");
    tcase_add_test(tc, test_parse_echo_request);
    tcase_add_test(tc, test_truncated_every_length);
    tcase_add_test(tc, test_bad_csum);
    tcase_add_test(tc, test_odd_length_and_header_only);
    tcase_add_test(tc, test_dest_unreach_needfrag);
    tcase_add_test(tc, test_param_problem_and_unknown);
    tcase_add_test(tc, test_emit_echo_exact);
    tcase_add_test(tc, test_emit_in_place_and_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
