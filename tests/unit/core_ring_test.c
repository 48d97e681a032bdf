/* Unit tests for the byte ring: wrap-around, peek and view at offsets, write_at + commit,
 * lazy allocation and release, chunked growth, capacity changes, and a differential test
 * against a flat-array model. */
#include <errno.h>
#include <string.h>

#include "core/ring.h"
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

static void
fill(uint8_t *b, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(first + i);
}

/* Asserts the stored bytes are first, first+1, ... (mod 256), via peek and via view. */
static void
expect_seq(const struct us_ring *r, size_t len, uint8_t first)
{
    ck_assert_uint_eq(us_ring_len(r), len);
    uint8_t out[512];
    ck_assert_uint_le(len, sizeof(out));
    ck_assert_uint_eq(us_ring_peek(r, 0, out, sizeof(out)), len);
    for (size_t i = 0; i < len; i++)
        ck_assert_uint_eq(out[i], (uint8_t)(first + i));
    size_t off = 0;
    while (off < len) {
        const uint8_t *p;
        size_t run = us_ring_view(r, off, &p);
        ck_assert_uint_gt(run, 0);
        for (size_t i = 0; i < run; i++)
            ck_assert_uint_eq(p[i], (uint8_t)(first + off + i));
        off += run;
    }
    ck_assert_uint_eq(off, len);
}

START_TEST(test_lazy_allocation)
{
    struct us_ring r;
    us_ring_init(&r, 1000);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.alloc, 0);
    ck_assert_uint_eq(us_ring_space(&r), 1000);
    uint8_t b[100];
    fill(b, sizeof(b), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 0), 0);
    ck_assert_ptr_null(r.buf); /* an empty write allocates nothing */
    ck_assert_uint_eq(us_ring_write(&r, b, 100), 100);
    ck_assert_ptr_nonnull(r.buf);
    us_ring_consume(&r, 0);
    ck_assert_ptr_nonnull(r.buf);
    us_ring_consume(&r, 60);
    ck_assert_ptr_nonnull(r.buf);
    expect_seq(&r, 40, 60);
    us_ring_consume(&r, 40);
    ck_assert_ptr_null(r.buf); /* drained: storage released */
    ck_assert_uint_eq(r.alloc, 0);
    ck_assert_uint_eq(r.head, 0);
    ck_assert_uint_eq(us_ring_len(&r), 0);
    ck_assert_uint_eq(us_ring_space(&r), 1000);
    /* Usable again after release; write_at alone also allocates. */
    ck_assert_uint_eq(us_ring_write_at(&r, 10, b, 5), 5);
    ck_assert_ptr_nonnull(r.buf);
    ck_assert_uint_eq(us_ring_len(&r), 0);
    us_ring_free(&r);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.cap, 1000);
    us_ring_free(&r); /* idempotent */
}
END_TEST

START_TEST(test_chunked_growth)
{
    /* A large ring allocates a small first chunk and doubles toward cap as data arrives. */
    struct us_ring r;
    const size_t cap = 100000;
    us_ring_init(&r, cap);
    uint8_t b[512];
    fill(b, sizeof(b), 7);
    ck_assert_uint_eq(us_ring_write(&r, b, 10), 10);
    ck_assert_uint_ge(r.alloc, 10);
    ck_assert_uint_lt(r.alloc, cap / 8);
    size_t first = r.alloc, prev = r.alloc, grows = 0;
    size_t total = 10;
    while (us_ring_space(&r) > 0) {
        size_t n = us_ring_write(&r, b, sizeof(b));
        ck_assert_uint_gt(n, 0);
        total += n;
        ck_assert_uint_ge(r.alloc, us_ring_len(&r));
        ck_assert_uint_le(r.alloc, cap);
        if (r.alloc != prev) {
            ck_assert_uint_ge(r.alloc, 2 * prev < cap ? 2 * prev : cap); /* at least doubles */
            grows++;
            prev = r.alloc;
        }
    }
    ck_assert_uint_eq(total, cap);
    ck_assert_uint_eq(r.alloc, cap);
    ck_assert_uint_ge(grows, 3);
    ck_assert_uint_lt(first, cap);
    ck_assert_uint_eq(us_ring_write(&r, b, 1), 0); /* full */
    /* Contents survived every re-allocation in order. */
    uint8_t out[1];
    ck_assert_uint_eq(us_ring_peek(&r, 0, out, 1), 1);
    ck_assert_uint_eq(out[0], 7);
    ck_assert_uint_eq(us_ring_peek(&r, 10, out, 1), 1);
    ck_assert_uint_eq(out[0], 7);
    ck_assert_uint_eq(us_ring_peek(&r, 10 + 511, out, 1), 1);
    ck_assert_uint_eq(out[0], (uint8_t)(7 + 511));
    us_ring_free(&r);

    /* A small ring allocates its whole capacity at once; a write larger than a chunk allocates
     * what it needs. */
    us_ring_init(&r, 100);
    ck_assert_uint_eq(us_ring_write(&r, b, 1), 1);
    ck_assert_uint_eq(r.alloc, 100);
    us_ring_free(&r);
    us_ring_init(&r, cap);
    uint8_t big[5000];
    fill(big, sizeof(big), 0);
    ck_assert_uint_eq(us_ring_write(&r, big, sizeof(big)), sizeof(big));
    ck_assert_uint_ge(r.alloc, sizeof(big));
    us_ring_free(&r);
}
END_TEST

START_TEST(test_wraparound)
{
    struct us_ring r;
    us_ring_init(&r, 16);
    uint8_t b[32];
    fill(b, sizeof(b), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 10), 10);
    us_ring_consume(&r, 8);
    ck_assert_uint_eq(r.head, 8);
    /* 2 stored at [8,10); 14 more fill [10,16) and wrap into [0,8). */
    ck_assert_uint_eq(us_ring_write(&r, b + 10, 20), 14);
    ck_assert_uint_eq(us_ring_space(&r), 0);
    expect_seq(&r, 16, 8);
    const uint8_t *p;
    ck_assert_uint_eq(us_ring_view(&r, 0, &p), 8); /* up to the wrap point */
    ck_assert_uint_eq(p[0], 8);
    ck_assert_uint_eq(us_ring_view(&r, 8, &p), 8);
    ck_assert_uint_eq(p[0], 16);
    ck_assert_uint_eq(us_ring_view(&r, 5, &p), 3);
    ck_assert_uint_eq(us_ring_view(&r, 15, &p), 1);
    ck_assert_uint_eq(p[0], 23);
    ck_assert_uint_eq(us_ring_view(&r, 16, &p), 0);
    ck_assert_ptr_null(p);
    /* Keep cycling through the buffer many times. */
    uint8_t next = 24;
    for (int round = 0; round < 100; round++) {
        us_ring_consume(&r, 5);
        uint8_t c[5];
        fill(c, sizeof(c), next);
        ck_assert_uint_eq(us_ring_write(&r, c, 5), 5);
        next = (uint8_t)(next + 5);
        expect_seq(&r, 16, (uint8_t)(next - 16));
    }
    us_ring_free(&r);
}
END_TEST

START_TEST(test_peek_offsets)
{
    struct us_ring r;
    us_ring_init(&r, 16);
    uint8_t b[16], out[16];
    fill(b, sizeof(b), 100);
    ck_assert_uint_eq(us_ring_write(&r, b, 12), 12);
    us_ring_consume(&r, 10);
    ck_assert_uint_eq(us_ring_write(&r, b + 12, 4), 4);
    fill(b, sizeof(b), 116);
    ck_assert_uint_eq(us_ring_write(&r, b, 6), 6); /* stored: 110..121, wrapping after 115 */
    for (size_t off = 0; off <= 12; off++) {
        for (size_t n = 0; n <= 14; n++) {
            memset(out, 0, sizeof(out));
            size_t got = us_ring_peek(&r, off, out, n);
            size_t want = off >= 12 ? 0 : US_MIN(n, 12 - off);
            ck_assert_uint_eq(got, want);
            for (size_t i = 0; i < got; i++)
                ck_assert_uint_eq(out[i], (uint8_t)(110 + off + i));
        }
    }
    ck_assert_uint_eq(us_ring_peek(&r, SIZE_MAX, out, SIZE_MAX), 0);
    ck_assert_uint_eq(us_ring_len(&r), 12); /* peek removes nothing */
    us_ring_free(&r);
}
END_TEST

START_TEST(test_write_at_commit)
{
    struct us_ring r;
    us_ring_init(&r, 16);
    uint8_t b[16];
    fill(b, sizeof(b), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 12), 12);
    us_ring_consume(&r, 10); /* head 10, 2 stored (0x0a 0x0b) */
    /* Out of order: bytes 0x0e..0x13 at offset 2 past the end; wraps at physical 16. */
    uint8_t ooo[6];
    fill(ooo, sizeof(ooo), 0x0e);
    ck_assert_uint_eq(us_ring_write_at(&r, 2, ooo, 6), 6);
    ck_assert_uint_eq(us_ring_len(&r), 2);
    /* Limits: off + n is cut at space (14); off at or past space writes nothing. */
    ck_assert_uint_eq(us_ring_write_at(&r, 10, ooo, 6), 4);
    ck_assert_uint_eq(us_ring_write_at(&r, 14, ooo, 1), 0);
    ck_assert_uint_eq(us_ring_write_at(&r, SIZE_MAX, ooo, SIZE_MAX), 0);
    ck_assert_uint_eq(us_ring_write_at(&r, 0, ooo, 0), 0);
    /* The hole arrives; commit the contiguous run. */
    uint8_t gap[2] = {0x0c, 0x0d};
    ck_assert_uint_eq(us_ring_write_at(&r, 0, gap, 2), 2);
    us_ring_commit(&r, 8);
    expect_seq(&r, 10, 0x0a);
    /* In-order delivery with write, after a write_at that overlaps it, works the same. */
    uint8_t more[2] = {0x14, 0x15};
    ck_assert_uint_eq(us_ring_write_at(&r, 0, more, 2), 2);
    ck_assert_uint_eq(us_ring_write(&r, more, 2), 2);
    expect_seq(&r, 12, 0x0a);
    us_ring_free(&r);
}
END_TEST

START_TEST(test_write_ahead_and_draining)
{
    /* Data written ahead survives the reader draining the ring only with consume_keep. */
    struct us_ring r;
    us_ring_init(&r, 64);
    uint8_t b[12];
    fill(b, sizeof(b), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 4), 4);
    ck_assert_uint_eq(us_ring_write_at(&r, 4, b + 8, 4), 4); /* stream bytes 8..11; hole 4..7 */
    us_ring_consume_keep(&r, 4);
    ck_assert_uint_eq(us_ring_len(&r), 0);
    ck_assert_ptr_nonnull(r.buf);
    fill(b, sizeof(b), 4);
    ck_assert_uint_eq(us_ring_write(&r, b, 4), 4); /* the hole, in order */
    us_ring_commit(&r, 4);
    expect_seq(&r, 8, 4);
    us_ring_consume_keep(&r, 8); /* empty but kept... */
    ck_assert_ptr_nonnull(r.buf);
    ck_assert_uint_eq(us_ring_write_at(&r, 0, b, 1), 1);
    us_ring_consume(&r, 0); /* ...and consume(0) on an empty ring releases nothing */
    ck_assert_ptr_nonnull(r.buf);
    ck_assert_uint_eq(us_ring_write(&r, b, 1), 1);
    us_ring_consume(&r, 1);
    ck_assert_ptr_null(r.buf);
    us_ring_free(&r);
}
END_TEST

START_TEST(test_grow_keeps_wrapped_order)
{
    struct us_ring r;
    us_ring_init(&r, 16);
    uint8_t b[64];
    fill(b, sizeof(b), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 16), 16);
    us_ring_consume(&r, 11);
    ck_assert_uint_eq(us_ring_write(&r, b + 16, 11), 11); /* full, head 11, wrapped */
    ck_assert_uint_eq(us_ring_write_at(&r, 0, b, 1), 0);
    ck_assert_uint_eq(us_ring_set_cap(&r, 48), 0);
    ck_assert_uint_eq(us_ring_space(&r), 32);
    expect_seq(&r, 16, 11);
    /* Data written ahead before the next grow keeps its offset too. */
    ck_assert_uint_eq(us_ring_write_at(&r, 4, b + 31, 10), 10);
    ck_assert_uint_eq(r.head, 0); /* grown and un-wrapped */
    ck_assert_uint_ge(r.alloc, 30);
    ck_assert_uint_eq(us_ring_write(&r, b + 27, 4), 4);
    us_ring_commit(&r, 10);
    expect_seq(&r, 30, 11);
    /* Grow again while wrapped inside the new allocation. */
    us_ring_consume(&r, 20);
    ck_assert_uint_eq(us_ring_write(&r, b + 41, 23), 23);
    ck_assert_uint_eq(us_ring_set_cap(&r, 200), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 0), 0);
    uint8_t c[40];
    fill(c, sizeof(c), 64);
    ck_assert_uint_eq(us_ring_write(&r, c, 40), 40);
    expect_seq(&r, 73, 31);
    us_ring_free(&r);
}
END_TEST

START_TEST(test_set_cap_limits)
{
    struct us_ring r;
    us_ring_init(&r, 16);
    ck_assert_int_eq(us_ring_set_cap(&r, 0), 0); /* empty: anything goes */
    uint8_t b[16];
    fill(b, sizeof(b), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 1), 0);
    ck_assert_ptr_null(r.buf);
    ck_assert_int_eq(us_ring_set_cap(&r, 16), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 10), 10);
    ck_assert_int_eq(us_ring_set_cap(&r, 9), -EINVAL);
    ck_assert_uint_eq(r.cap, 16);
    ck_assert_int_eq(us_ring_set_cap(&r, (size_t)UINT32_MAX + 1), -EINVAL); /* 32-bit sizes */
    ck_assert_uint_eq(r.cap, 16);
    expect_seq(&r, 10, 0);
    ck_assert_int_eq(us_ring_set_cap(&r, 10), 0); /* down to exactly len */
    ck_assert_uint_eq(us_ring_space(&r), 0);
    ck_assert_uint_eq(us_ring_write(&r, b, 1), 0);
    ck_assert_uint_eq(us_ring_write_at(&r, 0, b, 1), 0);
    us_ring_consume(&r, 4);
    ck_assert_uint_eq(us_ring_write(&r, b + 10, 6), 4); /* cap 10 limits, not the allocation */
    expect_seq(&r, 10, 4);
    us_ring_free(&r);
}
END_TEST

/* Flat model: m[0..len) stored, m[len..cap) written ahead where ok[] is set. */
#define MODEL_MAX 12000u

struct model {
    uint8_t m[MODEL_MAX];
    bool ok[MODEL_MAX];
    size_t len, cap;
};

static void
model_drop_front(struct model *md, size_t n)
{
    memmove(md->m, md->m + n, MODEL_MAX - n);
    memmove(md->ok, md->ok + n, MODEL_MAX - n);
    memset(md->ok + MODEL_MAX - n, 0, n);
}

/* Fails the test naming the iteration; one Check call per failure instead of per check, since
 * Check's per-assert bookkeeping dominates a long loop. Leaves the test (no return). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg("iteration %u: %s", it, #cond);                                           \
    } while (0)

START_TEST(test_random_vs_model)
{
    static struct model md; /* large; static inside the test, reset below */
    static uint8_t tmp[MODEL_MAX];
    uint64_t seed = 0x0123456789abcdefu;
    struct us_ring r;
    memset(&md, 0, sizeof(md));
    md.cap = 3000;
    us_ring_init(&r, md.cap);
    uint8_t stamp = 0;
    unsigned frees = 0, wraps = 0;
    for (unsigned it = 0; it < 100000; it++) {
        uint64_t x = rng_next(&seed);
        unsigned op = (unsigned)(x % 100);
        size_t a = (size_t)((x >> 8) % 1500), b = (size_t)((x >> 24) % 1500);
        if ((x >> 60) < 4) /* a quarter of the sizes small: the ring's short-copy path */
            a %= 20;
        if (op < 25) { /* write */
            for (size_t i = 0; i < a; i++)
                tmp[i] = stamp++;
            size_t want = US_MIN(a, md.cap - md.len);
            REQUIRE(us_ring_write(&r, tmp, a) == want);
            memcpy(md.m + md.len, tmp, want);
            memset(md.ok + md.len, 0, want);
            md.len += want;
        } else if (op < 40) { /* write_at */
            size_t off = b / 2, space = md.cap - md.len;
            for (size_t i = 0; i < a; i++)
                tmp[i] = stamp++;
            size_t want = off >= space ? 0 : US_MIN(a, space - off);
            REQUIRE(us_ring_write_at(&r, off, tmp, a) == want);
            memcpy(md.m + md.len + off, tmp, want);
            memset(md.ok + md.len + off, 1, want);
        } else if (op < 50) { /* commit part of the written-ahead prefix */
            size_t run = 0;
            while (md.len + run < md.cap && md.ok[md.len + run])
                run++;
            size_t n = run == 0 ? 0 : a % (run + 1);
            us_ring_commit(&r, n);
            memset(md.ok + md.len, 0, n);
            md.len += n;
        } else if (op < 65) { /* consume, releasing storage when empty */
            size_t n = md.len == 0 ? 0 : a % (md.len + 1);
            if (x & (1u << 30))
                n = md.len; /* drain often */
            us_ring_consume(&r, n);
            model_drop_front(&md, n);
            md.len -= n;
            if (n > 0 && md.len == 0) {
                memset(md.ok, 0, sizeof(md.ok)); /* data written ahead goes with the buffer */
                REQUIRE(r.buf == NULL && r.alloc == 0 && r.head == 0);
                frees++;
            }
        } else if (op < 72) { /* consume_keep */
            size_t n = md.len == 0 ? 0 : a % (md.len + 1);
            us_ring_consume_keep(&r, n);
            model_drop_front(&md, n);
            md.len -= n;
        } else if (op < 76) { /* set_cap */
            size_t cap = 1 + (size_t)((x >> 40) % (MODEL_MAX - 1));
            if (cap < md.len) {
                REQUIRE(us_ring_set_cap(&r, cap) == -EINVAL);
            } else {
                REQUIRE(us_ring_set_cap(&r, cap) == 0);
                if (cap < md.cap)
                    memset(md.ok + cap, 0, MODEL_MAX - cap); /* beyond the limit: forgotten */
                md.cap = cap;
            }
        } else if (op < 90) { /* peek */
            size_t off = md.len == 0 ? a : a % (md.len + 1);
            size_t want = off >= md.len ? 0 : US_MIN(b, md.len - off);
            REQUIRE(us_ring_peek(&r, off, tmp, b) == want);
            REQUIRE(memcmp(tmp, md.m + off, want) == 0);
        } else { /* view: walk the whole content */
            size_t off = 0;
            while (off < md.len) {
                const uint8_t *p;
                size_t run = us_ring_view(&r, off, &p);
                REQUIRE(run > 0 && run <= md.len - off);
                REQUIRE(p >= r.buf && p + run <= r.buf + r.alloc);
                REQUIRE(memcmp(p, md.m + off, run) == 0);
                wraps += run < md.len - off;
                off += run;
            }
        }
        REQUIRE(us_ring_len(&r) == md.len && r.cap == md.cap);
        REQUIRE((r.buf == NULL) == (r.alloc == 0));
        REQUIRE(r.alloc >= r.len && (r.alloc == 0 || r.head < r.alloc));
    }
    ck_assert_uint_gt(frees, 100);
    ck_assert_uint_gt(wraps, 100);
    us_ring_free(&r);
}
END_TEST

Suite *
make_suite(void)
{
    Suite *s = suite_create("core_ring");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, test_lazy_allocation);
    tcase_add_test(tc, test_chunked_growth);
    tcase_add_test(tc, test_wraparound);
    tcase_add_test(tc, test_peek_offsets);
    tcase_add_test(tc, test_write_at_commit);
    tcase_add_test(tc, test_write_ahead_and_draining);
    tcase_add_test(tc, test_grow_keeps_wrapped_order);
    tcase_add_test(tc, test_set_cap_limits);
    tcase_add_test(tc, test_random_vs_model);
    suite_add_tcase(s, tc);
    return s;
}

US_TEST_MAIN()
