/* What the PostgreSQL store records per backend: the bytes it holds, its monthly usage counters, its state. */
#include <errno.h>

#include "store/postgres_impl.h"

static int held_row(const PGresult *r, int i, void *elem, struct store_arena **a)
{
    struct store_backend_usage *u = elem;
    u->bytes = store_pg_col_int(r, i, 1);
    u->objects = store_pg_col_int(r, i, 2);
    return store_pg_col_str(r, i, 0, a, &u->backend);
}

/* Runs a statement whose rows read_row takes into the list at *v, *n, *mem. */
static int pg_list(struct store_pg_call *k, enum store_pg_stmt id, size_t elem_size, store_pg_row_fn read_row,
                   void **v, size_t *n, struct store_arena **mem)
{
    PGresult *r;
    int err = store_pg_exec(k, id, &r);
    if (err < 0)
        return err;
    err = store_pg_rows(r, elem_size, read_row, v, n, mem);
    PQclear(r);
    return err;
}

int store_pg_backend_usage(struct store_pg_call *k, struct store_req *req)
{
    struct store_backend_usage_list *out = req->u.backend_usage.out;
    return pg_list(k, PG_BACKEND_USAGE, sizeof(*out->v), held_row, (void **)&out->v, &out->n, &out->mem);
}

static int usage_row(const PGresult *r, int i, void *elem, struct store_arena **a)
{
    struct store_usage *u = elem;
    u->api_calls = store_pg_col_int(r, i, 1);
    u->egress_bytes = store_pg_col_int(r, i, 2);
    u->ingress_bytes = store_pg_col_int(r, i, 3);
    return store_pg_col_str(r, i, 0, a, &u->backend);
}

int store_pg_usage_add(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_str(k, req->u.usage_add.month);
    store_pg_param_usage(k, req->u.usage_add.deltas, req->u.usage_add.n);
    struct store_usage_list *out = req->u.usage_add.totals;
    return pg_list(k, PG_USAGE_ADD, sizeof(*out->v), usage_row, (void **)&out->v, &out->n, &out->mem);
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

static int state_row(const PGresult *r, int i, void *elem, struct store_arena **a)
{
    struct store_backend_state_row *s = elem;
    s->state = (enum store_backend_state)store_pg_col_int(r, i, 1);
    s->changed_ms = store_pg_col_int(r, i, 2);
    return store_pg_col_str(r, i, 0, a, &s->backend);
}

int store_pg_backend_states(struct store_pg_call *k, struct store_req *req)
{
    struct store_backend_state_list *out = req->u.backend_states.out;
    return pg_list(k, PG_BACKEND_STATES, sizeof(*out->v), state_row, (void **)&out->v, &out->n, &out->mem);
}
