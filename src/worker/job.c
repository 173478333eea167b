#include "worker/job.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"

/* Whether this instance may run a pass now; says so in the log when that changes. */
static bool job_take_turn(struct store *s, const struct job *j)
{
    bool held = false;
    int err = store_job_lock(s, j->id, &held);
    if (err < 0)
        log_warn("%s: cannot ask for its lock: %s", store_job_name(j->id), strerror(-err));
    bool was = atomic_exchange(&j->stats->holder, held);
    if (held && !was)
        log_info("%s: runs on this instance", store_job_name(j->id));
    else if (!held && was)
        log_info("%s: no longer runs on this instance", store_job_name(j->id));
    return held;
}

void job_run(struct store *s, const struct job *j, const bool *stop, struct coro_waitq *wake)
{
    while (!*stop) {
        if (job_take_turn(s, j)) {
            j->pass(j->arg, j->stats, stop);
            atomic_fetch_add(&j->stats->passes, 1);
        } else {
            atomic_fetch_add(&j->stats->skipped, 1);
        }
        /* Looked at again after the pass, which yields: a stop that came meanwhile woke nobody. */
        if (*stop || coro_waitq_wait(wake, coro_deadline_in(j->interval_ns)) == -ECANCELED)
            break;
    }
    /* Another instance need not wait for this one's session to time out. */
    if (atomic_exchange(&j->stats->holder, false))
        store_job_unlock(s, j->id);
}
