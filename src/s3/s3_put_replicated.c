/* PutObject with synchronous replication (O5): the body is read once and written to `factor` distinct backends at
 * once, one coroutine per backend fed by a fan-out (util/body_fanout.h). The client hears 200 once the quorum of
 * copies is stored and the object is committed with them; copies beyond the quorum that failed are left to the
 * replicator. Each copy has its own PUT intent, so a crash at any point leaves every backend write accounted for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_object.h"
#include "util/body_fanout.h"
#include "util/crash_point.h"
#include "util/log.h"

struct replica {
    struct backend *be;
    struct placement_slot slot;
    char bkey[S3_BKEY_MAX];
    int64_t intent;
    int result;
    /* the writer coroutine's */
    struct body_fanout_branch *branch;
    int64_t size;
    struct coro_wg *wg;
};

struct replicated_put {
    struct replica r[BODY_FANOUT_MAX];
    size_t n;
    struct body_fanout fan;
    struct coro *writers[BODY_FANOUT_MAX];
};

static void replica_write(void *arg)
{
    struct replica *r = arg;
    r->result = backend_put(r->be, r->bkey, &r->branch->src, r->size);
    body_fanout_leave(r->branch); /* done either way: the other writers stop waiting for this one */
    coro_wg_done(r->wg);
}

/* Reserves room on up to `want` distinct backends; returns how many, or a placement error when none. */
static int replicas_reserve(const struct s3_call *k, struct replicated_put *p, size_t want, int64_t size)
{
    uint64_t chosen = 0;
    int err = 0;
    while (p->n < want) {
        struct replica *r = &p->r[p->n];
        err = placement_reserve(k->svc->placement, size, chosen, &r->slot);
        if (err < 0)
            break;
        chosen |= 1ull << r->slot.index;
        r->be = r->slot.backend;
        p->n++;
    }
    return p->n ? (int)p->n : err;
}

/* Every writer runs to its end before the handler returns: they use its stack. A cancelled handler (the client went
 * away) cancels them and still waits. */
static void writers_wait(struct replicated_put *p, struct coro_wg *wg)
{
    while (coro_wg_wait(wg, 0) == -ECANCELED && wg->count) {
        for (size_t i = 0; i < p->n; i++)
            if (p->writers[i])
                coro_cancel(p->writers[i]);
        coro_yield();
    }
}

/* Deletes the backend copies the replicas stored, drops their intents and gives their room back. */
static void replicas_undo(const struct s3_call *k, struct replicated_put *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct replica *r = &p->r[i];
        if (r->result == 0)
            backend_del(r->be, r->bkey);
        if (r->intent)
            store_intent_drop(k->svc->store, r->intent, NULL, NULL);
        placement_release(k->svc->placement, &r->slot);
    }
}

void s3_put_replicated(const struct s3_call *k, struct s3_put_body *body, int64_t size,
                       const struct s3_object_meta *meta, const struct store_cond *cond)
{
    const struct config_replication *rc = &k->svc->cfg->replication;
    size_t factor = (size_t)rc->factor < BODY_FANOUT_MAX ? (size_t)rc->factor : BODY_FANOUT_MAX;
    size_t quorum = rc->write_quorum > 0 && (size_t)rc->write_quorum < factor ? (size_t)rc->write_quorum : factor;
    struct replicated_put *p = calloc(1, sizeof(*p));
    if (!p) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    /* Room on the quorum at least is decided before a byte of the body is read. */
    int err = replicas_reserve(k, p, factor, size);
    if (err < 0 || p->n < quorum) {
        s3_respond_no_room(k, err < 0 ? err : -ENOSPC);
        goto out;
    }
    for (size_t i = 0; i < p->n; i++)
        p->r[i].result = -ECANCELED; /* until its writer says otherwise */
    for (size_t i = 0; i < p->n; i++) {
        struct replica *r = &p->r[i];
        s3_backend_key_new(r->bkey, k->r->bucket, k->r->key);
        err = store_intent_create(k->svc->store,
                                  &(struct store_intent){.bucket = k->r->bucket, .key = k->r->key,
                                                         .backend = r->be->name, .backend_key = r->bkey,
                                                         .size = size},
                                  &r->intent);
        if (err < 0) {
            replicas_undo(k, p);
            s3_respond_store_error(k, err);
            goto out;
        }
    }

    err = body_fanout_init(&p->fan, &body->src, p->n);
    if (err < 0) {
        replicas_undo(k, p);
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        goto out;
    }
    struct coro_wg wg = CORO_WG_INIT;
    for (size_t i = 0; i < p->n; i++) {
        struct replica *r = &p->r[i];
        r->branch = &p->fan.branch[i];
        r->size = size;
        r->wg = &wg;
        coro_wg_add(&wg, 1);
        p->writers[i] = coro_spawn(coro_sched_self(), replica_write, r);
        if (!p->writers[i]) {
            coro_wg_done(&wg);
            body_fanout_leave(r->branch);
        }
    }
    writers_wait(p, &wg);
    int body_err = body_fanout_end(&p->fan);
    body_fanout_free(&p->fan);

    size_t stored = 0;
    int first_err = 0;
    struct store_copy copies[BODY_FANOUT_MAX];
    int64_t commit_intent = 0;
    for (size_t i = 0; i < p->n; i++) {
        struct replica *r = &p->r[i];
        if (r->result < 0) {
            if (!first_err)
                first_err = r->result;
            continue;
        }
        if (!commit_intent)
            commit_intent = r->intent;
        copies[stored++] = (struct store_copy){.backend = r->be->name, .backend_key = r->bkey, .size = size};
    }
    /* A failed PUT takes its copies back before it answers, so a client that hears the error finds none left. */
    if (body_err < 0 || body->fail.status) {
        replicas_undo(k, p);
        s3_put_respond_error(k, body, body_err < 0 ? body_err : -EBADMSG);
        goto out;
    }
    if (stored < quorum) {
        log_error("PUT %s/%s: %zu of %zu copies stored, %zu needed", k->r->bucket, k->r->key, stored, p->n, quorum);
        replicas_undo(k, p);
        s3_put_respond_error(k, body, first_err ? first_err : -EIO);
        goto out;
    }

    char etag[40];
    snprintf(etag, sizeof(etag), "\"%s\"", body->etag_hex);
    struct s3_put_result res = {
        .size = size,
        .etag = etag,
        .ck_b64 = body->ck_b64,
        .ck_alg = body->ck_b64[0] ? body->ck_alg : S3_CK_NONE,
        .copies = copies,
        .n_copies = stored,
        .intent = commit_intent,
    };
    if (!s3_put_commit(k, meta, cond, &res)) {
        replicas_undo(k, p);
        goto out;
    }
    crash_point(CRASH_REPLICATED_AFTER_COMMIT);
    /* Committed: the other stored copies' intents are resolved by the object itself; failed ones never held bytes. */
    for (size_t i = 0; i < p->n; i++) {
        struct replica *r = &p->r[i];
        if (r->intent != commit_intent)
            store_intent_drop(k->svc->store, r->intent, NULL, NULL);
        if (r->result == 0)
            placement_commit(k->svc->placement, &r->slot, size);
        else
            placement_release(k->svc->placement, &r->slot);
    }
out:
    for (size_t i = 0; i < p->n; i++)
        placement_release(k->svc->placement, &p->r[i].slot);
    free(p);
}
