/* Objects in the PostgreSQL store: get, commit (s3orch_commit(): last writer wins, displaced copies queued),
 * delete, tagging. */
#include <errno.h>
#include <string.h>

#include "store/postgres_impl.h"

/* Columns of PG_OBJECT_GET. */
enum {
    COL_SIZE = 0,
    COL_ETAG = 1,   /* then checksum_algorithm, checksum_value, checksum_type */
    COL_HEADERS = 5, /* STORE_PG_HEADERS of them */
    COL_CREATED = 14,
    COL_MODIFIED = 15,
    COL_PART_SIZES = 16,
    COL_COPY = 17, /* backend, backend_key, size, created_ms: one row per copy */
};

static int object_read_copies(const PGresult *r, struct store_arena **a, struct store_object *o)
{
    int rows = PQgetisnull(r, 0, COL_COPY) ? 0 : PQntuples(r);
    if (!rows)
        return 0;
    struct store_copy *v = store_arena_alloc(a, (size_t)rows * sizeof(*v));
    if (!v)
        return -ENOMEM;
    int err = 0;
    for (int i = 0; !err && i < rows; i++) {
        err = store_pg_col_str(r, i, COL_COPY, a, &v[i].backend);
        if (!err)
            err = store_pg_col_str(r, i, COL_COPY + 1, a, &v[i].backend_key);
        v[i].size = store_pg_col_int(r, i, COL_COPY + 2);
        v[i].created_ms = store_pg_col_int(r, i, COL_COPY + 3);
    }
    o->copies = v;
    o->n_copies = (size_t)rows;
    return err;
}

static int object_read(const PGresult *r, struct store_arena **a, struct store_object *o)
{
    o->size = store_pg_col_int(r, 0, COL_SIZE);
    const char **strs[] = {&o->etag, &o->checksum_algorithm, &o->checksum_value, &o->checksum_type};
    int err = 0;
    for (int i = 0; !err && i < (int)(sizeof(strs) / sizeof(strs[0])); i++)
        err = store_pg_col_str(r, 0, COL_ETAG + i, a, strs[i]);
    if (!err)
        err = store_pg_col_headers(r, 0, COL_HEADERS, a, o);
    o->created_ms = store_pg_col_int(r, 0, COL_CREATED);
    o->modified_ms = store_pg_col_int(r, 0, COL_MODIFIED);
    if (!err)
        err = store_pg_col_part_sizes(r, 0, COL_PART_SIZES, a, o);
    if (!err)
        err = object_read_copies(r, a, o);
    return err;
}

int store_pg_object_get(struct store_pg_call *k, struct store_req *req)
{
    const char *bucket = req->u.object_get.bucket, *key = req->u.object_get.key;
    struct store_object *o = req->u.object_get.out;
    store_pg_param_str(k, bucket);
    store_pg_param_str(k, key);
    PGresult *r;
    int err = store_pg_exec(k, PG_OBJECT_GET, &r);
    if (err < 0)
        return err;
    struct store_arena *a = NULL;
    if (PQntuples(r) == 0)
        err = -ENOENT;
    if (!err)
        err = store_arena_strdup(&a, bucket, &o->bucket);
    if (!err)
        err = store_arena_strdup(&a, key, &o->key);
    if (!err)
        err = object_read(r, &a, o);
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        memset(o, 0, sizeof(*o));
        return err;
    }
    o->mem = a;
    return 0;
}

int store_pg_commit(struct store_pg_call *k, int64_t intent_id, const char *upload_id, const struct store_object *o,
                    const struct store_cond *cond, struct store_cleanup_list *displaced)
{
    int64_t now = store_now_ms();
    store_pg_param_int(k, intent_id);
    store_pg_param_str(k, upload_id);
    store_pg_param_str(k, o->bucket);
    store_pg_param_str(k, o->key);
    store_pg_param_int(k, o->size);
    store_pg_param_str(k, o->etag);
    store_pg_param_str(k, o->checksum_algorithm);
    store_pg_param_str(k, o->checksum_value);
    store_pg_param_str(k, o->checksum_type);
    store_pg_param_headers(k, o);
    store_pg_param_int(k, o->modified_ms ? o->modified_ms : now);
    store_pg_param_part_sizes(k, o);
    store_pg_param_copies(k, o);
    store_pg_param_str(k, cond ? cond->if_match : NULL);
    store_pg_param_bool(k, cond && cond->if_none_match);
    store_pg_param_int(k, now);
    store_pg_param_int(k, now + STORE_CLEANUP_GRACE_MS);
    PGresult *r;
    int err = store_pg_exec(k, PG_COMMIT, &r);
    if (err < 0)
        return err;
    err = store_pg_cleanups_read(r, displaced);
    PQclear(r);
    return err;
}

int store_pg_object_commit(struct store_pg_call *k, struct store_req *req)
{
    return store_pg_commit(k, req->u.object_commit.intent_id, NULL, req->u.object_commit.obj,
                           req->u.object_commit.cond, req->u.object_commit.displaced);
}

int store_pg_object_delete(struct store_pg_call *k, struct store_req *req)
{
    int64_t now = store_now_ms();
    store_pg_param_str(k, req->u.object_delete.bucket);
    store_pg_param_str(k, req->u.object_delete.key);
    store_pg_param_int(k, now);
    store_pg_param_int(k, now + STORE_CLEANUP_GRACE_MS);
    PGresult *r;
    int err = store_pg_exec(k, PG_OBJECT_DELETE, &r);
    if (err < 0)
        return err;
    err = store_pg_cleanups_read(r, req->u.object_delete.displaced);
    PQclear(r);
    return err;
}

int store_pg_object_set_tagging(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.object_tagging.bucket);
    store_pg_param_str(k, req->u.object_tagging.key);
    store_pg_param_str(k, req->u.object_tagging.tagging);
    PGresult *r;
    int err = store_pg_exec(k, PG_OBJECT_SET_TAGGING, &r);
    return err ? err : store_pg_changed(r) ? 0 : -ENOENT;
}
