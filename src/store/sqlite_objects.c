/* Objects in the SQLite store: get, commit (last writer wins, displaced copies queued), delete, tagging. */
#include <errno.h>
#include <string.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

/* --- get ------------------------------------------------------------------------------------------------------ */

static int object_read_row(sqlite3_stmt *st, struct store_arena **a, struct store_object *o)
{
    /* Columns: id, then OBJECT_COLUMNS (bucket and key are known already). */
    o->size = sqlite3_column_int64(st, 3);
    const char **strs[] = {&o->etag, &o->checksum_algorithm, &o->checksum_value, &o->checksum_type};
    int err = 0;
    for (size_t i = 0; !err && i < sizeof(strs) / sizeof(strs[0]); i++)
        err = store_sqlite_col_str(st, 4 + (int)i, a, strs[i]);
    if (!err)
        err = store_sqlite_col_headers(st, 8, a, o);
    o->created_ms = sqlite3_column_int64(st, 8 + STORE_SQLITE_HEADERS);
    o->modified_ms = sqlite3_column_int64(st, 9 + STORE_SQLITE_HEADERS);
    if (!err)
        err = store_sqlite_col_part_sizes(st, 10 + STORE_SQLITE_HEADERS, a, o);
    return err;
}

static int object_read_copies(struct store_sqlite *ss, int64_t id, struct store_arena **a, struct store_object *o)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_COPIES_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    void *v = NULL;
    size_t n = 0, cap = 0;
    int rc, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_copy *c = store_arena_push(a, &v, &n, &cap, sizeof(*c));
        if (!c) {
            err = -ENOMEM;
            break;
        }
        err = store_sqlite_col_str(st, 0, a, &c->backend);
        if (!err)
            err = store_sqlite_col_str(st, 1, a, &c->backend_key);
        c->size = sqlite3_column_int64(st, 2);
        c->created_ms = sqlite3_column_int64(st, 3);
    }
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    o->copies = v;
    o->n_copies = n;
    return err;
}

int store_sqlite_object_get(struct store_sqlite *ss, struct store_req *req)
{
    const char *bucket = req->u.object_get.bucket, *key = req->u.object_get.key;
    struct store_object *o = req->u.object_get.out;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_OBJECT_GET);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, bucket);
    store_sqlite_bind_str(st, 2, key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_sqlite_reset(st);
        return rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(ss, rc);
    }
    struct store_arena *a = NULL;
    int64_t id = sqlite3_column_int64(st, 0);
    int err = store_arena_strdup(&a, bucket, &o->bucket);
    if (!err)
        err = store_arena_strdup(&a, key, &o->key);
    if (!err)
        err = object_read_row(st, &a, o);
    store_sqlite_reset(st);
    if (!err)
        err = object_read_copies(ss, id, &a, o);
    if (err < 0) {
        store_arena_free(a);
        memset(o, 0, sizeof(*o));
        return err;
    }
    o->mem = a;
    return 0;
}

/* --- commit and delete ---------------------------------------------------------------------------------------- */

/* Takes the object's copy rows out (old version), their strings copied into the builder's arena. */
static int copies_take(struct store_sqlite *ss, int64_t object_id, struct store_sqlite_cleanups *b,
                       struct store_copy *old, size_t *n_old)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_COPIES_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, object_id);
    int rc, err = 0;
    *n_old = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n_old == STORE_COPIES_MAX) {
            log_error("store: object %lld has more than %d copies", (long long)object_id, STORE_COPIES_MAX);
            err = -EIO;
            break;
        }
        struct store_copy *c = &old[(*n_old)++];
        err = store_sqlite_col_str(st, 0, &b->mem, &c->backend);
        if (!err)
            err = store_sqlite_col_str(st, 1, &b->mem, &c->backend_key);
        c->size = sqlite3_column_int64(st, 2);
        c->created_ms = sqlite3_column_int64(st, 3);
    }
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    return err ? err : store_sqlite_exec_id(ss, STMT_COPIES_DELETE, object_id);
}

/* Consumes the intent: it must exist and be for this object. */
static int intent_take(struct store_sqlite *ss, int64_t id, const struct store_object *o)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_INTENT_GET);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_DONE)
        err = -EIDRM;
    else if (rc != SQLITE_ROW)
        err = store_sqlite_errno(ss, rc);
    else if (!store_sqlite_col_equals(st, 0, o->bucket) || !store_sqlite_col_equals(st, 1, o->key))
        err = -EINVAL;
    store_sqlite_reset(st);
    return err ? err : store_sqlite_exec_id(ss, STMT_INTENT_DELETE, id);
}

/* The current version's id (0 when none) and whether its ETag passes cond. */
static int object_check(struct store_sqlite *ss, const struct store_object *o, const struct store_cond *cond,
                        int64_t *id)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_OBJECT_FIND);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, o->bucket);
    store_sqlite_bind_str(st, 2, o->key);
    int rc = sqlite3_step(st), err = 0;
    *id = 0;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        if (cond && cond->if_none_match)
            err = -EEXIST;
        else if (cond && cond->if_match && !store_sqlite_col_equals(st, 1, cond->if_match))
            err = -ESTALE;
    } else if (rc == SQLITE_DONE) {
        if (cond && cond->if_match)
            err = -ENOENT;
    } else {
        err = store_sqlite_errno(ss, rc);
    }
    store_sqlite_reset(st);
    return err;
}

/* *id: the current version's row (object_check's), which the upsert updates; 0 when there is none, and then the
 * row inserted. */
static int object_upsert(struct store_sqlite *ss, const struct store_object *o, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_OBJECT_UPSERT);
    if (!st)
        return -EIO;
    const char *strs[] = {o->etag, o->checksum_algorithm, o->checksum_value, o->checksum_type};
    /* Binding copies nothing (SQLITE_STATIC) and so cannot fail on a well-formed statement: OR the codes. */
    int rc = store_sqlite_bind_str(st, 1, o->bucket) | store_sqlite_bind_str(st, 2, o->key) |
             sqlite3_bind_int64(st, 3, o->size);
    for (int i = 0; i < (int)(sizeof(strs) / sizeof(strs[0])); i++)
        rc |= store_sqlite_bind_str(st, 4 + i, strs[i]);
    rc |= store_sqlite_bind_headers(st, 8, o) |
          sqlite3_bind_int64(st, 8 + STORE_SQLITE_HEADERS, o->modified_ms ? o->modified_ms : now);
    /* The part sizes can fail as well (out of memory): bound apart, so the two codes are not mixed. */
    if (rc == SQLITE_OK)
        rc = store_sqlite_bind_part_sizes(st, 9 + STORE_SQLITE_HEADERS, o);
    int err = rc != SQLITE_OK ? store_sqlite_errno(ss, rc) : 0;
    if (err) {
        store_sqlite_reset(st);
        return err;
    }
    err = store_sqlite_exec(ss, st);
    if (!err && !*id)
        *id = sqlite3_last_insert_rowid(ss->db);
    return err;
}

/* Inserts the new copies and takes their backend keys off the cleanup queue: they are live again. */
static int copies_insert(struct store_sqlite *ss, int64_t object_id, const struct store_object *o, int64_t now)
{
    for (size_t i = 0; i < o->n_copies; i++) {
        const struct store_copy *c = &o->copies[i];
        sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_COPY_INSERT);
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, object_id);
        store_sqlite_bind_str(st, 2, c->backend);
        store_sqlite_bind_str(st, 3, c->backend_key);
        sqlite3_bind_int64(st, 4, c->size);
        sqlite3_bind_int64(st, 5, c->created_ms ? c->created_ms : now);
        int err = store_sqlite_exec(ss, st);
        if (err < 0)
            return err;
        if (!(st = store_sqlite_stmt(ss, STMT_CLEANUP_FORGET)))
            return -EIO;
        store_sqlite_bind_str(st, 1, c->backend);
        store_sqlite_bind_str(st, 2, c->backend_key);
        if ((err = store_sqlite_exec(ss, st)) < 0)
            return err;
    }
    return 0;
}

static bool copy_reused(const struct store_copy *old, const struct store_object *o)
{
    for (size_t i = 0; i < o->n_copies; i++)
        if (strcmp(o->copies[i].backend, old->backend) == 0 && strcmp(o->copies[i].backend_key, old->backend_key) == 0)
            return true;
    return false;
}

/* Queues the old copies the new version (o, or none on delete) does not reuse. */
static int copies_displace(struct store_sqlite *ss, const struct store_copy *old, size_t n_old,
                           const struct store_object *o, const char *reason, int64_t now,
                           struct store_sqlite_cleanups *b)
{
    for (size_t i = 0; i < n_old; i++) {
        if (o && copy_reused(&old[i], o))
            continue;
        int err = store_sqlite_cleanup_queue(ss, old[i].backend, old[i].backend_key, old[i].size, reason,
                                             now + STORE_CLEANUP_GRACE_MS, b, NULL);
        if (err < 0)
            return err;
    }
    return 0;
}

int store_sqlite_commit(struct store_sqlite *ss, int64_t intent_id, const struct store_object *o,
                        const struct store_cond *cond, struct store_cleanup_list *displaced)
{
    int64_t now = store_now_ms(), id = 0;
    struct store_sqlite_cleanups b = {0};
    struct store_copy old[STORE_COPIES_MAX];
    size_t n_old = 0;

    int err = intent_id ? intent_take(ss, intent_id, o) : 0;
    if (!err)
        err = object_check(ss, o, cond, &id);
    if (!err && id)
        err = copies_take(ss, id, &b, old, &n_old);
    if (!err)
        err = object_upsert(ss, o, now, &id);
    if (!err)
        err = copies_insert(ss, id, o, now);
    if (!err)
        err = copies_displace(ss, old, n_old, o, "overwrite", now, &b);
    store_sqlite_cleanups_give(&b, err ? NULL : displaced);
    return err;
}

int store_sqlite_object_commit(struct store_sqlite *ss, struct store_req *req)
{
    return store_sqlite_commit(ss, req->u.object_commit.intent_id, req->u.object_commit.obj,
                               req->u.object_commit.cond, req->u.object_commit.displaced);
}

int store_sqlite_object_delete(struct store_sqlite *ss, struct store_req *req)
{
    struct store_object key = {.bucket = req->u.object_delete.bucket, .key = req->u.object_delete.key};
    int64_t now = store_now_ms(), id = 0;
    struct store_sqlite_cleanups b = {0};
    struct store_copy old[STORE_COPIES_MAX];
    size_t n_old = 0;

    int err = object_check(ss, &key, NULL, &id);
    if (err || !id)
        return err; /* a missing key: nothing to do, and not an error */
    err = copies_take(ss, id, &b, old, &n_old);
    if (!err) {
        sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_OBJECT_DELETE);
        if (!st)
            err = -EIO;
        else {
            sqlite3_bind_int64(st, 1, id);
            err = store_sqlite_exec(ss, st);
        }
    }
    if (!err)
        err = copies_displace(ss, old, n_old, NULL, "delete", now, &b);
    store_sqlite_cleanups_give(&b, err ? NULL : req->u.object_delete.displaced);
    return err;
}

int store_sqlite_object_set_tagging(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_OBJECT_SET_TAGGING);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.object_tagging.bucket);
    store_sqlite_bind_str(st, 2, req->u.object_tagging.key);
    store_sqlite_bind_str(st, 3, req->u.object_tagging.tagging);
    int err = store_sqlite_exec(ss, st);
    return err ? err : sqlite3_changes(ss->db) ? 0 : -ENOENT;
}
