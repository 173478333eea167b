/* Listings in the PostgreSQL store (M5): objects and multipart uploads. The walk, with its seek past each common
 * prefix, runs in the database (s3orch_list_objects() and s3orch_list_uploads(), pg_migrations/0001_init.sql):
 * one round trip per page. Both answer at most max + 1 rows, prefixes and entries interleaved in key order; the
 * extra row only says that the listing is truncated. */
#include <errno.h>
#include <string.h>

#include "store/postgres_impl.h"

/* Whether one more row than asked came back; then only max are kept. */
static size_t list_rows_kept(const PGresult *r, size_t max, bool *truncated)
{
    size_t rows = (size_t)PQntuples(r);
    *truncated = rows > max;
    return rows > max ? max : rows;
}

int store_pg_list_objects(struct store_pg_call *k, struct store_req *req)
{
    const struct store_list_query *q = req->u.list.q;
    store_pg_param_str(k, q->bucket);
    store_pg_param_str(k, q->prefix);
    store_pg_param_str(k, q->delimiter);
    store_pg_param_str(k, q->start_after);
    store_pg_param_int(k, (int64_t)q->max_keys);
    PGresult *r;
    int err = store_pg_exec(k, PG_LIST_OBJECTS, &r);
    if (err < 0)
        return err;
    atomic_fetch_add(&k->ps->base.list_rows, (uint64_t)PQntuples(r));

    struct store_arena *a = NULL;
    void *entries = NULL, *prefixes = NULL;
    size_t n_entries = 0, cap_entries = 0, n_prefixes = 0, cap_prefixes = 0;
    const char *last = NULL;
    bool truncated;
    size_t n = list_rows_kept(r, q->max_keys, &truncated);
    for (size_t i = 0; !err && i < n; i++) {
        int row = (int)i;
        if (PQgetisnull(r, row, 2)) { /* no etag: a common prefix */
            const char **p = store_arena_push(&a, &prefixes, &n_prefixes, &cap_prefixes, sizeof(*p));
            err = p ? store_pg_col_str(r, row, 0, &a, p) : -ENOMEM;
            last = p ? *p : NULL;
            continue;
        }
        struct store_list_entry *e = store_arena_push(&a, &entries, &n_entries, &cap_entries, sizeof(*e));
        if (!e) {
            err = -ENOMEM;
            break;
        }
        err = store_pg_col_str(r, row, 0, &a, &e->key);
        e->size = store_pg_col_int(r, row, 1);
        if (!err)
            err = store_pg_col_str(r, row, 2, &a, &e->etag);
        e->modified_ms = store_pg_col_int(r, row, 3);
        if (!err)
            err = store_pg_col_str(r, row, 4, &a, &e->storage_class);
        if (!err)
            err = store_pg_col_str(r, row, 5, &a, &e->checksum_algorithm);
        if (!err)
            err = store_pg_col_str(r, row, 6, &a, &e->checksum_type);
        last = e->key;
    }
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    struct store_list *out = req->u.list.out;
    out->entries = entries;
    out->n_entries = n_entries;
    out->prefixes = prefixes;
    out->n_prefixes = n_prefixes;
    out->truncated = truncated;
    out->next_marker = truncated ? last : NULL;
    out->mem = a;
    return 0;
}

int store_pg_uploads_list(struct store_pg_call *k, struct store_req *req)
{
    const struct store_upload_query *q = req->u.uploads_list.q;
    store_pg_param_str(k, q->bucket);
    store_pg_param_str(k, q->prefix);
    store_pg_param_str(k, q->delimiter);
    store_pg_param_str(k, q->key_marker);
    store_pg_param_str(k, q->upload_id_marker);
    store_pg_param_int(k, (int64_t)q->max_uploads);
    PGresult *r;
    int err = store_pg_exec(k, PG_UPLOADS_LIST, &r);
    if (err < 0)
        return err;
    atomic_fetch_add(&k->ps->base.list_rows, (uint64_t)PQntuples(r));

    struct store_arena *a = NULL;
    void *v = NULL, *prefixes = NULL;
    size_t n_v = 0, cap_v = 0, n_prefixes = 0, cap_prefixes = 0;
    const char *last_key = NULL, *last_id = NULL; /* last_id NULL when the last thing returned was a prefix */
    bool truncated;
    size_t n = list_rows_kept(r, q->max_uploads, &truncated);
    for (size_t i = 0; !err && i < n; i++) {
        int row = (int)i;
        if (PQgetisnull(r, row, 0)) { /* no id: a common prefix (in the key column) */
            const char **p = store_arena_push(&a, &prefixes, &n_prefixes, &cap_prefixes, sizeof(*p));
            err = p ? store_pg_col_str(r, row, 7, &a, p) : -ENOMEM;
            last_key = p ? *p : NULL;
            last_id = NULL;
            continue;
        }
        struct store_upload *up = store_arena_push(&a, &v, &n_v, &cap_v, sizeof(*up));
        err = up ? store_pg_upload_read(r, row, &a, up) : -ENOMEM;
        if (!err) {
            last_key = up->obj.key;
            last_id = up->id;
        }
    }
    PQclear(r);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    struct store_upload_list *out = req->u.uploads_list.out;
    out->v = v;
    out->n = n_v;
    out->prefixes = prefixes;
    out->n_prefixes = n_prefixes;
    out->truncated = truncated;
    out->next_key_marker = truncated ? last_key : NULL;
    out->next_upload_id_marker = truncated ? last_id : NULL;
    out->mem = a;
    return 0;
}
