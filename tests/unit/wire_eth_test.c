/* Unit tests for Ethernet II parse/emit and MAC address predicates. */
#include <stdlib.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

static const uint8_t frame_arp[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* dst: broadcast */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* src */
    0x08, 0x06,                         /* ARP */
    0xde, 0xad, 0xbe, 0xef,
};

/* Parses from an exactly sized heap copy so ASan reports any read past len. */
static int
parse_copy(struct us_eth_repr *r, const uint8_t *b, size_t len, uint8_t **copy)
{
    *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(*copy);
    memcpy(*copy, b, len);
    return us_wire_eth_parse(r, *copy, len);
}

START_TEST(test_parse_good)
{
    struct us_eth_repr r;
    uint8_t *c;
    ck_assert_int_eq(parse_copy(&r, frame_arp, sizeof(frame_arp), &c), 0);
    const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
    ck_assert_mem_eq(r.dst, frame_arp, 6);
    ck_assert_mem_eq(r.src, src, 6);
    ck_assert_uint_eq(r.type, US_ETHERTYPE_ARP);
    ck_assert_ptr_eq(r.payload, c + 14);
    ck_assert_uint_eq(r.payload_len, 4);
    free(c);
}
END_TEST

START_TEST(test_header_only)
{
    struct us_eth_repr r;
    uint8_t *c;
    ck_assert_int_eq(parse_copy(&r, frame_arp, 14, &c), 0);
    ck_assert_uint_eq(r.payload_len, 0);
    free(c);
}
END_TEST

START_TEST(test_truncated_every_length)
{
    for (size_t n = 0; n < US_ETH_HDR_LEN; n++) {
        struct us_eth_repr r;
        uint8_t *c;
        ck_assert_int_eq(parse_copy(&r, frame_arp, n, &c), US_DROP_ETH_TRUNCATED);
        free(c);
    }
}
END_TEST

START_TEST(test_8023_length_field)
{
    uint8_t f[sizeof(frame_arp)];
    memcpy(f, frame_arp, sizeof(f));
    struct us_eth_repr r;
    us_store_be16(f + 12, 0x05ff); /* largest 802.3 length value */
    ck_assert_int_eq(us_wire_eth_parse(&r, f, sizeof(f)), US_DROP_ETH_UNKNOWN_TYPE);
    us_store_be16(f + 12, 0x0000);
    ck_assert_int_eq(us_wire_eth_parse(&r, f, sizeof(f)), US_DROP_ETH_UNKNOWN_TYPE);
    us_store_be16(f + 12, 0x0600); /* first ethertype value: passes, caller dispatches */
    ck_assert_int_eq(us_wire_eth_parse(&r, f, sizeof(f)), 0);
    ck_assert_uint_eq(r.type, 0x0600);
}
END_TEST

START_TEST(test_emit_round_trip)
{
    struct us_eth_repr r = {
        .dst = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55},
        .src = {0x02, 0x66, 0x77, 0x88, 0x99, 0xaa},
        .type = US_ETHERTYPE_IPV4,
    };
    uint8_t out[US_ETH_HDR_LEN];
    us_wire_eth_emit(&r, out);
    const uint8_t want[] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0x66,
                            0x77, 0x88, 0x99, 0xaa, 0x08, 0x00};
    ck_assert_mem_eq(out, want, sizeof(want));
    struct us_eth_repr p;
    ck_assert_int_eq(us_wire_eth_parse(&p, out, sizeof(out)), 0);
    ck_assert_mem_eq(p.dst, r.dst, 6);
    ck_assert_mem_eq(p.src, r.src, 6);
    ck_assert_uint_eq(p.type, r.type);
    ck_assert_uint_eq(p.payload_len, 0);
}
END_TEST

START_TEST(test_mac_predicates)
{
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t almost[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    const uint8_t ucast[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    const uint8_t zero[6] = {0};
    ck_assert(us_eth_is_bcast(bcast));
    ck_assert(us_eth_is_mcast(bcast));
    ck_assert(!us_eth_is_bcast(almost));
    ck_assert(us_eth_is_mcast(almost));
    ck_assert(!us_eth_is_bcast(mcast));
    ck_assert(us_eth_is_mcast(mcast));
    ck_assert(!us_eth_is_bcast(ucast));
    ck_assert(!us_eth_is_mcast(ucast));
    ck_assert(!us_eth_is_bcast(zero));
    ck_assert(!us_eth_is_mcast(zero));
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_eth");
    TCase *tc = tcase_create("eth");
    tcase_add_test(tc, test_parse_good);
    tcase_add_test(tc, test_header_only);
    tcase_add_test(tc, test_truncated_every_length);
    tcase_add_test(tc, test_8023_length_field);
    tcase_add_test(tc, test_emit_round_trip);
    tcase_add_test(tc, test_mac_predicates);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
