/* Unit tests for SipHash-2-4: the 64 reference vectors (key 00..0f, messages 00 01 02 .. of
 * length 0..63), alignment independence, and key sensitivity. */
#include <string.h>

#include "core/siphash.h"
#include "lib/testutil.h"

Suite *make_suite(void);

/* SipHash-2-4 outputs for key 00 01 .. 0f and message 00 01 .. (len-1), len = 0..63: the reference
 * implementation's vectors_sip64 table, each 8-byte entry read as a little-endian integer.
 * Entry 15 is the worked example in the paper's Appendix A. */
static const uint64_t vectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

/* The paper's key bytes 00 .. 0f, read as two little-endian 64-bit words. */
static const struct us_siphash_key ref_key = {
    .k0 = UINT64_C(0x0706050403020100),
    .k1 = UINT64_C(0x0f0e0d0c0b0a0908),
};

START_TEST(test_paper_example)
{
    /* Paper, Appendix A: 15-byte message 00 .. 0e. */
    uint8_t m[15];
    for (unsigned i = 0; i < sizeof(m); i++)
        m[i] = (uint8_t)i;
    ck_assert_uint_eq(us_siphash24(&ref_key, m, sizeof(m)), UINT64_C(0xa129ca6149be45e5));
}
END_TEST

START_TEST(test_reference_vectors)
{
    uint8_t m[64];
    for (unsigned i = 0; i < sizeof(m); i++)
        m[i] = (uint8_t)i;
    for (unsigned len = 0; len < 64; len++) {
        uint64_t h = us_siphash24(&ref_key, m, len);
        ck_assert_msg(h == vectors[len], "len %u: got %016llx want %016llx", len,
                      (unsigned long long)h, (unsigned long long)vectors[len]);
    }
}
END_TEST

START_TEST(test_unaligned_input)
{
    /* Same bytes at every alignment give the same hash (byte loads, no word casts). */
    uint8_t buf[64 + 8];
    for (unsigned shift = 0; shift < 8; shift++) {
        memset(buf, 0xaa, sizeof(buf));
        for (unsigned i = 0; i < 64; i++)
            buf[shift + i] = (uint8_t)i;
        for (unsigned len = 0; len < 64; len++)
            ck_assert_uint_eq(us_siphash24(&ref_key, buf + shift, len), vectors[len]);
    }
}
END_TEST

START_TEST(test_key_sensitivity)
{
    const uint8_t m[12] = {192, 0, 2, 1, 198, 51, 100, 7, 0x30, 0x39, 0x00, 0x50};
    uint64_t base = us_siphash24(&ref_key, m, sizeof(m));
    for (unsigned bit = 0; bit < 128; bit++) {
        struct us_siphash_key k = ref_key;
        if (bit < 64)
            k.k0 ^= UINT64_C(1) << bit;
        else
            k.k1 ^= UINT64_C(1) << (bit - 64);
        ck_assert_uint_ne(us_siphash24(&k, m, sizeof(m)), base);
    }
    /* The length is part of the input: a trailing zero byte changes the hash. */
    const uint8_t z[2] = {0, 0};
    ck_assert_uint_ne(us_siphash24(&ref_key, z, 1), us_siphash24(&ref_key, z, 2));
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("core_siphash");
    TCase *tc = tcase_create("siphash24");
    tcase_add_test(tc, test_paper_example);
    tcase_add_test(tc, test_reference_vectors);
    tcase_add_test(tc, test_unaligned_input);
    tcase_add_test(tc, test_key_sensitivity);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
