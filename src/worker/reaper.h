/* The pending reaper (W6, O10): resolves PUT intents older than the pending timeout, which a crash or a lost
 * store call left behind. An intent whose copy the object now lists was committed (a replicated PUT's other
 * copies, when the crash came between the commit and dropping their intents): it is dropped. Any other copy was
 * never acknowledged to a client: the intent is dropped and the copy queued for the cleaner, in one store call.
 * Dropping rather than promoting such a copy is deliberate: a later version may have been committed since, and a
 * write no client heard succeed is not data s3orch owes anyone. A PUT still running past the timeout finds its
 * intent gone at commit (-EIDRM) and fails cleanly. Runs as a job (job.h). */
#ifndef S3ORCH_WORKER_REAPER_H
#define S3ORCH_WORKER_REAPER_H

#include <stdint.h>

#include "s3/s3_service.h"
#include "worker/job.h"

struct reaper {
    const struct s3_service *svc;
    int64_t pending_timeout_ms; /* intents older than this are abandoned */
    int64_t started_ms;         /* this instance's start: older intents' bytes were counted at start */
};

/* A job pass (struct job's pass, arg a struct reaper). */
void reaper_pass(void *arg, struct job_stats *stats, const bool *stop);

#endif
