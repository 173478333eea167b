/* The PostgreSQL schema's migrations (pg_migrations/NNNN_*.sql, compiled in by build.zig). The database's version
 * is the highest in table s3orch_schema (0 before migration 1 made it); migration i brings version i to i + 1,
 * with its version row in the same transaction, so a crash leaves the database at a version boundary.
 *
 * Instances starting together take turns under a session advisory lock: the first applies what is missing, the
 * others then find nothing to do. Migrations are append-only: never edit a shipped one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_impl.h"
#include "util/log.h"

/* The advisory lock's key: "s3orch" as a number, unlikely to collide with another application's. */
#define SCHEMA_LOCK "126664750293864"

/* The database's schema version into *version. */
static int schema_read_version(struct store_pg_call *k, int *version)
{
    PGresult *r;
    int err = store_pg_exec_sql(k, "SELECT to_regclass('s3orch_schema') IS NOT NULL", &r);
    bool exists = !err && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    *version = 0;
    if (err < 0 || !exists)
        return err;
    err = store_pg_exec_sql(k, "SELECT coalesce(max(version), 0) FROM s3orch_schema", &r);
    if (!err)
        *version = (int)store_pg_col_int(r, 0, 0);
    PQclear(r);
    return err;
}

/* Applies migration `from` (to version from + 1): its statements and the version row, one implicit transaction
 * (a multi-statement query without BEGIN runs as one). */
static int schema_apply(struct store_pg_call *k, int from)
{
    const char *sql = store_pg_migrations[from];
    size_t len = strlen(sql) + 96;
    char *text = malloc(len);
    if (!text)
        return -ENOMEM;
    snprintf(text, len, "%s;\nINSERT INTO s3orch_schema (version) VALUES (%d)", sql, from + 1);
    PGresult *r;
    int err = store_pg_exec_sql(k, text, &r);
    PQclear(r);
    free(text);
    if (err < 0)
        log_error("store: migration to schema version %d failed", from + 1);
    return err;
}

static int schema_migrate_locked(struct store_pg_call *k)
{
    int version;
    int err = schema_read_version(k, &version);
    if (err < 0)
        return err;
    if (version > store_pg_migrations_count) {
        log_error("store: the database has schema version %d, newer than the %d this s3orch knows: run a newer "
                  "s3orch (downgrading the database is not supported)",
                  version, store_pg_migrations_count);
        return -EPROTONOSUPPORT;
    }
    if (version > 0 && version < store_pg_migrations_count)
        log_info("store: migrating the schema from version %d to %d", version, store_pg_migrations_count);
    for (int v = version; !err && v < store_pg_migrations_count; v++)
        err = schema_apply(k, v);
    return err;
}

int store_pg_schema_migrate(struct store_pg_call *k)
{
    PGresult *r;
    int err = store_pg_exec_sql(k, "SELECT pg_advisory_lock(" SCHEMA_LOCK ")", &r);
    PQclear(r);
    if (err < 0)
        return err;
    err = schema_migrate_locked(k);
    /* The lock is the session's: closing a broken connection releases it as well. */
    if (!k->conn->broken) {
        int unlock = store_pg_exec_sql(k, "SELECT pg_advisory_unlock(" SCHEMA_LOCK ")", &r);
        PQclear(r);
        if (!err)
            err = unlock;
    }
    return err;
}
