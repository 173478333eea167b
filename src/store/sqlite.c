/* The SQLite store: one connection, owned by one store thread that runs requests in batches.
 *
 * Callers (coroutines on ring threads, or plain threads) queue a request and park; the store thread takes every
 * queued request (up to max_batch), runs them in one transaction, each inside a savepoint of its own so a
 * failing request undoes only itself, commits once and then wakes the callers. N concurrent PUTs therefore cost
 * one commit (one fsync with synchronous=FULL), and a ring thread never waits for the disk. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

/* STORE_SQLITE_HEADERS columns, bound and read by sqlite_headers.c. */
#define HEADER_COLUMNS                                                                                          \
    "content_type, content_encoding, content_disposition, content_language, cache_control, expires, "          \
    "user_meta, tagging, storage_class"
#define OBJECT_COLUMNS                                                                                          \
    "bucket, key, size, etag, checksum_algorithm, checksum_value, checksum_type, " HEADER_COLUMNS              \
    ", created_ms, modified_ms, part_sizes"
#define UPLOAD_COLUMNS                                                                                          \
    "id, owner, backend, backend_key, backend_upload_id, created_ms, bucket, key, checksum_algorithm, "        \
    "checksum_type, " HEADER_COLUMNS
#define LIST_COLUMNS "key, size, etag, modified_ms, storage_class, checksum_algorithm, checksum_type"
#define CLEANUP_COLUMNS "id, backend, backend_key, size, reason, attempts, next_attempt_ms, created_ms"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN",
    /* IMMEDIATE takes the write lock up front, so a batch never fails half-way on a lock upgrade. */
    [STMT_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT req",
    [STMT_RELEASE] = "RELEASE req",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO req",

    [STMT_OBJECT_GET] = "SELECT id, " OBJECT_COLUMNS " FROM objects WHERE bucket = ?1 AND key = ?2",
    [STMT_OBJECT_FIND] = "SELECT id, etag FROM objects WHERE bucket = ?1 AND key = ?2",
    /* Last writer wins: the row is updated in place, so created_ms (not in the SET list) is kept. No RETURNING
     * here or below on the paths every PUT takes: SQLite buffers RETURNING rows in an ephemeral table, whose
     * open and close cost more than the statement itself; a plain lookup by key reads the same row for less. */
    [STMT_OBJECT_UPSERT] =
        "INSERT INTO objects (" OBJECT_COLUMNS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18) "
        "ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, "
        "checksum_algorithm = excluded.checksum_algorithm, checksum_value = excluded.checksum_value, "
        "checksum_type = excluded.checksum_type, content_type = excluded.content_type, "
        "content_encoding = excluded.content_encoding, content_disposition = excluded.content_disposition, "
        "content_language = excluded.content_language, cache_control = excluded.cache_control, "
        "expires = excluded.expires, user_meta = excluded.user_meta, tagging = excluded.tagging, "
        "storage_class = excluded.storage_class, modified_ms = excluded.modified_ms, "
        "part_sizes = excluded.part_sizes",
    [STMT_OBJECT_DELETE] = "DELETE FROM objects WHERE id = ?1",
    [STMT_OBJECT_SET_TAGGING] = "UPDATE objects SET tagging = ?3 WHERE bucket = ?1 AND key = ?2",
    [STMT_COPIES_GET] = "SELECT backend, backend_key, size, created_ms FROM copies WHERE object_id = ?1 ORDER BY seq",
    [STMT_COPIES_DELETE] = "DELETE FROM copies WHERE object_id = ?1",
    [STMT_COPY_INSERT] =
        "INSERT INTO copies (object_id, backend, backend_key, size, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",

    [STMT_LIST_GT] = "SELECT " LIST_COLUMNS " FROM objects WHERE bucket = ?1 AND key > ?2 ORDER BY key",
    [STMT_LIST_GE] = "SELECT " LIST_COLUMNS " FROM objects WHERE bucket = ?1 AND key >= ?2 ORDER BY key",

    [STMT_UPLOAD_INSERT] = "INSERT INTO uploads (" UPLOAD_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                           "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) ON CONFLICT (id) DO NOTHING",
    [STMT_UPLOAD_GET] = "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE id = ?1",
    [STMT_UPLOAD_EXISTS] = "SELECT 1 FROM uploads WHERE id = ?1",
    /* The parts go with it (ON DELETE CASCADE). */
    [STMT_UPLOAD_TAKE] = "DELETE FROM uploads WHERE id = ?1 RETURNING bucket, key",
    [STMT_UPLOAD_POSITION] = "SELECT created_ms FROM uploads WHERE id = ?1 AND bucket = ?2 AND key = ?3",
    [STMT_UPLOADS_GT] =
        "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE bucket = ?1 AND key > ?2 ORDER BY key, created_ms, id",
    [STMT_UPLOADS_GE] =
        "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE bucket = ?1 AND key >= ?2 ORDER BY key, created_ms, id",
    /* Inserts nothing once the upload is gone, so a part cannot outlive a Complete or Abort that won the race. */
    [STMT_PART_PUT] =
        "INSERT INTO parts (upload_id, number, size, etag, checksum_value, backend_etag, modified_ms) "
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM uploads WHERE id = ?1) "
        "ON CONFLICT (upload_id, number) DO UPDATE SET size = excluded.size, etag = excluded.etag, "
        "checksum_value = excluded.checksum_value, backend_etag = excluded.backend_etag, "
        "modified_ms = excluded.modified_ms",
    [STMT_PARTS_LIST] = "SELECT number, size, etag, checksum_value, backend_etag, modified_ms FROM parts "
                        "WHERE upload_id = ?1 AND number > ?2 ORDER BY number LIMIT ?3",

    [STMT_INTENT_INSERT] = "INSERT INTO intents (bucket, key, backend, backend_key, size, created_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [STMT_INTENT_GET] = "SELECT bucket, key, backend, backend_key, size FROM intents WHERE id = ?1",
    [STMT_INTENT_DELETE] = "DELETE FROM intents WHERE id = ?1",
    [STMT_INTENTS_OLDER] = "SELECT id, bucket, key, backend, backend_key, size, created_ms FROM intents "
                           "WHERE created_ms < ?1 ORDER BY created_ms, id LIMIT ?2",

    [STMT_CLEANUP_QUEUE] =
        "INSERT INTO cleanup (backend, backend_key, size, reason, attempts, next_attempt_ms, created_ms) "
        "VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6) ON CONFLICT (backend, backend_key) DO UPDATE SET "
        "size = excluded.size, reason = excluded.reason, next_attempt_ms = excluded.next_attempt_ms",
    [STMT_CLEANUP_GET] = "SELECT " CLEANUP_COLUMNS " FROM cleanup WHERE backend = ?1 AND backend_key = ?2",
    [STMT_CLEANUP_FORGET] = "DELETE FROM cleanup WHERE backend = ?1 AND backend_key = ?2",
    [STMT_CLEANUP_DUE] =
        "SELECT " CLEANUP_COLUMNS " FROM cleanup c WHERE next_attempt_ms <= ?1 "
        "AND NOT EXISTS (SELECT 1 FROM copies k WHERE k.backend = c.backend AND k.backend_key = c.backend_key) "
        "AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.backend = c.backend AND i.backend_key = c.backend_key) "
        "AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.backend = c.backend AND u.backend_key = c.backend_key) "
        "ORDER BY next_attempt_ms, id LIMIT ?2",
    [STMT_CLEANUP_DONE] = "DELETE FROM cleanup WHERE id = ?1",
    [STMT_CLEANUP_RETRY] = "UPDATE cleanup SET attempts = attempts + 1, next_attempt_ms = ?2 WHERE id = ?1",

    [STMT_BUCKET_INSERT] =
        "INSERT INTO buckets (name, owner, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
    [STMT_BUCKET_GET] = "SELECT name, owner, created_ms FROM buckets WHERE name = ?1",
    [STMT_BUCKET_USED] = "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1) "
                         "OR EXISTS (SELECT 1 FROM intents WHERE bucket = ?1) "
                         "OR EXISTS (SELECT 1 FROM uploads WHERE bucket = ?1)",
    [STMT_BUCKET_DELETE] = "DELETE FROM buckets WHERE name = ?1",
    [STMT_BUCKET_LIST] = "SELECT name, owner, created_ms FROM buckets ORDER BY name",
    [STMT_BACKEND_USAGE] = "SELECT backend, SUM(bytes), SUM(objects) FROM ("
                           " SELECT backend, size AS bytes, 1 AS objects FROM copies"
                           " UNION ALL SELECT backend, MAX(size, 0), 0 FROM intents"
                           " UNION ALL SELECT backend, MAX(size, 0), 0 FROM cleanup"
                           " UNION ALL SELECT u.backend, p.size, 0 FROM uploads u JOIN parts p ON p.upload_id = u.id"
                           ") GROUP BY backend ORDER BY backend",
    [STMT_USAGE_ADD] = "INSERT INTO usage (month, backend, api_calls, egress_bytes, ingress_bytes) VALUES (?1, ?2, ?3, ?4, ?5) "
                       "ON CONFLICT (month, backend) DO UPDATE SET api_calls = api_calls + excluded.api_calls, "
                       "egress_bytes = egress_bytes + excluded.egress_bytes, "
                       "ingress_bytes = ingress_bytes + excluded.ingress_bytes",
    [STMT_BACKEND_STATE_PUT] = "INSERT INTO backend_state (backend, state, changed_ms) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (backend) DO UPDATE SET state = excluded.state, changed_ms = excluded.changed_ms",
    [STMT_BACKEND_STATE_DELETE] = "DELETE FROM backend_state WHERE backend = ?1",
    [STMT_BACKEND_STATES] = "SELECT backend, state, changed_ms FROM backend_state ORDER BY backend",
    [STMT_USAGE_GET] = "SELECT backend, api_calls, egress_bytes, ingress_bytes FROM usage WHERE month = ?1 ORDER BY backend",
};

/* --- helpers (sqlite_impl.h) ------------------------------------------------------------------------------- */

sqlite3_stmt *store_sqlite_stmt(struct store_sqlite *ss, enum store_sqlite_stmt id)
{
    sqlite3_stmt *st = ss->stmts[id];
    if (st) {
        sqlite3_reset(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(ss->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        log_error("store: cannot prepare statement %d: %s", (int)id, sqlite3_errmsg(ss->db));
        return NULL;
    }
    ss->stmts[id] = st;
    return st;
}

void store_sqlite_reset(sqlite3_stmt *st)
{
    if (st)
        sqlite3_reset(st);
}

int store_sqlite_errno(struct store_sqlite *ss, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        log_warn("store: database locked: %s", sqlite3_errmsg(ss->db));
        return -EBUSY;
    case SQLITE_FULL:
        log_error("store: disk full: %s", sqlite3_errmsg(ss->db));
        return -ENOSPC;
    default:
        log_error("store: database error %d: %s", rc, sqlite3_errmsg(ss->db));
        return -EIO;
    }
}

int store_sqlite_exec(struct store_sqlite *ss, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_sqlite_errno(ss, rc);
}

int store_sqlite_exec_id(struct store_sqlite *ss, enum store_sqlite_stmt id, int64_t row_id)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, id);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, row_id);
    return store_sqlite_exec(ss, st);
}

int store_sqlite_bind_str(sqlite3_stmt *st, int idx, const char *v)
{
    return v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

int store_sqlite_rows(struct store_sqlite *ss, sqlite3_stmt *st, size_t elem_size, store_sqlite_row_fn read_row,
                      void **v, size_t *n, struct store_arena **mem)
{
    struct store_arena *a = NULL;
    void *rows = NULL;
    size_t count = 0, cap = 0;
    int rc = SQLITE_DONE, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *e = store_arena_push(&a, &rows, &count, &cap, elem_size);
        err = e ? read_row(st, e, &a) : -ENOMEM;
    }
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *v = rows;
    *n = count;
    *mem = a;
    return 0;
}

int store_sqlite_col_str(sqlite3_stmt *st, int col, struct store_arena **a, const char **dst)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    if (!v && sqlite3_column_type(st, col) != SQLITE_NULL)
        return -ENOMEM;
    return store_arena_strndup(a, (const char *)v, (size_t)sqlite3_column_bytes(st, col), dst);
}

bool store_sqlite_col_equals(sqlite3_stmt *st, int col, const char *s)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    return v && strcmp(v, s) == 0;
}

/* --- batches ------------------------------------------------------------------------------------------------- */

static int sqlite_tx(struct store_sqlite *ss, enum store_sqlite_stmt id)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, id);
    return st ? store_sqlite_exec(ss, st) : -EIO;
}

static int sqlite_dispatch(struct store_sqlite *ss, struct store_req *r)
{
    switch (r->kind) {
    case STORE_REQ_OBJECT_GET:
        return store_sqlite_object_get(ss, r);
    case STORE_REQ_OBJECT_COMMIT:
        return store_sqlite_object_commit(ss, r);
    case STORE_REQ_OBJECT_DELETE:
        return store_sqlite_object_delete(ss, r);
    case STORE_REQ_OBJECT_SET_TAGGING:
        return store_sqlite_object_set_tagging(ss, r);
    case STORE_REQ_LIST_OBJECTS:
        return store_sqlite_list_objects(ss, r);
    case STORE_REQ_UPLOAD_CREATE:
        return store_sqlite_upload_create(ss, r);
    case STORE_REQ_UPLOAD_GET:
        return store_sqlite_upload_get(ss, r);
    case STORE_REQ_PART_PUT:
        return store_sqlite_part_put(ss, r);
    case STORE_REQ_PARTS_LIST:
        return store_sqlite_parts_list(ss, r);
    case STORE_REQ_UPLOAD_COMPLETE:
        return store_sqlite_upload_complete(ss, r);
    case STORE_REQ_UPLOAD_ABORT:
        return store_sqlite_upload_abort(ss, r);
    case STORE_REQ_UPLOADS_LIST:
        return store_sqlite_uploads_list(ss, r);
    case STORE_REQ_INTENT_CREATE:
        return store_sqlite_intent_create(ss, r);
    case STORE_REQ_INTENT_DROP:
        return store_sqlite_intent_drop(ss, r);
    case STORE_REQ_INTENTS_OLDER:
        return store_sqlite_intents_older(ss, r);
    case STORE_REQ_CLEANUP_ADD:
        return store_sqlite_cleanup_add(ss, r);
    case STORE_REQ_CLEANUP_DUE:
        return store_sqlite_cleanup_due(ss, r);
    case STORE_REQ_CLEANUP_DONE:
        return store_sqlite_cleanup_done(ss, r);
    case STORE_REQ_CLEANUP_RETRY:
        return store_sqlite_cleanup_retry(ss, r);
    case STORE_REQ_CLEANUP_DONE_MANY:
        return store_sqlite_cleanup_done_many(ss, r);
    case STORE_REQ_BUCKET_CREATE:
        return store_sqlite_bucket_create(ss, r);
    case STORE_REQ_BUCKET_DELETE:
        return store_sqlite_bucket_delete(ss, r);
    case STORE_REQ_BUCKET_GET:
        return store_sqlite_bucket_get(ss, r);
    case STORE_REQ_BUCKET_LIST:
        return store_sqlite_bucket_list(ss, r);
    case STORE_REQ_BACKEND_USAGE:
        return store_sqlite_backend_usage(ss, r);
    case STORE_REQ_USAGE_ADD:
        return store_sqlite_usage_add(ss, r);
    case STORE_REQ_BACKEND_STATE_SET:
        return store_sqlite_backend_state_set(ss, r);
    case STORE_REQ_BACKEND_STATES:
        return store_sqlite_backend_states(ss, r);
    case STORE_REQ_JOB_LOCK:
        return store_sqlite_job_lock(ss, r);
    case STORE_REQ_JOB_UNLOCK:
        return store_sqlite_job_unlock(ss, r);
    }
    return -EINVAL;
}

/* Takes back what a request that had succeeded returned, once its transaction was lost: it owns nothing then. */
static void sqlite_req_discard(struct store_req *r, int err)
{
    switch (r->kind) {
    case STORE_REQ_OBJECT_GET:
        store_object_free(r->u.object_get.out);
        break;
    case STORE_REQ_OBJECT_COMMIT:
        store_cleanup_list_free(r->u.object_commit.displaced);
        break;
    case STORE_REQ_OBJECT_DELETE:
        store_cleanup_list_free(r->u.object_delete.displaced);
        break;
    case STORE_REQ_LIST_OBJECTS:
        store_list_free(r->u.list.out);
        break;
    case STORE_REQ_UPLOAD_GET:
        store_upload_free(r->u.upload.out);
        break;
    case STORE_REQ_PARTS_LIST:
        store_part_list_free(r->u.parts_list.out);
        break;
    case STORE_REQ_UPLOAD_COMPLETE:
        store_cleanup_list_free(r->u.upload_complete.displaced);
        break;
    case STORE_REQ_UPLOADS_LIST:
        store_upload_list_free(r->u.uploads_list.out);
        break;
    case STORE_REQ_INTENT_CREATE:
        *r->u.intent_create.id = 0;
        break;
    case STORE_REQ_INTENT_DROP:
        *r->u.intent_drop.cleanup_id = 0;
        break;
    case STORE_REQ_INTENTS_OLDER:
        store_intent_list_free(r->u.intents_older.out);
        break;
    case STORE_REQ_CLEANUP_ADD:
        *r->u.cleanup_add.id = 0;
        break;
    case STORE_REQ_CLEANUP_DUE:
        store_cleanup_list_free(r->u.cleanup_due.out);
        break;
    case STORE_REQ_BUCKET_GET:
        memset(r->u.bucket.out, 0, sizeof(*r->u.bucket.out));
        break;
    case STORE_REQ_BUCKET_LIST:
        store_bucket_list_free(r->u.bucket_list.out);
        break;
    case STORE_REQ_BACKEND_USAGE:
        store_backend_usage_list_free(r->u.backend_usage.out);
        break;
    case STORE_REQ_USAGE_ADD:
        store_usage_list_free(r->u.usage_add.totals);
        break;
    case STORE_REQ_BACKEND_STATES:
        store_backend_state_list_free(r->u.backend_states.out);
        break;
    default:
        break;
    }
    r->res = err;
}

/* One request inside the batch's transaction; a write gets a savepoint so its failure undoes only itself. */
static int sqlite_run_one(struct store_sqlite *ss, struct store_req *r)
{
    if (store_req_is_read(r))
        return sqlite_dispatch(ss, r);
    int err = sqlite_tx(ss, STMT_SAVEPOINT);
    if (err < 0)
        return err;
    int res = sqlite_dispatch(ss, r);
    if (sqlite3_get_autocommit(ss->db))
        return res; /* the whole transaction is gone; sqlite_run_batch sorts it out */
    if (res < 0)
        sqlite_tx(ss, STMT_ROLLBACK_TO);
    sqlite_tx(ss, STMT_RELEASE);
    return res;
}

static void sqlite_run_batch(struct store_sqlite *ss, struct store_req **reqs, size_t n)
{
    bool writes = false;
    for (size_t i = 0; i < n; i++)
        writes |= !store_req_is_read(reqs[i]);

    size_t first = 0; /* first request of the open transaction */
    int err = sqlite_tx(ss, writes ? STMT_BEGIN_IMMEDIATE : STMT_BEGIN);
    for (size_t i = 0; i < n; i++) {
        struct store_req *r = reqs[i];
        if (err < 0) {
            r->res = err;
            continue;
        }
        r->res = sqlite_run_one(ss, r);
        if (sqlite3_get_autocommit(ss->db)) {
            /* A hard error (I/O, disk full) made SQLite roll back the whole transaction, undoing what the
             * requests before this one did: they fail too, and the rest get a fresh transaction. */
            int lost = r->res < 0 ? r->res : -EIO;
            for (size_t j = first; j <= i; j++)
                if (reqs[j]->res >= 0)
                    sqlite_req_discard(reqs[j], lost);
            first = i + 1;
            if (first < n)
                err = sqlite_tx(ss, writes ? STMT_BEGIN_IMMEDIATE : STMT_BEGIN);
        }
    }

    bool committed = false;
    if (!sqlite3_get_autocommit(ss->db)) {
        err = sqlite_tx(ss, STMT_COMMIT);
        if (err < 0) {
            sqlite_tx(ss, STMT_ROLLBACK);
            /* Reads fail too: they may have seen writes of this batch that are now undone. */
            for (size_t j = first; j < n; j++)
                if (reqs[j]->res >= 0)
                    sqlite_req_discard(reqs[j], err);
        } else {
            committed = writes;
        }
    }
    store_stats_note_batch(&ss->base, n, committed);
}

static void *sqlite_thread(void *arg)
{
    struct store_sqlite *ss = arg;
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&ss->lock);
        while (!ss->head && !ss->stop)
            pthread_cond_wait(&ss->cond, &ss->lock);
        /* Everything queued while the previous batch ran goes into this one. */
        while (ss->head && n < ss->max_batch) {
            ss->batch[n++] = ss->head;
            ss->head = ss->head->next;
        }
        if (!ss->head)
            ss->tail = NULL;
        pthread_mutex_unlock(&ss->lock);
        if (n == 0)
            break; /* stopping, and the queue is empty */
        sqlite_run_batch(ss, ss->batch, n);
        store_req_complete(&ss->base, ss->batch, n);
    }
    return NULL;
}

static void sqlite_wake(void *arg)
{
    struct store_sqlite *ss = arg;
    pthread_cond_signal(&ss->cond);
}

static void sqlite_execute(struct store *s, struct store_req *req)
{
    struct store_sqlite *ss = (struct store_sqlite *)s;
    pthread_mutex_lock(&ss->lock);
    /* The store thread only sleeps on an empty queue, so only the push that fills it needs to wake it. */
    bool wake = !ss->head;
    if (ss->tail)
        ss->tail->next = req;
    else
        ss->head = req;
    ss->tail = req;
    pthread_mutex_unlock(&ss->lock);
    /* Signalled after the unlock, and from a coroutine only once its round is over: a store thread woken at once
     * on the caller's core preempts it, then blocks on the lock the caller holds, and the other coroutines of the
     * round queue their requests one wake-up each instead of into one batch. */
    if (wake) {
        req->wake = (struct coro_round_end){.fn = sqlite_wake, .arg = ss};
        coro_at_round_end(&req->wake);
    }
    store_req_wait(s, req);
}

/* --- open and close ------------------------------------------------------------------------------------------ */

static void sqlite_free(struct store_sqlite *ss, bool thread_started)
{
    if (thread_started) {
        pthread_mutex_lock(&ss->lock);
        ss->stop = true;
        pthread_cond_signal(&ss->cond);
        pthread_mutex_unlock(&ss->lock);
        pthread_join(ss->thread, NULL);
    }
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(ss->stmts[i]);
    sqlite3_close(ss->db);
    for (int j = 0; j < STORE_JOB_COUNT; j++)
        if (ss->job_fd[j] >= 0)
            close(ss->job_fd[j]);
    free(ss->path);
    free(ss->batch);
    pthread_cond_destroy(&ss->cond);
    pthread_mutex_destroy(&ss->lock);
    store_base_destroy(&ss->base);
    free(ss);
}

static void sqlite_close(struct store *s) { sqlite_free((struct store_sqlite *)s, true); }

static const struct store_ops sqlite_ops = {
    .kind = "sqlite",
    .execute = sqlite_execute,
    .close = sqlite_close,
};

/* Runs a pragma and checks the first column of its answer (journal_mode answers with the mode it got). */
static int sqlite_pragma(sqlite3 *db, const char *path, const char *sql, const char *want)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("store: %s: %s: %s", path, sql, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int err = 0;
    if (want && (!got || strcmp(got, want) != 0)) {
        log_error("store: %s: \"%s\" answered \"%s\"", path, sql, got ? got : "");
        err = -ENOTSUP;
    }
    sqlite3_finalize(st);
    return err;
}

/* SQLite's memory statistics take a global mutex on every allocation, and a statement allocates several times:
 * nothing here reads them. Settable only before SQLite initialises; later (another store was opened first) the
 * call fails harmlessly and changes nothing. */
static void sqlite_global_setup(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static int sqlite_configure(struct store_sqlite *ss, const struct store_sqlite_config *cfg)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_global_setup);
    int rc = sqlite3_open_v2(cfg->path, &ss->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        log_error("store: cannot open %s: %s", cfg->path, ss->db ? sqlite3_errmsg(ss->db) : sqlite3_errstr(rc));
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    sqlite3_extended_result_codes(ss->db, 1);
    sqlite3_busy_timeout(ss->db, cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : 5000);
    /* WAL: readers never block the writer, and with synchronous=NORMAL a commit does not wait for fsync. */
    int err = sqlite_pragma(ss->db, cfg->path, "PRAGMA journal_mode = WAL", "wal");
    if (!err)
        err = sqlite_pragma(ss->db, cfg->path,
                            cfg->sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL);
    if (!err)
        err = sqlite_pragma(ss->db, cfg->path, "PRAGMA foreign_keys = ON", NULL);
    if (!err)
        err = store_sqlite_schema_migrate(ss->db, cfg->path);
    return err;
}

int store_sqlite_open(struct store **out, const struct store_sqlite_config *cfg)
{
    *out = NULL;
    if (!cfg || !cfg->path || !cfg->path[0])
        return -EINVAL;
    struct store_sqlite *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return -ENOMEM;
    int err = store_base_init(&ss->base, &sqlite_ops);
    if (err < 0) {
        free(ss);
        return err;
    }
    pthread_mutex_init(&ss->lock, NULL);
    pthread_cond_init(&ss->cond, NULL);
    for (int j = 0; j < STORE_JOB_COUNT; j++)
        ss->job_fd[j] = -1;
    ss->path = strdup(cfg->path);
    ss->max_batch = cfg->max_batch ? cfg->max_batch : 1024;
    ss->batch = calloc(ss->max_batch, sizeof(*ss->batch));
    err = ss->batch && ss->path ? sqlite_configure(ss, cfg) : -ENOMEM;
    if (!err) {
        /* The connection moves to the store thread here and is used by it alone from now on. */
        err = -pthread_create(&ss->thread, NULL, sqlite_thread, ss);
        if (!err)
            pthread_setname_np(ss->thread, "s3orch-store");
    }
    if (err < 0) {
        sqlite_free(ss, false);
        return err;
    }
    *out = &ss->base;
    return 0;
}
