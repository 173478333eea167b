/* The store contract's public calls: argument checks, the vtable dispatch, and the park/complete plumbing that
 * implementations with a store thread share (see store_impl.h). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "store/store_arena.h"
#include "store/store_impl.h"
#include "util/log.h"
#include "util/wall_clock.h"

/* --- plumbing ------------------------------------------------------------------------------------------------ */

int store_base_init(struct store *s, const struct store_ops *ops)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    store_breaker_set(s, NULL);
    int err = pthread_mutex_init(&s->wait_lock, NULL);
    if (err)
        return -err;
    err = pthread_cond_init(&s->wait_cond, NULL);
    if (err) {
        pthread_mutex_destroy(&s->wait_lock);
        return -err;
    }
    return 0;
}

void store_base_destroy(struct store *s)
{
    pthread_cond_destroy(&s->wait_cond);
    pthread_mutex_destroy(&s->wait_lock);
}

bool store_req_is_read(const struct store_req *req)
{
    switch (req->kind) {
    case STORE_REQ_OBJECT_GET:
    case STORE_REQ_LIST_OBJECTS:
    case STORE_REQ_UPLOAD_GET:
    case STORE_REQ_PARTS_LIST:
    case STORE_REQ_UPLOADS_LIST:
    case STORE_REQ_INTENTS_OLDER:
    case STORE_REQ_CLEANUP_DUE:
    case STORE_REQ_BUCKET_GET:
    case STORE_REQ_BUCKET_LIST:
    case STORE_REQ_BACKEND_USAGE:
    case STORE_REQ_BACKEND_STATES:
    case STORE_REQ_JOB_LOCK:   /* no transaction: the locks live beside the data */
    case STORE_REQ_JOB_UNLOCK:
        return true;
    default:
        return false;
    }
}

void store_req_prepare(struct store_req *req)
{
    /* A thread can have a scheduler and still call from outside any coroutine (before coro_sched_run): only a
     * running coroutine can park. */
    req->sched = coro_self() ? coro_sched_self() : NULL;
    req->waitq = (struct coro_waitq)CORO_WAITQ_INIT;
    req->done = false;
    req->next = req->done_next = NULL;
}

void store_req_wait(struct store *s, struct store_req *req)
{
    if (!req->sched) {
        pthread_mutex_lock(&s->wait_lock);
        while (!req->done)
            pthread_cond_wait(&s->wait_cond, &s->wait_lock);
        pthread_mutex_unlock(&s->wait_lock);
        return;
    }
    /* The store thread writes the result into this frame, so we may not leave before it is done, cancelled or
     * not. A cancelled coroutine cannot park any more (every wait returns -ECANCELED at once), so it yields
     * until the completion arrives: a short spin on a rare path, and the loop still reaps completions. */
    while (!req->done)
        if (coro_waitq_wait(&req->waitq, 0) == -ECANCELED)
            coro_yield();
}

/* Runs on the caller's thread, in its scheduler loop: marks a chain of requests done and wakes their coroutines. */
static void store_req_wake(void *arg)
{
    for (struct store_req *r = arg, *next; r; r = next) {
        next = r->done_next;
        r->done = true;
        coro_waitq_wake_one(&r->waitq);
    }
}

static void store_req_post(struct coro_sched *sched, struct store_req *chain)
{
    /* A lost message would leave a coroutine parked forever, so keep trying: the store thread may block. */
    for (unsigned attempt = 0;; attempt++) {
        int err = coro_msg_post(sched, store_req_wake, chain);
        if (err == 0)
            return;
        if (attempt == 0)
            log_error("store: cannot wake a caller (%s), retrying", strerror(-err));
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

void store_req_complete(struct store *s, struct store_req **reqs, size_t n)
{
    /* One message per caller thread: a batch spans few threads, so a short linear table is enough; should it
     * fill up, the rest go one message each. */
    enum { MAX_GROUPS = 64 };
    struct {
        struct coro_sched *sched;
        struct store_req *chain;
    } groups[MAX_GROUPS];
    size_t ngroups = 0;
    bool any_plain = false;

    for (size_t i = 0; i < n; i++) {
        struct store_req *r = reqs[i];
        if (!r->sched) {
            any_plain = true;
            continue;
        }
        size_t g = 0;
        while (g < ngroups && groups[g].sched != r->sched)
            g++;
        if (g == ngroups) {
            if (ngroups == MAX_GROUPS) {
                r->done_next = NULL;
                store_req_post(r->sched, r);
                continue;
            }
            groups[ngroups].sched = r->sched;
            groups[ngroups].chain = NULL;
            ngroups++;
        }
        r->done_next = groups[g].chain;
        groups[g].chain = r;
    }

    if (any_plain) {
        pthread_mutex_lock(&s->wait_lock);
        for (size_t i = 0; i < n; i++)
            if (!reqs[i]->sched)
                reqs[i]->done = true;
        pthread_cond_broadcast(&s->wait_cond);
        pthread_mutex_unlock(&s->wait_lock);
    }
    for (size_t g = 0; g < ngroups; g++)
        store_req_post(groups[g].sched, groups[g].chain);
}

void store_stats_note_batch(struct store *s, size_t n, bool committed)
{
    atomic_fetch_add(&s->requests, n);
    if (committed)
        atomic_fetch_add(&s->transactions, 1);
    uint_fast64_t seen = atomic_load(&s->max_batch);
    while (n > seen && !atomic_compare_exchange_weak(&s->max_batch, &seen, n))
        ;
}

int64_t store_now_ms(void) { return wall_clock_ms(); }

/* --- availability ---------------------------------------------------------------------------------------------- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void store_breaker_set(struct store *s, const struct store_breaker_config *cfg)
{
    s->threshold = cfg && cfg->threshold ? cfg->threshold : 3;
    s->open_ns = cfg && cfg->open_ns ? cfg->open_ns : 15000000000LL;
}

bool store_err_unavailable(int err)
{
    return err == -EIO || err == -ETIMEDOUT || err == -ECONNREFUSED || err == -ECONNRESET || err == -EHOSTDOWN;
}

bool store_available(struct store *s)
{
    int64_t until = atomic_load(&s->open_until);
    return !until || mono_ns() >= until;
}

void store_fault_set(struct store *s, bool down) { atomic_store(&s->fault, down); }

/* 0 to go ahead (perhaps as the one probe), -EHOSTDOWN while open. */
static int breaker_admit(struct store *s, bool *probe)
{
    *probe = false;
    if (store_available(s) && !atomic_load(&s->open_until))
        return 0;
    if (!store_available(s))
        return -EHOSTDOWN;
    bool idle = false;
    *probe = atomic_compare_exchange_strong(&s->probing, &idle, true);
    return *probe ? 0 : -EHOSTDOWN;
}

static void breaker_record(struct store *s, int res, bool probe)
{
    if (store_err_unavailable(res)) {
        unsigned n = atomic_fetch_add(&s->failures, 1) + 1;
        if (probe || n >= s->threshold)
            atomic_store(&s->open_until, mono_ns() + s->open_ns);
    } else {
        atomic_store(&s->failures, 0);
        if (probe)
            atomic_store(&s->open_until, 0);
    }
    if (probe)
        atomic_store(&s->probing, false);
}

static int store_run(struct store *s, struct store_req *req)
{
    bool probe;
    int err = breaker_admit(s, &probe);
    if (err < 0)
        return req->res = err;
    if (atomic_load(&s->fault)) {
        req->res = -EIO;
    } else {
        store_req_prepare(req);
        s->ops->execute(s, req);
    }
    breaker_record(s, req->res, probe);
    return req->res;
}

/* --- handle -------------------------------------------------------------------------------------------------- */

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

const char *store_kind(const struct store *s) { return s->ops->kind; }

void store_stats_get(struct store *s, struct store_stats *out)
{
    out->requests = atomic_load(&s->requests);
    out->transactions = atomic_load(&s->transactions);
    out->max_batch = atomic_load(&s->max_batch);
    out->list_rows = atomic_load(&s->list_rows);
}

/* --- argument checks ----------------------------------------------------------------------------------------- */

static bool str_ok(const char *v, size_t max) { return v && v[0] && strnlen(v, max + 1) <= max; }

static bool bucket_key_ok(const char *bucket, const char *key)
{
    return str_ok(bucket, STORE_BUCKET_MAX) && str_ok(key, STORE_KEY_MAX);
}

/* Backend names and keys have no contract limit of their own; the bound only keeps rows sane. */
static bool backend_ok(const char *backend, const char *backend_key)
{
    return str_ok(backend, 255) && str_ok(backend_key, 4096);
}

/* The user metadata pairs, the one part of an object's headers with rules. */
static bool meta_ok(const struct store_object *o)
{
    if (o->n_meta && !o->meta)
        return false;
    for (size_t i = 0; i < o->n_meta; i++)
        if (!o->meta[i].name || !o->meta[i].value)
            return false;
    return true;
}

/* The part sizes: each >= 0 and together exactly the object's size. Subtracting from what is left rather than
 * adding up keeps 10,000 large sizes from overflowing. Needs o->size >= 0. */
static bool parts_ok(const struct store_object *o)
{
    if (o->n_parts > STORE_PART_NUMBER_MAX || !o->part_sizes != !o->n_parts)
        return false;
    int64_t left = o->size;
    for (size_t i = 0; i < o->n_parts; i++) {
        if (o->part_sizes[i] < 0 || o->part_sizes[i] > left)
            return false;
        left -= o->part_sizes[i];
    }
    return left == 0 || o->n_parts == 0;
}

static bool object_ok(const struct store_object *o)
{
    if (!o || !bucket_key_ok(o->bucket, o->key) || !o->etag || o->size < 0 || !meta_ok(o) || !parts_ok(o))
        return false;
    if (o->n_copies < 1 || o->n_copies > STORE_COPIES_MAX || !o->copies)
        return false;
    for (size_t i = 0; i < o->n_copies; i++) {
        const struct store_copy *c = &o->copies[i];
        if (!backend_ok(c->backend, c->backend_key) || c->size < 0)
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->copies[j].backend, c->backend) == 0)
                return false;
    }
    return true;
}

static bool upload_ok(const struct store_upload *up)
{
    return up && str_ok(up->id, STORE_UPLOAD_ID_MAX) && str_ok(up->owner, STORE_OWNER_MAX) &&
           backend_ok(up->backend, up->backend_key) && str_ok(up->backend_upload_id, STORE_UPLOAD_ID_MAX) &&
           bucket_key_ok(up->obj.bucket, up->obj.key) && meta_ok(&up->obj);
}

static bool part_ok(const struct store_part *p)
{
    return p && p->number >= 1 && p->number <= STORE_PART_NUMBER_MAX && p->size >= 0 && p->etag &&
           p->backend_etag;
}

/* --- objects ------------------------------------------------------------------------------------------------- */

int store_object_get(struct store *s, const char *bucket, const char *key, struct store_object *out)
{
    memset(out, 0, sizeof(*out));
    if (!bucket_key_ok(bucket, key))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_OBJECT_GET, .u.object_get = {bucket, key, out}};
    return store_run(s, &req);
}

void store_object_free(struct store_object *obj)
{
    store_arena_free(obj->mem);
    memset(obj, 0, sizeof(*obj));
}

int store_object_clone(const struct store_object *src, struct store_object *dst)
{
    struct store_arena *a = NULL;
    *dst = *src;
    dst->mem = NULL;
    const char **strs[] = {&dst->bucket, &dst->key, &dst->etag, &dst->checksum_algorithm, &dst->checksum_value,
                           &dst->checksum_type, &dst->content_type, &dst->content_encoding,
                           &dst->content_disposition, &dst->content_language, &dst->cache_control, &dst->expires,
                           &dst->tagging, &dst->storage_class};
    int err = 0;
    for (size_t i = 0; !err && i < sizeof(strs) / sizeof(strs[0]); i++)
        err = store_arena_strdup(&a, *strs[i], strs[i]);
    struct store_meta *meta = src->n_meta ? store_arena_alloc(&a, src->n_meta * sizeof(*meta)) : NULL;
    struct store_copy *copies = src->n_copies ? store_arena_alloc(&a, src->n_copies * sizeof(*copies)) : NULL;
    int64_t *parts = src->n_parts ? store_arena_alloc(&a, src->n_parts * sizeof(*parts)) : NULL;
    if ((src->n_meta && !meta) || (src->n_copies && !copies) || (src->n_parts && !parts))
        err = -ENOMEM;
    for (size_t i = 0; !err && i < src->n_meta; i++) {
        err = store_arena_strdup(&a, src->meta[i].name, &meta[i].name);
        if (!err)
            err = store_arena_strdup(&a, src->meta[i].value, &meta[i].value);
    }
    for (size_t i = 0; !err && i < src->n_copies; i++) {
        copies[i] = src->copies[i];
        err = store_arena_strdup(&a, src->copies[i].backend, &copies[i].backend);
        if (!err)
            err = store_arena_strdup(&a, src->copies[i].backend_key, &copies[i].backend_key);
    }
    if (err) {
        store_arena_free(a);
        memset(dst, 0, sizeof(*dst));
        return err;
    }
    if (parts)
        memcpy(parts, src->part_sizes, src->n_parts * sizeof(*parts));
    dst->meta = meta;
    dst->copies = copies;
    dst->part_sizes = parts;
    dst->mem = a;
    return 0;
}

int store_object_commit_if(struct store *s, int64_t intent_id, const struct store_object *obj,
                           const struct store_cond *cond, struct store_cleanup_list *displaced)
{
    struct store_cleanup_list local;
    if (!displaced)
        displaced = &local;
    memset(displaced, 0, sizeof(*displaced));
    if (intent_id < 0 || !object_ok(obj) || (cond && cond->if_match && cond->if_none_match))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_OBJECT_COMMIT,
                            .u.object_commit = {intent_id, obj, cond, displaced}};
    int res = store_run(s, &req);
    if (displaced == &local)
        store_cleanup_list_free(&local);
    return res;
}

int store_object_commit(struct store *s, int64_t intent_id, const struct store_object *obj,
                        struct store_cleanup_list *displaced)
{
    return store_object_commit_if(s, intent_id, obj, NULL, displaced);
}

int store_object_delete(struct store *s, const char *bucket, const char *key,
                        struct store_cleanup_list *displaced)
{
    struct store_cleanup_list local;
    if (!displaced)
        displaced = &local;
    memset(displaced, 0, sizeof(*displaced));
    if (!bucket_key_ok(bucket, key))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_OBJECT_DELETE, .u.object_delete = {bucket, key, displaced}};
    int res = store_run(s, &req);
    if (displaced == &local)
        store_cleanup_list_free(&local);
    return res;
}

int store_object_set_tagging(struct store *s, const char *bucket, const char *key, const char *tagging)
{
    if (!bucket_key_ok(bucket, key))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_OBJECT_SET_TAGGING, .u.object_tagging = {bucket, key, tagging}};
    return store_run(s, &req);
}

/* --- listing ------------------------------------------------------------------------------------------------- */

int store_list_objects(struct store *s, const struct store_list_query *q, struct store_list *out)
{
    memset(out, 0, sizeof(*out));
    if (!q || !str_ok(q->bucket, STORE_BUCKET_MAX) || q->max_keys > STORE_LIST_MAX_KEYS)
        return -EINVAL;
    /* Implementations see "" rather than NULL, one case fewer. */
    struct store_list_query norm = {
        .bucket = q->bucket,
        .prefix = q->prefix ? q->prefix : "",
        .delimiter = q->delimiter ? q->delimiter : "",
        .start_after = q->start_after ? q->start_after : "",
        .max_keys = q->max_keys,
    };
    if (strlen(norm.prefix) > STORE_KEY_MAX || strlen(norm.start_after) > STORE_KEY_MAX ||
        strlen(norm.delimiter) > STORE_KEY_MAX)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_LIST_OBJECTS, .u.list = {&norm, out}};
    return store_run(s, &req);
}

void store_list_free(struct store_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

/* --- multipart uploads --------------------------------------------------------------------------------------- */

enum { UPLOADS_LIST_MAX = 1000 }; /* store.h's bound on max_uploads */

int store_upload_create(struct store *s, const struct store_upload *up)
{
    if (!upload_ok(up))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_UPLOAD_CREATE, .u.upload_create = {up}};
    return store_run(s, &req);
}

int store_upload_get(struct store *s, const char *id, struct store_upload *out)
{
    memset(out, 0, sizeof(*out));
    if (!str_ok(id, STORE_UPLOAD_ID_MAX))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_UPLOAD_GET, .u.upload = {id, out}};
    return store_run(s, &req);
}

void store_upload_free(struct store_upload *up)
{
    store_arena_free(up->mem);
    memset(up, 0, sizeof(*up));
}

int store_part_put(struct store *s, const char *upload_id, const struct store_part *p)
{
    if (!str_ok(upload_id, STORE_UPLOAD_ID_MAX) || !part_ok(p))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_PART_PUT, .u.part_put = {upload_id, p}};
    return store_run(s, &req);
}

int store_parts_list(struct store *s, const char *upload_id, int after_number, size_t max,
                     struct store_part_list *out)
{
    memset(out, 0, sizeof(*out));
    if (!str_ok(upload_id, STORE_UPLOAD_ID_MAX) || after_number < 0 || after_number > STORE_PART_NUMBER_MAX ||
        max < 1 || max > STORE_PART_NUMBER_MAX)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_PARTS_LIST, .u.parts_list = {upload_id, after_number, max, out}};
    return store_run(s, &req);
}

void store_part_list_free(struct store_part_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

int store_upload_complete(struct store *s, const char *upload_id, const struct store_object *obj,
                          struct store_cleanup_list *displaced)
{
    struct store_cleanup_list local;
    if (!displaced)
        displaced = &local;
    memset(displaced, 0, sizeof(*displaced));
    if (!str_ok(upload_id, STORE_UPLOAD_ID_MAX) || !object_ok(obj))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_UPLOAD_COMPLETE, .u.upload_complete = {upload_id, obj, displaced}};
    int res = store_run(s, &req);
    if (displaced == &local)
        store_cleanup_list_free(&local);
    return res;
}

int store_upload_abort(struct store *s, const char *upload_id)
{
    if (!str_ok(upload_id, STORE_UPLOAD_ID_MAX))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_UPLOAD_ABORT, .u.upload = {upload_id, NULL}};
    return store_run(s, &req);
}

int store_uploads_list(struct store *s, const struct store_upload_query *q, struct store_upload_list *out)
{
    memset(out, 0, sizeof(*out));
    if (!q || !str_ok(q->bucket, STORE_BUCKET_MAX) || q->max_uploads > UPLOADS_LIST_MAX)
        return -EINVAL;
    /* Implementations see "" rather than NULL; an upload_id_marker without a key_marker is ignored, as S3 does. */
    struct store_upload_query norm = {
        .bucket = q->bucket,
        .prefix = q->prefix ? q->prefix : "",
        .delimiter = q->delimiter ? q->delimiter : "",
        .key_marker = q->key_marker ? q->key_marker : "",
        .upload_id_marker = q->upload_id_marker ? q->upload_id_marker : "",
        .max_uploads = q->max_uploads,
    };
    if (!norm.key_marker[0])
        norm.upload_id_marker = "";
    if (strlen(norm.prefix) > STORE_KEY_MAX || strlen(norm.delimiter) > STORE_KEY_MAX ||
        strlen(norm.key_marker) > STORE_KEY_MAX || strlen(norm.upload_id_marker) > STORE_UPLOAD_ID_MAX)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_UPLOADS_LIST, .u.uploads_list = {&norm, out}};
    return store_run(s, &req);
}

void store_upload_list_free(struct store_upload_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

/* --- intents ------------------------------------------------------------------------------------------------- */

int store_intent_create(struct store *s, const struct store_intent *in, int64_t *id)
{
    if (id)
        *id = 0;
    if (!in || !id || !bucket_key_ok(in->bucket, in->key) || !backend_ok(in->backend, in->backend_key) ||
        in->size < -1)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_INTENT_CREATE, .u.intent_create = {in, id}};
    return store_run(s, &req);
}

int store_intent_drop(struct store *s, int64_t id, const char *cleanup_reason, int64_t *cleanup_id)
{
    int64_t local;
    if (!cleanup_id)
        cleanup_id = &local;
    *cleanup_id = 0;
    if (id <= 0)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_INTENT_DROP, .u.intent_drop = {id, cleanup_reason, cleanup_id}};
    return store_run(s, &req);
}

int store_intents_older_than(struct store *s, int64_t before_ms, size_t limit, struct store_intent_list *out)
{
    memset(out, 0, sizeof(*out));
    struct store_req req = {.kind = STORE_REQ_INTENTS_OLDER, .u.intents_older = {before_ms, limit, out}};
    return store_run(s, &req);
}

void store_intent_list_free(struct store_intent_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

/* --- cleanup queue ------------------------------------------------------------------------------------------- */

int store_cleanup_add(struct store *s, const struct store_cleanup *in, int64_t *id)
{
    int64_t local;
    if (!id)
        id = &local;
    *id = 0;
    if (!in || !backend_ok(in->backend, in->backend_key) || !in->reason || in->size < -1)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_CLEANUP_ADD, .u.cleanup_add = {in, id}};
    return store_run(s, &req);
}

int store_cleanup_due(struct store *s, int64_t now_ms, size_t limit, struct store_cleanup_list *out)
{
    memset(out, 0, sizeof(*out));
    struct store_req req = {.kind = STORE_REQ_CLEANUP_DUE, .u.cleanup_due = {now_ms, limit, out}};
    return store_run(s, &req);
}

int store_cleanup_done(struct store *s, int64_t id)
{
    if (id <= 0)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_CLEANUP_DONE, .u.cleanup_row = {id, 0}};
    return store_run(s, &req);
}

int store_cleanup_done_many(struct store *s, const int64_t *ids, size_t n)
{
    if (n == 0)
        return 0;
    if (n > STORE_CLEANUP_MANY_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (ids[i] <= 0)
            return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_CLEANUP_DONE_MANY, .u.cleanup_many = {ids, n}};
    return store_run(s, &req);
}

int store_cleanup_retry(struct store *s, int64_t id, int64_t next_attempt_ms)
{
    if (id <= 0)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_CLEANUP_RETRY, .u.cleanup_row = {id, next_attempt_ms}};
    return store_run(s, &req);
}

void store_cleanup_list_free(struct store_cleanup_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

/* --- buckets ------------------------------------------------------------------------------------------------- */

int store_bucket_create(struct store *s, const char *name, const char *owner_access_key)
{
    if (!str_ok(name, STORE_BUCKET_MAX) || !str_ok(owner_access_key, STORE_OWNER_MAX))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_BUCKET_CREATE, .u.bucket_create = {name, owner_access_key}};
    return store_run(s, &req);
}

int store_bucket_delete(struct store *s, const char *name)
{
    if (!str_ok(name, STORE_BUCKET_MAX))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_BUCKET_DELETE, .u.bucket = {name, NULL}};
    return store_run(s, &req);
}

int store_bucket_get(struct store *s, const char *name, struct store_bucket *out)
{
    struct store_bucket local;
    if (!out)
        out = &local;
    memset(out, 0, sizeof(*out));
    if (!str_ok(name, STORE_BUCKET_MAX))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_BUCKET_GET, .u.bucket = {name, out}};
    return store_run(s, &req);
}

int store_bucket_list(struct store *s, struct store_bucket_list *out)
{
    memset(out, 0, sizeof(*out));
    struct store_req req = {.kind = STORE_REQ_BUCKET_LIST, .u.bucket_list = {out}};
    return store_run(s, &req);
}

void store_bucket_list_free(struct store_bucket_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

int store_backend_usage(struct store *s, struct store_backend_usage_list *out)
{
    memset(out, 0, sizeof(*out));
    struct store_req req = {.kind = STORE_REQ_BACKEND_USAGE, .u.backend_usage = {out}};
    return store_run(s, &req);
}

void store_backend_usage_list_free(struct store_backend_usage_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

static bool month_ok(const char *m)
{
    return m && strlen(m) == 7 && m[4] == '-' && strspn(m, "0123456789") == 4 && strspn(m + 5, "0123456789") == 2;
}

int store_usage_add(struct store *s, const char *month, const struct store_usage *deltas, size_t n,
                    struct store_usage_list *totals)
{
    memset(totals, 0, sizeof(*totals));
    if (!month_ok(month) || n > STORE_USAGE_MAX || (n && !deltas))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!str_ok(deltas[i].backend, 255) || deltas[i].api_calls < 0 || deltas[i].egress_bytes < 0 ||
            deltas[i].ingress_bytes < 0)
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(deltas[i].backend, deltas[j].backend) == 0)
                return -EINVAL;
    }
    struct store_req req = {.kind = STORE_REQ_USAGE_ADD, .u.usage_add = {month, deltas, n, totals}};
    return store_run(s, &req);
}

void store_usage_list_free(struct store_usage_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

int store_backend_state_set(struct store *s, const char *backend, enum store_backend_state state)
{
    if (!str_ok(backend, 255) || (state != STORE_BACKEND_ACTIVE && state != STORE_BACKEND_DRAINING))
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_BACKEND_STATE_SET, .u.backend_state_set = {backend, state}};
    return store_run(s, &req);
}

int store_backend_states(struct store *s, struct store_backend_state_list *out)
{
    memset(out, 0, sizeof(*out));
    struct store_req req = {.kind = STORE_REQ_BACKEND_STATES, .u.backend_states = {out}};
    return store_run(s, &req);
}

void store_backend_state_list_free(struct store_backend_state_list *l)
{
    store_arena_free(l->mem);
    memset(l, 0, sizeof(*l));
}

const char *store_job_name(enum store_job job)
{
    static const char *const names[STORE_JOB_COUNT] = {[STORE_JOB_CLEANER] = "cleaner", [STORE_JOB_REAPER] = "reaper"};
    return (unsigned)job < STORE_JOB_COUNT ? names[job] : NULL;
}

int store_job_lock(struct store *s, enum store_job job, bool *held)
{
    *held = false;
    if ((unsigned)job >= STORE_JOB_COUNT)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_JOB_LOCK, .u.job = {job, held}};
    return store_run(s, &req);
}

int store_job_unlock(struct store *s, enum store_job job)
{
    if ((unsigned)job >= STORE_JOB_COUNT)
        return -EINVAL;
    struct store_req req = {.kind = STORE_REQ_JOB_UNLOCK, .u.job = {job, NULL}};
    return store_run(s, &req);
}
