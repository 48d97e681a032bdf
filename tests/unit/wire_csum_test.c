/* Unit tests for the RFC 1071 checksum: known vectors and a byte-at-a-time reference over
 * random lengths, offsets and chunkings. */
#include <string.h>

#include "lib/testutil.h"
#include "wire/wire.h"

Suite *make_suite(void);

/* Straightforward RFC 1071 4.1 loop, the oracle for the fast version. */
static uint16_t
ref_csum(uint32_t start, const uint8_t *p, size_t len)
{
    uint64_t sum = start;
    while (len > 1) {
        sum += (uint32_t)p[0] << 8 | p[1];
        p += 2;
        len -= 2;
    }
    if (len > 0)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint64_t
rng_next(uint64_t *s)
{
    /* xorshift64: deterministic so a failure replays. */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_rfc1071_example)
{
    /* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, b, sizeof(b))), 0xffff & ~0xddf2);
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, b, sizeof(b))), 0x220d);
}
END_TEST

START_TEST(test_ipv4_header_b861)
{
    /* Classic example header with the checksum field zeroed; the checksum is b861. */
    uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, h, sizeof(h))), 0xb861);
    us_store_be16(h + 10, 0xb861);
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, h, sizeof(h))), 0);
}
END_TEST

START_TEST(test_empty_and_zero)
{
    uint8_t z[64] = {0};
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, z, 0)), 0xffff);
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, NULL, 0)), 0xffff);
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, z, sizeof(z))), 0xffff);
    ck_assert_uint_eq(us_csum_finish(0), 0xffff);
    ck_assert_uint_eq(us_csum_finish(0xffff), 0);
}
END_TEST

START_TEST(test_odd_lengths)
{
    const uint8_t one[] = {0xab};
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, one, 1)), (uint16_t)~0xab00);
    const uint8_t three[] = {0x12, 0x34, 0x56};
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, three, 3)), (uint16_t)~(0x1234 + 0x5600));
    /* Nine bytes: one 8-byte block plus an odd tail. */
    const uint8_t nine[] = {0, 1, 0, 2, 0, 3, 0, 4, 0x80};
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, nine, 9)), (uint16_t)~(10 + 0x8000));
}
END_TEST

START_TEST(test_all_ones_carries)
{
    /* Every word 0xffff: maximal carries through the 64-bit accumulator. */
    static uint8_t big[65536 + 7];
    memset(big, 0xff, sizeof(big));
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, big, 65536)), 0);
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0, big + 1, 65535)),
                      ref_csum(0, big + 1, 65535));
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0xffffffffu, big, 65536)), 0);
    ck_assert_uint_eq(us_csum_finish(us_csum_add(0xffffffffu, big, 3)),
                      ref_csum(0xffffffffu, big, 3));
}
END_TEST

START_TEST(test_random_vs_reference)
{
    static uint8_t buf[4096 + 16];
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rng_next(&s);
    for (int iter = 0; iter < 20000; iter++) {
        size_t off = rng_next(&s) % 16;
        size_t len = iter < 300 ? (size_t)iter : rng_next(&s) % 4097;
        uint32_t start = (uint32_t)rng_next(&s) & (iter % 3 == 0 ? 0xffffffffu : 0xffffu);
        uint16_t got = us_csum_finish(us_csum_add(start, buf + off, len));
        uint16_t want = ref_csum(start, buf + off, len);
        ck_assert_msg(got == want, "off %zu len %zu start %#x: got %#x want %#x", off, len,
                      start, got, want);
    }
}
END_TEST

START_TEST(test_chunks_combine)
{
    static uint8_t buf[2048 + 8];
    uint64_t s = 12345;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rng_next(&s);
    for (int iter = 0; iter < 5000; iter++) {
        size_t off = rng_next(&s) % 8;
        size_t len = rng_next(&s) % 2049;
        size_t cut1 = (rng_next(&s) % (len / 2 + 1)) * 2;
        size_t cut2 = cut1 + (rng_next(&s) % ((len - cut1) / 2 + 1)) * 2;
        const uint8_t *p = buf + off;
        uint32_t sum = us_csum_add(0, p, cut1);
        sum = us_csum_add(sum, p + cut1, cut2 - cut1);
        sum = us_csum_add(sum, p + cut2, len - cut2);
        ck_assert_uint_eq(us_csum_finish(sum), ref_csum(0, p, len));
    }
}
END_TEST

/* us_csum_copy copies exactly and sums like us_csum_add; a buffer split at any offset, odd
 * ones with the second sum swapped, gives the whole buffer's sum (what TCP does across the
 * send ring's wrap point). */
START_TEST(test_copy_and_swap)
{
    static uint8_t src[3000], dst[3000];
    uint32_t x = 99;
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = 1 + (size_t)(x = x * 1103515245u + 12345u) % sizeof(src);
        for (size_t i = 0; i < len; i++)
            src[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
        memset(dst, 0xa5, sizeof(dst));
        uint32_t whole = us_csum_add(0, src, len);
        ck_assert_uint_eq(us_csum_finish(us_csum_copy(dst, src, len, 0)), us_csum_finish(whole));
        ck_assert_mem_eq(dst, src, len);
        ck_assert_uint_eq(dst[len], 0xa5); /* not one byte more */
        size_t cut = (size_t)(x >> 8) % (len + 1);
        uint32_t a = us_csum_copy(dst, src, cut, 0);
        uint32_t b = us_csum_copy(dst + cut, src + cut, len - cut, 0);
        uint32_t joined = a + ((cut & 1) ? us_csum_swap(b) : b);
        ck_assert_uint_eq(us_csum_finish(joined), us_csum_finish(whole));
    }
}
END_TEST

START_TEST(test_ip4_hdr_vs_reference)
{
    /* The 20-byte header sum (five 32-bit loads) against the byte-at-a-time reference,
     * including all-ones headers, whose carries exercise every fold. */
    uint8_t h[20];
    uint64_t s = 0x243f6a8885a308d3u;
    for (int iter = 0; iter < 20000; iter++) {
        for (size_t i = 0; i < sizeof(h); i++)
            h[i] = iter < 2 ? (uint8_t)(iter ? 0xff : 0) : (uint8_t)rng_next(&s);
        ck_assert_uint_eq(us_csum_finish(us_csum_ip4_hdr(h)), ref_csum(0, h, sizeof(h)));
    }
}
END_TEST

START_TEST(test_pseudo4)
{
    /* Pseudo-header bytes c0a8 0001 c0a8 00c7 0011 001c summed as words. */
    us_ip4_t src = US_IP4(192, 168, 0, 1), dst = US_IP4(192, 168, 0, 199);
    const uint8_t ph[] = {0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
                          0x00, 0x11, 0x00, 0x1c};
    ck_assert_uint_eq(us_csum_finish(us_csum_pseudo4(src, dst, US_IPPROTO_UDP, 28)),
                      ref_csum(0, ph, sizeof(ph)));
    /* All-ones fields: 5 * ffff + 00ff folds to 00ff, complemented ff00. */
    ck_assert_uint_eq(us_csum_finish(us_csum_pseudo4(0xffffffffu, 0xffffffffu, 0xff, 0xffff)),
                      0xff00);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("wire_csum");
    TCase *tc = tcase_create("csum");
    tcase_add_test(tc, test_rfc1071_example);
    tcase_add_test(tc, test_ipv4_header_b861);
    tcase_add_test(tc, test_empty_and_zero);
    tcase_add_test(tc, test_odd_lengths);
    tcase_add_test(tc, test_all_ones_carries);
    tcase_add_test(tc, test_random_vs_reference);
    tcase_add_test(tc, test_ip4_hdr_vs_reference);
    tcase_add_test(tc, test_chunks_combine);
    tcase_add_test(tc, test_pseudo4);
    tcase_add_test(tc, test_copy_and_swap);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
