/* Multipart uploads (S9) in the PostgreSQL store: the upload rows, their parts, Complete (s3orch_commit() with the
 * upload consumed in its transaction) and Abort. The uploads listing is in postgres_list.c. */
#include <errno.h>
#include <string.h>

#include "store/postgres_impl.h"

int store_pg_upload_create(struct store_pg_call *k, struct store_req *req)
{
    const struct store_upload *up = req->u.upload_create.up;
    const char *strs[] = {up->id, up->owner, up->backend, up->backend_key, up->backend_upload_id};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        store_pg_param_str(k, strs[i]);
    store_pg_param_int(k, store_now_ms());
    store_pg_param_str(k, up->obj.bucket);
    store_pg_param_str(k, up->obj.key);
    store_pg_param_str(k, up->obj.checksum_algorithm);
    store_pg_param_str(k, up->obj.checksum_type);
    store_pg_param_headers(k, &up->obj);
    PGresult *r;
    int err = store_pg_exec(k, PG_UPLOAD_INSERT, &r);
    return err ? err : store_pg_changed(r) ? 0 : -EEXIST;
}

int store_pg_upload_read(const PGresult *r, int row, struct store_arena **a, struct store_upload *up)
{
    /* bucket and key first: a log line about malformed metadata names them. */
    int err = store_pg_col_str(r, row, 6, a, &up->obj.bucket);
    if (!err)
        err = store_pg_col_str(r, row, 7, a, &up->obj.key);
    const char **strs[] = {&up->id, &up->owner, &up->backend, &up->backend_key, &up->backend_upload_id};
    for (int i = 0; !err && i < (int)(sizeof(strs) / sizeof(strs[0])); i++)
        err = store_pg_col_str(r, row, i, a, strs[i]);
    up->created_ms = store_pg_col_int(r, row, 5);
    if (!err)
        err = store_pg_col_str(r, row, 8, a, &up->obj.checksum_algorithm);
    if (!err)
        err = store_pg_col_str(r, row, 9, a, &up->obj.checksum_type);
    if (!err)
        err = store_pg_col_headers(r, row, 10, a, &up->obj);
    return err;
}

int store_pg_upload_get(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.upload.id);
    PGresult *r;
    int err = store_pg_exec(k, PG_UPLOAD_GET, &r);
    if (err < 0)
        return err;
    struct store_upload *up = req->u.upload.out;
    struct store_arena *a = NULL;
    err = PQntuples(r) == 0 ? -ENOENT : store_pg_upload_read(r, 0, &a, up);
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        memset(up, 0, sizeof(*up));
        return err;
    }
    up->mem = a;
    return 0;
}

int store_pg_upload_complete(struct store_pg_call *k, struct store_req *req)
{
    return store_pg_commit(k, 0, req->u.upload_complete.upload_id, req->u.upload_complete.obj, NULL,
                           req->u.upload_complete.displaced);
}

int store_pg_upload_abort(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.upload.id);
    PGresult *r;
    int err = store_pg_exec(k, PG_UPLOAD_ABORT, &r);
    return err ? err : store_pg_changed(r) ? 0 : -ENOENT;
}

int store_pg_part_put(struct store_pg_call *k, struct store_req *req)
{
    const struct store_part *p = req->u.part_put.p;
    store_pg_param_str(k, req->u.part_put.upload_id);
    store_pg_param_int(k, p->number);
    store_pg_param_int(k, p->size);
    store_pg_param_str(k, p->etag);
    store_pg_param_str(k, p->checksum_value);
    store_pg_param_str(k, p->backend_etag);
    store_pg_param_int(k, store_now_ms());
    PGresult *r;
    int err = store_pg_exec(k, PG_PART_PUT, &r);
    return err ? err : store_pg_changed(r) ? 0 : -ENOENT;
}

int store_pg_parts_list(struct store_pg_call *k, struct store_req *req)
{
    size_t max = req->u.parts_list.max;
    store_pg_param_str(k, req->u.parts_list.upload_id);
    store_pg_param_int(k, req->u.parts_list.after_number);
    store_pg_param_int(k, (int64_t)max + 1); /* one more tells whether the list is truncated */
    PGresult *r;
    int err = store_pg_exec(k, PG_PARTS_LIST, &r);
    if (err < 0)
        return err;
    int rows = PQntuples(r);
    if (rows == 0) {
        PQclear(r);
        return -ENOENT;
    }
    if (PQgetisnull(r, 0, 0))
        rows = 0; /* the upload has no parts after after_number */
    size_t n = (size_t)rows < max ? (size_t)rows : max;
    struct store_arena *a = NULL;
    struct store_part *v = n ? store_arena_alloc(&a, n * sizeof(*v)) : NULL;
    if (n && !v)
        err = -ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        struct store_part *p = &v[i];
        p->number = (int)store_pg_col_int(r, (int)i, 0);
        p->size = store_pg_col_int(r, (int)i, 1);
        err = store_pg_col_str(r, (int)i, 2, &a, &p->etag);
        if (!err)
            err = store_pg_col_str(r, (int)i, 3, &a, &p->checksum_value);
        if (!err)
            err = store_pg_col_str(r, (int)i, 4, &a, &p->backend_etag);
        p->modified_ms = store_pg_col_int(r, (int)i, 5);
    }
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    struct store_part_list *out = req->u.parts_list.out;
    out->v = v;
    out->n = n;
    out->truncated = (size_t)rows > max;
    out->mem = a;
    return 0;
}
