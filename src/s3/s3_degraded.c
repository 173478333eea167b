#include "s3/s3_degraded.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_location_cache.h"
#include "util/log.h"

/* What one backend holds of the key: its newest copy. */
struct probe {
    struct backend *be;
    const char *prefix;
    size_t prefix_len;
    int result; /* 0 found, -ENOENT, or the backend's error */
    int64_t size, mtime_ms;
    char bkey[S3_BKEY_MAX];
    char etag[BACKEND_ETAG_MAX];
    struct coro_wg *wg; /* parallel: done when set */
};

/* A backend key of this object's versions is the prefix then exactly 16 hex digits (s3_backend_key_new): a longer
 * key under the same prefix is another object's ("a#b" starts like "a#"). */
static bool version_of(const struct probe *p, const char *bkey)
{
    const char *rest = bkey + p->prefix_len;
    return strlen(rest) == 16 && strspn(rest, "0123456789abcdef") == 16;
}

static void probe_run(struct probe *p)
{
    struct backend_list_page page;
    p->result = -ENOENT;
    int err = p->be->ops->list ? backend_list(p->be, p->prefix, NULL, 100, &page) : -ENOTSUP;
    if (err < 0) {
        p->result = err;
        return;
    }
    for (size_t i = 0; i < page.n; i++) {
        const struct backend_list_entry *e = &page.v[i];
        if (!version_of(p, e->bkey) || (p->result == 0 && e->mtime_ms <= p->mtime_ms))
            continue;
        p->result = 0;
        p->size = e->size;
        p->mtime_ms = e->mtime_ms;
        snprintf(p->bkey, sizeof(p->bkey), "%s", e->bkey);
        snprintf(p->etag, sizeof(p->etag), "%s", e->etag);
    }
    backend_list_page_free(&page);
}

static void probe_coro(void *arg)
{
    struct probe *p = arg;
    probe_run(p);
    coro_wg_done(p->wg);
}

static void probes_run(struct probe *probes, size_t n, bool parallel)
{
    if (!parallel) {
        for (size_t i = 0; i < n; i++)
            probe_run(&probes[i]);
        return;
    }
    struct coro_wg wg = CORO_WG_INIT;
    for (size_t i = 0; i < n; i++) {
        probes[i].wg = &wg;
        coro_wg_add(&wg, 1);
        if (!coro_spawn(coro_sched_self(), probe_coro, &probes[i])) {
            probes[i].result = -ENOMEM;
            coro_wg_done(&wg);
        }
    }
    /* The probes' list calls have their own timeouts; a cancelled caller still waits, as they use its stack. */
    while (coro_wg_wait(&wg, 0) == -ECANCELED && wg.count)
        coro_yield();
}

/* The object the newest copy stands for; every probe that found the same version (same mtime) adds its copy. */
static int object_from(const char *bucket, const char *key, const struct probe *probes, size_t n, size_t best,
                       struct store_object *out)
{
    struct store_copy copies[STORE_COPIES_MAX];
    size_t nc = 0;
    for (size_t i = 0; i < n && nc < STORE_COPIES_MAX; i++)
        if (probes[i].result == 0 && probes[i].mtime_ms == probes[best].mtime_ms && probes[i].size == probes[best].size)
            copies[nc++] = (struct store_copy){probes[i].be->name, probes[i].bkey, probes[i].size, 0};
    struct store_object o = {
        .bucket = bucket,
        .key = key,
        .size = probes[best].size,
        .etag = probes[best].etag,
        .created_ms = probes[best].mtime_ms,
        .modified_ms = probes[best].mtime_ms,
        .copies = copies,
        .n_copies = nc,
    };
    return store_object_clone(&o, out);
}

int s3_degraded_locate(const struct s3_service *svc, const char *bucket, const char *key, struct store_object *out)
{
    memset(out, 0, sizeof(*out));
    if (s3_location_recall(bucket, key, out) == 0)
        return 0;
    char prefix[S3_BKEY_MAX];
    int plen = snprintf(prefix, sizeof(prefix), "%s/%s#", bucket, key);
    if (plen < 0 || (size_t)plen >= sizeof(prefix))
        return -ENAMETOOLONG;
    struct probe *probes = calloc(svc->nbackends ? svc->nbackends : 1, sizeof(*probes));
    if (!probes)
        return -ENOMEM;
    size_t n = 0;
    bool unasked = false;
    for (size_t i = 0; i < svc->nbackends; i++) {
        if (!backend_available(svc->backends[i])) {
            unasked = true;
            continue;
        }
        probes[n++] = (struct probe){.be = svc->backends[i], .prefix = prefix, .prefix_len = (size_t)plen};
    }
    probes_run(probes, n, svc->cfg->circuit_breaker.parallel_broadcast);

    long best = -1;
    for (size_t i = 0; i < n; i++) {
        if (probes[i].result == 0 && (best < 0 || probes[i].mtime_ms > probes[best].mtime_ms))
            best = (long)i;
        else if (probes[i].result < 0 && probes[i].result != -ENOENT)
            unasked = true;
    }
    int err = best >= 0 ? object_from(bucket, key, probes, n, (size_t)best, out) : unasked ? -EHOSTDOWN : -ENOENT;
    if (err == 0) {
        log_warn("degraded: %s/%s found on %s by broadcast (the store is unreachable)", bucket, key,
                 out->copies[0].backend);
        s3_location_remember(out, svc->cfg->circuit_breaker.cache_ttl);
    }
    free(probes);
    return err;
}
