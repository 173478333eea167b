/* The metadata store contract. Every implementation (SQLite now, PostgreSQL later) fulfils it and passes the
 * same contract test suite (tests/unit/test_store.c).
 *
 * What the store holds: objects keyed by (bucket, key) with their metadata and one or more copies on backends;
 * PUT intents (a pending row written before the backend write, resolved by the commit); a cleanup queue of
 * backend copies that must still be deleted; and the buckets created through the API (buckets declared in the
 * config are not stored here).
 *
 * Calling:
 *  - Every call may be made from a coroutine on a ring thread (it parks the coroutine, never the thread) or from
 *    a plain thread without a running coroutine (it blocks that thread: start-up, tools, tests).
 *  - A call, once made, runs to completion even if the calling coroutine is cancelled meanwhile: a commit that
 *    happened must not be reported lost. The cancellation is seen by the coroutine's next blocking call.
 *  - Calls return 0 (or a count where said) on success, -errno on failure. Errors every call can return, on
 *    top of those listed per call: -EINVAL (an argument breaks the rules below), -ENOMEM, -EBUSY (the database
 *    stayed locked by another process past the busy timeout), -ENOSPC (disk full), -EIO (any other database
 *    failure; the implementation logs the detail).
 *  - A failed call changed nothing.
 *
 * Memory: inputs are borrowed for the duration of the call. Results that carry strings or arrays own them
 * through their `mem` member, allocated by the store and released by the matching store_*_free(), which may be
 * called on any thread and also on a zeroed or already freed result. A failed call leaves its result zeroed.
 *
 * Strings: keys, names and values are NUL-terminated byte strings compared byte-wise (memcmp order); optional
 * strings are NULL when absent, and NULL and "" are different values that round-trip as given. Timestamps are
 * milliseconds since the Unix epoch. */
#ifndef S3ORCH_STORE_H
#define S3ORCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_arena; /* the memory a result owns; see store_*_free() */

enum {
    STORE_BUCKET_MAX = 63,         /* bytes in a bucket name */
    STORE_OWNER_MAX = 128,         /* bytes in an owner access key */
    STORE_KEY_MAX = 1024,          /* bytes in an object key, prefix or start_after (S3's limit) */
    STORE_COPIES_MAX = 16,         /* copies per object */
    STORE_LIST_MAX_KEYS = 10000,   /* most entries + prefixes one listing call returns */
    STORE_UPLOAD_ID_MAX = 128,     /* bytes in an upload id (ours or the backend's) */
    STORE_PART_NUMBER_MAX = 10000, /* parts of a multipart upload, and so of the object it completes to */
};

/* Displaced copies are queued for cleanup this far in the future, so the caller's own immediate delete runs
 * first and the cleanup worker only picks up what the caller did not finish (a crash, a backend error). */
#define STORE_CLEANUP_GRACE_MS 60000

/* --- opening ------------------------------------------------------------------------------------------------ */

struct store_sqlite_config {
    const char *path;       /* database file; created if missing */
    bool sync_full;         /* synchronous=FULL (every commit survives power loss); default NORMAL (WAL: a
                               commit survives a crash of s3orch, the last ones may be lost on power loss) */
    int busy_timeout_ms;    /* wait for a lock held by another process; 0 = 5000 */
    unsigned max_batch;     /* most requests run in one transaction; 0 = 1024 */
};

/* Opens (creating if needed) the SQLite store, applies pending schema migrations and starts its store thread.
 * Errors: -EPROTONOSUPPORT when the database was written by a newer s3orch (a newer schema version), -ENOTSUP
 * when WAL mode cannot be enabled, -EIO when the file is not a database or cannot be opened. */
int store_sqlite_open(struct store **out, const struct store_sqlite_config *cfg);

struct store_pg_config {
    const char *dsn;               /* libpq connection string or URI ("" = libpq's defaults and PG* variables) */
    unsigned max_conns_per_thread; /* connections each ring thread may open; 0 = 2 (plain threads share one) */
    int64_t timeout_ns;            /* a call's limit, waiting for a connection included; 0 = 30 s */
};

/* Opens the PostgreSQL store: connects once and applies pending schema migrations, under an advisory lock so that
 * instances starting together do not race. Connections are made per thread on first use afterwards, and again
 * after one breaks. Calls from a ring thread park their coroutine on the connection's socket.
 * Errors: -EPROTONOSUPPORT when the database was written by a newer s3orch (a newer schema version), -EIO when
 * the server cannot be reached or a migration fails (logged), -ETIMEDOUT when it does not answer in time. */
int store_pg_open(struct store **out, const struct store_pg_config *cfg);

/* Stops the store and frees it. No call may be in flight or made afterwards. NULL is fine. */
void store_close(struct store *s);

/* "sqlite" or "postgres", for logs. */
const char *store_kind(const struct store *s);

/* --- availability (O7) ----------------------------------------------------------------------------------------
 *
 * Every store has a circuit breaker: after `threshold` calls in a row failed for want of the database (-EIO,
 * -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET), calls fail at once with -EHOSTDOWN for `open_ns`; then one call at a
 * time goes through as a probe, and the first that succeeds closes the breaker. Callers serve what they can without
 * the store meanwhile (degraded mode). */
struct store_breaker_config {
    unsigned threshold; /* 0 = 3 */
    int64_t open_ns;    /* 0 = 15 s */
};
void store_breaker_set(struct store *s, const struct store_breaker_config *cfg);
/* false while the breaker is open and no probe is due. */
bool store_available(struct store *s);
/* Whether err says the database could not be reached (as opposed to an answer about the request). */
bool store_err_unavailable(int err);
/* Fault injection for tests (the debug endpoint): while down, every call fails with -EIO as if the database
 * could not be reached, and counts toward the breaker. */
void store_fault_set(struct store *s, bool down);

/* Counters since open, for tests and the debug endpoint. */
struct store_stats {
    uint64_t requests;     /* calls executed */
    uint64_t transactions; /* transactions committed that held at least one write; with batching < requests */
    uint64_t max_batch;    /* most requests run in one transaction */
    uint64_t list_rows;    /* rows read by listings: shows that a delimiter listing seeks past each prefix */
};
void store_stats_get(struct store *s, struct store_stats *out);

/* --- objects ------------------------------------------------------------------------------------------------ */

/* One copy of an object on a backend. An object has at most one copy per backend. */
struct store_copy {
    const char *backend;     /* backend name from the config */
    const char *backend_key; /* the object's key on that backend */
    int64_t size;            /* bytes on the backend (differs from the object size when encrypted) */
    int64_t created_ms;      /* 0 on input: the commit time */
};

/* One user metadata pair (x-amz-meta-*). The name is stored as given: the caller decides whether it keeps the
 * "x-amz-meta-" prefix and lowercases it. Order is kept. */
struct store_meta {
    const char *name;
    const char *value;
};

struct store_object {
    const char *bucket;
    const char *key;
    int64_t size;
    const char *etag;               /* as sent to clients, quotes included if the caller keeps them */
    const char *checksum_algorithm; /* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" or NULL */
    const char *checksum_value;     /* base64 */
    const char *checksum_type;      /* "FULL_OBJECT" or "COMPOSITE" or NULL */
    const char *content_type;
    const char *content_encoding;
    const char *content_disposition;
    const char *content_language;
    const char *cache_control;
    const char *expires;            /* the header's text */
    const struct store_meta *meta;
    size_t n_meta;
    const char *tagging;            /* URL-encoded tag set as in x-amz-tagging, or NULL */
    const char *storage_class;      /* NULL = STANDARD */
    int64_t created_ms;             /* the first version's modified_ms, kept across overwrites; ignored on input */
    int64_t modified_ms;            /* this version's time; 0 on input: the commit time */
    const struct store_copy *copies;
    size_t n_copies;
    /* Parts of an object completed from a multipart upload, in order (GetObject ?partNumber=N); NULL and 0 for
     * an object written whole. At most STORE_PART_NUMBER_MAX, each >= 0, summing to size. */
    const int64_t *part_sizes;
    size_t n_parts;
    struct store_arena *mem;        /* results only */
};

/* A list of cleanup queue rows (also how commit and delete hand back the copies they displaced). */
struct store_cleanup {
    int64_t id;
    const char *backend;
    const char *backend_key;
    int64_t size;       /* bytes on the backend, -1 when unknown */
    const char *reason; /* "overwrite", "delete", or the caller's */
    int attempts;       /* failed attempts so far */
    int64_t next_attempt_ms;
    int64_t created_ms;
};
struct store_cleanup_list {
    const struct store_cleanup *v;
    size_t n;
    struct store_arena *mem;
};

/* Condition of a conditional PUT, checked inside the commit's transaction. */
struct store_cond {
    const char *if_match; /* commit only if the current version's ETag equals this string exactly */
    bool if_none_match;   /* commit only if no object exists under the key (If-None-Match: *) */
};

/* The object under (bucket, key), with its copies in the order they were committed. Serves GET and HEAD.
 * Errors: -ENOENT. On success *out owns its memory: store_object_free(). */
int store_object_get(struct store *s, const char *bucket, const char *key, struct store_object *out);
void store_object_free(struct store_object *obj);
/* A deep copy of src into *dst, which then owns its memory (store_object_free). 0 or -ENOMEM (dst zeroed). */
int store_object_clone(const struct store_object *src, struct store_object *dst);

/* Makes obj the current version of (obj->bucket, obj->key), last writer wins. In one transaction: deletes the
 * PUT intent (intent_id > 0; 0 when the copies were not written under an intent, e.g. an import), writes the
 * object row, replaces its copies with obj->copies, and queues every copy of the previous version for cleanup,
 * except a copy whose (backend, backend_key) the new version reuses (an in-place overwrite on the backend). A
 * cleanup row for a (backend, backend_key) the new version uses is removed, so the cleaner cannot delete live
 * data. The queued copies are returned in *displaced (NULL if not wanted) so the caller can delete them at once
 * and then call store_cleanup_done() for each; they are due for the cleaner STORE_CLEANUP_GRACE_MS later.
 * Needs 1..STORE_COPIES_MAX copies on distinct backends, an etag and size >= 0, and part sizes as struct
 * store_object says (they replace the previous version's: a whole object has none).
 * Errors: -EIDRM the intent is gone (the pending reaper resolved it, so its backend copy may be deleted: treat
 * the PUT as failed); -EINVAL also when the intent names another bucket or key. On failure the intent stays. */
int store_object_commit(struct store *s, int64_t intent_id, const struct store_object *obj,
                        struct store_cleanup_list *displaced);
/* store_object_commit() under a condition (cond NULL: none). Further errors: -EEXIST cond->if_none_match and
 * the key exists; -ENOENT cond->if_match and the key does not exist; -ESTALE cond->if_match and the ETag
 * differs. */
int store_object_commit_if(struct store *s, int64_t intent_id, const struct store_object *obj,
                           const struct store_cond *cond, struct store_cleanup_list *displaced);

/* Removes (bucket, key) and queues its copies for cleanup, returned in *displaced (NULL if not wanted) as for
 * store_object_commit(). Deleting a missing key is not an error (S3 delete is idempotent): 0 and no copies. */
int store_object_delete(struct store *s, const char *bucket, const char *key,
                        struct store_cleanup_list *displaced);

/* Replaces the tag set (S11) of (bucket, key): URL-encoded as in x-amz-tagging, NULL removes it. The version's
 * ETag and modified_ms stay. Errors: -ENOENT. */
int store_object_set_tagging(struct store *s, const char *bucket, const char *key, const char *tagging);

/* --- listing (M5) ------------------------------------------------------------------------------------------- */

struct store_list_query {
    const char *bucket;
    const char *prefix;      /* only keys starting with it; NULL or "" = all */
    const char *delimiter;   /* group keys on it after the prefix; NULL or "" = no grouping */
    const char *start_after; /* only entries and prefixes sorting after it; NULL or "" = from the start */
    size_t max_keys;         /* most entries + prefixes to return, 0..STORE_LIST_MAX_KEYS */
};

struct store_list_entry {
    const char *key;
    int64_t size;
    const char *etag;
    int64_t modified_ms;
    const char *storage_class;
    const char *checksum_algorithm;
    const char *checksum_type;
};

struct store_list {
    const struct store_list_entry *entries;
    size_t n_entries;
    const char *const *prefixes; /* common prefixes, each ending with the delimiter */
    size_t n_prefixes;
    bool truncated;              /* more entries or prefixes follow (max_keys 0: whether any would) */
    const char *next_marker;     /* when truncated and something was returned: the last entry key or prefix
                                    returned, to pass as start_after; else NULL */
    struct store_arena *mem;
};

/* Lists a bucket in byte order of keys. With a delimiter, a key holding the delimiter after the prefix is rolled
 * into the common prefix that ends at its first such delimiter; the prefix counts once against max_keys and is
 * returned only if it sorts after start_after (so a next_marker that is a prefix moves past that whole group).
 * The implementation seeks past each group rather than reading its keys. On success *out owns its memory:
 * store_list_free(). */
int store_list_objects(struct store *s, const struct store_list_query *q, struct store_list *out);
void store_list_free(struct store_list *l);

/* --- multipart uploads (S9) ----------------------------------------------------------------------------------
 *
 * An upload in progress: where its parts go on the backend (a native multipart upload there), the metadata the
 * object gets at Complete, and its parts. The upload row also stands in for a PUT intent: until Complete or
 * Abort, its backend_key and the backend's parts belong to it. */

struct store_upload {
    const char *id;                /* chosen by the caller, unique, URL-safe */
    const char *owner;             /* access key that created it (Initiator and Owner in listings) */
    const char *backend;           /* the backend holding the parts */
    const char *backend_key;       /* the object's key on that backend once completed */
    const char *backend_upload_id; /* the backend's own id for its native upload */
    int64_t created_ms;            /* set by the store */
    /* The object to be: bucket, key, content_*, cache_control, expires, meta, tagging, storage_class, and
     * checksum_algorithm/checksum_type as declared at Create (checksum_value NULL). size, etag, copies and
     * part_sizes are not stored (the part sizes come with the object at Complete); obj.mem stays NULL (the
     * upload's mem owns everything). */
    struct store_object obj;
    struct store_arena *mem; /* results only */
};

struct store_part {
    int number;                 /* 1..STORE_PART_NUMBER_MAX */
    int64_t size;
    const char *etag;           /* as sent to clients: quoted MD5 hex of the part */
    const char *checksum_value; /* base64 under the upload's checksum_algorithm, or NULL */
    const char *backend_etag;   /* what the backend answered for the part; completing natively needs it */
    int64_t modified_ms;        /* set by the store */
};
struct store_part_list {
    const struct store_part *v; /* by number */
    size_t n;
    bool truncated; /* parts numbered above the last one returned exist */
    struct store_arena *mem;
};

struct store_upload_query {
    const char *bucket;
    const char *prefix;           /* NULL or "" = all */
    const char *delimiter;        /* NULL or "" = no grouping */
    const char *key_marker;       /* uploads with keys after it, or with this key listed after upload_id_marker's */
    const char *upload_id_marker; /* only with key_marker (ignored without one, as S3 does) */
    size_t max_uploads;           /* most uploads + prefixes, 0..1000 */
};
struct store_upload_list {
    const struct store_upload *v; /* by key, then by created_ms, then by id */
    size_t n;
    const char *const *prefixes; /* common prefixes, each ending with the delimiter */
    size_t n_prefixes;
    bool truncated;
    const char *next_key_marker;       /* when truncated: the last key or prefix returned */
    const char *next_upload_id_marker; /* when truncated and the last thing returned was an upload: its id */
    struct store_arena *mem;
};

/* Records a new upload; up->created_ms and up->mem are ignored. Errors: -EEXIST (the id is taken). */
int store_upload_create(struct store *s, const struct store_upload *up);
/* Errors: -ENOENT. On success *out owns its memory: store_upload_free(). */
int store_upload_get(struct store *s, const char *id, struct store_upload *out);
void store_upload_free(struct store_upload *up);
/* Records a part (a part with the same number is replaced: the backend replaced it too). The caller uploaded it to
 * the backend first. Errors: -ENOENT the upload is gone (completed or aborted meanwhile). */
int store_part_put(struct store *s, const char *upload_id, const struct store_part *p);
/* Parts numbered after after_number, by number, at most max (1..STORE_PART_NUMBER_MAX). Errors: -ENOENT. */
int store_parts_list(struct store *s, const char *upload_id, int after_number, size_t max,
                     struct store_part_list *out);
void store_part_list_free(struct store_part_list *l);
/* Completes an upload: in one transaction, removes the upload and its parts and makes obj the current version of
 * (obj->bucket, obj->key) as store_object_commit() does (intent 0), returning the displaced copies the same way.
 * obj must name the upload's bucket and key; its part_sizes are the sizes of the parts the Complete named, in
 * its order (the store does not check them against the recorded parts). Errors: -ENOENT no such upload (another
 * Complete or an Abort won); -EINVAL also when obj names another bucket or key. */
int store_upload_complete(struct store *s, const char *upload_id, const struct store_object *obj,
                          struct store_cleanup_list *displaced);
/* Removes an upload and its parts. The caller aborts the backend's upload. Errors: -ENOENT. */
int store_upload_abort(struct store *s, const char *upload_id);
/* Uploads in a bucket in key order, grouped on a delimiter as store_list_objects() does. */
int store_uploads_list(struct store *s, const struct store_upload_query *q, struct store_upload_list *out);
void store_upload_list_free(struct store_upload_list *l);

/* --- PUT intents (O10) -------------------------------------------------------------------------------------- */

struct store_intent {
    int64_t id;
    const char *bucket;
    const char *key;
    const char *backend;
    const char *backend_key;
    int64_t size;       /* expected bytes on the backend, -1 when unknown (streamed body) */
    int64_t created_ms; /* set by the store */
};
struct store_intent_list {
    const struct store_intent *v;
    size_t n;
    struct store_arena *mem;
};

/* Records a pending backend write before it starts; in->id and in->created_ms are ignored. *id gets the
 * intent's id (> 0), to pass to store_object_commit() or store_intent_drop(). */
int store_intent_create(struct store *s, const struct store_intent *in, int64_t *id);
/* Drops an intent whose PUT failed. If cleanup_reason is not NULL the intent's backend copy is queued for
 * cleanup in the same transaction, due at once (pass a reason when the caller could not delete the copy
 * itself); *cleanup_id (NULL if not wanted) gets the row's id, else 0. Errors: -ENOENT no such intent. */
int store_intent_drop(struct store *s, int64_t id, const char *cleanup_reason, int64_t *cleanup_id);
/* Intents created before before_ms, oldest first, at most limit (for the pending reaper). */
int store_intents_older_than(struct store *s, int64_t before_ms, size_t limit, struct store_intent_list *out);
void store_intent_list_free(struct store_intent_list *l);

/* --- cleanup queue ------------------------------------------------------------------------------------------ */

/* Queues a backend copy for deletion, due at next_attempt_ms; in->id, attempts and created_ms are ignored,
 * in->reason is required. A row for the same (backend, backend_key) is updated instead of duplicated (its
 * attempts kept). *id (NULL if not wanted) gets the row's id. */
int store_cleanup_add(struct store *s, const struct store_cleanup *in, int64_t *id);
/* Rows due at now_ms, most overdue first, at most limit. A row whose (backend, backend_key) a live copy or a
 * pending intent uses again is not returned: deleting it would destroy live data. */
int store_cleanup_due(struct store *s, int64_t now_ms, size_t limit, struct store_cleanup_list *out);
/* The copy is deleted: the row goes. Errors: -ENOENT no such row (another deleter finished first). */
int store_cleanup_done(struct store *s, int64_t id);
/* Every row of ids[0..n) (n <= STORE_CLEANUP_MANY_MAX) goes, in one transaction: a batch delete's rows. A row
 * already gone is no error (another deleter finished first). */
enum { STORE_CLEANUP_MANY_MAX = 1000 };
int store_cleanup_done_many(struct store *s, const int64_t *ids, size_t n);
/* An attempt failed: attempts + 1, due again at next_attempt_ms. Errors: -ENOENT no such row. */
int store_cleanup_retry(struct store *s, int64_t id, int64_t next_attempt_ms);
void store_cleanup_list_free(struct store_cleanup_list *l);

/* --- buckets created through the API (S13) ------------------------------------------------------------------- */

struct store_bucket {
    char name[STORE_BUCKET_MAX + 1];
    char owner[STORE_OWNER_MAX + 1]; /* access key that created it */
    int64_t created_ms;
};
struct store_bucket_list {
    const struct store_bucket *v; /* by name */
    size_t n;
    struct store_arena *mem;
};

/* Errors: -EEXIST. The name is not validated against S3's rules here (the caller does that). */
int store_bucket_create(struct store *s, const char *name, const char *owner_access_key);
/* Errors: -ENOENT; -ENOTEMPTY while objects, pending intents or multipart uploads exist in it. */
int store_bucket_delete(struct store *s, const char *name);
/* Whether the bucket exists: 0, or -ENOENT. *out (NULL if not wanted) gets it. */
int store_bucket_get(struct store *s, const char *name, struct store_bucket *out);
int store_bucket_list(struct store *s, struct store_bucket_list *out);
void store_bucket_list_free(struct store_bucket_list *l);

/* --- backend usage (O2) ------------------------------------------------------------------------------------- */

/* What a backend holds by the store's records: the copies of live objects, the expected bytes of pending intents
 * (a write in flight or one a crash left), the parts of multipart uploads in progress, and the copies queued for
 * cleanup (still on the backend until deleted). The router starts its accounting from this. */
struct store_backend_usage {
    const char *backend;
    int64_t bytes;
    int64_t objects; /* live copies */
};
struct store_backend_usage_list {
    const struct store_backend_usage *v; /* by backend name */
    size_t n;
    struct store_arena *mem;
};

/* Every backend the store has a record on. Reads every copy: meant for start-up, not a request path. */
int store_backend_usage(struct store *s, struct store_backend_usage_list *out);
void store_backend_usage_list_free(struct store_backend_usage_list *l);

/* --- backend state (O1, M4) ----------------------------------------------------------------------------------
 *
 * A backend an operator is draining takes no new objects (its copies stay readable until moved). The state lives
 * in the store so that every instance sharing it sees the same. */
enum store_backend_state { STORE_BACKEND_ACTIVE, STORE_BACKEND_DRAINING };
struct store_backend_state_row {
    const char *backend;
    enum store_backend_state state;
    int64_t changed_ms;
};
struct store_backend_state_list {
    const struct store_backend_state_row *v; /* by backend name; active backends have no row */
    size_t n;
    struct store_arena *mem;
};
int store_backend_state_set(struct store *s, const char *backend, enum store_backend_state state);
int store_backend_states(struct store *s, struct store_backend_state_list *out);
void store_backend_state_list_free(struct store_backend_state_list *l);

/* --- background job locks (M4) ----------------------------------------------------------------------------------
 *
 * A background job that must run on one instance at a time (the cleaner, the pending reaper) takes its lock before
 * each run. The lock belongs to the store handle and is lost with what holds it: on PostgreSQL a session advisory
 * lock on a connection kept for the locks (a crashed instance's lock goes with its connection); on SQLite an
 * flock() on a file beside the database (it goes with the process). A job therefore asks again before each batch
 * rather than trusting an earlier answer. Job locks are taken by one thread per handle (the worker ring). */
enum store_job { STORE_JOB_CLEANER, STORE_JOB_REAPER, STORE_JOB_COUNT };
const char *store_job_name(enum store_job job);
/* *held: true when this handle holds the lock (taken now or before), false when another holds it. Errors:
 * -EINVAL no such job; -EXDEV called from another thread than the handle's first job-lock call; store errors. */
int store_job_lock(struct store *s, enum store_job job, bool *held);
/* Gives the lock up (nothing happens if this handle does not hold it). */
int store_job_unlock(struct store *s, enum store_job job);

/* --- usage counters (O3) ------------------------------------------------------------------------------------ */

/* A backend's use in one calendar month: requests sent to it, bytes read from it and bytes written to it. */
struct store_usage {
    const char *backend;
    int64_t api_calls;
    int64_t egress_bytes;
    int64_t ingress_bytes;
};
struct store_usage_list {
    const struct store_usage *v; /* by backend name */
    size_t n;
    struct store_arena *mem;
};

enum { STORE_USAGE_MAX = 64 }; /* deltas one call adds */

/* Adds deltas[0..n) (each >= 0, at most one per backend) to the counters of `month` ("YYYY-MM", UTC), creating
 * rows as needed, and returns that month's totals for every backend that has a row. Each delta is added
 * atomically, so instances sharing the store add up; n 0 only reads. */
int store_usage_add(struct store *s, const char *month, const struct store_usage *deltas, size_t n,
                    struct store_usage_list *totals);
void store_usage_list_free(struct store_usage_list *l);

#endif
