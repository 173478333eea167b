/* The part sizes of an object completed from a multipart upload (sqlite_impl.h): one BLOB of runs, each run the
 * number of consecutive parts of one size and that size, both as unsigned LEB128 varints. SDKs upload parts of
 * one size but the last, so a typical object takes a few bytes whatever its part count, and even 10,000 sizes
 * that all differ stay within 110 KB. An object written whole binds SQL NULL. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

enum { VARINT_MAX = 9 }; /* bytes of a varint holding 63 bits: every int64_t >= 0 */

/* Writes v at p when p is not NULL; its length either way. */
static size_t varint_put(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        if (p)
            p[n] = b | (v ? 0x80 : 0);
        n++;
    } while (v);
    return n;
}

/* Reads a varint of at most VARINT_MAX bytes, so the value fits int64_t; false when it is cut off or longer. */
static bool varint_get(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; *p < end && shift < 7 * VARINT_MAX; shift += 7) {
        unsigned char b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Encodes o's sizes at p when p is not NULL; the encoding's length either way. */
static size_t runs_encode(const struct store_object *o, unsigned char *p)
{
    size_t len = 0;
    for (size_t i = 0, run; i < o->n_parts; i += run) {
        for (run = 1; i + run < o->n_parts && o->part_sizes[i + run] == o->part_sizes[i]; run++)
            ;
        len += varint_put(p ? p + len : NULL, run);
        len += varint_put(p ? p + len : NULL, (uint64_t)o->part_sizes[i]);
    }
    return len;
}

int store_sqlite_bind_part_sizes(sqlite3_stmt *st, int idx, const struct store_object *o)
{
    if (!o->n_parts)
        return sqlite3_bind_null(st, idx);
    /* At most STORE_PART_NUMBER_MAX runs of 2 + VARINT_MAX bytes: far below INT_MAX. */
    size_t len = runs_encode(o, NULL);
    unsigned char *blob = malloc(len);
    if (!blob)
        return SQLITE_NOMEM;
    runs_encode(o, blob);
    /* SQLite owns the copy from here, failure included, and frees it when the parameter is bound again. */
    return sqlite3_bind_blob(st, idx, blob, (int)len, free);
}

/* Walks the runs in blob, checking that they hold 1..STORE_PART_NUMBER_MAX sizes summing to size; stores the
 * sizes at out when out is not NULL. The count of sizes, or -1 when the BLOB is malformed. */
static int runs_decode(const unsigned char *p, const unsigned char *end, int64_t size, int64_t *out)
{
    int n = 0;
    uint64_t left = size < 0 ? 0 : (uint64_t)size;
    while (p < end) {
        uint64_t run, part;
        if (!varint_get(&p, end, &run) || !varint_get(&p, end, &part))
            return -1;
        if (run == 0 || run > (uint64_t)(STORE_PART_NUMBER_MAX - n))
            return -1;
        /* part * run <= left, checked without overflowing. */
        if (part > left / run)
            return -1;
        left -= part * run;
        for (int i = 0; out && i < (int)run; i++)
            out[n + i] = (int64_t)part;
        n += (int)run;
    }
    return n > 0 && left == 0 ? n : -1;
}

int store_sqlite_col_part_sizes(sqlite3_stmt *st, int col, struct store_arena **a, struct store_object *o)
{
    const unsigned char *blob = sqlite3_column_blob(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (len == 0)
        return 0; /* SQL NULL: written whole (an empty BLOB is never written) */
    if (!blob)
        return -ENOMEM;
    /* A first walk validates and counts, so the array is allocated once, at its size. */
    int n = runs_decode(blob, blob + len, o->size, NULL);
    if (n < 0) {
        log_error("store: malformed part sizes on %s/%s", o->bucket, o->key);
        return -EIO;
    }
    int64_t *sizes = store_arena_alloc(a, (size_t)n * sizeof(*sizes));
    if (!sizes)
        return -ENOMEM;
    runs_decode(blob, blob + len, o->size, sizes);
    o->part_sizes = sizes;
    o->n_parts = (size_t)n;
    return 0;
}
