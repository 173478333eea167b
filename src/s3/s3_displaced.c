/* Deleting displaced copies in batches. An overwrite displaces one copy; deleting it on its own costs the backend
 * a request per PUT, as much as the PUT itself for small objects, and counts against the backend's monthly API
 * calls. So each request thread deletes what its requests displaced in batches, per backend up to
 * BACKEND_DEL_MANY_MAX copies per request, gathered while the previous batch was in flight. The copies are in the
 * store's cleanup queue all along (due STORE_CLEANUP_GRACE_MS later): a crash or a shutdown meanwhile leaves them
 * to the cleaner. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/placement.h"
#include "s3/s3_service.h"
#include "util/log.h"
#include "util/wall_clock.h"

struct displaced_pending {
    struct displaced_pending *next;
    const struct s3_service *svc;
    struct store_cleanup_list list;
};

/* The calling request thread's gathered lists, and whether a flush is on its way. */
static __thread struct displaced_pending *pending;
static __thread bool flush_due;

/* Tells the store what a batch delete did: the deleted rows go in one call, the failed ones wait for a retry. */
static void displaced_settle(const struct s3_service *svc, const struct store_cleanup **rows, const int *errs,
                             size_t n)
{
    int64_t done[BACKEND_DEL_MANY_MAX];
    size_t ndone = 0;
    for (size_t i = 0; i < n; i++) {
        const struct store_cleanup *d = rows[i];
        if (errs[i] == 0 || errs[i] == -ENOENT) {
            placement_freed(svc->placement, d->backend, d->size);
            done[ndone++] = d->id;
        } else {
            store_cleanup_retry(svc->store, d->id, wall_clock_ms() + svc->cfg->cleanup_queue.retry_backoff / 1000000);
        }
    }
    int err = store_cleanup_done_many(svc->store, done, ndone);
    if (err < 0)
        log_warn("displaced copies: %zu deleted, but the store did not take it (%s); the cleaner deletes them again",
                 ndone, strerror(-err));
}

/* Deletes rows[0..n) (all on backend be) in batches. */
static void displaced_delete_on(const struct s3_service *svc, struct backend *be, const struct store_cleanup **rows,
                                size_t n)
{
    const char *keys[BACKEND_DEL_MANY_MAX];
    int errs[BACKEND_DEL_MANY_MAX];
    for (size_t at = 0; at < n; at += BACKEND_DEL_MANY_MAX) {
        size_t k = n - at < BACKEND_DEL_MANY_MAX ? n - at : BACKEND_DEL_MANY_MAX;
        for (size_t i = 0; i < k; i++)
            keys[i] = rows[at + i]->backend_key;
        int err = backend_del_many(be, keys, k, errs);
        if (err < 0)
            log_warn("displaced copies on %s: batch delete of %zu failed (%s); the cleaner retries them", be->name, k,
                     strerror(-err));
        displaced_settle(svc, rows + at, errs, k);
    }
}

/* Deletes every copy of the lists, backend by backend; frees the lists. */
static void displaced_delete(struct displaced_pending *all)
{
    size_t total = 0;
    for (struct displaced_pending *p = all; p; p = p->next)
        total += p->list.n;
    const struct store_cleanup **rows = total ? malloc(total * sizeof(*rows)) : NULL;
    const struct s3_service *svc = all ? all->svc : NULL;
    for (size_t b = 0; rows && b < svc->nbackends; b++) {
        struct backend *be = svc->backends[b];
        size_t n = 0;
        for (struct displaced_pending *p = all; p; p = p->next)
            for (size_t i = 0; i < p->list.n; i++)
                if (p->svc == svc && strcmp(p->list.v[i].backend, be->name) == 0)
                    rows[n++] = &p->list.v[i];
        if (n)
            displaced_delete_on(svc, be, rows, n);
    }
    /* Copies on a backend no longer configured (or when memory ran out) stay queued for the cleaner. */
    free(rows);
    while (all) {
        struct displaced_pending *next = all->next;
        store_cleanup_list_free(&all->list);
        free(all);
        all = next;
    }
}

/* Group commit: what the requests queue while a batch is in flight goes in the next batch, so a busy thread sends
 * one batch per backend request time and an idle one deletes at once. */
static void displaced_flush(void *arg)
{
    (void)arg;
    coro_yield(); /* the requests answered in this turn of the ring add theirs first */
    while (pending) {
        struct displaced_pending *all = pending;
        pending = NULL;
        displaced_delete(all);
    }
    flush_due = false;
}

void s3_delete_displaced(const struct s3_service *svc, struct store_cleanup_list *displaced)
{
    if (!displaced->n) {
        store_cleanup_list_free(displaced);
        return;
    }
    struct displaced_pending *p = malloc(sizeof(*p));
    if (!p) {
        store_cleanup_list_free(displaced); /* queued: the cleaner deletes them */
        return;
    }
    *p = (struct displaced_pending){.next = pending, .svc = svc, .list = *displaced};
    memset(displaced, 0, sizeof(*displaced));
    pending = p;
    if (flush_due)
        return;
    if (http_server_detach(displaced_flush, NULL) == 0) {
        flush_due = true;
        return;
    }
    /* No coroutine to spare (a shutdown, or too many detached): delete here, now. */
    pending = NULL;
    displaced_delete(p);
}
