/* Unit tests for ARP (RFC 826) parse/emit: a captured request, every drop reason, truncation. */
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

/* who-has 192.0.2.1 tell 192.0.2.2, from 02:00:00:00:00:02; padded to a 60-byte frame's body. */
static const uint8_t arp_req[46] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,             /* eth, ipv4, 6, 4, request */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x02, /* sha, spa */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, /* tha, tpa */
    0xaa, 0xbb, /* padding (non-zero, must be ignored) */
};

static int
parse_copy(struct us_arp_repr *r, const uint8_t *b, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(c);
    memcpy(c, b, len);
    int rc = us_wire_arp_parse(r, c, len);
    free(c);
    return rc;
}

START_TEST(test_parse_request)
{
    struct us_arp_repr r;
    ck_assert_int_eq(parse_copy(&r, arp_req, sizeof(arp_req)), 0);
    const uint8_t sha[6] = {0x02, 0, 0, 0, 0, 0x02};
    const uint8_t tha[6] = {0};
    ck_assert_uint_eq(r.op, US_ARP_OP_REQUEST);
    ck_assert_mem_eq(r.sha, sha, 6);
    ck_assert_uint_eq(r.spa, US_IP4(192, 0, 2, 2));
    ck_assert_mem_eq(r.tha, tha, 6);
    ck_assert_uint_eq(r.tpa, US_IP4(192, 0, 2, 1));
    /* Exactly 28 bytes is enough. */
    ck_assert_int_eq(parse_copy(&r, arp_req, US_ARP_LEN), 0);
}
END_TEST

START_TEST(test_truncated_every_length)
{
    struct us_arp_repr r;
    for (size_t n = 0; n < US_ARP_LEN; n++)
        ck_assert_int_eq(parse_copy(&r, arp_req, n), US_DROP_ARP_TRUNCATED);
}
END_TEST

static int
parse_modified(size_t off, uint8_t val)
{
    uint8_t b[US_ARP_LEN];
    memcpy(b, arp_req, sizeof(b));
    b[off] = val;
    struct us_arp_repr r;
    return us_wire_arp_parse(&r, b, sizeof(b));
}

START_TEST(test_bad_fields)
{
    ck_assert_int_eq(parse_modified(0, 0x01), US_DROP_ARP_BAD_HW);  /* htype 0x0101 */
    ck_assert_int_eq(parse_modified(1, 0x06), US_DROP_ARP_BAD_HW);  /* htype 6 (IEEE 802) */
    ck_assert_int_eq(parse_modified(4, 0x08), US_DROP_ARP_BAD_HW);  /* hlen 8 */
    ck_assert_int_eq(parse_modified(2, 0x86), US_DROP_ARP_BAD_PROTO); /* ptype 0x8600 */
    ck_assert_int_eq(parse_modified(3, 0x06), US_DROP_ARP_BAD_PROTO); /* ptype 0x0806 */
    ck_assert_int_eq(parse_modified(5, 0x10), US_DROP_ARP_BAD_PROTO); /* plen 16 */
    ck_assert_int_eq(parse_modified(7, 0x00), US_DROP_ARP_BAD_OP);
    ck_assert_int_eq(parse_modified(7, 0x03), US_DROP_ARP_BAD_OP); /* RARP request */
    ck_assert_int_eq(parse_modified(6, 0x01), US_DROP_ARP_BAD_OP); /* op 0x0101 */
    ck_assert_int_eq(parse_modified(7, 0x02), 0);                  /* reply */
}
END_TEST

START_TEST(test_check_order)
{
    /* Hardware is checked before protocol, protocol before op. */
    uint8_t b[US_ARP_LEN];
    memcpy(b, arp_req, sizeof(b));
    b[1] = 6;    /* htype 6 */
    b[3] = 0x06; /* ptype 0x0806 */
    b[7] = 9;    /* op 9 */
    struct us_arp_repr r;
    ck_assert_int_eq(us_wire_arp_parse(&r, b, sizeof(b)), US_DROP_ARP_BAD_HW);
    b[1] = 1;
    ck_assert_int_eq(us_wire_arp_parse(&r, b, sizeof(b)), US_DROP_ARP_BAD_PROTO);
    b[3] = 0x00;
    ck_assert_int_eq(us_wire_arp_parse(&r, b, sizeof(b)), US_DROP_ARP_BAD_OP);
}
END_TEST

START_TEST(test_emit_round_trip)
{
    struct us_arp_repr r = {
        .op = US_ARP_OP_REPLY,
        .sha = {0x02, 0, 0, 0, 0, 0x01},
        .spa = US_IP4(192, 0, 2, 1),
        .tha = {0x02, 0, 0, 0, 0, 0x02},
        .tpa = US_IP4(192, 0, 2, 2),
    };
    uint8_t out[US_ARP_LEN];
    us_wire_arp_emit(&r, out);
    const uint8_t want[US_ARP_LEN] = {
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
        0xc0, 0x00, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x02,
    };
    ck_assert_mem_eq(out, want, sizeof(want));
    struct us_arp_repr p;
    ck_assert_int_eq(parse_copy(&p, out, sizeof(out)), 0);
    ck_assert_uint_eq(p.op, r.op);
    ck_assert_mem_eq(p.sha, r.sha, 6);
    ck_assert_uint_eq(p.spa, r.spa);
    ck_assert_mem_eq(p.tha, r.tha, 6);
    ck_assert_uint_eq(p.tpa, r.tpa);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_arp");
    TCase *tc = tcase_create("arp");
    tcase_add_test(tc, test_parse_request);
    tcase_add_test(tc, test_truncated_every_length);
    tcase_add_test(tc, test_bad_fields);
    tcase_add_test(tc, test_check_order);
    tcase_add_test(tc, test_emit_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
