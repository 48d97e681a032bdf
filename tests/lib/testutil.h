/* Shared helpers for unit and simulation tests (Check framework). */
#ifndef US_TESTUTIL_H
#define US_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* Each test file defines `Suite *make_suite(void)` and ends with US_TEST_MAIN(). Exit status is
 * non-zero when any test fails. CK_FORK follows the environment (Check's default: fork). */
Suite *make_suite(void);

#define US_TEST_MAIN()                                                                             \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                          \
    }

#endif
