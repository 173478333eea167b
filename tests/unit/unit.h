/* Minimal unit-test harness: each tests/unit/test_*.c is a standalone program (liburing's style).
 * It prints one line per failed check and a closing "unit: N passed, N failed" line; exit 0 when all passed,
 * 1 on a failure, 77 when the test is skipped (kernel lacks a feature). */
#ifndef S3ORCH_UNIT_H
#define S3ORCH_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_passed, unit_failed, unit_failed_tests;
static const char *unit_current = "";

static inline void unit_check(int ok, const char *expr, const char *file, int line)
{
    if (ok)
        return;
    unit_failed++;
    fprintf(stderr, "%s:%d: %s: check failed: %s\n", file, line, unit_current, expr);
}

#define CHECK(expr) unit_check(!!(expr), #expr, __FILE__, __LINE__)
#define CHECK_EQ(a, b)                                                                                        \
    do {                                                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                   \
        if (a_ != b_)                                                                                         \
            fprintf(stderr, "    %s = %lld, %s = %lld\n", #a, a_, #b, b_);                                   \
        unit_check(a_ == b_, #a " == " #b, __FILE__, __LINE__);                                               \
    } while (0)
#define CHECK_STR(a, b) unit_check(strcmp((a), (b)) == 0, #a " equals " #b, __FILE__, __LINE__)
#define CHECK_MEM(a, alen, b) unit_check((alen) == strlen(b) && memcmp((a), (b), (alen)) == 0, #a " equals " #b, __FILE__, __LINE__)

/* Runs one test function; it counts as passed when it made no failed check. */
static inline void unit_run(const char *name, void (*fn)(void))
{
    int before = unit_failed;
    unit_current = name;
    if (getenv("UNIT_VERBOSE"))
        fprintf(stderr, "RUN %s\n", name);
    fn();
    if (unit_failed == before)
        unit_passed++;
    else {
        unit_failed_tests++;
        fprintf(stderr, "FAIL %s\n", name);
    }
}
#define RUN(fn) unit_run(#fn, fn)

static inline int unit_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, unit_passed, unit_failed_tests);
    return unit_failed ? 1 : 0;
}

#define UNIT_SKIP 77

#endif
