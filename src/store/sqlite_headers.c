/* The headers an object is stored with (sqlite_impl.h): one column each, and user metadata as one BLOB. Objects
 * and uploads share them so that Complete hands the object exactly what Create recorded. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

/* User metadata is one BLOB: name NUL value NUL ... in the caller's order. Header values cannot hold NUL, so
 * the split is unambiguous and any UTF-8 round-trips byte for byte. No metadata binds SQL NULL. */
static int meta_bind(sqlite3_stmt *st, int idx, const struct store_object *o)
{
    size_t len = 0;
    for (size_t i = 0; i < o->n_meta; i++)
        len += strlen(o->meta[i].name) + strlen(o->meta[i].value) + 2;
    if (!len)
        return sqlite3_bind_null(st, idx);
    if (len > INT32_MAX)
        return SQLITE_TOOBIG;
    char *blob = malloc(len), *out = blob;
    if (!blob)
        return SQLITE_NOMEM;
    for (size_t i = 0; i < o->n_meta; i++) {
        size_t n = strlen(o->meta[i].name) + 1, v = strlen(o->meta[i].value) + 1;
        memcpy(out, o->meta[i].name, n);
        memcpy(out + n, o->meta[i].value, v);
        out += n + v;
    }
    /* SQLite owns the copy from here, failure included, and frees it when the parameter is bound again. */
    return sqlite3_bind_blob(st, idx, blob, (int)len, free);
}

/* Decodes the BLOB in column col into o->meta; the strings point into one copy of the BLOB in the arena. */
static int meta_decode(sqlite3_stmt *st, int col, struct store_arena **a, struct store_object *o)
{
    const char *blob = sqlite3_column_blob(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!blob || len == 0)
        return 0;
    size_t nuls = 0;
    for (size_t i = 0; i < len; i++)
        nuls += blob[i] == 0;
    if (nuls % 2 || blob[len - 1] != 0) {
        log_error("store: malformed user metadata on %s/%s", o->bucket, o->key);
        return -EIO;
    }
    char *copy = store_arena_alloc(a, len);
    struct store_meta *meta = store_arena_alloc(a, nuls / 2 * sizeof(*meta));
    if (!copy || !meta)
        return -ENOMEM;
    memcpy(copy, blob, len);
    for (size_t i = 0, off = 0; i < nuls / 2; i++) {
        meta[i].name = copy + off;
        off += strlen(copy + off) + 1;
        meta[i].value = copy + off;
        off += strlen(copy + off) + 1;
    }
    o->meta = meta;
    o->n_meta = nuls / 2;
    return 0;
}

int store_sqlite_bind_headers(sqlite3_stmt *st, int first, const struct store_object *o)
{
    const char *before[] = {o->content_type,     o->content_encoding, o->content_disposition,
                            o->content_language, o->cache_control,    o->expires};
    enum { N_BEFORE = sizeof(before) / sizeof(before[0]) };
    /* Binding a string copies nothing (SQLITE_STATIC) and so cannot fail on a well-formed statement: only the
     * metadata can (out of memory), so ORing the codes keeps that one intact. */
    int rc = meta_bind(st, first + N_BEFORE, o);
    for (int i = 0; i < N_BEFORE; i++)
        rc |= store_sqlite_bind_str(st, first + i, before[i]);
    return rc | store_sqlite_bind_str(st, first + N_BEFORE + 1, o->tagging) |
           store_sqlite_bind_str(st, first + N_BEFORE + 2, o->storage_class);
}

int store_sqlite_col_headers(sqlite3_stmt *st, int first, struct store_arena **a, struct store_object *o)
{
    const char **before[] = {&o->content_type,     &o->content_encoding, &o->content_disposition,
                             &o->content_language, &o->cache_control,    &o->expires};
    enum { N_BEFORE = sizeof(before) / sizeof(before[0]) };
    int err = 0;
    for (int i = 0; !err && i < N_BEFORE; i++)
        err = store_sqlite_col_str(st, first + i, a, before[i]);
    if (!err)
        err = meta_decode(st, first + N_BEFORE, a, o);
    if (!err)
        err = store_sqlite_col_str(st, first + N_BEFORE + 1, a, &o->tagging);
    if (!err)
        err = store_sqlite_col_str(st, first + N_BEFORE + 2, a, &o->storage_class);
    return err;
}
