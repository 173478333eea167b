/* PUT intents and the cleanup queue in the PostgreSQL store. */
#include <errno.h>
#include <stdint.h>

#include "store/postgres_impl.h"

/* A limit as a bigint: the contract's size_t may be SIZE_MAX ("all"). */
static int64_t queue_limit(size_t limit) { return limit > INT64_MAX ? INT64_MAX : (int64_t)limit; }

/* --- cleanup queue ---------------------------------------------------------------------------------------------- */

int store_pg_cleanup_add(struct store_pg_call *k, struct store_req *req)
{
    const struct store_cleanup *in = req->u.cleanup_add.in;
    store_pg_param_str(k, in->backend);
    store_pg_param_str(k, in->backend_key);
    store_pg_param_int(k, in->size);
    store_pg_param_str(k, in->reason);
    store_pg_param_int(k, in->next_attempt_ms);
    store_pg_param_int(k, store_now_ms());
    PGresult *r;
    int err = store_pg_exec(k, PG_CLEANUP_ADD, &r);
    if (err < 0)
        return err;
    *req->u.cleanup_add.id = store_pg_col_int(r, 0, 0);
    PQclear(r);
    return 0;
}

int store_pg_cleanup_due(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_int(k, req->u.cleanup_due.now_ms);
    store_pg_param_int(k, queue_limit(req->u.cleanup_due.limit));
    PGresult *r;
    int err = store_pg_exec(k, PG_CLEANUP_DUE, &r);
    if (err < 0)
        return err;
    err = store_pg_cleanups_read(r, req->u.cleanup_due.out);
    PQclear(r);
    return err;
}

int store_pg_cleanup_done(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_int(k, req->u.cleanup_row.id);
    PGresult *r;
    int err = store_pg_exec(k, PG_CLEANUP_DONE, &r);
    return err ? err : store_pg_changed(r) ? 0 : -ENOENT;
}

int store_pg_cleanup_done_many(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_int_array(k, req->u.cleanup_many.ids, req->u.cleanup_many.n);
    PGresult *r;
    int err = store_pg_exec(k, PG_CLEANUP_DONE_MANY, &r);
    if (err == 0)
        PQclear(r);
    return err;
}

int store_pg_cleanup_retry(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_int(k, req->u.cleanup_row.id);
    store_pg_param_int(k, req->u.cleanup_row.next_attempt_ms);
    PGresult *r;
    int err = store_pg_exec(k, PG_CLEANUP_RETRY, &r);
    return err ? err : store_pg_changed(r) ? 0 : -ENOENT;
}

/* --- intents ---------------------------------------------------------------------------------------------------- */

int store_pg_intent_create(struct store_pg_call *k, struct store_req *req)
{
    const struct store_intent *in = req->u.intent_create.in;
    store_pg_param_str(k, in->bucket);
    store_pg_param_str(k, in->key);
    store_pg_param_str(k, in->backend);
    store_pg_param_str(k, in->backend_key);
    store_pg_param_int(k, in->size);
    store_pg_param_int(k, store_now_ms());
    PGresult *r;
    int err = store_pg_exec(k, PG_INTENT_INSERT, &r);
    if (err < 0)
        return err;
    *req->u.intent_create.id = store_pg_col_int(r, 0, 0);
    PQclear(r);
    return 0;
}

int store_pg_intent_drop(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_int(k, req->u.intent_drop.id);
    store_pg_param_str(k, req->u.intent_drop.reason);
    store_pg_param_int(k, store_now_ms());
    PGresult *r;
    int err = store_pg_exec(k, PG_INTENT_DROP, &r);
    if (err < 0)
        return err;
    *req->u.intent_drop.cleanup_id = store_pg_col_int(r, 0, 0);
    PQclear(r);
    return 0;
}

static int intent_row(const PGresult *r, int i, void *elem, struct store_arena **a)
{
    struct store_intent *in = elem;
    in->id = store_pg_col_int(r, i, 0);
    in->size = store_pg_col_int(r, i, 5);
    in->created_ms = store_pg_col_int(r, i, 6);
    const char **strs[] = {&in->bucket, &in->key, &in->backend, &in->backend_key};
    int err = 0;
    for (int j = 0; !err && j < 4; j++)
        err = store_pg_col_str(r, i, 1 + j, a, strs[j]);
    return err;
}

int store_pg_intents_older(struct store_pg_call *k, struct store_req *req)
{
    store_pg_param_int(k, req->u.intents_older.before_ms);
    store_pg_param_int(k, queue_limit(req->u.intents_older.limit));
    PGresult *r;
    int err = store_pg_exec(k, PG_INTENTS_OLDER, &r);
    if (err < 0)
        return err;
    struct store_intent_list *out = req->u.intents_older.out;
    err = store_pg_rows(r, sizeof(*out->v), intent_row, (void **)&out->v, &out->n, &out->mem);
    PQclear(r);
    return err;
}
