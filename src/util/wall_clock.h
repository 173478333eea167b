/* The wall clock in milliseconds since the epoch: what the store records (object times, intents, queue due times,
 * usage months). Monotonic time for timeouts is coro_now(). */
#ifndef S3ORCH_UTIL_WALL_CLOCK_H
#define S3ORCH_UTIL_WALL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
