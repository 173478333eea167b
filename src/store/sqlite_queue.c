/* PUT intents and the cleanup queue in the SQLite store. */
#include <errno.h>
#include <string.h>

#include "store/sqlite_impl.h"

/* --- cleanup queue --------------------------------------------------------------------------------------------- */

/* Reads a CLEANUP_COLUMNS row into a new element of the builder. */
static int cleanup_read_row(sqlite3_stmt *st, struct store_sqlite_cleanups *b)
{
    struct store_cleanup *c = store_arena_push(&b->mem, &b->v, &b->n, &b->cap, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->id = sqlite3_column_int64(st, 0);
    int err = store_sqlite_col_str(st, 1, &b->mem, &c->backend);
    if (!err)
        err = store_sqlite_col_str(st, 2, &b->mem, &c->backend_key);
    c->size = sqlite3_column_int64(st, 3);
    if (!err)
        err = store_sqlite_col_str(st, 4, &b->mem, &c->reason);
    c->attempts = sqlite3_column_int(st, 5);
    c->next_attempt_ms = sqlite3_column_int64(st, 6);
    c->created_ms = sqlite3_column_int64(st, 7);
    return err;
}

int store_sqlite_cleanup_queue(struct store_sqlite *ss, const char *backend, const char *backend_key, int64_t size,
                               const char *reason, int64_t next_attempt_ms, struct store_sqlite_cleanups *out,
                               int64_t *id)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_CLEANUP_QUEUE);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, backend);
    store_sqlite_bind_str(st, 2, backend_key);
    sqlite3_bind_int64(st, 3, size);
    store_sqlite_bind_str(st, 4, reason);
    sqlite3_bind_int64(st, 5, next_attempt_ms);
    sqlite3_bind_int64(st, 6, store_now_ms());
    int err = store_sqlite_exec(ss, st);
    if (err || (!id && !out))
        return err;
    /* The row as it now is (new, or the queued one updated): looked up by its unique key. */
    if (!(st = store_sqlite_stmt(ss, STMT_CLEANUP_GET)))
        return -EIO;
    store_sqlite_bind_str(st, 1, backend);
    store_sqlite_bind_str(st, 2, backend_key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        err = rc == SQLITE_DONE ? -EIO : store_sqlite_errno(ss, rc);
    else {
        if (id)
            *id = sqlite3_column_int64(st, 0);
        if (out)
            err = cleanup_read_row(st, out);
    }
    store_sqlite_reset(st);
    return err;
}

void store_sqlite_cleanups_give(struct store_sqlite_cleanups *b, struct store_cleanup_list *out)
{
    if (!out) {
        store_arena_free(b->mem);
    } else {
        out->v = b->v;
        out->n = b->n;
        out->mem = b->mem;
    }
    memset(b, 0, sizeof(*b));
}

int store_sqlite_cleanup_add(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_cleanup *in = req->u.cleanup_add.in;
    return store_sqlite_cleanup_queue(ss, in->backend, in->backend_key, in->size, in->reason, in->next_attempt_ms,
                                      NULL, req->u.cleanup_add.id);
}

int store_sqlite_cleanup_due(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_CLEANUP_DUE);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, req->u.cleanup_due.now_ms);
    sqlite3_bind_int64(st, 2, (int64_t)req->u.cleanup_due.limit);
    struct store_sqlite_cleanups b = {0};
    int rc, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = cleanup_read_row(st, &b);
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    store_sqlite_cleanups_give(&b, err ? NULL : req->u.cleanup_due.out);
    return err;
}

/* Runs a statement keyed by a cleanup row id; -ENOENT when no row changed. */
static int cleanup_update(struct store_sqlite *ss, enum store_sqlite_stmt id, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, id);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, req->u.cleanup_row.id);
    if (id == STMT_CLEANUP_RETRY)
        sqlite3_bind_int64(st, 2, req->u.cleanup_row.next_attempt_ms);
    int err = store_sqlite_exec(ss, st);
    return err ? err : sqlite3_changes(ss->db) ? 0 : -ENOENT;
}

int store_sqlite_cleanup_done(struct store_sqlite *ss, struct store_req *req)
{
    return cleanup_update(ss, STMT_CLEANUP_DONE, req);
}

int store_sqlite_cleanup_done_many(struct store_sqlite *ss, struct store_req *req)
{
    for (size_t i = 0; i < req->u.cleanup_many.n; i++) {
        int err = store_sqlite_exec_id(ss, STMT_CLEANUP_DONE, req->u.cleanup_many.ids[i]);
        if (err < 0)
            return err;
    }
    return 0;
}

int store_sqlite_cleanup_retry(struct store_sqlite *ss, struct store_req *req)
{
    return cleanup_update(ss, STMT_CLEANUP_RETRY, req);
}

/* --- intents --------------------------------------------------------------------------------------------------- */

int store_sqlite_intent_create(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_intent *in = req->u.intent_create.in;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_INTENT_INSERT);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, in->bucket);
    store_sqlite_bind_str(st, 2, in->key);
    store_sqlite_bind_str(st, 3, in->backend);
    store_sqlite_bind_str(st, 4, in->backend_key);
    sqlite3_bind_int64(st, 5, in->size);
    sqlite3_bind_int64(st, 6, store_now_ms());
    int err = store_sqlite_exec(ss, st);
    if (!err)
        *req->u.intent_create.id = sqlite3_last_insert_rowid(ss->db);
    return err;
}

int store_sqlite_intent_drop(struct store_sqlite *ss, struct store_req *req)
{
    int64_t intent_id = req->u.intent_drop.id;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_INTENT_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, intent_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_sqlite_reset(st);
        return rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(ss, rc);
    }
    if (!req->u.intent_drop.reason) {
        store_sqlite_reset(st);
        return store_sqlite_exec_id(ss, STMT_INTENT_DELETE, intent_id);
    }
    /* Copy what the cleanup row needs before the statement is reset. */
    struct store_arena *a = NULL;
    const char *backend, *backend_key;
    int64_t size = sqlite3_column_int64(st, 4);
    int err = store_sqlite_col_str(st, 2, &a, &backend);
    if (!err)
        err = store_sqlite_col_str(st, 3, &a, &backend_key);
    store_sqlite_reset(st);
    if (!err)
        err = store_sqlite_exec_id(ss, STMT_INTENT_DELETE, intent_id);
    if (!err)
        err = store_sqlite_cleanup_queue(ss, backend, backend_key, size, req->u.intent_drop.reason, store_now_ms(),
                                         NULL, req->u.intent_drop.cleanup_id);
    store_arena_free(a);
    return err;
}

static int intent_row(sqlite3_stmt *st, void *elem, struct store_arena **a)
{
    struct store_intent *in = elem;
    in->id = sqlite3_column_int64(st, 0);
    in->size = sqlite3_column_int64(st, 5);
    in->created_ms = sqlite3_column_int64(st, 6);
    const char **strs[] = {&in->bucket, &in->key, &in->backend, &in->backend_key};
    int err = 0;
    for (int i = 0; !err && i < 4; i++)
        err = store_sqlite_col_str(st, 1 + i, a, strs[i]);
    return err;
}

int store_sqlite_intents_older(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_INTENTS_OLDER);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, req->u.intents_older.before_ms);
    sqlite3_bind_int64(st, 2, (int64_t)req->u.intents_older.limit);
    struct store_intent_list *out = req->u.intents_older.out;
    return store_sqlite_rows(ss, st, sizeof(*out->v), intent_row, (void **)&out->v, &out->n, &out->mem);
}
