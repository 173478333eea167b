/* Multipart uploads (S9) in the SQLite store: the upload rows, their parts, Complete (which commits the object
 * as store_object_commit does), Abort, and the uploads listing. */
#include <errno.h>
#include <string.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

/* --- uploads ---------------------------------------------------------------------------------------------------- */

int store_sqlite_upload_create(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_upload *up = req->u.upload_create.up;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_UPLOAD_INSERT);
    if (!st)
        return -EIO;
    /* UPLOAD_COLUMNS order. Binding copies nothing but the metadata, so only that can fail: OR the codes. */
    const char *strs[] = {up->id, up->owner, up->backend, up->backend_key, up->backend_upload_id};
    int rc = SQLITE_OK;
    for (int i = 0; i < (int)(sizeof(strs) / sizeof(strs[0])); i++)
        rc |= store_sqlite_bind_str(st, 1 + i, strs[i]);
    rc |= sqlite3_bind_int64(st, 6, store_now_ms()) | store_sqlite_bind_str(st, 7, up->obj.bucket) |
          store_sqlite_bind_str(st, 8, up->obj.key) | store_sqlite_bind_str(st, 9, up->obj.checksum_algorithm) |
          store_sqlite_bind_str(st, 10, up->obj.checksum_type) | store_sqlite_bind_headers(st, 11, &up->obj);
    if (rc != SQLITE_OK) {
        store_sqlite_reset(st);
        return store_sqlite_errno(ss, rc);
    }
    int err = store_sqlite_exec(ss, st);
    return err ? err : sqlite3_changes(ss->db) ? 0 : -EEXIST;
}

/* Reads an UPLOAD_COLUMNS row; every string goes into the arena. */
static int upload_read_row(sqlite3_stmt *st, struct store_arena **a, struct store_upload *up)
{
    /* bucket and key first: a log line about malformed metadata names them. */
    int err = store_sqlite_col_str(st, 6, a, &up->obj.bucket);
    if (!err)
        err = store_sqlite_col_str(st, 7, a, &up->obj.key);
    const char **strs[] = {&up->id, &up->owner, &up->backend, &up->backend_key, &up->backend_upload_id};
    for (int i = 0; !err && i < (int)(sizeof(strs) / sizeof(strs[0])); i++)
        err = store_sqlite_col_str(st, i, a, strs[i]);
    up->created_ms = sqlite3_column_int64(st, 5);
    if (!err)
        err = store_sqlite_col_str(st, 8, a, &up->obj.checksum_algorithm);
    if (!err)
        err = store_sqlite_col_str(st, 9, a, &up->obj.checksum_type);
    if (!err)
        err = store_sqlite_col_headers(st, 10, a, &up->obj);
    return err;
}

int store_sqlite_upload_get(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_UPLOAD_GET);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.upload.id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_sqlite_reset(st);
        return rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(ss, rc);
    }
    struct store_upload *up = req->u.upload.out;
    struct store_arena *a = NULL;
    int err = upload_read_row(st, &a, up);
    store_sqlite_reset(st);
    if (err < 0) {
        store_arena_free(a);
        memset(up, 0, sizeof(*up));
        return err;
    }
    up->mem = a;
    return 0;
}

/* Deletes the upload and its parts; obj, when given, must name the upload's bucket and key. */
static int upload_take(struct store_sqlite *ss, const char *id, const struct store_object *obj)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_UPLOAD_TAKE);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_DONE)
        err = -ENOENT;
    else if (rc != SQLITE_ROW)
        err = store_sqlite_errno(ss, rc);
    else if (obj && (!store_sqlite_col_equals(st, 0, obj->bucket) || !store_sqlite_col_equals(st, 1, obj->key)))
        err = -EINVAL; /* the savepoint's rollback brings the upload back */
    store_sqlite_reset(st);
    return err;
}

int store_sqlite_upload_complete(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_object *obj = req->u.upload_complete.obj;
    int err = upload_take(ss, req->u.upload_complete.upload_id, obj);
    return err ? err : store_sqlite_commit(ss, 0, obj, NULL, req->u.upload_complete.displaced);
}

int store_sqlite_upload_abort(struct store_sqlite *ss, struct store_req *req)
{
    return upload_take(ss, req->u.upload.id, NULL);
}

/* --- parts ------------------------------------------------------------------------------------------------------ */

int store_sqlite_part_put(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_part *p = req->u.part_put.p;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_PART_PUT);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.part_put.upload_id);
    sqlite3_bind_int(st, 2, p->number);
    sqlite3_bind_int64(st, 3, p->size);
    store_sqlite_bind_str(st, 4, p->etag);
    store_sqlite_bind_str(st, 5, p->checksum_value);
    store_sqlite_bind_str(st, 6, p->backend_etag);
    sqlite3_bind_int64(st, 7, store_now_ms());
    int err = store_sqlite_exec(ss, st);
    return err ? err : sqlite3_changes(ss->db) ? 0 : -ENOENT;
}

static int upload_exists(struct store_sqlite *ss, const char *id)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_UPLOAD_EXISTS);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, id);
    int rc = sqlite3_step(st);
    store_sqlite_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(ss, rc);
}

int store_sqlite_parts_list(struct store_sqlite *ss, struct store_req *req)
{
    int err = upload_exists(ss, req->u.parts_list.upload_id);
    if (err < 0)
        return err;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_PARTS_LIST);
    if (!st)
        return -EIO;
    size_t max = req->u.parts_list.max;
    store_sqlite_bind_str(st, 1, req->u.parts_list.upload_id);
    sqlite3_bind_int(st, 2, req->u.parts_list.after_number);
    sqlite3_bind_int64(st, 3, (int64_t)max + 1); /* one more tells whether the list is truncated */
    struct store_arena *a = NULL;
    void *v = NULL;
    size_t n = 0, cap = 0;
    bool truncated = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == max) {
            truncated = true;
            break;
        }
        struct store_part *p = store_arena_push(&a, &v, &n, &cap, sizeof(*p));
        if (!p) {
            err = -ENOMEM;
            break;
        }
        p->number = sqlite3_column_int(st, 0);
        p->size = sqlite3_column_int64(st, 1);
        err = store_sqlite_col_str(st, 2, &a, &p->etag);
        if (!err)
            err = store_sqlite_col_str(st, 3, &a, &p->checksum_value);
        if (!err)
            err = store_sqlite_col_str(st, 4, &a, &p->backend_etag);
        p->modified_ms = sqlite3_column_int64(st, 5);
        if (err < 0)
            break;
    }
    if (!err && rc != SQLITE_DONE && rc != SQLITE_ROW)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    struct store_part_list *out = req->u.parts_list.out;
    out->v = v;
    out->n = n;
    out->truncated = truncated;
    out->mem = a;
    return 0;
}

/* --- listing ---------------------------------------------------------------------------------------------------- */

/* The listing being built. */
struct uploads_builder {
    struct store_arena *mem;
    void *v, *prefixes;
    size_t n, cap, n_prefixes, cap_prefixes;
    const char *last_key, *last_id; /* last_id NULL when the last thing added was a prefix */
};

/* Where a listing with an upload_id_marker resumes inside key_marker: after that upload in (created_ms, id)
 * order. found is false when the marker upload is gone (completed or aborted since the previous page). */
static int uploads_marker_position(struct store_sqlite *ss, const struct store_upload_query *q, bool *found,
                                   int64_t *created_ms)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_UPLOAD_POSITION);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, q->upload_id_marker);
    store_sqlite_bind_str(st, 2, q->bucket);
    store_sqlite_bind_str(st, 3, q->key_marker);
    int rc = sqlite3_step(st), err = 0;
    *found = rc == SQLITE_ROW;
    if (*found)
        *created_ms = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    return err;
}

/* Whether the row (an upload of key_marker) is at or before the marker upload, so the previous page had it. */
static bool uploads_before_marker(sqlite3_stmt *st, const struct store_upload_query *q, int64_t marker_ms)
{
    int64_t created_ms = sqlite3_column_int64(st, 5);
    if (created_ms != marker_ms)
        return created_ms < marker_ms;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    return id && strcmp(id, q->upload_id_marker) <= 0; /* strcmp is byte order, as the index's BINARY */
}

/* Groups uploads as store_sqlite_list_objects() groups keys: each common prefix once, then a seek past it. */
int store_sqlite_uploads_list(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_upload_query *q = req->u.uploads_list.q;
    const size_t plen = strlen(q->prefix), dlen = strlen(q->delimiter), mlen = strlen(q->key_marker);
    struct uploads_builder b = {0};
    struct store_sqlite_cursor cur;
    size_t emitted = 0;
    uint64_t rows = 0;
    bool truncated = false, marker_found = false;
    int64_t marker_ms = 0;

    int err = q->upload_id_marker[0] ? uploads_marker_position(ss, q, &marker_found, &marker_ms) : 0;
    if (err < 0)
        return err;
    store_sqlite_cursor_start(&cur, q->prefix, q->key_marker);
    /* With an upload_id_marker the uploads of key_marker after it are still due. When the marker upload is gone
     * its place is unknown: all of key_marker's uploads come again, as repeating beats skipping. */
    if (q->upload_id_marker[0])
        cur.inclusive = true;
    sqlite3_stmt *st = store_sqlite_cursor_seek(ss, &cur, STMT_UPLOADS_GT, STMT_UPLOADS_GE, q->bucket);
    if (!st)
        return -EIO;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE)
                err = store_sqlite_errno(ss, rc);
            break;
        }
        rows++;
        const char *key = (const char *)sqlite3_column_text(st, 7);
        size_t klen = (size_t)sqlite3_column_bytes(st, 7);
        if (!key) {
            err = -ENOMEM;
            break;
        }
        if (klen < plen || memcmp(key, q->prefix, plen) != 0)
            break; /* past the prefix */
        const char *d = dlen ? memmem(key + plen, klen - plen, q->delimiter, dlen) : NULL;
        if (!d) {
            if (marker_found && klen == mlen && memcmp(key, q->key_marker, mlen) == 0 &&
                uploads_before_marker(st, q, marker_ms))
                continue;
            if (emitted == q->max_uploads) {
                truncated = true;
                break;
            }
            struct store_upload *up = store_arena_push(&b.mem, &b.v, &b.n, &b.cap, sizeof(*up));
            if (!up || (err = upload_read_row(st, &b.mem, up)) < 0) {
                err = up ? err : -ENOMEM;
                break;
            }
            b.last_key = up->obj.key;
            b.last_id = up->id;
            emitted++;
            continue;
        }
        /* A common prefix, emitted unless key_marker is inside it (it was returned already), then skipped. */
        size_t glen = (size_t)(d - key) + dlen;
        if (glen > STORE_KEY_MAX) {
            log_error("store: upload key longer than %d bytes in bucket %s", STORE_KEY_MAX, q->bucket);
            err = -EIO;
            break;
        }
        if (store_sqlite_bytes_cmp(key, glen, q->key_marker, mlen) > 0) {
            if (emitted == q->max_uploads) {
                truncated = true;
                break;
            }
            const char **p = store_arena_push(&b.mem, &b.prefixes, &b.n_prefixes, &b.cap_prefixes, sizeof(*p));
            if (!p || store_arena_strndup(&b.mem, key, glen, p) < 0) {
                err = -ENOMEM;
                break;
            }
            b.last_key = *p;
            b.last_id = NULL;
            emitted++;
        }
        /* key points into the statement's row: move past its group before the reset invalidates it. */
        bool more = store_sqlite_cursor_skip(&cur, key, glen);
        store_sqlite_reset(st);
        if (!more)
            break;
        if (!(st = store_sqlite_cursor_seek(ss, &cur, STMT_UPLOADS_GT, STMT_UPLOADS_GE, q->bucket))) {
            err = -EIO;
            break;
        }
    }
    store_sqlite_reset(st);
    atomic_fetch_add(&ss->base.list_rows, rows);

    if (err < 0) {
        store_arena_free(b.mem);
        return err;
    }
    struct store_upload_list *out = req->u.uploads_list.out;
    out->v = b.v;
    out->n = b.n;
    out->prefixes = b.prefixes;
    out->n_prefixes = b.n_prefixes;
    out->truncated = truncated;
    out->next_key_marker = truncated ? b.last_key : NULL;
    out->next_upload_id_marker = truncated ? b.last_id : NULL;
    out->mem = b.mem;
    return 0;
}
