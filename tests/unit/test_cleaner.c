/* The cleaner's retry schedule (src/worker/cleaner.c): min(first · 2^(failures - 1), 24h). */
#include <stdint.h>

#include "unit.h"
#include "worker/cleaner.h"

#define MIN_MS (60LL * 1000)
#define DAY_MS (24LL * 3600 * 1000)

static void test_backoff_doubles(void)
{
    CHECK_EQ(cleaner_backoff_ms(1, MIN_MS), MIN_MS);
    CHECK_EQ(cleaner_backoff_ms(2, MIN_MS), 2 * MIN_MS);
    CHECK_EQ(cleaner_backoff_ms(5, MIN_MS), 16 * MIN_MS);
    CHECK_EQ(cleaner_backoff_ms(11, MIN_MS), 1024 * MIN_MS);
}

static void test_backoff_caps_at_a_day(void)
{
    CHECK_EQ(cleaner_backoff_ms(12, MIN_MS), DAY_MS); /* 2048 min would pass it */
    CHECK_EQ(cleaner_backoff_ms(1000, MIN_MS), DAY_MS);
    CHECK_EQ(cleaner_backoff_ms(1, 2 * DAY_MS), DAY_MS);
}

static void test_backoff_odd_inputs(void)
{
    CHECK_EQ(cleaner_backoff_ms(0, MIN_MS), MIN_MS);
    CHECK_EQ(cleaner_backoff_ms(-3, MIN_MS), MIN_MS);
    CHECK_EQ(cleaner_backoff_ms(3, 0), 4); /* no zero wait: a retry never spins */
}

int main(void)
{
    RUN(test_backoff_doubles);
    RUN(test_backoff_caps_at_a_day);
    RUN(test_backoff_odd_inputs);
    return unit_finish("cleaner");
}
