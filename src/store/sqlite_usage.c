/* What the SQLite store records per backend: the bytes it holds, its monthly usage counters, its state. */
#include <errno.h>

#include "store/sqlite_impl.h"

int store_sqlite_backend_usage(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BACKEND_USAGE);
    if (!st)
        return -EIO;
    struct store_arena *a = NULL;
    void *v = NULL;
    size_t n = 0, cap = 0;
    int rc, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_backend_usage *u = store_arena_push(&a, &v, &n, &cap, sizeof(*u));
        if (!u) {
            err = -ENOMEM;
            break;
        }
        err = store_sqlite_col_str(st, 0, &a, &u->backend);
        u->bytes = sqlite3_column_int64(st, 1);
        u->objects = sqlite3_column_int64(st, 2);
    }
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    struct store_backend_usage_list *out = req->u.backend_usage.out;
    *out = (struct store_backend_usage_list){.v = v, .n = n, .mem = a};
    return 0;
}

static int usage_read(struct store_sqlite *ss, const char *month, struct store_usage_list *out)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_USAGE_GET);
    if (!st)
        return -EIO;
    store_sqlite_bind_str(st, 1, month);
    struct store_arena *a = NULL;
    void *v = NULL;
    size_t n = 0, cap = 0;
    int rc, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_usage *u = store_arena_push(&a, &v, &n, &cap, sizeof(*u));
        if (!u) {
            err = -ENOMEM;
            break;
        }
        err = store_sqlite_col_str(st, 0, &a, &u->backend);
        u->api_calls = sqlite3_column_int64(st, 1);
        u->egress_bytes = sqlite3_column_int64(st, 2);
        u->ingress_bytes = sqlite3_column_int64(st, 3);
    }
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *out = (struct store_usage_list){.v = v, .n = n, .mem = a};
    return 0;
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
    return usage_read(ss, month, req->u.usage_add.totals);
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

int store_sqlite_backend_states(struct store_sqlite *ss, struct store_req *req)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, STMT_BACKEND_STATES);
    if (!st)
        return -EIO;
    struct store_arena *a = NULL;
    void *v = NULL;
    size_t n = 0, cap = 0;
    int rc, err = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_backend_state_row *r = store_arena_push(&a, &v, &n, &cap, sizeof(*r));
        if (!r) {
            err = -ENOMEM;
            break;
        }
        err = store_sqlite_col_str(st, 0, &a, &r->backend);
        r->state = (enum store_backend_state)sqlite3_column_int(st, 1);
        r->changed_ms = sqlite3_column_int64(st, 2);
    }
    if (!err && rc != SQLITE_DONE)
        err = store_sqlite_errno(ss, rc);
    store_sqlite_reset(st);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *req->u.backend_states.out = (struct store_backend_state_list){.v = v, .n = n, .mem = a};
    return 0;
}
