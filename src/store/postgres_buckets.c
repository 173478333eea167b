/* Buckets created through the API (S13) in the PostgreSQL store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/postgres_impl.h"

static int bucket_read_row(const PGresult *r, int row, struct store_bucket *b)
{
    struct store_arena *a = NULL;
    const char *name, *owner;
    int err = store_pg_col_str(r, row, 0, &a, &name);
    if (!err)
        err = store_pg_col_str(r, row, 1, &a, &owner);
    /* Lengths were checked on the way in; snprintf keeps a row written by other means from overflowing. */
    if (!err) {
        snprintf(b->name, sizeof(b->name), "%s", name ? name : "");
        snprintf(b->owner, sizeof(b->owner), "%s", owner ? owner : "");
        b->created_ms = store_pg_col_int(r, row, 2);
    }
    store_arena_free(a);
    return err;
}

int store_pg_bucket_create(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.bucket_create.name);
    store_pg_param_str(k, req->u.bucket_create.owner);
    store_pg_param_int(k, store_now_ms());
    PGresult *r;
    int err = store_pg_exec(k, PG_BUCKET_INSERT, &r);
    return err ? err : store_pg_changed(r) ? 0 : -EEXIST;
}

int store_pg_bucket_get(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.bucket.name);
    PGresult *r;
    int err = store_pg_exec(k, PG_BUCKET_GET, &r);
    if (err < 0)
        return err;
    err = PQntuples(r) == 0 ? -ENOENT : bucket_read_row(r, 0, req->u.bucket.out);
    PQclear(r);
    if (err < 0)
        memset(req->u.bucket.out, 0, sizeof(*req->u.bucket.out));
    return err;
}

int store_pg_bucket_delete(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.bucket.name);
    PGresult *r;
    int err = store_pg_exec(k, PG_BUCKET_DELETE, &r);
    PQclear(r);
    return err;
}

static int bucket_row(const PGresult *r, int row, void *elem, struct store_arena **a)
{
    (void)a;
    return bucket_read_row(r, row, elem);
}

int store_pg_bucket_list(struct store_pg_call *k, struct store_req *req)
{
    PGresult *r;
    int err = store_pg_exec(k, PG_BUCKET_LIST, &r);
    if (err < 0)
        return err;
    struct store_bucket_list *out = req->u.bucket_list.out;
    err = store_pg_rows(r, sizeof(*out->v), bucket_row, (void **)&out->v, &out->n, &out->mem);
    PQclear(r);
    return err;
}
