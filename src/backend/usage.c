#include "backend/usage.h"

#include "coro/coro.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct usage_counts {
    _Atomic int64_t api, egress, ingress;
};

struct usage_entry {
    _Atomic int64_t latency_ns; /* moving average; 0: none measured yet */
    char name[64];
    struct usage_limits lim;
    struct usage_counts base;    /* the month's totals as the store last said */
    struct usage_counts pending; /* taken from the slots, not yet confirmed by the store */
};

struct usage {
    size_t n;
    char month[8]; /* the month base is for; "" before the first flush */
    struct usage_entry e[USAGE_MAX_BACKENDS];
    _Atomic(struct usage_counts *) slots[USAGE_MAX_THREADS]; /* one array of n per thread, made on first use */
};

/* Each thread's slot number, the same for every usage instance; threads past the last share it (still correct,
 * as the counters are atomic, only no longer private). */
static _Atomic unsigned slots_taken;
static _Thread_local int my_slot = -1;

static unsigned thread_slot(void)
{
    if (my_slot < 0) {
        unsigned s = atomic_fetch_add(&slots_taken, 1);
        my_slot = (int)(s < USAGE_MAX_THREADS ? s : USAGE_MAX_THREADS - 1);
    }
    return (unsigned)my_slot;
}

static struct usage_counts *slot_counts(struct usage *u)
{
    _Atomic(struct usage_counts *) *at = &u->slots[thread_slot()];
    struct usage_counts *c = atomic_load_explicit(at, memory_order_acquire);
    if (c)
        return c;
    struct usage_counts *fresh = calloc(u->n, sizeof(*fresh));
    if (!fresh)
        return NULL;
    if (!atomic_compare_exchange_strong(at, &c, fresh)) { /* another thread sharing the last slot won */
        free(fresh);
        return c;
    }
    return fresh;
}

enum { LATENCY_BODY_MAX = 64 * 1024 }; /* calls moving more than this say more about bandwidth than latency */

/* Folds one call's time into the average, a new sample weighing an eighth. Threads race on it harmlessly: a lost
 * update is one sample fewer. */
static void latency_note(struct usage *u, size_t i, int64_t started, int64_t bytes)
{
    if (bytes > LATENCY_BODY_MAX)
        return;
    int64_t took = coro_now() - started, avg = atomic_load_explicit(&u->e[i].latency_ns, memory_order_relaxed);
    atomic_store_explicit(&u->e[i].latency_ns, avg ? avg + (took - avg) / 8 : (took > 0 ? took : 1),
                          memory_order_relaxed);
}

int64_t usage_latency_ns(const struct usage *u, size_t i)
{
    return u && i < u->n ? atomic_load_explicit(&((struct usage *)u)->e[i].latency_ns, memory_order_relaxed) : 0;
}

static void count(struct usage *u, size_t i, int64_t egress, int64_t ingress)
{
    struct usage_counts *c = slot_counts(u);
    if (!c)
        return; /* out of memory: this call goes uncounted rather than failing */
    atomic_fetch_add_explicit(&c[i].api, 1, memory_order_relaxed);
    if (egress > 0)
        atomic_fetch_add_explicit(&c[i].egress, egress, memory_order_relaxed);
    if (ingress > 0)
        atomic_fetch_add_explicit(&c[i].ingress, ingress, memory_order_relaxed);
}

int usage_create(struct usage **out, const char *const *names, const struct usage_limits *limits, size_t n)
{
    *out = NULL;
    if (n > USAGE_MAX_BACKENDS)
        return -EINVAL;
    struct usage *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->n = n;
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) >= sizeof(u->e[i].name)) {
            free(u);
            return -EINVAL;
        }
        snprintf(u->e[i].name, sizeof(u->e[i].name), "%s", names[i]);
        u->e[i].lim = limits[i];
    }
    *out = u;
    return 0;
}

void usage_free(struct usage *u)
{
    if (!u)
        return;
    for (size_t s = 0; s < USAGE_MAX_THREADS; s++)
        free(atomic_load(&u->slots[s]));
    free(u);
}

struct store_usage usage_get(const struct usage *u, size_t i)
{
    struct usage *m = (struct usage *)u; /* the atomics are read only */
    const struct usage_entry *e = &m->e[i];
    struct store_usage r = {
        .backend = e->name,
        .api_calls = atomic_load(&e->base.api) + atomic_load(&e->pending.api),
        .egress_bytes = atomic_load(&e->base.egress) + atomic_load(&e->pending.egress),
        .ingress_bytes = atomic_load(&e->base.ingress) + atomic_load(&e->pending.ingress),
    };
    for (size_t s = 0; s < USAGE_MAX_THREADS; s++) {
        struct usage_counts *c = atomic_load_explicit(&m->slots[s], memory_order_acquire);
        if (!c)
            continue;
        r.api_calls += atomic_load_explicit(&c[i].api, memory_order_relaxed);
        r.egress_bytes += atomic_load_explicit(&c[i].egress, memory_order_relaxed);
        r.ingress_bytes += atomic_load_explicit(&c[i].ingress, memory_order_relaxed);
    }
    return r;
}

static bool under(int64_t limit, int64_t used, int64_t more) { return !limit || used + (more > 0 ? more : 0) <= limit; }

bool usage_allows_write(const struct usage *u, size_t i, int64_t bytes)
{
    if (!u || i >= u->n)
        return true;
    const struct usage_limits *l = &u->e[i].lim;
    if (!l->api_calls && !l->ingress_bytes)
        return true;
    struct store_usage now = usage_get(u, i);
    return under(l->api_calls, now.api_calls, 1) && under(l->ingress_bytes, now.ingress_bytes, bytes);
}

bool usage_allows_read(const struct usage *u, size_t i, int64_t bytes)
{
    if (!u || i >= u->n)
        return true;
    const struct usage_limits *l = &u->e[i].lim;
    if (!l->api_calls && !l->egress_bytes)
        return true;
    struct store_usage now = usage_get(u, i);
    return under(l->api_calls, now.api_calls, 1) && under(l->egress_bytes, now.egress_bytes, bytes);
}

/* --- flushing ---------------------------------------------------------------------------------------------- */

static void month_of(int64_t now_ms, char out[8])
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 8, "%04d-%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1);
}

/* Moves what the threads counted into pending. */
static void slots_take(struct usage *u)
{
    for (size_t s = 0; s < USAGE_MAX_THREADS; s++) {
        struct usage_counts *c = atomic_load_explicit(&u->slots[s], memory_order_acquire);
        for (size_t i = 0; c && i < u->n; i++) {
            struct usage_counts *p = &u->e[i].pending;
            atomic_fetch_add(&p->api, atomic_exchange_explicit(&c[i].api, 0, memory_order_relaxed));
            atomic_fetch_add(&p->egress, atomic_exchange_explicit(&c[i].egress, 0, memory_order_relaxed));
            atomic_fetch_add(&p->ingress, atomic_exchange_explicit(&c[i].ingress, 0, memory_order_relaxed));
        }
    }
}

static double fraction(int64_t used, int64_t limit) { return limit ? (double)used / (double)limit : 0; }

double usage_flush(struct usage *u, struct store *s, int64_t now_ms, int *err)
{
    char month[8];
    month_of(now_ms, month);
    slots_take(u);
    struct store_usage deltas[USAGE_MAX_BACKENDS];
    size_t nd = 0;
    for (size_t i = 0; i < u->n; i++) {
        struct usage_counts *p = &u->e[i].pending;
        struct store_usage d = {u->e[i].name, atomic_load(&p->api), atomic_load(&p->egress), atomic_load(&p->ingress)};
        if (d.api_calls || d.egress_bytes || d.ingress_bytes)
            deltas[nd++] = d;
    }
    /* Counts made before a month ended belong to it; then the new month's totals are read. */
    bool new_month = u->month[0] && strcmp(u->month, month) != 0;
    struct store_usage_list totals = {0};
    *err = store_usage_add(s, new_month ? u->month : month, deltas, nd, &totals);
    if (*err == 0 && new_month) {
        store_usage_list_free(&totals);
        *err = store_usage_add(s, month, NULL, 0, &totals);
    }
    if (*err < 0)
        return 0;
    snprintf(u->month, sizeof(u->month), "%s", month);
    for (size_t i = 0; i < u->n; i++) {
        struct usage_entry *e = &u->e[i];
        struct store_usage t = {0};
        for (size_t j = 0; j < totals.n; j++)
            if (strcmp(totals.v[j].backend, e->name) == 0)
                t = totals.v[j];
        /* The totals hold pending now: base first, so a reader may briefly count it twice, never not at all. */
        atomic_store(&e->base.api, t.api_calls);
        atomic_store(&e->base.egress, t.egress_bytes);
        atomic_store(&e->base.ingress, t.ingress_bytes);
        for (size_t k = 0; k < nd; k++)
            if (deltas[k].backend == e->name) {
                atomic_fetch_sub(&e->pending.api, deltas[k].api_calls);
                atomic_fetch_sub(&e->pending.egress, deltas[k].egress_bytes);
                atomic_fetch_sub(&e->pending.ingress, deltas[k].ingress_bytes);
            }
    }
    store_usage_list_free(&totals);
    double worst = 0;
    for (size_t i = 0; i < u->n; i++) {
        struct store_usage now = usage_get(u, i);
        const struct usage_limits *l = &u->e[i].lim;
        double f[] = {fraction(now.api_calls, l->api_calls), fraction(now.egress_bytes, l->egress_bytes),
                      fraction(now.ingress_bytes, l->ingress_bytes)};
        for (size_t k = 0; k < 3; k++)
            worst = f[k] > worst ? f[k] : worst;
    }
    return worst;
}

/* --- the counting wrapper ------------------------------------------------------------------------------------ */

struct usage_wrap {
    struct backend base;
    struct backend_ops ops;
    struct backend *inner;
    struct usage *u;
    size_t i;
};

static struct usage_wrap *wrap_of(struct backend *b) { return (struct usage_wrap *)b; }

static int uw_put(struct backend *b, const char *bkey, struct body_source *src, int64_t size)
{
    struct usage_wrap *w = wrap_of(b);
    int64_t t0 = coro_now();
    int err = backend_put(w->inner, bkey, src, size);
    count(w->u, w->i, 0, err == 0 ? size : 0);
    if (err == 0)
        latency_note(w->u, w->i, t0, size);
    return err;
}

static int uw_put_verified(struct backend *b, const char *bkey, struct body_source *src, int64_t size,
                           const struct backend_put_claims *claims, char etag[BACKEND_ETAG_MAX])
{
    struct usage_wrap *w = wrap_of(b);
    int64_t t0 = coro_now();
    int err = backend_put_verified(w->inner, bkey, src, size, claims, etag);
    if (err != -ENOTSUP) /* refused before anything went out */
        count(w->u, w->i, 0, err == 0 ? size : 0);
    if (err == 0)
        latency_note(w->u, w->i, t0, size);
    return err;
}

static int uw_get(struct backend *b, const char *bkey, int64_t off, int64_t len, struct body_sink *sink)
{
    struct usage_wrap *w = wrap_of(b);
    int64_t t0 = coro_now();
    int err = backend_get(w->inner, bkey, off, len, sink);
    count(w->u, w->i, err == 0 ? len : 0, 0);
    if (err == 0)
        latency_note(w->u, w->i, t0, len);
    return err;
}

static int uw_head(struct backend *b, const char *bkey, struct backend_object_info *out)
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    int64_t t0 = coro_now();
    int err = backend_head(w->inner, bkey, out);
    if (err == 0 || err == -ENOENT)
        latency_note(w->u, w->i, t0, 0);
    return err;
}

static int uw_del(struct backend *b, const char *bkey)
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    return backend_del(w->inner, bkey);
}

/* One API call for the whole batch where the driver sends one request; one per key where it deletes one by one. */
static int uw_del_many(struct backend *b, const char *const *bkeys, size_t n, int *errs)
{
    struct usage_wrap *w = wrap_of(b);
    size_t calls = w->inner->ops->del_many ? 1 : n;
    for (size_t i = 0; i < calls; i++)
        count(w->u, w->i, 0, 0);
    return backend_del_many(w->inner, bkeys, n, errs);
}

static int uw_copy(struct backend *b, const char *src_bkey, const char *dst_bkey)
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    return backend_copy(w->inner, src_bkey, dst_bkey);
}

static int uw_list(struct backend *b, const char *prefix, const char *start_after, size_t max,
                   struct backend_list_page *out)
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    return backend_list(w->inner, prefix, start_after, max, out);
}

static int uw_mpu_create(struct backend *b, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX])
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    return backend_mpu_create(w->inner, bkey, upload_id);
}

static int uw_mpu_put_part(struct backend *b, const char *bkey, const char *upload_id, int number,
                           struct body_source *src, int64_t size, char etag[BACKEND_ETAG_MAX])
{
    struct usage_wrap *w = wrap_of(b);
    int err = backend_mpu_put_part(w->inner, bkey, upload_id, number, src, size, etag);
    count(w->u, w->i, 0, err == 0 ? size : 0);
    return err;
}

static int uw_mpu_complete(struct backend *b, const char *bkey, const char *upload_id,
                           const struct backend_part *parts, size_t n)
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    return backend_mpu_complete(w->inner, bkey, upload_id, parts, n);
}

static int uw_mpu_abort(struct backend *b, const char *bkey, const char *upload_id)
{
    struct usage_wrap *w = wrap_of(b);
    count(w->u, w->i, 0, 0);
    return backend_mpu_abort(w->inner, bkey, upload_id);
}

static void uw_free(struct backend *b)
{
    struct usage_wrap *w = wrap_of(b);
    backend_free(w->inner);
    free(w);
}

static const struct backend_ops usage_ops = {
    .put = uw_put,
    .put_verified = uw_put_verified,
    .get = uw_get,
    .head = uw_head,
    .del = uw_del,
    .del_many = uw_del_many,
    .copy = uw_copy,
    .list = uw_list,
    .mpu_create = uw_mpu_create,
    .mpu_put_part = uw_mpu_put_part,
    .mpu_complete = uw_mpu_complete,
    .mpu_abort = uw_mpu_abort,
    .free = uw_free,
};

int backend_usage_wrap(struct backend **out, struct backend *inner, struct usage *u, size_t index)
{
    *out = NULL;
    struct usage_wrap *w = calloc(1, sizeof(*w));
    if (!w || index >= u->n) {
        free(w);
        backend_free(inner);
        return w ? -EINVAL : -ENOMEM;
    }
    w->ops = usage_ops;
    if (!inner->ops->put_verified)
        w->ops.put_verified = NULL;
    if (!inner->ops->list)
        w->ops.list = NULL;
    w->base.ops = &w->ops;
    memcpy(w->base.name, inner->name, sizeof(w->base.name));
    w->inner = inner;
    w->u = u;
    w->i = index;
    *out = &w->base;
    return 0;
}
