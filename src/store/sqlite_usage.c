/* What the SQLite store records per backend: the bytes it holds, its monthly usage counters, its state. */
#include <errno.h>

#include "store/sqlite_impl.h"

static int held_row(sqlite3_stmt *st, void *elem, struct store_arena **a)
{
    struct store_backend_usage *u = elem;
    u->bytes = sqlite3_column_int64(st, 1);
    u->objects = sqlite3_column_int64(st, 2);
    return store_sqlite_col_str(st, 0, a, &u->backend);
}

int store_sqlite_backend_usage(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BACKEND_USAGE);
    struct store_backend_usage_list *out = req->u.backend_usage.out;
    return st ? store_sqlite_rows(ss, st, sizeof(*out->v), held_row, (void **)&out->v, &out->n, &out->mem) : -EIO;
}

static int usage_row(sqlite3_stmt *st, void *elem, struct store_arena **a)
{
    struct store_usage *u = elem;
    u->api_calls = sqlite3_column_int64(st, 1);
    u->egress_bytes = sqlite3_column_int64(st, 2);
    u->ingress_bytes = sqlite3_column_int64(st, 3);
    return store_sqlite_col_str(st, 0, a, &u->backend);
}

int store_sqlite_usage_add(struct store_sqlite *ss, struct store_req *req)
{
    const char *month = req->u.usage_add.month;
    for (size_t i = 0; i < req->u.usage_add.n; i++) {
        const struct store_usage *d = &req->u.usage_add.deltas[i];
        sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_USAGE_ADD);
        if (!st)
            return -EIO;
        store_sqlite_bind_str(st, 1, month);
        store_sqlite_bind_str(st, 2, d->backend);
        sqlite3_bind_int64(st, 3, d->api_calls);
        sqlite3_bind_int64(st, 4, d->egress_bytes);
        sqlite3_bind_int64(st, 5, d->ingress_bytes);
        int err = store_sqlite_exec(ss, st);
        if (err < 0)
            return err;
    }
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_USAGE_GET);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, month);
    struct store_usage_list *out = req->u.usage_add.totals;
    return store_sqlite_rows(ss, st, sizeof(*out->v), usage_row, (void **)&out->v, &out->n, &out->mem);
}

int store_sqlite_backend_state_set(struct store_sqlite *ss, struct store_req *req)
{
    bool active = req->u.backend_state_set.state == STORE_BACKEND_ACTIVE;
    sqlite3_stmt *st = store_sqlite_stmt(ss, active ? STMT_BACKEND_STATE_DELETE : STMT_BACKEND_STATE_PUT);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, req->u.backend_state_set.backend);
    if (!active) {
        sqlite3_bind_int(st, 2, (int)req->u.backend_state_set.state);
        sqlite3_bind_int64(st, 3, store_now_ms());
    }
    return store_sqlite_exec(ss, st);
}

static int state_row(sqlite3_stmt *st, void *elem, struct store_arena **a)
{
    struct store_backend_state_row *r = elem;
    r->state = (enum store_backend_state)sqlite3_column_int(st, 1);
    r->changed_ms = sqlite3_column_int64(st, 2);
    return store_sqlite_col_str(st, 0, a, &r->backend);
}

int store_sqlite_backend_states(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BACKEND_STATES);
    struct store_backend_state_list *out = req->u.backend_states.out;
    return st ? store_sqlite_rows(ss, st, sizeof(*out->v), state_row, (void **)&out->v, &out->n, &out->mem) : -EIO;
}
