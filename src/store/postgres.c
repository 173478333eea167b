/* The PostgreSQL store: open, close, and running a request on a connection of the calling thread.
 *
 * Unlike SQLite there is no store thread: the caller runs its request itself, on a connection of its thread's pool
 * (postgres_conn.c), so many ring threads and many s3orch instances query the database at once. Concurrency is
 * the database's: row locks and ON CONFLICT, never a process mutex, so two instances committing one key behave as
 * two coroutines of one instance do.
 *
 * One round trip per call: every call is one statement. A call that writes several tables (commit, delete, upload
 * completion, intent drop, bucket delete) calls a plpgsql function the migrations create, and a statement is its
 * own transaction, so the call is atomic without BEGIN/COMMIT round trips: a failed call, an error the function
 * raises included, changed nothing. Listings are functions too, so the walk that seeks past each common prefix
 * runs next to the index instead of one round trip per prefix. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_impl.h"
#include "util/log.h"

/* STORE_PG_HEADERS columns, encoded and read by postgres_values.c. */
#define HEADER_COLUMNS                                                                                          \
    "content_type, content_encoding, content_disposition, content_language, cache_control, expires, "          \
    "user_meta, tagging, storage_class"
/* The uploads table's columns, in its order (so s3orch_list_uploads() rows read the same way). */
#define UPLOAD_COLUMNS                                                                                          \
    "id, owner, backend, backend_key, backend_upload_id, created_ms, bucket, key, checksum_algorithm, "        \
    "checksum_type, " HEADER_COLUMNS
#define CLEANUP_COLUMNS "id, backend, backend_key, size, reason, attempts, next_attempt_ms, created_ms"

const char *const store_pg_sql[PG_STMT_COUNT] = {
    /* The object and its copies in commit order; an object always has copies, LEFT JOIN or not. */
    [PG_OBJECT_GET] =
        "SELECT o.size, o.etag, o.checksum_algorithm, o.checksum_value, o.checksum_type, o.content_type, "
        "o.content_encoding, o.content_disposition, o.content_language, o.cache_control, o.expires, o.user_meta, "
        "o.tagging, o.storage_class, o.created_ms, o.modified_ms, o.part_sizes, "
        "c.backend, c.backend_key, c.size, c.created_ms "
        "FROM objects o LEFT JOIN copies c ON c.object_id = o.id WHERE o.bucket = $1 AND o.key = $2 ORDER BY c.seq",
    [PG_COMMIT] = "SELECT " CLEANUP_COLUMNS " FROM s3orch_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                  "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)",
    [PG_OBJECT_DELETE] = "SELECT " CLEANUP_COLUMNS " FROM s3orch_object_delete($1, $2, $3, $4)",
    [PG_OBJECT_SET_TAGGING] = "UPDATE objects SET tagging = $3 WHERE bucket = $1 AND key = $2",
    [PG_LIST_OBJECTS] = "SELECT key, size, etag, modified_ms, storage_class, checksum_algorithm, checksum_type "
                        "FROM s3orch_list_objects($1, $2, $3, $4, $5)",

    [PG_UPLOAD_INSERT] = "INSERT INTO uploads (" UPLOAD_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                         "$11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (id) DO NOTHING",
    [PG_UPLOAD_GET] = "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE id = $1",
    /* The parts go with it (ON DELETE CASCADE). */
    [PG_UPLOAD_ABORT] = "DELETE FROM uploads WHERE id = $1",
    [PG_UPLOADS_LIST] = "SELECT " UPLOAD_COLUMNS " FROM s3orch_list_uploads($1, $2, $3, $4, $5, $6)",
    /* The upload's row is locked against a concurrent Complete or Abort, which then waits for this put, or wins
     * and leaves nothing to insert: a part never outlives its upload. */
    [PG_PART_PUT] =
        "WITH u AS (SELECT id FROM uploads WHERE id = $1 FOR KEY SHARE) "
        "INSERT INTO parts (upload_id, number, size, etag, checksum_value, backend_etag, modified_ms) "
        "SELECT u.id, $2::integer, $3::bigint, $4::bytea, $5::bytea, $6::bytea, $7::bigint FROM u "
        "ON CONFLICT (upload_id, number) DO UPDATE SET size = excluded.size, etag = excluded.etag, "
        "checksum_value = excluded.checksum_value, backend_etag = excluded.backend_etag, "
        "modified_ms = excluded.modified_ms",
    /* No row: no such upload; one row of NULLs: an upload without parts (after after_number). */
    [PG_PARTS_LIST] = "SELECT p.number, p.size, p.etag, p.checksum_value, p.backend_etag, p.modified_ms "
                      "FROM uploads u LEFT JOIN LATERAL (SELECT * FROM parts WHERE upload_id = u.id AND number > $2 "
                      "ORDER BY number LIMIT $3) p ON true WHERE u.id = $1 ORDER BY p.number",

    [PG_INTENT_INSERT] = "INSERT INTO intents (bucket, key, backend, backend_key, size, created_ms) "
                         "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    [PG_INTENT_DROP] = "SELECT s3orch_intent_drop($1, $2, $3)",
    [PG_INTENTS_OLDER] = "SELECT id, bucket, key, backend, backend_key, size, created_ms FROM intents "
                         "WHERE created_ms < $1 ORDER BY created_ms, id LIMIT $2",

    [PG_CLEANUP_ADD] =
        "INSERT INTO cleanup AS c (backend, backend_key, size, reason, attempts, next_attempt_ms, created_ms) "
        "VALUES ($1, $2, $3, $4, 0, $5, $6) ON CONFLICT (backend, backend_key) DO UPDATE SET "
        "size = excluded.size, reason = excluded.reason, next_attempt_ms = excluded.next_attempt_ms RETURNING c.id",
    [PG_CLEANUP_DUE] =
        "SELECT " CLEANUP_COLUMNS " FROM cleanup c WHERE next_attempt_ms <= $1 "
        "AND NOT EXISTS (SELECT 1 FROM copies k WHERE k.backend = c.backend AND k.backend_key = c.backend_key) "
        "AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.backend = c.backend AND i.backend_key = c.backend_key) "
        "AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.backend = c.backend AND u.backend_key = c.backend_key) "
        "ORDER BY next_attempt_ms, id LIMIT $2",
    [PG_CLEANUP_DONE] = "DELETE FROM cleanup WHERE id = $1",
    [PG_CLEANUP_DONE_MANY] = "DELETE FROM cleanup WHERE id = ANY ($1::bigint[])",
    [PG_CLEANUP_RETRY] = "UPDATE cleanup SET attempts = attempts + 1, next_attempt_ms = $2 WHERE id = $1",

    [PG_BUCKET_INSERT] =
        "INSERT INTO buckets (name, owner, created_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    [PG_BUCKET_GET] = "SELECT name, owner, created_ms FROM buckets WHERE name = $1",
    [PG_BUCKET_DELETE] = "SELECT s3orch_bucket_delete($1)",
    [PG_BUCKET_LIST] = "SELECT name, owner, created_ms FROM buckets ORDER BY name",
    [PG_BACKEND_USAGE] = "SELECT backend, SUM(bytes)::bigint, SUM(objects)::bigint FROM ("
                         " SELECT backend, size AS bytes, 1 AS objects FROM copies"
                         " UNION ALL SELECT backend, GREATEST(size, 0), 0 FROM intents"
                         " UNION ALL SELECT backend, GREATEST(size, 0), 0 FROM cleanup"
                         " UNION ALL SELECT u.backend, p.size, 0 FROM uploads u JOIN parts p ON p.upload_id = u.id"
                         ") held GROUP BY backend ORDER BY backend",
    [PG_USAGE_ADD] = "SELECT * FROM s3orch_usage_add($1, $2, $3, $4, $5)",
    [PG_BACKEND_STATE_PUT] = "INSERT INTO backend_state (backend, state, changed_ms) VALUES ($1, $2, $3) "
                             "ON CONFLICT (backend) DO UPDATE SET state = EXCLUDED.state, changed_ms = EXCLUDED.changed_ms",
    [PG_BACKEND_STATE_DELETE] = "DELETE FROM backend_state WHERE backend = $1",
    [PG_BACKEND_STATES] = "SELECT backend, state, changed_ms FROM backend_state ORDER BY backend",
    /* Job locks use the two-key form, (21299 = "S3", job): pg_try_advisory_lock() counts re-entries, so a lock
     * the session holds already is reported, not taken again, and one unlock gives it up. */
    [PG_JOB_LOCK] = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND classid = 21299 AND objid = $1::integer::oid AND objsubid = 2 AND granted) "
                    "OR pg_try_advisory_lock(21299, $1::integer)",
    [PG_JOB_UNLOCK] = "SELECT pg_advisory_unlock(21299, $1::integer) FROM pg_locks WHERE locktype = 'advisory' "
                      "AND pid = pg_backend_pid() AND classid = 21299 AND objid = $1::integer::oid AND objsubid = 2",
};

static int pg_dispatch(struct store_pg_call *k, struct store_req *r)
{
    switch (r->kind) {
    case STORE_REQ_OBJECT_GET:
        return store_pg_object_get(k, r);
    case STORE_REQ_OBJECT_COMMIT:
        return store_pg_object_commit(k, r);
    case STORE_REQ_OBJECT_DELETE:
        return store_pg_object_delete(k, r);
    case STORE_REQ_OBJECT_SET_TAGGING:
        return store_pg_object_set_tagging(k, r);
    case STORE_REQ_LIST_OBJECTS:
        return store_pg_list_objects(k, r);
    case STORE_REQ_UPLOAD_CREATE:
        return store_pg_upload_create(k, r);
    case STORE_REQ_UPLOAD_GET:
        return store_pg_upload_get(k, r);
    case STORE_REQ_PART_PUT:
        return store_pg_part_put(k, r);
    case STORE_REQ_PARTS_LIST:
        return store_pg_parts_list(k, r);
    case STORE_REQ_UPLOAD_COMPLETE:
        return store_pg_upload_complete(k, r);
    case STORE_REQ_UPLOAD_ABORT:
        return store_pg_upload_abort(k, r);
    case STORE_REQ_UPLOADS_LIST:
        return store_pg_uploads_list(k, r);
    case STORE_REQ_INTENT_CREATE:
        return store_pg_intent_create(k, r);
    case STORE_REQ_INTENT_DROP:
        return store_pg_intent_drop(k, r);
    case STORE_REQ_INTENTS_OLDER:
        return store_pg_intents_older(k, r);
    case STORE_REQ_CLEANUP_ADD:
        return store_pg_cleanup_add(k, r);
    case STORE_REQ_CLEANUP_DUE:
        return store_pg_cleanup_due(k, r);
    case STORE_REQ_CLEANUP_DONE:
        return store_pg_cleanup_done(k, r);
    case STORE_REQ_CLEANUP_RETRY:
        return store_pg_cleanup_retry(k, r);
    case STORE_REQ_CLEANUP_DONE_MANY:
        return store_pg_cleanup_done_many(k, r);
    case STORE_REQ_BUCKET_CREATE:
        return store_pg_bucket_create(k, r);
    case STORE_REQ_BUCKET_DELETE:
        return store_pg_bucket_delete(k, r);
    case STORE_REQ_BUCKET_GET:
        return store_pg_bucket_get(k, r);
    case STORE_REQ_BUCKET_LIST:
        return store_pg_bucket_list(k, r);
    case STORE_REQ_BACKEND_USAGE:
        return store_pg_backend_usage(k, r);
    case STORE_REQ_USAGE_ADD:
        return store_pg_usage_add(k, r);
    case STORE_REQ_BACKEND_STATE_SET:
        return store_pg_backend_state_set(k, r);
    case STORE_REQ_BACKEND_STATES:
        return store_pg_backend_states(k, r);
    case STORE_REQ_JOB_LOCK:
        return store_pg_job_lock(k, r);
    case STORE_REQ_JOB_UNLOCK:
        return store_pg_job_unlock(k, r);
    }
    return -EINVAL;
}

/* The client waits this much longer than the server's statement_timeout, so that a slow statement is normally
 * cancelled (and rolled back) by the server and reported as -ETIMEDOUT having changed nothing; only a server or
 * network that stopped answering runs into the client's deadline. */
#define PG_CLIENT_GRACE_NS CORO_SEC(2)

static void pg_execute(struct store *s, struct store_req *req)
{
    struct store_pg *ps = (struct store_pg *)s;
    struct store_pg_call k = {.ps = ps, .deadline = coro_now() + ps->timeout_ns + PG_CLIENT_GRACE_NS};
    int err;
    for (int attempt = 0;; attempt++) {
        bool job = req->kind == STORE_REQ_JOB_LOCK || req->kind == STORE_REQ_JOB_UNLOCK;
        if ((err = job ? store_pg_acquire_locks(&k) : store_pg_acquire(&k)) < 0)
            break;
        err = pg_dispatch(&k, req);
        /* A connection idle since the server restarted fails its next query. A read is safe to run again on a
         * fresh connection; a write may have committed before the break, so its failure is reported. */
        bool again = k.conn->broken && attempt == 0 && store_req_is_read(req) && err != -ETIMEDOUT;
        store_pg_release(&k);
        if (!again)
            break;
    }
    store_stats_note_batch(s, 1, err == 0 && !store_req_is_read(req));
    req->res = err;
}

static void pg_free(struct store_pg *ps)
{
    store_pg_pools_free(ps);
    free(ps->dsn);
    pthread_mutex_destroy(&ps->plain_lock);
    pthread_mutex_destroy(&ps->pools_lock);
    store_base_destroy(&ps->base);
    free(ps);
}

static void pg_close(struct store *s) { pg_free((struct store_pg *)s); }

static const struct store_ops pg_ops = {
    .kind = "postgres",
    .execute = pg_execute,
    .close = pg_close,
};

int store_pg_open(struct store **out, const struct store_pg_config *cfg)
{
    *out = NULL;
    if (!cfg || !cfg->dsn || cfg->timeout_ns < 0)
        return -EINVAL;
    struct store_pg *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return -ENOMEM;
    struct store_pg_call k = {.ps = ps};
    int err = store_base_init(&ps->base, &pg_ops);
    if (err < 0) {
        free(ps);
        return err;
    }
    pthread_mutex_init(&ps->pools_lock, NULL);
    pthread_mutex_init(&ps->plain_lock, NULL);
    ps->max_conns = cfg->max_conns_per_thread ? cfg->max_conns_per_thread : 2;
    ps->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : CORO_SEC(30);
    ps->dsn = strdup(cfg->dsn);
    err = ps->dsn ? store_pg_pools_init(ps) : -ENOMEM;
    if (err < 0)
        goto err;

    k.deadline = coro_now() + ps->timeout_ns + PG_CLIENT_GRACE_NS;
    if ((err = store_pg_acquire(&k)) < 0)
        goto err;
    err = store_pg_schema_migrate(&k);
    store_pg_release(&k);
    if (err < 0)
        goto err;
    *out = &ps->base;
    return 0;
err:
    pg_free(ps);
    return err;
}
