/* What each backend holds by the PostgreSQL store's records (store_backend_usage). */
#include <errno.h>

#include "store/postgres_impl.h"

int store_pg_backend_usage(struct store_pg_call *k, struct store_req *req)
{
    PGresult *r;
    int err = store_pg_exec(k, PG_BACKEND_USAGE, &r);
    if (err < 0)
        return err;
    int rows = PQntuples(r);
    struct store_arena *a = NULL;
    struct store_backend_usage *v = rows ? store_arena_alloc(&a, (size_t)rows * sizeof(*v)) : NULL;
    if (rows && !v)
        err = -ENOMEM;
    for (int i = 0; !err && i < rows; i++) {
        err = store_pg_col_str(r, i, 0, &a, &v[i].backend);
        v[i].bytes = store_pg_col_int(r, i, 1);
        v[i].objects = store_pg_col_int(r, i, 2);
    }
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *req->u.backend_usage.out = (struct store_backend_usage_list){.v = v, .n = (size_t)rows, .mem = a};
    return 0;
}

int store_pg_usage_add(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.usage_add.month);
    store_pg_param_usage(k, req->u.usage_add.deltas, req->u.usage_add.n);
    PGresult *r;
    int err = store_pg_exec(k, PG_USAGE_ADD, &r);
    if (err < 0)
        return err;
    int rows = PQntuples(r);
    struct store_arena *a = NULL;
    struct store_usage *v = rows ? store_arena_alloc(&a, (size_t)rows * sizeof(*v)) : NULL;
    if (rows && !v)
        err = -ENOMEM;
    for (int i = 0; !err && i < rows; i++) {
        err = store_pg_col_str(r, i, 0, &a, &v[i].backend);
        v[i].api_calls = store_pg_col_int(r, i, 1);
        v[i].egress_bytes = store_pg_col_int(r, i, 2);
        v[i].ingress_bytes = store_pg_col_int(r, i, 3);
    }
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *req->u.usage_add.totals = (struct store_usage_list){.v = v, .n = (size_t)rows, .mem = a};
    return 0;
}
