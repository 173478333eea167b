#include "worker/cleaner.h"

#include <errno.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/placement.h"
#include "util/log.h"
#include "util/wall_clock.h"

enum {
    CLEANER_BATCH = 100,       /* rows read at a time */
    CLEANER_PASS_BATCHES = 50, /* then the pass ends, so that shutdown and the lock are looked at again */
};
#define CLEANER_BACKOFF_MAX_MS (24LL * 3600 * 1000)

int64_t cleaner_backoff_ms(int failures, int64_t first_ms)
{
    int64_t wait = first_ms > 0 ? first_ms : 1;
    for (int i = 1; i < failures && wait < CLEANER_BACKOFF_MAX_MS; i++)
        wait *= 2;
    return wait < CLEANER_BACKOFF_MAX_MS ? wait : CLEANER_BACKOFF_MAX_MS;
}

/* One batch's rows, shared by its deleters (coroutines of one thread: no lock). */
struct cleaner_batch {
    const struct cleaner *c;
    const struct store_cleanup_list *rows;
    size_t next;
    struct job_stats *stats;
    const bool *stop;
    struct coro_wg wg;
};

static void cleaner_put_off(const struct cleaner *c, const struct store_cleanup *row, int err,
                            struct job_stats *stats)
{
    int failures = row->attempts + 1;
    bool park = failures >= c->max_attempts;
    int64_t next = park ? CLEANER_PARKED : wall_clock_ms() + cleaner_backoff_ms(failures, c->backoff_ms);
    int serr = store_cleanup_retry(c->svc->store, row->id, next);
    if (serr < 0 && serr != -ENOENT)
        log_warn("cleanup: %s %s: cannot record the failed delete: %s", row->backend, row->backend_key,
                 strerror(-serr));
    if (park) {
        atomic_fetch_add(&stats->parked, 1);
        log_error("cleanup: %s %s: parked after %d failed deletes (last: %s)", row->backend, row->backend_key,
                  failures, strerror(-err));
    } else {
        atomic_fetch_add(&stats->failed, 1);
        log_warn("cleanup: %s %s: delete failed (%s), attempt %d of %d", row->backend, row->backend_key,
                 strerror(-err), failures, c->max_attempts);
    }
}

static void cleaner_delete(const struct cleaner *c, const struct store_cleanup *row, struct job_stats *stats)
{
    struct backend *be = s3_backend_named(c->svc, row->backend);
    int err = be ? backend_del(be, row->backend_key) : -ENODEV; /* a backend no longer configured */
    if (err < 0 && err != -ENOENT) {
        cleaner_put_off(c, row, err, stats);
        return;
    }
    err = store_cleanup_done(c->svc->store, row->id);
    if (err == 0)
        placement_freed(c->svc->placement, row->backend, row->size);
    if (err == 0 || err == -ENOENT) /* -ENOENT: another deleter finished first */
        atomic_fetch_add(&stats->done, 1);
    else
        log_warn("cleanup: %s %s: deleted, but the queue row stays (%s); the next pass deletes again",
                 row->backend, row->backend_key, strerror(-err));
}

static void cleaner_deleter(void *arg)
{
    struct cleaner_batch *b = arg;
    while (!*b->stop && b->next < b->rows->n)
        cleaner_delete(b->c, &b->rows->v[b->next++], b->stats);
    coro_wg_done(&b->wg);
}

/* Deletes one batch with up to c->concurrency deleters; the number of rows it read, or -errno. */
static int cleaner_batch_run(const struct cleaner *c, struct job_stats *stats, const bool *stop)
{
    struct store_cleanup_list rows;
    int err = store_cleanup_due(c->svc->store, wall_clock_ms(), CLEANER_BATCH, &rows);
    if (err < 0)
        return err;
    struct cleaner_batch b = {.c = c, .rows = &rows, .stats = stats, .stop = stop, .wg = CORO_WG_INIT};
    size_t spawned = 0;
    for (size_t i = 0; i < rows.n && i < (size_t)c->concurrency; i++) {
        coro_wg_add(&b.wg, 1);
        if (coro_spawn(coro_sched_self(), cleaner_deleter, &b))
            spawned++;
        else
            coro_wg_done(&b.wg);
    }
    if (!spawned) /* no memory for a deleter: delete one by one here */
        while (!*stop && b.next < rows.n)
            cleaner_delete(c, &rows.v[b.next++], stats);
    /* The deleters use b and rows: wait for every one, even when this coroutine is cancelled. */
    while (coro_wg_wait(&b.wg, 0) == -ECANCELED && b.wg.count)
        coro_yield();
    size_t n = rows.n;
    store_cleanup_list_free(&rows);
    return (int)n;
}

void cleaner_pass(void *arg, struct job_stats *stats, const bool *stop)
{
    const struct cleaner *c = arg;
    for (int i = 0; i < CLEANER_PASS_BATCHES && !*stop; i++) {
        uint_fast64_t failed = atomic_load(&stats->failed);
        int n = cleaner_batch_run(c, stats, stop);
        if (n < 0)
            log_warn("cleanup: cannot read the queue: %s", strerror(-n));
        if (n < CLEANER_BATCH || atomic_load(&stats->failed) != failed) /* failures wait for their backoff */
            break;
    }
}
