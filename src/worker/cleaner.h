/* The cleaner (W5): deletes the backend copies the cleanup queue holds (copies an overwrite or a delete displaced
 * and whose immediate delete failed, copies of abandoned PUTs), retrying a failed delete after
 * min(retry_backoff · 2^attempts, 24h) and parking it after max_attempts for an operator. Runs as a job (job.h). */
#ifndef S3ORCH_WORKER_CLEANER_H
#define S3ORCH_WORKER_CLEANER_H

#include <stdint.h>

#include "s3/s3_service.h"
#include "worker/job.h"

/* A parked row's next attempt: never, until an operator requeues it. */
#define CLEANER_PARKED INT64_MAX

struct cleaner {
    const struct s3_service *svc;
    int concurrency;    /* deletes in flight */
    int max_attempts;   /* failed attempts before a row is parked */
    int64_t backoff_ms; /* the wait after the first failure */
};

/* A job pass (struct job's pass, arg a struct cleaner). */
void cleaner_pass(void *arg, struct job_stats *stats, const bool *stop);
/* How long to wait before the next attempt once `failures` attempts have failed (>= 1). */
int64_t cleaner_backoff_ms(int failures, int64_t first_ms);

#endif
