/* The SQLite schema and its migrations. The database's version is PRAGMA user_version (0 for a new or empty
 * file); migration i brings version i to i + 1. Each runs in its own transaction with the version bump, so a
 * crash leaves the database at a version boundary. Migrations are append-only: never edit a shipped one. */
#include <errno.h>
#include <stdio.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

static const char *const migrations[] = {
    /* 1: objects with copies, PUT intents, cleanup queue, buckets created through the API. */
    "CREATE TABLE buckets ("
    "  name TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"

    /* One row per (bucket, key): the current version. */
    "CREATE TABLE objects ("
    "  id INTEGER PRIMARY KEY,"
    "  bucket TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  etag TEXT NOT NULL,"
    "  checksum_algorithm TEXT,"
    "  checksum_value TEXT,"
    "  checksum_type TEXT,"
    "  content_type TEXT,"
    "  content_encoding TEXT,"
    "  content_disposition TEXT,"
    "  content_language TEXT,"
    "  cache_control TEXT,"
    "  expires TEXT,"
    "  user_meta BLOB," /* name NUL value NUL ..., in the order given */
    "  tagging TEXT,"
    "  storage_class TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL"
    ");"
    /* Lookups and listings (M5): byte order of keys within a bucket (BINARY collation is memcmp). */
    "CREATE UNIQUE INDEX objects_bucket_key ON objects(bucket, key);"

    /* seq keeps the order copies were committed in. */
    "CREATE TABLE copies ("
    "  seq INTEGER PRIMARY KEY,"
    "  object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
    "  backend TEXT NOT NULL,"
    "  backend_key TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (object_id, backend)"
    ");"
    /* Is this backend key live? (cleanup safety, and later the reconciler and drain). */
    "CREATE INDEX copies_backend_key ON copies(backend, backend_key);"

    /* Intent and cleanup ids are handed to callers who come back with them later: AUTOINCREMENT so an id is
     * never reused for another row after its own was deleted. */
    "CREATE TABLE intents ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  bucket TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  backend TEXT NOT NULL,"
    "  backend_key TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ");"
    "CREATE INDEX intents_created ON intents(created_ms);"
    "CREATE INDEX intents_bucket_key ON intents(bucket, key);"
    "CREATE INDEX intents_backend_key ON intents(backend, backend_key);"

    "CREATE TABLE cleanup ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  backend TEXT NOT NULL,"
    "  backend_key TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (backend, backend_key)"
    ");"
    "CREATE INDEX cleanup_due ON cleanup(next_attempt_ms);",

    /* 2: multipart uploads (S9) and their parts. An upload holds the object's headers as objects do, in the
     * same column order (sqlite_headers.c reads and binds both). */
    "CREATE TABLE uploads ("
    "  id TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  backend TEXT NOT NULL,"
    "  backend_key TEXT NOT NULL,"
    "  backend_upload_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  bucket TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  checksum_algorithm TEXT,"
    "  checksum_type TEXT,"
    "  content_type TEXT,"
    "  content_encoding TEXT,"
    "  content_disposition TEXT,"
    "  content_language TEXT,"
    "  cache_control TEXT,"
    "  expires TEXT,"
    "  user_meta BLOB,"
    "  tagging TEXT,"
    "  storage_class TEXT"
    ");"
    /* Listings: by key, then by initiation, then by id. */
    "CREATE INDEX uploads_bucket_key ON uploads(bucket, key, created_ms, id);"
    /* An upload's backend key is reserved like a pending intent's (cleanup safety). */
    "CREATE INDEX uploads_backend_key ON uploads(backend, backend_key);"

    "CREATE TABLE parts ("
    "  upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,"
    "  number INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  etag TEXT NOT NULL,"
    "  checksum_value TEXT,"
    "  backend_etag TEXT NOT NULL,"
    "  modified_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (upload_id, number)"
    ") WITHOUT ROWID;",

    /* 3: the part sizes of an object completed from a multipart upload (GetObject ?partNumber=N), encoded by
     * sqlite_part_sizes.c; NULL for an object written whole, as every object written before is. */
    "ALTER TABLE objects ADD COLUMN part_sizes BLOB;",

    /* 4: per-backend usage counters by calendar month (O3). */
    "CREATE TABLE usage ("
    "  month TEXT NOT NULL,"
    "  backend TEXT NOT NULL,"
    "  api_calls INTEGER NOT NULL,"
    "  egress_bytes INTEGER NOT NULL,"
    "  ingress_bytes INTEGER NOT NULL,"
    "  PRIMARY KEY (month, backend)"
    ") WITHOUT ROWID;",

    /* 5: backend state set by operators (O1, M4); an active backend has no row. */
    "CREATE TABLE backend_state ("
    "  backend TEXT PRIMARY KEY,"
    "  state INTEGER NOT NULL,"
    "  changed_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",

    /* 6: every PUT inserts and deletes an intent, and paid for two indexes that only rare calls read: the reaper's
     * search for old intents and the bucket-empty check. The table holds the PUTs in flight and the few a crash
     * left behind, so those calls scan it instead. Pinned 4 KiB PUTs at c=32, three paired runs: 4-14% more a
     * second, 3-12% less CPU each. */
    "DROP INDEX IF EXISTS intents_created; DROP INDEX IF EXISTS intents_bucket_key;",
};

enum { SCHEMA_VERSION = sizeof(migrations) / sizeof(migrations[0]) };

int store_sqlite_schema_version(void) { return SCHEMA_VERSION; }

static int schema_read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Applies migration `from` (to version from + 1) unless another process did it first. */
static int schema_apply(sqlite3 *db, const char *path, int from)
{
    char *msg = NULL, bump[64];
    int version = -1;
    /* IMMEDIATE: two processes opening the same new file must not both migrate it. */
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = schema_read_version(db, &version);
    if (rc == SQLITE_OK && version == from) {
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", from + 1);
        rc = sqlite3_exec(db, migrations[from], NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, bump, NULL, NULL, &msg);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("store: %s: migration to schema version %d failed: %s", path, from + 1,
                  msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -EIO;
    }
    return 0;
}

int store_sqlite_schema_migrate(sqlite3 *db, const char *path)
{
    int version;
    int rc = schema_read_version(db, &version);
    if (rc != SQLITE_OK) {
        log_error("store: %s: cannot read the schema version: %s", path, sqlite3_errmsg(db));
        return -EIO;
    }
    if (version > SCHEMA_VERSION) {
        log_error("store: %s has schema version %d, newer than the %d this s3orch knows: run a newer s3orch "
                  "(downgrading the database is not supported)",
                  path, version, SCHEMA_VERSION);
        return -EPROTONOSUPPORT;
    }
    if (version < 0) {
        log_error("store: %s: invalid schema version %d", path, version);
        return -EIO;
    }
    if (version > 0 && version < SCHEMA_VERSION)
        log_info("store: %s: migrating schema from version %d to %d", path, version, SCHEMA_VERSION);
    for (int v = version; v < SCHEMA_VERSION; v++) {
        int err = schema_apply(db, path, v);
        if (err < 0)
            return err;
    }
    return 0;
}
