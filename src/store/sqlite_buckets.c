/* Buckets created through the API (S13) in the SQLite store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_impl.h"

static void bucket_read_row(sqlite3_stmt *st, struct store_bucket *b)
{
    /* Lengths were checked on the way in; snprintf keeps a row written by other means from overflowing. */
    const unsigned char *name = sqlite3_column_text(st, 0), *owner = sqlite3_column_text(st, 1);
    snprintf(b->name, sizeof(b->name), "%s", name ? (const char *)name : "");
    snprintf(b->owner, sizeof(b->owner), "%s", owner ? (const char *)owner : "");
    b->created_ms = sqlite3_column_int64(st, 2);
}

int store_sqlite_bucket_create(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BUCKET_INSERT);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.bucket_create.name);
    store_sqlite_bind_str(st, 2, req->u.bucket_create.owner);
    sqlite3_bind_int64(st, 3, store_now_ms());
    int err = store_sqlite_exec(ss, st);
    return err ? err : sqlite3_changes(ss->db) ? 0 : -EEXIST;
}

int store_sqlite_bucket_get(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BUCKET_GET);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.bucket.name);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW)
        bucket_read_row(st, req->u.bucket.out);
    else
        err = rc == SQLITE_DONE ? -ENOENT : store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    return err;
}

int store_sqlite_bucket_delete(struct store_sqlite *ss, struct store_req *req)
{
    struct store_bucket b;
    struct store_req get = {.kind = STORE_REQ_BUCKET_GET, .u.bucket = {req->u.bucket.name, &b}};
    int err = store_sqlite_bucket_get(ss, &get);
    if (err < 0)
        return err;
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BUCKET_USED);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.bucket.name);
    int rc = sqlite3_step(st);
    bool used = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    store_sqlite_reset(st);
    if (rc != SQLITE_ROW)
        return store_sqlite_errno(ss, rc);
    if (used)
        return -ENOTEMPTY;
    if (!(st = store_sqlite_stmt(ss, STMT_BUCKET_DELETE)))
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.bucket.name);
    return store_sqlite_exec(ss, st);
}

static int bucket_row(sqlite3_stmt *st, void *elem, struct store_arena **a)
{
    (void)a;
    bucket_read_row(st, elem);
    return 0;
}

int store_sqlite_bucket_list(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BUCKET_LIST);
    struct store_bucket_list *out = req->u.bucket_list.out;
    return st ? store_sqlite_rows(ss, st, sizeof(*out->v), bucket_row, (void **)&out->v, &out->n, &out->mem) : -EIO;
}
