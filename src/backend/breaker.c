/* The circuit breaker around a backend. Its state is shared by every ring thread, so it lives in atomics: the
 * count of consecutive failures, the time the breaker stays open until, and whether a probe is out. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "coro/coro.h"

struct breaker {
    struct backend base;
    struct backend_ops ops; /* breaker_ops, less what the inner backend lacks */
    struct backend *inner;
    unsigned threshold;
    int64_t open_ns;
    atomic_uint failures;
    _Atomic int64_t open_until; /* 0: closed; else CLOCK_MONOTONIC ns until which calls fail at once */
    atomic_bool probing;
};

static struct breaker *breaker_of(struct backend *b) { return (struct breaker *)b; }

/* Whether an error says the backend is unwell rather than something about this request. A write also fails
 * when its body source fails (a client that stalls or sends too little); those errors do not count. */
static bool backend_failed(int err, bool body)
{
    switch (err) {
    case -EIO:
    case -EPROTO:
    case -ECONNREFUSED:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
        return true;
    case -ETIMEDOUT:
    case -ECONNRESET:
    case -ECONNABORTED:
        return !body;
    default:
        return false;
    }
}

/* 0 to go ahead (perhaps as the one probe), or -EHOSTDOWN while open. */
static int breaker_admit(struct breaker *br)
{
    int64_t until = atomic_load(&br->open_until);
    if (!until)
        return 0;
    if (coro_now() < until)
        return -EHOSTDOWN;
    bool idle = false;
    return atomic_compare_exchange_strong(&br->probing, &idle, true) ? 0 : -EHOSTDOWN;
}

static void breaker_open(struct breaker *br)
{
    /* Up to a fifth more, so threads and instances do not probe in step. */
    int64_t jitter = (int64_t)((uint64_t)coro_now() % (uint64_t)(br->open_ns / 5 + 1));
    atomic_store(&br->open_until, coro_now() + br->open_ns + jitter);
}

static int breaker_record(struct breaker *br, int err, bool body)
{
    bool probe = atomic_load(&br->probing);
    if (backend_failed(err, body)) {
        unsigned n = atomic_fetch_add(&br->failures, 1) + 1;
        if (probe || n >= br->threshold)
            breaker_open(br);
        if (probe)
            atomic_store(&br->probing, false);
        return err;
    }
    atomic_store(&br->failures, 0);
    if (probe) {
        atomic_store(&br->open_until, 0);
        atomic_store(&br->probing, false);
    }
    return err;
}

static int br_put(struct backend *b, const char *bkey, struct body_source *src, int64_t size)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_put(br->inner, bkey, src, size), true);
}

static int br_put_verified(struct backend *b, const char *bkey, struct body_source *src, int64_t size,
                           const struct backend_put_claims *claims, char etag[BACKEND_ETAG_MAX])
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_put_verified(br->inner, bkey, src, size, claims, etag), true);
}

static int br_get(struct backend *b, const char *bkey, int64_t off, int64_t len, struct body_sink *sink)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_get(br->inner, bkey, off, len, sink), false);
}

static int br_head(struct backend *b, const char *bkey, struct backend_object_info *out)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_head(br->inner, bkey, out), false);
}

static int br_del(struct backend *b, const char *bkey)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_del(br->inner, bkey), false);
}

static int br_del_many(struct backend *b, const char *const *bkeys, size_t n, int *errs)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    if (err) {
        for (size_t i = 0; i < n; i++)
            errs[i] = err;
        return err;
    }
    return breaker_record(br, backend_del_many(br->inner, bkeys, n, errs), false);
}

static int br_copy(struct backend *b, const char *src_bkey, const char *dst_bkey)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_copy(br->inner, src_bkey, dst_bkey), false);
}

static int br_mpu_create(struct backend *b, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX])
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_mpu_create(br->inner, bkey, upload_id), false);
}

static int br_mpu_put_part(struct backend *b, const char *bkey, const char *upload_id, int number,
                           struct body_source *src, int64_t size, char etag[BACKEND_ETAG_MAX])
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err
               : breaker_record(br, backend_mpu_put_part(br->inner, bkey, upload_id, number, src, size, etag), true);
}

static int br_mpu_complete(struct backend *b, const char *bkey, const char *upload_id,
                           const struct backend_part *parts, size_t n)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_mpu_complete(br->inner, bkey, upload_id, parts, n), false);
}

static int br_mpu_abort(struct backend *b, const char *bkey, const char *upload_id)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    return err ? err : breaker_record(br, backend_mpu_abort(br->inner, bkey, upload_id), false);
}

static int br_list(struct backend *b, const char *prefix, const char *start_after, size_t max,
                   struct backend_list_page *out)
{
    struct breaker *br = breaker_of(b);
    int err = breaker_admit(br);
    if (err) {
        *out = (struct backend_list_page){0};
        return err;
    }
    return breaker_record(br, backend_list(br->inner, prefix, start_after, max, out), false);
}

static void br_free(struct backend *b)
{
    struct breaker *br = breaker_of(b);
    backend_free(br->inner);
    free(br);
}

static const struct backend_ops breaker_ops = {
    .put = br_put,
    .put_verified = br_put_verified,
    .get = br_get,
    .head = br_head,
    .del = br_del,
    .del_many = br_del_many,
    .copy = br_copy,
    .mpu_create = br_mpu_create,
    .mpu_put_part = br_mpu_put_part,
    .mpu_complete = br_mpu_complete,
    .mpu_abort = br_mpu_abort,
    .list = br_list,
    .free = br_free,
};

int backend_breaker_wrap(struct backend **out, struct backend *inner, const struct backend_breaker_config *cfg)
{
    struct breaker *br = calloc(1, sizeof(*br));
    if (!br) {
        backend_free(inner);
        return -ENOMEM;
    }
    br->ops = breaker_ops;
    if (!inner->ops->put_verified)
        br->ops.put_verified = NULL;
    if (!inner->ops->list)
        br->ops.list = NULL;
    br->base.ops = &br->ops;
    memcpy(br->base.name, inner->name, sizeof(br->base.name));
    br->inner = inner;
    br->threshold = cfg && cfg->threshold ? cfg->threshold : 5;
    br->open_ns = cfg && cfg->open_ns ? cfg->open_ns : CORO_SEC(10);
    *out = &br->base;
    return 0;
}

bool backend_available(struct backend *b)
{
    if (b->ops->free != br_free) /* each breaker has its own copy of the ops: know it by a function */
        return true;
    int64_t until = atomic_load(&breaker_of(b)->open_until);
    return !until || coro_now() >= until; /* past its open time a probe is due: let a write be it */
}
