#include "worker/usage_flush.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"
#include "util/wall_clock.h"

static double flush_once(struct usage *u, struct store *s)
{
    int err;
    double worst = usage_flush(u, s, wall_clock_ms(), &err);
    if (err < 0)
        log_error("usage counters not saved (kept for the next flush): %s", strerror(-err));
    return worst;
}

void usage_flush_run(struct usage *u, struct store *s, const struct usage_flush_config *cfg, const bool *stop,
                     struct coro_waitq *wake)
{
    double worst = 0;
    while (!*stop) {
        bool near = cfg->adaptive && worst >= cfg->threshold;
        int64_t wait = near && cfg->fast_interval_ns ? cfg->fast_interval_ns : cfg->interval_ns;
        int err = coro_waitq_wait(wake, coro_deadline_in(wait > 0 ? wait : CORO_SEC(30)));
        if (err == -ECANCELED)
            break;
        if (!*stop)
            worst = flush_once(u, s);
        if (!*stop && cfg->after)
            cfg->after(cfg->after_arg);
    }
    flush_once(u, s);
}
