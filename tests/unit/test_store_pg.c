/* The store contract suite (test_store.c, included below) on PostgreSQL, and PostgreSQL's own tests: migrations
 * racing at start, two store handles (as two s3orch instances) committing one key, a database newer than us.
 *
 * Needs a server: S3ORCH_TEST_PG_DSN, a libpq connection string whose user may create databases (scripts/test
 * starts one with scripts/pg-start). Skipped (77) without it; a server that cannot be reached fails. Every run
 * works in databases of its own, created here and dropped at the end. */
#define STORE_TEST_PG 1
#include "test_store.c"

#include <libpq-fe.h>

static const char *admin_dsn;
static char store_dsn[1024]; /* the database the contract suite runs in (st) */
static char dbs[4][64];
static int n_dbs;

/* Runs one statement on the admin connection; false (printed) on failure. */
static bool admin_exec(const char *dsn, const char *sql)
{
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    bool ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    if (!ok)
        fprintf(stderr, "postgres: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok;
}

/* dsn with its database replaced by db, as a keyword=value string (dsn may be a URI). */
static bool dsn_with_db(const char *dsn, const char *db, char *out, size_t size)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &msg);
    if (!opts) {
        fprintf(stderr, "postgres: S3ORCH_TEST_PG_DSN: %s", msg ? msg : "out of memory\n");
        PQfreemem(msg);
        return false;
    }
    size_t at = (size_t)snprintf(out, size, "dbname='%s'", db);
    for (PQconninfoOption *o = opts; o->keyword && at < size; o++) {
        if (!o->val || strcmp(o->keyword, "dbname") == 0)
            continue;
        at += (size_t)snprintf(out + at, size - at, " %s='", o->keyword);
        for (const char *v = o->val; *v && at + 2 < size; v++) {
            if (*v == '\'' || *v == '\\')
                out[at++] = '\\';
            out[at++] = *v;
        }
        at += (size_t)snprintf(out + at, size > at ? size - at : 0, "'");
    }
    PQconninfoFree(opts);
    return at < size;
}

/* A new empty database for this run, its DSN in out. */
static bool fresh_db(char *out, size_t size)
{
    if (n_dbs == (int)(sizeof(dbs) / sizeof(dbs[0])))
        return false;
    char *name = dbs[n_dbs], sql[128];
    snprintf(name, sizeof(dbs[0]), "s3orch_test_%d_%lld_%d", (int)getpid(), (long long)(mono_ns() % 1000000000),
             n_dbs);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (!admin_exec(admin_dsn, sql))
        return false;
    n_dbs++;
    return dsn_with_db(admin_dsn, name, out, size);
}

static int open_pg(const char *dsn, struct store **out)
{
    return store_pg_open(out, &(struct store_pg_config){.dsn = dsn});
}

static int store_open_again(struct store **out) { return open_pg(store_dsn, out); }

/* Runs one SQL statement on the database of dsn; the first column of the first row as a number, -1 on failure. */
static long long db_value(const char *dsn, const char *sql)
{
    PGconn *c = PQconnectdb(dsn);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    long long v = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = atoll(PQgetvalue(r, 0, 0));
    else if (r && PQresultStatus(r) == PGRES_COMMAND_OK)
        v = 0;
    else
        fprintf(stderr, "postgres: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return v;
}

/* --- migrations ------------------------------------------------------------------------------------------------- */

struct opener {
    const char *dsn;
    pthread_barrier_t *go;
    int res;
    struct store *s;
};

static void *opener_main(void *arg)
{
    struct opener *o = arg;
    pthread_barrier_wait(o->go);
    o->res = open_pg(o->dsn, &o->s);
    return NULL;
}

/* Two instances starting at once on an empty database: both open, the schema is applied once. */
static void test_migrate_race(void)
{
    char dsn[1024];
    if (!fresh_db(dsn, sizeof(dsn))) {
        CHECK(!"a fresh database");
        return;
    }
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct opener os[2] = {{dsn, &go, 1, NULL}, {dsn, &go, 1, NULL}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, opener_main, &os[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    CHECK_EQ(os[0].res, 0);
    CHECK_EQ(os[1].res, 0);
    /* One row per migration: a second application would have failed on its CREATE TABLE, or added rows. */
    long long rows = db_value(dsn, "SELECT count(*) FROM s3orch_schema");
    CHECK(rows >= 1);
    CHECK_EQ(rows, db_value(dsn, "SELECT max(version) FROM s3orch_schema"));
    for (int i = 0; i < 2; i++)
        if (os[i].s) {
            CHECK_STR(store_kind(os[i].s), "postgres");
            CHECK_EQ(store_bucket_create(os[i].s, i ? "race1" : "race0", "AK"), 0);
            store_close(os[i].s);
        }

    /* A database written by a newer s3orch is refused. */
    CHECK_EQ(db_value(dsn, "INSERT INTO s3orch_schema (version) VALUES (9999)"), 0);
    struct store *s = NULL;
    CHECK_EQ(open_pg(dsn, &s), -EPROTONOSUPPORT);
    CHECK(s == NULL);
}

/* A server that is not there: -EIO, quickly enough. */
static void test_unreachable(void)
{
    struct store *s = NULL;
    int64_t t0 = mono_ns();
    CHECK_EQ(store_pg_open(&s, &(struct store_pg_config){.dsn = "host=127.0.0.1 port=1 connect_timeout=2",
                                                           .timeout_ns = 3000000000LL}),
             -EIO);
    CHECK(s == NULL);
    CHECK(mono_ns() - t0 < 5000000000LL);
}

/* --- the server closing connections -------------------------------------------------------------------------- */

/* Ends every connection to the suite's database and waits until the server closed them (a blocking wait, also
 * on a ring thread: this is a test). */
static void terminate_connections(void)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s' "
             "AND pid <> pg_backend_pid()",
             dbs[0]);
    CHECK(db_value(admin_dsn, sql) >= 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'", dbs[0]);
    int tries = 0;
    while (db_value(admin_dsn, sql) > 0 && ++tries < 500)
        usleep(10000);
    CHECK(tries < 500);
    usleep(100000); /* a backend leaves pg_stat_activity a moment before its socket closes */
}

/* Connections the server closed while idle are made again before the next call, which then succeeds, write or
 * read. From a plain thread and from coroutines alike. */
static void reconnect_calls(void *arg)
{
    int *res = arg;
    struct store_object g;
    terminate_connections();
    res[0] = store_object_get(st, "recon", "k", &g);
    store_object_free(&g);
    terminate_connections();
    res[1] = put("recon", "k", "e2", "A", "recon/k2");
    res[2] = put("recon", "k", "e3", "A", "recon/k3");
    res[3] = store_object_get(st, "recon", "k", &g);
    res[4] = res[3] == 0 && str_eq(g.etag, "e3");
    store_object_free(&g);
}

static void test_reconnect(void)
{
    CHECK_EQ(put("recon", "k", "e1", "A", "recon/k1"), 0);
    int plain[5], ring[5] = {1, 1, 1, 1, 0};
    reconnect_calls(plain);
    CHECK_EQ(plain[0], 0);
    CHECK_EQ(plain[1], 0);
    CHECK_EQ(plain[2], 0);
    CHECK_EQ(plain[3], 0);
    CHECK(plain[4]);
    if (have_uring) {
        run_on_rings(1, reconnect_calls, ring, 1, sizeof(ring));
        CHECK_EQ(ring[0], 0);
        CHECK_EQ(ring[1], 0);
        CHECK_EQ(ring[2], 0);
        CHECK_EQ(ring[3], 0);
        CHECK(ring[4]);
    }
    CHECK_EQ(store_object_delete(st, "recon", "k", NULL), 0);
    cleanup_drain();
}

/* --- two instances ---------------------------------------------------------------------------------------------- */

enum { RIVAL_COMMITS = 150 };

struct rival {
    struct store *s;
    int index;
    pthread_barrier_t *go;
    int failures;
    size_t displaced;
    char (*displaced_keys)[32]; /* RIVAL_COMMITS * 2 slots */
};

static void *rival_main(void *arg)
{
    struct rival *r = arg;
    pthread_barrier_wait(r->go);
    for (int i = 0; i < RIVAL_COMMITS; i++) {
        char bkey[32];
        snprintf(bkey, sizeof(bkey), "rival/%d/%d", r->index, i);
        struct store_copy c = {.backend = "A", .backend_key = bkey, .size = 10};
        struct store_object o = mkobj("rival", "k", bkey, &c, 1);
        struct store_cleanup_list d;
        if (store_object_commit(r->s, 0, &o, &d) != 0) {
            r->failures++;
            continue;
        }
        for (size_t j = 0; j < d.n && r->displaced < 2 * RIVAL_COMMITS; j++)
            snprintf(r->displaced_keys[r->displaced++], 32, "%s", d.v[j].backend_key);
        store_cleanup_list_free(&d);
    }
    return NULL;
}

static int str_cmp(const void *a, const void *b) { return strcmp(a, b); }

static void *job_lock_elsewhere(void *arg)
{
    bool held;
    *(int *)arg = store_job_lock(st, STORE_JOB_CLEANER, &held);
    return NULL;
}

/* A job lock lives on its session: when the server ends that session, another instance can take the lock, and
 * the first learns it lost it at its next ask. Only the thread that took the handle's first lock takes others. */
static void test_job_lock_session(void)
{
    struct store *other = NULL;
    CHECK_EQ(open_pg(store_dsn, &other), 0);
    if (!other)
        return;
    bool held = false;
    CHECK_EQ(store_job_lock(st, STORE_JOB_CLEANER, &held), 0);
    CHECK(held);
    CHECK_EQ(store_job_lock(other, STORE_JOB_CLEANER, &held), 0);
    CHECK(!held);
    terminate_connections();
    CHECK(job_held_soon(other, STORE_JOB_CLEANER));
    CHECK_EQ(store_job_lock(st, STORE_JOB_CLEANER, &held), 0);
    CHECK(!held);
    pthread_t t;
    int res = 0;
    CHECK_EQ(pthread_create(&t, NULL, job_lock_elsewhere, &res), 0);
    pthread_join(t, NULL);
    CHECK_EQ(res, -EXDEV);
    store_close(other);
    CHECK(job_held_soon(st, STORE_JOB_CLEANER));
    CHECK_EQ(store_job_unlock(st, STORE_JOB_CLEANER), 0);
}

/* Two store handles (two s3orch instances) on two threads commit one key over and over: every commit succeeds,
 * every version but the last is displaced exactly once, and the queue holds exactly those copies. */
static void test_two_instances_one_key(void)
{
    cleanup_drain();
    static char keys[2][2 * RIVAL_COMMITS][32];
    struct store *other = NULL;
    CHECK_EQ(open_pg(store_dsn, &other), 0);
    if (!other)
        return;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct rival rs[2] = {{st, 0, &go, 0, 0, keys[0]}, {other, 1, &go, 0, 0, keys[1]}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, rival_main, &rs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    CHECK_EQ(rs[0].failures + rs[1].failures, 0);
    CHECK_EQ(rs[0].displaced + rs[1].displaced, 2 * RIVAL_COMMITS - 1);

    /* Each displaced copy once, and never the live one. */
    static char all[4 * RIVAL_COMMITS][32];
    size_t n = 0;
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < rs[i].displaced; j++)
            memcpy(all[n++], rs[i].displaced_keys[j], 32);
    qsort(all, n, 32, str_cmp);
    size_t dups = 0;
    for (size_t i = 1; i < n; i++)
        dups += strcmp(all[i - 1], all[i]) == 0;
    CHECK_EQ(dups, 0);
    struct store_object g;
    CHECK_EQ(store_object_get(other, "rival", "k", &g), 0);
    CHECK_EQ(g.n_copies, 1);
    if (g.n_copies == 1)
        CHECK(bsearch(g.copies[0].backend_key, all, n, 32, str_cmp) == NULL);
    store_object_free(&g);
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, SIZE_MAX, &due), 0);
    CHECK_EQ(due.n, n);
    size_t missing = 0;
    for (size_t i = 0; i < due.n; i++)
        missing += bsearch(due.v[i].backend_key, all, n, 32, str_cmp) == NULL;
    CHECK_EQ(missing, 0);
    store_cleanup_list_free(&due);
    store_close(other);
    CHECK_EQ(store_object_delete(st, "rival", "k", NULL), 0);
    cleanup_drain();
}

int main(void)
{
    admin_dsn = getenv("S3ORCH_TEST_PG_DSN");
    if (!admin_dsn || !admin_dsn[0]) {
        printf("store (postgres): skipped, S3ORCH_TEST_PG_DSN is not set\n");
        return UNIT_SKIP;
    }
    batching = false;
    probe_uring();
    if (!fresh_db(store_dsn, sizeof(store_dsn)))
        return 1;
    int err = open_pg(store_dsn, &st);
    if (err < 0) {
        fprintf(stderr, "cannot open the store: %s\n", strerror(-err));
        return 1;
    }
    CHECK_STR(store_kind(st), "postgres");
    contract_suite();
    /* PostgreSQL's own */
    RUN(test_two_instances_one_key);
    RUN(test_job_lock_session);
    RUN(test_reconnect);
    RUN(test_migrate_race);
    RUN(test_unreachable);
    store_close(st);
    for (int i = 0; i < n_dbs; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", dbs[i]);
        admin_exec(admin_dsn, sql);
    }
    return unit_finish("store (postgres)");
}
