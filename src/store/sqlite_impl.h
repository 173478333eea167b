/* The SQLite store's internals, shared by its files: the handle, the prepared statement cache, column and bind
 * helpers, and the executors of each request kind. Everything here runs on the store thread (or, for
 * store_sqlite_schema_migrate, in store_sqlite_open before that thread starts). Private to src/store/. */
#ifndef S3ORCH_STORE_SQLITE_IMPL_H
#define S3ORCH_STORE_SQLITE_IMPL_H

#include <sqlite3.h>

#include "store/store_arena.h"
#include "store/store_impl.h"

/* Every statement the store runs, prepared once on first use and kept (SQLITE_PREPARE_PERSISTENT). */
enum store_sqlite_stmt {
    STMT_BEGIN,
    STMT_BEGIN_IMMEDIATE,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_OBJECT_GET,
    STMT_OBJECT_FIND,
    STMT_OBJECT_UPSERT,
    STMT_OBJECT_DELETE,
    STMT_OBJECT_SET_TAGGING,
    STMT_COPIES_GET,
    STMT_COPIES_DELETE,
    STMT_COPY_INSERT,
    STMT_LIST_GT,
    STMT_LIST_GE,
    STMT_UPLOAD_INSERT,
    STMT_UPLOAD_GET,
    STMT_UPLOAD_EXISTS,
    STMT_UPLOAD_TAKE,
    STMT_UPLOAD_POSITION,
    STMT_UPLOADS_GT,
    STMT_UPLOADS_GE,
    STMT_PART_PUT,
    STMT_PARTS_LIST,
    STMT_INTENT_INSERT,
    STMT_INTENT_GET,
    STMT_INTENT_DELETE,
    STMT_INTENTS_OLDER,
    STMT_CLEANUP_QUEUE,
    STMT_CLEANUP_GET,
    STMT_CLEANUP_FORGET,
    STMT_CLEANUP_DUE,
    STMT_CLEANUP_DONE,
    STMT_CLEANUP_RETRY,
    STMT_BUCKET_INSERT,
    STMT_BUCKET_GET,
    STMT_BUCKET_USED,
    STMT_BUCKET_DELETE,
    STMT_BUCKET_LIST,
    STMT_BACKEND_USAGE,
    STMT_USAGE_ADD,
    STMT_USAGE_GET,
    STMT_BACKEND_STATE_PUT,
    STMT_BACKEND_STATE_DELETE,
    STMT_BACKEND_STATES,
    STMT_COUNT
};

struct store_sqlite {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *stmts[STMT_COUNT];
    unsigned max_batch;
    struct store_req **batch; /* max_batch slots, the store thread's */

    /* The queue callers push to; the store thread takes it whole (up to max_batch). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct store_req *head, *tail;
    bool stop;
    pthread_t thread;

    char *path;                     /* the database file: the job locks' files are named after it */
    int job_fd[STORE_JOB_COUNT];    /* the flock()ed file of each job lock this handle holds, else -1 */
};

/* The statement, reset and ready for binding, or NULL when it cannot be prepared (logged). Reset it again
 * after use (store_sqlite_reset) so that no statement stays active across requests. */
sqlite3_stmt *store_sqlite_stmt(struct store_sqlite *ss, enum store_sqlite_stmt id);
void store_sqlite_reset(sqlite3_stmt *st);
/* Maps a SQLite result code to -errno (see store.h), logging the unexpected ones with the database's message. */
int store_sqlite_errno(struct store_sqlite *ss, int rc);
/* Steps a statement that returns no rows to its end and resets it: 0 or -errno. */
int store_sqlite_exec(struct store_sqlite *ss, sqlite3_stmt *st);
/* Runs statement id, which returns no rows, with a row id as its one parameter: 0 or -errno. */
int store_sqlite_exec_id(struct store_sqlite *ss, enum store_sqlite_stmt id, int64_t row_id);

/* Reads one result row into elem (zeroed; strings into the arena). 0 or -errno. */
typedef int (*store_sqlite_row_fn)(sqlite3_stmt *st, void *elem, struct store_arena **a);
/* Steps st to its end (then resets it), reading each row with read_row into a new element of an arena array of
 * elem_size bytes each. On success *v, *n and *mem own the rows (NULL, 0, NULL for none); on failure, nothing. */
int store_sqlite_rows(struct store_sqlite *ss, sqlite3_stmt *st, size_t elem_size, store_sqlite_row_fn read_row,
                      void **v, size_t *n, struct store_arena **mem);

/* Binds a string without copying it (it must outlive the statement's use); NULL binds SQL NULL. */
int store_sqlite_bind_str(sqlite3_stmt *st, int idx, const char *v);
/* Copies a text column into the arena; SQL NULL gives *dst = NULL. 0 or -ENOMEM. */
int store_sqlite_col_str(sqlite3_stmt *st, int col, struct store_arena **a, const char **dst);
/* Whether a text column equals s (false for SQL NULL). */
bool store_sqlite_col_equals(sqlite3_stmt *st, int col, const char *s);

/* The headers an object is stored with, which an upload also holds for the object it becomes: content_type,
 * content_encoding, content_disposition, content_language, cache_control, expires, user_meta, tagging and
 * storage_class, as STORE_SQLITE_HEADERS consecutive columns (HEADER_COLUMNS in sqlite.c; sqlite_headers.c). */
enum { STORE_SQLITE_HEADERS = 9 };
/* Binds o's headers to parameters first.. on; the SQLite result code. */
int store_sqlite_bind_headers(sqlite3_stmt *st, int first, const struct store_object *o);
/* Reads the headers in columns first.. into o, strings copied into the arena (o->bucket and o->key name the
 * object in a log line should the metadata be malformed). 0 or -errno. */
int store_sqlite_col_headers(sqlite3_stmt *st, int first, struct store_arena **a, struct store_object *o);

/* The part sizes of an object completed from a multipart upload, as one BLOB column (sqlite_part_sizes.c); SQL
 * NULL for an object written whole. Bind: the SQLite result code. Read: into o->part_sizes and o->n_parts, the
 * array in the arena, checked against o->size (read it first); 0 or -errno (-EIO when malformed). */
int store_sqlite_bind_part_sizes(sqlite3_stmt *st, int idx, const struct store_object *o);
int store_sqlite_col_part_sizes(sqlite3_stmt *st, int col, struct store_arena **a, struct store_object *o);

/* A position in a walk over a bucket's keys in byte order (sqlite_list.c): the next row read has a key > pos, or
 * >= pos when inclusive. */
struct store_sqlite_cursor {
    char pos[STORE_KEY_MAX + 1];
    size_t len;
    bool inclusive;
};
/* Byte order of keys: memcmp, then the shorter first. */
int store_sqlite_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Starts at the prefix, or just after marker when that sorts at or after the prefix. */
void store_sqlite_cursor_start(struct store_sqlite_cursor *c, const char *prefix, const char *marker);
/* Moves c past every key that starts with s[0..len) (a common prefix). False when nothing sorts after them. */
bool store_sqlite_cursor_skip(struct store_sqlite_cursor *c, const char *s, size_t len);
/* Statement gt (key > ?2) or ge (key >= ?2) as c says, bound to bucket (?1) and c, or NULL (logged). */
sqlite3_stmt *store_sqlite_cursor_seek(struct store_sqlite *ss, const struct store_sqlite_cursor *c,
                                       enum store_sqlite_stmt gt, enum store_sqlite_stmt ge, const char *bucket);

/* A cleanup list under construction (the output of commit, delete and cleanup_due). */
struct store_sqlite_cleanups {
    struct store_arena *mem;
    void *v;
    size_t n, cap;
};
/* Queues (backend, backend_key) for cleanup, or updates its row; appends the row to *out when out is not NULL
 * (the strings must then live in out->mem) and stores its id in *id when id is not NULL. */
int store_sqlite_cleanup_queue(struct store_sqlite *ss, const char *backend, const char *backend_key, int64_t size,
                               const char *reason, int64_t next_attempt_ms, struct store_sqlite_cleanups *out,
                               int64_t *id);
/* Hands a finished builder to a public list (moving its memory), or frees it. */
void store_sqlite_cleanups_give(struct store_sqlite_cleanups *b, struct store_cleanup_list *out);

/* sqlite_schema.c: brings the schema to the version this build knows, in ordered migrations.
 * -EPROTONOSUPPORT when the database is newer than that. */
int store_sqlite_schema_migrate(sqlite3 *db, const char *path);
/* The schema version this build writes. */
int store_sqlite_schema_version(void);

/* Makes o the current version of its key, as store_object_commit_if() says (sqlite_objects.c): what commit and
 * upload completion share. *displaced is filled only on success. */
int store_sqlite_commit(struct store_sqlite *ss, int64_t intent_id, const struct store_object *o,
                        const struct store_cond *cond, struct store_cleanup_list *displaced);

/* Executors, one per request kind: 0 or -errno, outputs filled only on success. */
int store_sqlite_object_get(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_object_commit(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_object_delete(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_object_set_tagging(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_list_objects(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_upload_create(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_upload_get(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_part_put(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_parts_list(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_upload_complete(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_upload_abort(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_uploads_list(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_intent_create(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_intent_drop(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_intents_older(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_cleanup_add(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_cleanup_due(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_cleanup_done(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_cleanup_retry(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_cleanup_done_many(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_bucket_create(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_bucket_delete(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_bucket_get(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_bucket_list(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_backend_usage(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_usage_add(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_backend_state_set(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_backend_states(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_job_lock(struct store_sqlite *ss, struct store_req *req);
int store_sqlite_job_unlock(struct store_sqlite *ss, struct store_req *req);

#endif
