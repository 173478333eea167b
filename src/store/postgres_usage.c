/* What the PostgreSQL store records per backend: the bytes it holds, its monthly usage counters, its state. */
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

int store_pg_backend_state_set(struct store_pg_call *k, struct store_req *req)
{
    bool active = req->u.backend_state_set.state == STORE_BACKEND_ACTIVE;
    store_pg_param_str(k, req->u.backend_state_set.backend);
    if (!active) {
        store_pg_param_int(k, (int64_t)req->u.backend_state_set.state);
        store_pg_param_int(k, store_now_ms());
    }
    PGresult *r;
    int err = store_pg_exec(k, active ? PG_BACKEND_STATE_DELETE : PG_BACKEND_STATE_PUT, &r);
    if (err == 0)
        PQclear(r);
    return err;
}

int store_pg_backend_states(struct store_pg_call *k, struct store_req *req)
{
    PGresult *r;
    int err = store_pg_exec(k, PG_BACKEND_STATES, &r);
    if (err < 0)
        return err;
    int rows = PQntuples(r);
    struct store_arena *a = NULL;
    struct store_backend_state_row *v = rows ? store_arena_alloc(&a, (size_t)rows * sizeof(*v)) : NULL;
    if (rows && !v)
        err = -ENOMEM;
    for (int i = 0; !err && i < rows; i++) {
        err = store_pg_col_str(r, i, 0, &a, &v[i].backend);
        v[i].state = (enum store_backend_state)store_pg_col_int(r, i, 1);
        v[i].changed_ms = store_pg_col_int(r, i, 2);
    }
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *req->u.backend_states.out = (struct store_backend_state_list){.v = v, .n = (size_t)rows, .mem = a};
    return 0;
}
