/* Unit tests for the range set: merging (overlap, adjacency, containment, bridging),
 * -ENOSPC leaving the set unchanged, pop_front, shift, and a differential test against a
 * bitmap model. */
#include <errno.h>
#include <string.h>

#include "core/rangeset.h"
#include "lib/testutil.h"

Suite *make_suite(void);

static uint64_t
rng_next(uint64_t *s)
{
    /* xorshift64: deterministic so a failure replays. */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Asserts the set holds exactly the ranges given as start, end pairs. */
static void
expect(const struct us_rangeset *s, unsigned n, const uint32_t *pairs)
{
    ck_assert_uint_eq(s->n, n);
    for (unsigned k = 0; k < n; k++) {
        ck_assert_uint_eq(s->r[k].start, pairs[2 * k]);
        ck_assert_uint_eq(s->r[k].end, pairs[2 * k + 1]);
    }
}

/* Field-wise equality (a struct copy need not preserve padding, so no memcmp). */
static bool
same_set(const struct us_rangeset *a, const struct us_rangeset *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned k = 0; k < a->n; k++) {
        if (a->r[k].start != b->r[k].start || a->r[k].end != b->r[k].end)
            return false;
    }
    return true;
}

START_TEST(test_add_disjoint_sorted)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_add(&s, 50, 60), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 10, 20), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 30, 40), 0);
    expect(&s, 3, (const uint32_t[]){10, 20, 30, 40, 50, 60});
    ck_assert_uint_eq(us_rangeset_bytes(&s), 30);
}
END_TEST

START_TEST(test_add_overlap_and_adjacent)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_add(&s, 10, 20), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 15, 25), 0); /* overlap on the right */
    expect(&s, 1, (const uint32_t[]){10, 25});
    ck_assert_int_eq(us_rangeset_add(&s, 5, 12), 0); /* overlap on the left */
    expect(&s, 1, (const uint32_t[]){5, 25});
    ck_assert_int_eq(us_rangeset_add(&s, 25, 30), 0); /* adjacent on the right */
    expect(&s, 1, (const uint32_t[]){5, 30});
    ck_assert_int_eq(us_rangeset_add(&s, 0, 5), 0); /* adjacent on the left */
    expect(&s, 1, (const uint32_t[]){0, 30});
    ck_assert_int_eq(us_rangeset_add(&s, 31, 32), 0); /* one-byte gap: stays separate */
    expect(&s, 2, (const uint32_t[]){0, 30, 31, 32});
    ck_assert_int_eq(us_rangeset_add(&s, 30, 31), 0); /* fills the gap exactly */
    expect(&s, 1, (const uint32_t[]){0, 32});
}
END_TEST

START_TEST(test_add_containment)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_add(&s, 10, 50), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 20, 30), 0); /* inside */
    expect(&s, 1, (const uint32_t[]){10, 50});
    ck_assert_int_eq(us_rangeset_add(&s, 10, 50), 0); /* identical */
    expect(&s, 1, (const uint32_t[]){10, 50});
    ck_assert_int_eq(us_rangeset_add(&s, 0, 100), 0); /* swallows */
    expect(&s, 1, (const uint32_t[]){0, 100});
}
END_TEST

START_TEST(test_add_bridges_several)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    for (uint32_t k = 0; k < 6; k++)
        ck_assert_int_eq(us_rangeset_add(&s, 10 * k, 10 * k + 5), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 100, 110), 0);
    ck_assert_uint_eq(s.n, 7);
    /* [12, 33) overlaps [10,15) [20,25) and touches [30,35): three become one. */
    ck_assert_int_eq(us_rangeset_add(&s, 12, 30), 0);
    expect(&s, 5, (const uint32_t[]){0, 5, 10, 35, 40, 45, 50, 55, 100, 110});
    /* Adjacent at both ends bridges the last ranges into one. */
    ck_assert_int_eq(us_rangeset_add(&s, 55, 100), 0);
    expect(&s, 4, (const uint32_t[]){0, 5, 10, 35, 40, 45, 50, 110});
    ck_assert_int_eq(us_rangeset_add(&s, 1, 200), 0);
    expect(&s, 1, (const uint32_t[]){0, 200});
}
END_TEST

START_TEST(test_add_invalid)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_add(&s, 5, 5), -EINVAL);
    ck_assert_int_eq(us_rangeset_add(&s, 6, 5), -EINVAL);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(us_rangeset_add(&s, 0, UINT32_MAX), 0);
    ck_assert_uint_eq(us_rangeset_bytes(&s), UINT32_MAX);
    ck_assert(us_rangeset_contains(&s, UINT32_MAX - 1, UINT32_MAX));
}
END_TEST

START_TEST(test_enospc_unchanged)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    for (uint32_t k = 0; k < US_RANGESET_MAX; k++)
        ck_assert_int_eq(us_rangeset_add(&s, 10 * k + 2, 10 * k + 5), 0);
    ck_assert_uint_eq(s.n, US_RANGESET_MAX);
    struct us_rangeset before = s;
    /* Gaps before, between and after existing ranges: each would need a ninth entry. */
    ck_assert_int_eq(us_rangeset_add(&s, 0, 1), -ENOSPC);
    ck_assert_int_eq(us_rangeset_add(&s, 6, 7), -ENOSPC);
    ck_assert_int_eq(us_rangeset_add(&s, 1000, 1001), -ENOSPC);
    ck_assert(same_set(&s, &before));
    /* Still fine when it merges with a neighbour, or fills a gap. */
    ck_assert_int_eq(us_rangeset_add(&s, 0, 2), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 5, 12), 0);
    ck_assert_uint_eq(s.n, US_RANGESET_MAX - 1);
    ck_assert_int_eq(us_rangeset_add(&s, 1000, 1001), 0);
    ck_assert_uint_eq(s.n, US_RANGESET_MAX);
}
END_TEST

START_TEST(test_pop_front)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_uint_eq(us_rangeset_pop_front(&s), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 5, 10), 0);
    ck_assert_uint_eq(us_rangeset_pop_front(&s), 0); /* does not start at 0 */
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(us_rangeset_add(&s, 0, 3), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 20, 30), 0);
    ck_assert_uint_eq(us_rangeset_pop_front(&s), 3);
    expect(&s, 2, (const uint32_t[]){5, 10, 20, 30});
    /* The receiver's loop: shift by what was delivered, then look again. */
    us_rangeset_shift(&s, 5);
    ck_assert_uint_eq(us_rangeset_pop_front(&s), 5);
    expect(&s, 1, (const uint32_t[]){15, 25});
}
END_TEST

START_TEST(test_shift)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_add(&s, 0, 4), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 10, 20), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 30, 40), 0);
    us_rangeset_shift(&s, 0);
    expect(&s, 3, (const uint32_t[]){0, 4, 10, 20, 30, 40});
    us_rangeset_shift(&s, 15); /* removes [0,4), cuts [10,20) */
    expect(&s, 2, (const uint32_t[]){0, 5, 15, 25});
    us_rangeset_shift(&s, 5); /* a range ending exactly at n is removed */
    expect(&s, 1, (const uint32_t[]){10, 20});
    us_rangeset_shift(&s, 10);
    expect(&s, 1, (const uint32_t[]){0, 10});
    us_rangeset_shift(&s, UINT32_MAX);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_contains)
{
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert(!us_rangeset_contains(&s, 0, 1));
    ck_assert(us_rangeset_contains(&s, 7, 7)); /* empty interval: vacuously covered */
    ck_assert_int_eq(us_rangeset_add(&s, 10, 20), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 30, 40), 0);
    ck_assert(us_rangeset_contains(&s, 10, 20));
    ck_assert(us_rangeset_contains(&s, 12, 13));
    ck_assert(!us_rangeset_contains(&s, 9, 11));
    ck_assert(!us_rangeset_contains(&s, 19, 21));
    ck_assert(!us_rangeset_contains(&s, 15, 35)); /* spans a hole */
    ck_assert(!us_rangeset_contains(&s, 20, 30));
    ck_assert(us_rangeset_contains(&s, 39, 40));
    ck_assert(!us_rangeset_contains(&s, 40, 41));
}
END_TEST

/* Bitmap model over a small universe, so the entry limit is hit often. */
#define UNIV (20u * US_RANGESET_MAX)

/* Runs of set bits in m: what the range set must hold. Returns the count (may exceed MAX). */
static unsigned
model_runs(const bool *m, uint32_t *pairs, unsigned max)
{
    unsigned n = 0;
    for (uint32_t x = 0; x < UNIV;) {
        if (!m[x]) {
            x++;
            continue;
        }
        uint32_t a = x;
        while (x < UNIV && m[x])
            x++;
        if (n < max) {
            pairs[2 * n] = a;
            pairs[2 * n + 1] = x;
        }
        n++;
    }
    return n;
}

static bool
matches_model(const struct us_rangeset *s, const bool *m)
{
    uint32_t pairs[2 * US_RANGESET_MAX];
    unsigned n = model_runs(m, pairs, US_RANGESET_MAX);
    if (s->n != n)
        return false;
    for (unsigned k = 0; k < n; k++) {
        if (s->r[k].start != pairs[2 * k] || s->r[k].end != pairs[2 * k + 1])
            return false;
    }
    uint32_t bytes = 0;
    for (uint32_t x = 0; x < UNIV; x++)
        bytes += m[x];
    return us_rangeset_bytes(s) == bytes;
}

/* Fails the test naming the iteration; one Check call per failure instead of per check, since
 * Check's per-assert bookkeeping dominates a long loop. Leaves the test (no return). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg("iteration %u: %s", it, #cond);                                           \
    } while (0)

START_TEST(test_random_vs_bitmap)
{
    uint64_t seed = 0x5eed5eed12345678u;
    struct us_rangeset s;
    bool m[UNIV];
    us_rangeset_clear(&s);
    memset(m, 0, sizeof(m));
    unsigned nospc = 0, pops = 0;
    for (unsigned it = 0; it < 200000; it++) {
        uint64_t r = rng_next(&seed);
        unsigned op = (unsigned)(r % 16);
        uint32_t a = (uint32_t)((r >> 8) % UNIV);
        uint32_t len = (uint32_t)((r >> 24) % 12);
        uint32_t b = US_MIN(a + len, UNIV);
        if (op < 10) {
            bool next[UNIV];
            memcpy(next, m, sizeof(m));
            for (uint32_t x = a; x < b; x++)
                next[x] = true;
            uint32_t pairs[2 * US_RANGESET_MAX];
            struct us_rangeset before = s;
            int rc = us_rangeset_add(&s, a, b);
            if (a >= b) {
                REQUIRE(rc == -EINVAL);
                REQUIRE(same_set(&s, &before));
            } else if (model_runs(next, pairs, US_RANGESET_MAX) > US_RANGESET_MAX) {
                REQUIRE(rc == -ENOSPC);
                REQUIRE(same_set(&s, &before));
                nospc++;
            } else {
                REQUIRE(rc == 0);
                memcpy(m, next, sizeof(m));
            }
        } else if (op < 12) {
            uint32_t want = 0;
            while (want < UNIV && m[want])
                want++;
            REQUIRE(us_rangeset_pop_front(&s) == want);
            for (uint32_t x = 0; x < want; x++)
                m[x] = false;
            pops += want > 0;
        } else if (op < 14) {
            uint32_t n = len * 2;
            us_rangeset_shift(&s, n);
            for (uint32_t x = 0; x < UNIV; x++)
                m[x] = x + n < UNIV ? m[x + n] : false;
        } else {
            bool want = true;
            for (uint32_t x = a; x < b; x++)
                want = want && m[x];
            REQUIRE(us_rangeset_contains(&s, a, b) == want);
        }
        REQUIRE(matches_model(&s, m));
    }
    /* The walk must actually exercise the interesting paths. */
    ck_assert_uint_gt(nospc, 100);
    ck_assert_uint_gt(pops, 100);
}
END_TEST

/* Asserts the recency order: the start of each remembered range, newest first. */
static void
expect_recent(const struct us_rangeset *s, unsigned n, const uint32_t *starts)
{
    for (unsigned i = 0; i < n; i++) {
        int k = us_rangeset_recent(s, i);
        ck_assert_int_ge(k, 0);
        ck_assert_uint_eq(s->r[k].start, starts[i]);
    }
    ck_assert_int_eq(us_rangeset_recent(s, n), -1);
}

START_TEST(test_recent)
{
    /* The ranges most recently added to, newest first (for RFC 2018 4's SACK block order). */
    struct us_rangeset s;
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_recent(&s, 0), -1);
    for (uint32_t a = 100; a <= 500; a += 100)
        ck_assert_int_eq(us_rangeset_add(&s, a, a + 50), 0);
    expect_recent(&s, 4, (uint32_t[]){500, 400, 300, 200}); /* four remembered */
    ck_assert_int_eq(us_rangeset_add(&s, 220, 260), 0);    /* extends 200: first again */
    expect_recent(&s, 4, (uint32_t[]){200, 500, 400, 300});
    ck_assert_int_eq(us_rangeset_add(&s, 350, 400), 0);    /* bridges 300 and 400 */
    expect_recent(&s, 3, (uint32_t[]){300, 200, 500});
    ck_assert_int_eq(us_rangeset_add(&s, 100, 120), 0);    /* inside 100: it comes back */
    expect_recent(&s, 4, (uint32_t[]){100, 300, 200, 500});
    us_rangeset_shift(&s, 230); /* 100 gone, 200..260 cut to 0..30, the rest move down */
    expect_recent(&s, 3, (uint32_t[]){70, 0, 270});
    ck_assert_uint_eq(us_rangeset_pop_front(&s), 30);
    expect_recent(&s, 2, (uint32_t[]){70, 270});
    ck_assert_int_eq(us_rangeset_add(&s, 1000, 1001), 0);
    us_rangeset_clear(&s);
    ck_assert_int_eq(us_rangeset_recent(&s, 0), -1);
    /* -ENOSPC changes nothing, recency included */
    for (uint32_t k = 0; k < US_RANGESET_MAX; k++)
        ck_assert_int_eq(us_rangeset_add(&s, k * 10, k * 10 + 5), 0);
    ck_assert_int_eq(us_rangeset_add(&s, 1000, 1001), -ENOSPC);
    expect_recent(&s, 4, (uint32_t[]){150, 140, 130, 120});
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("core_rangeset");
    TCase *tc = tcase_create("rangeset");
    tcase_add_test(tc, test_add_disjoint_sorted);
    tcase_add_test(tc, test_add_overlap_and_adjacent);
    tcase_add_test(tc, test_add_containment);
    tcase_add_test(tc, test_add_bridges_several);
    tcase_add_test(tc, test_add_invalid);
    tcase_add_test(tc, test_enospc_unchanged);
    tcase_add_test(tc, test_pop_front);
    tcase_add_test(tc, test_shift);
    tcase_add_test(tc, test_contains);
    tcase_add_test(tc, test_random_vs_bitmap);
    tcase_add_test(tc, test_recent);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
