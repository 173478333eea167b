/* What an implementation of the store contract sees: the request every public call is turned into, the vtable
 * it fills in, and the park/complete plumbing shared by implementations that run requests on a thread of their
 * own. Private to src/store/.
 *
 * Flow of a call (store.c): the public function checks its arguments, fills a struct store_req on the caller's
 * stack and hands it to ops->execute, which returns once req->res is set. An implementation with a store thread
 * (SQLite) queues the request and parks the caller with store_req_wait(); its thread runs a batch of requests
 * and then calls store_req_complete() once for the batch, which wakes every caller on its own thread. */
#ifndef S3ORCH_STORE_IMPL_H
#define S3ORCH_STORE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "coro/coro.h"
#include "store/store.h"

enum store_req_kind {
    STORE_REQ_OBJECT_GET,
    STORE_REQ_OBJECT_COMMIT,
    STORE_REQ_OBJECT_DELETE,
    STORE_REQ_OBJECT_SET_TAGGING,
    STORE_REQ_LIST_OBJECTS,
    STORE_REQ_UPLOAD_CREATE,
    STORE_REQ_UPLOAD_GET,
    STORE_REQ_PART_PUT,
    STORE_REQ_PARTS_LIST,
    STORE_REQ_UPLOAD_COMPLETE,
    STORE_REQ_UPLOAD_ABORT,
    STORE_REQ_UPLOADS_LIST,
    STORE_REQ_INTENT_CREATE,
    STORE_REQ_INTENT_DROP,
    STORE_REQ_INTENTS_OLDER,
    STORE_REQ_CLEANUP_ADD,
    STORE_REQ_CLEANUP_DUE,
    STORE_REQ_CLEANUP_DONE,
    STORE_REQ_CLEANUP_RETRY,
    STORE_REQ_CLEANUP_DONE_MANY,
    STORE_REQ_BUCKET_CREATE,
    STORE_REQ_BUCKET_DELETE,
    STORE_REQ_BUCKET_GET,
    STORE_REQ_BUCKET_LIST,
    STORE_REQ_BACKEND_USAGE,
    STORE_REQ_USAGE_ADD,
    STORE_REQ_BACKEND_STATE_SET,
    STORE_REQ_BACKEND_STATES,
    STORE_REQ_JOB_LOCK,
    STORE_REQ_JOB_UNLOCK,
};

/* One call. Arguments are borrowed from the caller (valid until completion); every output pointer is non-NULL
 * (store.c substitutes a local where the caller passed NULL) and zeroed before execution. On failure the
 * implementation leaves outputs zeroed and owning nothing. */
struct store_req {
    enum store_req_kind kind;
    int res;
    union {
        struct {
            const char *bucket, *key;
            struct store_object *out;
        } object_get;
        struct {
            int64_t intent_id;
            const struct store_object *obj;
            const struct store_cond *cond; /* NULL: unconditional */
            struct store_cleanup_list *displaced;
        } object_commit;
        struct {
            const char *bucket, *key;
            struct store_cleanup_list *displaced;
        } object_delete;
        struct {
            const char *bucket, *key, *tagging;
        } object_tagging;
        struct {
            const struct store_list_query *q; /* prefix, delimiter, start_after never NULL here ("" instead) */
            struct store_list *out;
        } list;
        struct {
            const struct store_upload *up;
        } upload_create;
        struct {
            const char *id;
            struct store_upload *out; /* get only */
        } upload;
        struct {
            const char *upload_id;
            const struct store_part *p;
        } part_put;
        struct {
            const char *upload_id;
            int after_number;
            size_t max;
            struct store_part_list *out;
        } parts_list;
        struct {
            const char *upload_id;
            const struct store_object *obj;
            struct store_cleanup_list *displaced;
        } upload_complete;
        struct {
            /* prefix, delimiter, key_marker, upload_id_marker never NULL here ("" instead); upload_id_marker is ""
             * when key_marker is */
            const struct store_upload_query *q;
            struct store_upload_list *out;
        } uploads_list;
        struct {
            const struct store_intent *in;
            int64_t *id;
        } intent_create;
        struct {
            int64_t id;
            const char *reason;
            int64_t *cleanup_id;
        } intent_drop;
        struct {
            int64_t before_ms;
            size_t limit;
            struct store_intent_list *out;
        } intents_older;
        struct {
            const struct store_cleanup *in;
            int64_t *id;
        } cleanup_add;
        struct {
            int64_t now_ms;
            size_t limit;
            struct store_cleanup_list *out;
        } cleanup_due;
        struct {
            int64_t id;
            int64_t next_attempt_ms; /* retry only */
        } cleanup_row;
        struct {
            const int64_t *ids;
            size_t n;
        } cleanup_many;
        struct {
            const char *name, *owner;
        } bucket_create;
        struct {
            const char *name;
            struct store_bucket *out; /* get only */
        } bucket;
        struct {
            struct store_bucket_list *out;
        } bucket_list;
        struct {
            struct store_backend_usage_list *out;
        } backend_usage;
        struct {
            const char *backend;
            enum store_backend_state state;
        } backend_state_set;
        struct {
            struct store_backend_state_list *out;
        } backend_states;
        struct {
            enum store_job job;
            bool *held; /* lock only */
        } job;
        struct {
            const char *month;
            const struct store_usage *deltas;
            size_t n;
            struct store_usage_list *totals;
        } usage_add;
    } u;

    /* Completion, owned by store.c. */
    struct coro_sched *sched; /* the caller's scheduler; NULL: a plain thread blocked on store->wait_cond */
    struct coro_waitq waitq;
    bool done;
    struct store_req *next;      /* free for the implementation (its queue) */
    struct store_req *done_next; /* chains the requests of one completion message */
    struct coro_round_end wake;  /* free for the implementation (a deferred wake of its thread) */
};

/* Whether a request only reads (it needs no savepoint and no write lock). */
bool store_req_is_read(const struct store_req *req);

struct store_ops {
    const char *kind;
    /* Runs req; returns once req->res is set. */
    void (*execute)(struct store *s, struct store_req *req);
    /* Stops and frees the implementation (the struct store it embeds included). */
    void (*close)(struct store *s);
};

/* The head of every implementation's handle (embedded first). */
struct store {
    const struct store_ops *ops;
    /* Plain-thread callers wait here for their request's `done`. */
    pthread_mutex_t wait_lock;
    pthread_cond_t wait_cond;
    atomic_uint_fast64_t requests, transactions, max_batch, list_rows;
    /* The breaker (store.c): consecutive unavailability failures, open until (monotonic ns, 0: closed), a probe
     * in flight, and the fault switch. */
    atomic_uint failures;
    _Atomic int64_t open_until;
    atomic_bool probing, fault;
    unsigned threshold;
    int64_t open_ns;
};

int store_base_init(struct store *s, const struct store_ops *ops);
void store_base_destroy(struct store *s);

/* Called by the caller's side before queueing: records who waits (coroutine or plain thread). */
void store_req_prepare(struct store_req *req);
/* Parks the calling coroutine, or blocks the plain thread, until store_req_complete() covered req. */
void store_req_wait(struct store *s, struct store_req *req);
/* From the implementation's thread, once the batch's transaction ended: wakes every request in reqs[0..n) on
 * its caller's thread, with one cross-thread message per caller thread. The requests must not be touched
 * afterwards: their callers may already have returned. */
void store_req_complete(struct store *s, struct store_req **reqs, size_t n);

/* Adds a finished batch of n requests to the counters; `committed` when its transaction wrote and committed. */
void store_stats_note_batch(struct store *s, size_t n, bool committed);

/* Wall-clock milliseconds since the epoch, for timestamps the store sets. */
int64_t store_now_ms(void);

#endif
