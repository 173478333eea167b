#include "worker/reaper.h"

#include <errno.h>
#include <string.h>

#include "backend/placement.h"
#include "util/log.h"
#include "util/wall_clock.h"

enum { REAPER_BATCH = 100, REAPER_PASS_BATCHES = 50 };

/* Whether the object (bucket, key) lists the intent's copy: 1 yes, 0 no (or no object), or -errno. */
static int reaper_copy_is_live(struct store *s, const struct store_intent *in)
{
    struct store_object o;
    int err = store_object_get(s, in->bucket, in->key, &o);
    if (err == -ENOENT)
        return 0;
    if (err < 0)
        return err;
    int live = 0;
    for (size_t i = 0; i < o.n_copies && !live; i++)
        live = strcmp(o.copies[i].backend, in->backend) == 0 && strcmp(o.copies[i].backend_key, in->backend_key) == 0;
    store_object_free(&o);
    return live;
}

static void reaper_resolve(const struct reaper *r, const struct store_intent *in, struct job_stats *stats)
{
    struct store *s = r->svc->store;
    int live = reaper_copy_is_live(s, in);
    int err = live < 0 ? live : store_intent_drop(s, in->id, live ? NULL : "abandoned", NULL);
    if (err < 0 && err != -ENOENT) {
        atomic_fetch_add(&stats->failed, 1);
        log_warn("reaper: intent %lld (%s/%s): %s; next pass tries again", (long long)in->id, in->bucket, in->key,
                 strerror(-err));
        return;
    }
    atomic_fetch_add(&stats->done, 1);
    if (err == -ENOENT) /* its PUT finished meanwhile */
        return;
    log_info("reaper: intent %lld (%s/%s on %s): %s", (long long)in->id, in->bucket, in->key, in->backend,
             live ? "committed, dropped" : "abandoned, its copy queued for deletion");
    /* At start the router counted this intent's bytes beside the object's copy; the copy's bytes stay. */
    if (live && in->created_ms < r->started_ms)
        placement_freed(r->svc->placement, in->backend, in->size);
}

void reaper_pass(void *arg, struct job_stats *stats, const bool *stop)
{
    const struct reaper *r = arg;
    for (int b = 0; b < REAPER_PASS_BATCHES && !*stop; b++) {
        struct store_intent_list l;
        int err = store_intents_older_than(r->svc->store, wall_clock_ms() - r->pending_timeout_ms, REAPER_BATCH, &l);
        if (err < 0) {
            log_warn("reaper: cannot read the intents: %s", strerror(-err));
            return;
        }
        uint_fast64_t failed = atomic_load(&stats->failed);
        for (size_t i = 0; i < l.n && !*stop; i++)
            reaper_resolve(r, &l.v[i], stats);
        size_t n = l.n;
        store_intent_list_free(&l);
        if (n < REAPER_BATCH || atomic_load(&stats->failed) != failed) /* failures would come back first */
            return;
    }
}
