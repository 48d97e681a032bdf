/* Unit tests for the address text forms: formatting and strict parsing. */
#include <errno.h>
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

START_TEST(test_ip4_ntoa)
{
    char buf[16];
    ck_assert_str_eq(us_ip4_ntoa(US_IP4(192, 0, 2, 1), buf), "192.0.2.1");
    ck_assert_str_eq(us_ip4_ntoa(0, buf), "0.0.0.0");
    ck_assert_str_eq(us_ip4_ntoa(US_IP4_BROADCAST, buf), "255.255.255.255");
    ck_assert_ptr_eq(us_ip4_ntoa(US_IP4(10, 20, 30, 40), buf), buf);
    ck_assert_str_eq(buf, "10.20.30.40");
}
END_TEST

START_TEST(test_ip4_aton_good)
{
    us_ip4_t a = 1;
    ck_assert_int_eq(us_ip4_aton("192.0.2.1", &a), 0);
    ck_assert_uint_eq(a, US_IP4(192, 0, 2, 1));
    ck_assert_int_eq(us_ip4_aton("0.0.0.0", &a), 0);
    ck_assert_uint_eq(a, 0);
    ck_assert_int_eq(us_ip4_aton("255.255.255.255", &a), 0);
    ck_assert_uint_eq(a, 0xffffffffu);
    ck_assert_int_eq(us_ip4_aton("198.51.100.0", &a), 0);
    ck_assert_uint_eq(a, US_IP4(198, 51, 100, 0));
    /* Round trip through ntoa. */
    char buf[16];
    for (uint32_t v = 1; v != 0; v = v * 3 + 0x01010101u) {
        ck_assert_int_eq(us_ip4_aton(us_ip4_ntoa(v, buf), &a), 0);
        ck_assert_uint_eq(a, v);
        if (v > 0x40000000u)
            break;
    }
}
END_TEST

START_TEST(test_ip4_aton_bad)
{
    static const char *const bad[] = {
        "", "1", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "1.2.3.999",
        "1.2.3.1000", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1..3.4", ".1.2.3", "1.2.3.4 ",
        " 1.2.3.4", "1.2.3.4x", "1.2.3.-4", "+1.2.3.4", "1.2.3.0x4", "a.b.c.d", "1,2,3,4",
        "0x7f.0.0.1", "4294967295", "1.2.3.4\n", "1.2.3.0000", "1.2.3.",
    };
    for (size_t i = 0; i < US_ARRAY_LEN(bad); i++) {
        us_ip4_t a = 0x12345678;
        ck_assert_msg(us_ip4_aton(bad[i], &a) == -EINVAL, "accepted \"%s\"", bad[i]);
        ck_assert_uint_eq(a, 0x12345678); /* untouched on failure */
    }
}
END_TEST

START_TEST(test_mac_ntoa)
{
    char buf[18];
    const uint8_t m[6] = {0x02, 0x00, 0x5e, 0x10, 0xab, 0xff};
    ck_assert_str_eq(us_mac_ntoa(m, buf), "02:00:5e:10:ab:ff");
    const uint8_t z[6] = {0};
    ck_assert_str_eq(us_mac_ntoa(z, buf), "00:00:00:00:00:00");
}
END_TEST

START_TEST(test_mac_aton_good)
{
    uint8_t m[6];
    const uint8_t want[6] = {0x02, 0x00, 0x5e, 0x10, 0xab, 0xff};
    ck_assert_int_eq(us_mac_aton("02:00:5e:10:ab:ff", m), 0);
    ck_assert_mem_eq(m, want, 6);
    ck_assert_int_eq(us_mac_aton("02:00:5E:10:AB:FF", m), 0);
    ck_assert_mem_eq(m, want, 6);
    ck_assert_int_eq(us_mac_aton("2:0:5e:10:ab:ff", m), 0); /* ether_ntoa(3) style */
    ck_assert_mem_eq(m, want, 6);
    char buf[18];
    ck_assert_int_eq(us_mac_aton(us_mac_ntoa(want, buf), m), 0);
    ck_assert_mem_eq(m, want, 6);
}
END_TEST

START_TEST(test_mac_aton_bad)
{
    static const char *const bad[] = {
        "", "02:00:5e:10:ab", "02:00:5e:10:ab:ff:", "02:00:5e:10:ab:ff:00", "02:00:5e:10:ab:fff",
        "002:00:5e:10:ab:ff", "02-00-5e-10-ab-ff", "02:00:5e:10:ab:fg", "02::5e:10:ab:ff",
        " 02:00:5e:10:ab:ff", "02:00:5e:10:ab:ff ", "0200.5e10.abff", "g2:00:5e:10:ab:ff",
        ":02:00:5e:10:ab:ff", "02:00:5e:10:ab:",
    };
    for (size_t i = 0; i < US_ARRAY_LEN(bad); i++) {
        uint8_t m[6] = {1, 2, 3, 4, 5, 6};
        const uint8_t orig[6] = {1, 2, 3, 4, 5, 6};
        ck_assert_msg(us_mac_aton(bad[i], m) == -EINVAL, "accepted \"%s\"", bad[i]);
        ck_assert_mem_eq(m, orig, 6);
    }
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_addr");
    TCase *tc = tcase_create("addr");
    tcase_add_test(tc, test_ip4_ntoa);
    tcase_add_test(tc, test_ip4_aton_good);
    tcase_add_test(tc, test_ip4_aton_bad);
    tcase_add_test(tc, test_mac_ntoa);
    tcase_add_test(tc, test_mac_aton_good);
    tcase_add_test(tc, test_mac_aton_bad);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
