/* The usage flusher (O3): a worker-ring job that adds what the ring threads counted to the store on an interval,
 * sooner while a backend is near one of its monthly limits, so that every instance sees a backend reach its limit
 * within one (fast) interval. */
#ifndef S3ORCH_WORKER_USAGE_FLUSH_H
#define S3ORCH_WORKER_USAGE_FLUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/usage.h"
#include "coro/coro.h"
#include "store/store.h"

struct usage_flush_config {
    int64_t interval_ns;
    bool adaptive;
    double threshold;         /* the fraction of a limit from which fast_interval_ns applies */
    int64_t fast_interval_ns;
    void (*after)(void *arg); /* optional: another chore for the same interval, run after each flush */
    void *after_arg;
};

/* Flushes until *stop is set (wake is woken then), and once more before returning. */
void usage_flush_run(struct usage *u, struct store *s, const struct usage_flush_config *cfg, const bool *stop,
                     struct coro_waitq *wake);

#endif
