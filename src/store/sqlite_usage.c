/* What each backend holds by the SQLite store's records (store_backend_usage). */
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
