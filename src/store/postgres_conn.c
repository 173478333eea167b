/* The PostgreSQL store's connections: one small pool per ring thread and one connection the plain threads share,
 * connected and queried through libpq in non-blocking mode.
 *
 * A coroutine waits for its socket with coro_poll(), so a query parks it and the ring thread serves others
 * meanwhile; a plain thread (start-up, tools, tests) waits in poll(). The code is the same either way: only the
 * wait differs (pg_wait). Every wait ends at the call's deadline. A connection that fails is dropped when its call
 * ends and made again by the next call; a failed connect holds off new attempts with a growing backoff, during
 * which calls fail at once (-EIO) instead of piling up on a database that is down.
 *
 * libpq resolves a host name inside PQconnectPoll() with a blocking getaddrinfo(): on a ring thread that stalls
 * the thread for the lookup, once per connection. A DSN naming the server by address (hostaddr=, or an IP in
 * host=) avoids it. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_impl.h"
#include "util/log.h"

enum {
    PG_BACKOFF_MIN_MS = 100,
    PG_BACKOFF_MAX_MS = 5000,
    PG_RETRIES = 3, /* of a statement that lost a deadlock or a serialisation conflict: it changed nothing */
};

/* --- waiting ---------------------------------------------------------------------------------------------------- */

/* Waits until fd is ready for events, or the deadline (coro_now() time) passes: -ETIMEDOUT. */
static int pg_wait(int fd, short events, int64_t deadline)
{
    if (fd < 0)
        return -EIO;
    if (coro_self()) {
        int r = coro_poll(fd, (unsigned)events, deadline);
        if (r != -ECANCELED)
            return r < 0 ? r : 0;
        /* A cancelled coroutine cannot park any more, yet its call must finish (store.h): it looks without
         * waiting and yields in between, as store_req_wait() does. */
        for (;;) {
            struct pollfd p = {.fd = fd, .events = events};
            if (poll(&p, 1, 0) > 0)
                return 0;
            if (coro_now() >= deadline)
                return -ETIMEDOUT;
            coro_yield();
        }
    }
    for (;;) {
        int64_t left = deadline - coro_now();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)((left + 999999) / 1000000));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

/* Sends what libpq has buffered. */
static int pg_flush(PGconn *pg, int64_t deadline)
{
    int r;
    while ((r = PQflush(pg)) == 1) {
        /* The server may be sending (notices) while we send: read too, or both sides could stall. */
        int err = pg_wait(PQsocket(pg), POLLIN | POLLOUT, deadline);
        if (err < 0)
            return err;
        if (!PQconsumeInput(pg))
            return -EIO;
    }
    return r == 0 ? 0 : -EIO;
}

static bool pg_result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Reads every result of the query sent; *out gets the first failed one, else the last. */
static int pg_collect(PGconn *pg, int64_t deadline, PGresult **out)
{
    *out = NULL;
    for (;;) {
        while (PQisBusy(pg)) {
            int err = pg_wait(PQsocket(pg), POLLIN, deadline);
            if (err < 0)
                goto fail;
            if (!PQconsumeInput(pg))
                goto fail;
        }
        PGresult *r = PQgetResult(pg);
        if (!r)
            break;
        if (!*out || pg_result_ok(*out)) {
            PQclear(*out);
            *out = r;
            continue;
        }
        PQclear(r);
    }
    return *out ? 0 : -EIO;
fail:
    PQclear(*out);
    *out = NULL;
    return coro_now() >= deadline ? -ETIMEDOUT : -EIO;
}

/* --- errors ----------------------------------------------------------------------------------------------------- */

static const struct {
    const char *state;
    int err;
} pg_states[] = {
    /* Raised by the functions of the migrations. */
    {"S3NOE", -ENOENT},
    {"S3EXI", -EEXIST},
    {"S3INV", -EINVAL},
    {"S3IDR", -EIDRM},
    {"S3STA", -ESTALE},
    {"S3NEM", -ENOTEMPTY},
    /* PostgreSQL's own. */
    {"53100", -ENOSPC},    /* disk_full */
    {"53200", -ENOMEM},    /* out_of_memory */
    {"55P03", -EBUSY},     /* lock_not_available */
    {"57014", -ETIMEDOUT}, /* query_canceled: our statement_timeout */
    {"40P01", -EAGAIN},    /* deadlock_detected: retried */
    {"40001", -EAGAIN},    /* serialization_failure: retried */
};

/* -errno for a failed result; unexpected failures are logged with the server's message. */
static int pg_result_errno(const PGresult *r, const char *what)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    for (size_t i = 0; state && i < sizeof(pg_states) / sizeof(pg_states[0]); i++)
        if (strcmp(state, pg_states[i].state) == 0) {
            if (strncmp(state, "S3", 2) != 0 && pg_states[i].err != -EAGAIN)
                log_warn("store: %s: %s", what, PQresultErrorMessage(r));
            return pg_states[i].err;
        }
    log_error("store: %s: %s", what, r ? PQresultErrorMessage(r) : "no result");
    return -EIO;
}

/* -errno for a failed statement's result r (cleared). A FATAL error ends the session (the backend was terminated,
 * the server is shutting down): the connection is marked broken, to be made anew. */
static int pg_failed(struct store_pg_call *k, PGresult *r, const char *what)
{
    int err = pg_result_errno(r, what);
    const char *severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    bool fatal = severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0);
    PQclear(r);
    if (fatal || PQstatus(k->conn->pg) == CONNECTION_BAD) {
        k->conn->broken = true;
        return err == -EAGAIN ? -EIO : err;
    }
    return err;
}

/* A transport failure (send, flush, read): the connection cannot be trusted any more. */
static int pg_broken(struct store_pg_call *k, int err, const char *what)
{
    k->conn->broken = true;
    const char *msg = err == -ETIMEDOUT ? "timed out" : PQerrorMessage(k->conn->pg);
    log_error("store: %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
    return err == -ETIMEDOUT ? err : -EIO;
}

/* --- statements ------------------------------------------------------------------------------------------------- */

static void pg_stmt_name(enum store_pg_stmt id, char name[16]) { snprintf(name, 16, "s3orch_%d", (int)id); }

static int pg_prepare(struct store_pg_call *k, enum store_pg_stmt id)
{
    PGconn *pg = k->conn->pg;
    char name[16];
    pg_stmt_name(id, name);
    if (!PQsendPrepare(pg, name, store_pg_sql[id], 0, NULL))
        return pg_broken(k, -EIO, "prepare");
    PGresult *r;
    int err = pg_flush(pg, k->deadline);
    if (!err)
        err = pg_collect(pg, k->deadline, &r);
    if (err < 0)
        return pg_broken(k, err, "prepare");
    if (!pg_result_ok(r))
        return pg_failed(k, r, store_pg_sql[id]);
    k->conn->prepared |= 1u << id;
    PQclear(r);
    return 0;
}

static int pg_run(struct store_pg_call *k, enum store_pg_stmt id, PGresult **res)
{
    PGconn *pg = k->conn->pg;
    char name[16];
    pg_stmt_name(id, name);
    if (!PQsendQueryPrepared(pg, name, k->n_params, k->params, NULL, NULL, 0))
        return pg_broken(k, -EIO, "send");
    int err = pg_flush(pg, k->deadline);
    if (!err)
        err = pg_collect(pg, k->deadline, res);
    if (err < 0)
        return pg_broken(k, err, "query");
    if (pg_result_ok(*res))
        return 0;
    err = pg_failed(k, *res, store_pg_sql[id]);
    *res = NULL;
    return err;
}

int store_pg_exec(struct store_pg_call *k, enum store_pg_stmt id, PGresult **res)
{
    *res = NULL;
    int err = k->err;
    if (!err && !(k->conn->prepared & (1u << id)))
        err = pg_prepare(k, id);
    for (int attempt = 0; !err; attempt++) {
        err = pg_run(k, id, res);
        if (err != -EAGAIN)
            break;
        if (attempt + 1 == PG_RETRIES) {
            err = -EBUSY;
            break;
        }
        err = 0; /* a deadlock victim's statement was rolled back whole: run it again */
    }
    k->n_params = 0;
    k->err = 0;
    return err;
}

int store_pg_exec_sql(struct store_pg_call *k, const char *sql, PGresult **res)
{
    PGconn *pg = k->conn->pg;
    *res = NULL;
    if (!PQsendQuery(pg, sql))
        return pg_broken(k, -EIO, "send");
    int err = pg_flush(pg, k->deadline);
    if (!err)
        err = pg_collect(pg, k->deadline, res);
    if (err < 0)
        return pg_broken(k, err, "query");
    if (pg_result_ok(*res))
        return 0;
    err = pg_failed(k, *res, "schema");
    *res = NULL;
    return err;
}

/* --- connecting ------------------------------------------------------------------------------------------------- */

/* Server notices (a NOTICE from a migration, say) are not errors: the debug level would do, were there one. */
static void pg_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int store_pg_connect(struct store_pg *ps, struct store_pg_conn *c, int64_t deadline)
{
    /* dbname with expand_dbname takes the whole DSN, string or URI; the keys after it fill in defaults only. */
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const vals[] = {ps->dsn, "s3orch", NULL};
    PGconn *pg = PQconnectStartParams(keys, vals, 1);
    if (!pg)
        return -ENOMEM;
    int err = PQstatus(pg) == CONNECTION_BAD ? -EIO : 0;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (!err && st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            err = -EIO;
            break;
        }
        err = pg_wait(PQsocket(pg), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (!err)
            st = PQconnectPoll(pg);
    }
    if (!err && PQsetnonblocking(pg, 1) != 0)
        err = -EIO;
    if (err < 0) {
        const char *msg = err == -ETIMEDOUT ? "timed out" : PQerrorMessage(pg);
        log_error("store: cannot connect to PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
        PQfinish(pg);
        return err == -ETIMEDOUT ? err : -EIO;
    }
    PQsetNoticeProcessor(pg, pg_notice, NULL);
    *c = (struct store_pg_conn){.pg = pg, .busy = c->busy};

    /* The server gives up on a statement at the call's timeout, rolling it back, so a call that times out
     * normally changed nothing; the client's own deadline is a little later (postgres.c). */
    char sql[128];
    snprintf(sql, sizeof(sql), "SET statement_timeout = %lld; SET bytea_output = 'hex'",
             (long long)(ps->timeout_ns / 1000000));
    struct store_pg_call k = {.ps = ps, .conn = c, .deadline = deadline};
    PGresult *r;
    err = store_pg_exec_sql(&k, sql, &r);
    PQclear(r);
    if (err < 0) {
        PQfinish(pg);
        c->pg = NULL;
        c->broken = false;
    }
    return err;
}

/* --- pools ------------------------------------------------------------------------------------------------------ */

static struct store_pg_pool *pg_pool_new(struct coro_sched *sched, unsigned n)
{
    struct store_pg_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->conns = calloc(n, sizeof(*p->conns));
    if (!p->conns) {
        free(p);
        return NULL;
    }
    p->sched = sched;
    p->n = n;
    p->waiters = (struct coro_waitq)CORO_WAITQ_INIT;
    return p;
}

static void pg_pool_free(struct store_pg_pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        PQfinish(p->conns[i].pg);
    free(p->conns);
    free(p);
}

/* The calling ring thread's pool, made on its first call. A scheduler address can come back after its thread
 * ended; the pool it finds then is idle (no call outlives its thread), so reusing it is right. */
static struct store_pg_pool *pg_pool_of(struct store_pg *ps, struct coro_sched *sched)
{
    pthread_mutex_lock(&ps->pools_lock);
    struct store_pg_pool *p = ps->pools;
    while (p && p->sched != sched)
        p = p->next;
    if (!p && (p = pg_pool_new(sched, ps->max_conns))) {
        p->next = ps->pools;
        ps->pools = p;
    }
    pthread_mutex_unlock(&ps->pools_lock);
    return p;
}

int store_pg_pools_init(struct store_pg *ps)
{
    ps->plain = pg_pool_new(NULL, 1);
    return ps->plain ? 0 : -ENOMEM;
}

void store_pg_pools_free(struct store_pg *ps)
{
    for (struct store_pg_pool *p = ps->pools, *next; p; p = next) {
        next = p->next;
        pg_pool_free(p);
    }
    ps->pools = NULL;
    if (ps->plain)
        pg_pool_free(ps->plain);
    ps->plain = NULL;
    if (ps->locks)
        pg_pool_free(ps->locks);
    ps->locks = NULL;
}

/* Takes a free slot of the pool: a connected one first, else one to connect (unless backing off). NULL when all
 * are busy. */
static struct store_pg_conn *pg_pool_take(struct store_pg_pool *p)
{
    struct store_pg_conn *empty = NULL;
    for (unsigned i = 0; i < p->n; i++) {
        struct store_pg_conn *c = &p->conns[i];
        if (c->busy)
            continue;
        if (c->pg) {
            c->busy = true;
            return c;
        }
        if (!empty)
            empty = c;
    }
    if (empty)
        empty->busy = true;
    return empty;
}

/* A connection idle in the pool may have been closed by the server meanwhile (a restart, a terminated backend).
 * Reading what it sent, without waiting, shows it: its last words (libpq takes an error on an idle connection for
 * a notice, once PQisBusy() parsed it), then the end of the stream. It is then made anew before the call instead
 * of failing the call. */
static void pg_conn_check(struct store_pg_conn *c)
{
    if (!c->pg)
        return;
    bool ok = PQconsumeInput(c->pg);
    if (ok && !PQisBusy(c->pg))
        ok = PQconsumeInput(c->pg);
    if (!ok || PQstatus(c->pg) == CONNECTION_BAD) {
        PQfinish(c->pg);
        *c = (struct store_pg_conn){.busy = c->busy};
    }
}

static int pg_conn_open(struct store_pg_call *k)
{
    struct store_pg_pool *p = k->pool;
    pg_conn_check(k->conn);
    if (k->conn->pg)
        return 0;
    if (p->retry_at && coro_now() < p->retry_at)
        return -EIO; /* the database was unreachable a moment ago: fail fast until the backoff ends */
    int err = store_pg_connect(k->ps, k->conn, k->deadline);
    if (err < 0) {
        int64_t b = p->backoff ? p->backoff * 2 : CORO_MS(PG_BACKOFF_MIN_MS);
        p->backoff = b < CORO_MS(PG_BACKOFF_MAX_MS) ? b : CORO_MS(PG_BACKOFF_MAX_MS);
        p->retry_at = coro_now() + p->backoff;
        return err;
    }
    p->backoff = 0;
    p->retry_at = 0;
    return 0;
}

/* Waits for a free connection of k->pool and opens it. */
static int pg_pool_acquire(struct store_pg_call *k)
{
    while (!(k->conn = pg_pool_take(k->pool))) {
        /* Only coroutines get here: the plain pool's one connection is free under its lock, and a plain thread
         * owning the locks' connection runs one call at a time. */
        int err = coro_waitq_wait(&k->pool->waiters, k->deadline);
        if (err == -ECANCELED)
            coro_yield(); /* cancelled: cannot park, yet the call must run (store.h) */
        else if (err < 0)
            return err;
    }
    int err = pg_conn_open(k);
    if (err < 0)
        store_pg_release(k);
    return err;
}

int store_pg_acquire(struct store_pg_call *k)
{
    struct store_pg *ps = k->ps;
    if (!coro_self()) {
        pthread_mutex_lock(&ps->plain_lock);
        k->pool = ps->plain;
    } else if (!(k->pool = pg_pool_of(ps, coro_sched_self()))) {
        return -ENOMEM;
    }
    return pg_pool_acquire(k);
}

int store_pg_acquire_locks(struct store_pg_call *k)
{
    struct store_pg *ps = k->ps;
    pthread_mutex_lock(&ps->pools_lock);
    if (!ps->locks && (ps->locks = pg_pool_new(coro_self() ? coro_sched_self() : NULL, 1)))
        ps->locks_owner = pthread_self();
    bool mine = ps->locks && pthread_equal(ps->locks_owner, pthread_self());
    pthread_mutex_unlock(&ps->pools_lock);
    if (!ps->locks)
        return -ENOMEM;
    if (!mine)
        return -EXDEV;
    k->pool = ps->locks;
    return pg_pool_acquire(k);
}

void store_pg_release(struct store_pg_call *k)
{
    struct store_pg_conn *c = k->conn;
    if (c) {
        if (c->broken) {
            PQfinish(c->pg);
            *c = (struct store_pg_conn){0};
        }
        c->busy = false;
        k->conn = NULL;
    }
    store_arena_free(k->tmp);
    k->tmp = NULL;
    if (!k->pool)
        return;
    if (k->pool == k->ps->plain)
        pthread_mutex_unlock(&k->ps->plain_lock);
    else
        coro_waitq_wake_one(&k->pool->waiters);
    k->pool = NULL;
}
