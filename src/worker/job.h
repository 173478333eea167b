/* A background job that runs on one instance at a time (M4): each interval it asks the store for its job lock and
 * runs one pass only while it holds it. Another instance that holds the lock makes this one wait its turn; one
 * that dies (or stops) lets the next ask take over. */
#ifndef S3ORCH_WORKER_JOB_H
#define S3ORCH_WORKER_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "coro/coro.h"
#include "store/store.h"

/* What a job did, for tests and (later) metrics; written by the worker ring, read from anywhere. */
struct job_stats {
    atomic_bool holder;           /* held the lock at its last ask */
    atomic_uint_fast64_t passes;  /* passes run */
    atomic_uint_fast64_t skipped; /* intervals in which another instance held the lock */
    atomic_uint_fast64_t done;    /* items finished (copies deleted, intents resolved) */
    atomic_uint_fast64_t failed;  /* attempts that failed and were put off */
    atomic_uint_fast64_t parked;  /* items given up on, left for an operator */
};

struct job {
    enum store_job id;
    int64_t interval_ns;
    /* One pass over what is due; returns early once *stop is set. */
    void (*pass)(void *arg, struct job_stats *stats, const bool *stop);
    void *arg;
    struct job_stats *stats;
};

/* Runs j's passes (the first at once) until *stop is set (wake is woken then); gives the lock up on the way out. */
void job_run(struct store *s, const struct job *j, const bool *stop, struct coro_waitq *wake);

#endif
