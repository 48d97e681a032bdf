/* Shared helpers for unit and simulation tests (Check framework). */
#ifndef US_TESTUTIL_H
#define US_TESTUTIL_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Each test file defines `Suite *make_suite(void)` and ends with US_TEST_MAIN(). Exit status is
 * non-zero when any test fails. CK_FORK follows the environment (Check's default: fork). */
Suite *make_suite(void);

/* Adds test t to suite su in a test case of its own called name, with a timeout of secs seconds,
 * so that CK_RUN_CASE=<name> runs it alone. */
#define US_ADD_CASE(su, name, t, secs)                                                             \
    do {                                                                                           \
        TCase *tc_ = tcase_create(name);                                                           \
        tcase_set_timeout(tc_, secs);                                                              \
        tcase_add_test(tc_, t);                                                                    \
        suite_add_tcase(su, tc_);                                                                  \
    } while (0)

/* A test that cannot run calls US_SKIP("reason", ...) and returns. It prints
 * "SKIP <test>: <reason>" on stderr, and the program then exits with US_EXIT_SKIP (77, the
 * automake convention) instead of 0, so a skipped test never reads as a pass;
 * scripts/run-tests.sh fails the run on it unless USTACK_ALLOW_SKIP allows it. Check runs each
 * test in a forked child, so the count lives in a shared mapping made before the tests run. */
#define US_EXIT_SKIP 77
static inline int **
us_skips_(void)
{
    static int *count;
    return &count;
}

/* fn is the Check body's __func__, "<test>_fn". */
static inline void
us_skip_(const char *fn, const char *fmt, ...)
{
    size_t n = strlen(fn);
    va_list ap;
    if (n > 3 && strcmp(fn + n - 3, "_fn") == 0)
        n -= 3;
    fprintf(stderr, "SKIP %.*s: ", (int)n, fn);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    if (*us_skips_() != NULL)
        __atomic_add_fetch(*us_skips_(), 1, __ATOMIC_SEQ_CST);
}
#define US_SKIP(...) us_skip_(__func__, __VA_ARGS__)

#define US_TEST_MAIN()                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        void *m = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,     \
                       -1, 0);                                                                     \
        *us_skips_() = m == MAP_FAILED ? NULL : (int *)m;                                          \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        if (failed != 0)                                                                           \
            return EXIT_FAILURE;                                                                   \
        if (*us_skips_() == NULL)                                                                  \
            return EXIT_FAILURE;                                                                   \
        return **us_skips_() > 0 ? US_EXIT_SKIP : EXIT_SUCCESS;                                    \
    }

#endif
