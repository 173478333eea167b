/* Values to and from the PostgreSQL store's statements (postgres_impl.h): strings as bytea hex, integers as
 * decimal, the arrays the commit function takes, user metadata and part sizes. Parameter text lives in the call's
 * arena until the call ends. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_impl.h"
#include "util/log.h"
#include "util/hex.h"

enum { BYTEA_OID = 17 };

/* The call's first parameter error is the one store_pg_exec() reports. */
static void pg_param_fail(struct store_pg_call *k, int err)
{
    if (!k->err)
        k->err = err;
}

static void param_add(struct store_pg_call *k, const char *v)
{
    if (k->n_params == STORE_PG_PARAMS_MAX) {
        pg_param_fail(k, -EINVAL); /* more parameters than any statement has: a bug */
        return;
    }
    k->params[k->n_params++] = v;
}

/* Writes "\x" and the hex of s[0..len) at out; the bytes written. */
static size_t hex_put(char *out, const char *s, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        out[2 + 2 * i] = digits[(unsigned char)s[i] >> 4];
        out[3 + 2 * i] = digits[(unsigned char)s[i] & 15];
    }
    return 2 + 2 * len;
}

static void param_bytes(struct store_pg_call *k, const char *s, size_t len)
{
    char *out = store_arena_alloc(&k->tmp, 3 + 2 * len);
    if (!out) {
        pg_param_fail(k, -ENOMEM);
        param_add(k, NULL);
        return;
    }
    out[hex_put(out, s, len)] = 0;
    param_add(k, out);
}

void store_pg_param_str(struct store_pg_call *k, const char *s)
{
    if (!s) {
        param_add(k, NULL);
        return;
    }
    param_bytes(k, s, strlen(s));
}

void store_pg_param_int(struct store_pg_call *k, int64_t v)
{
    char *out = store_arena_alloc(&k->tmp, 24);
    if (!out) {
        pg_param_fail(k, -ENOMEM);
        param_add(k, NULL);
        return;
    }
    snprintf(out, 24, "%" PRId64, v);
    param_add(k, out);
}

void store_pg_param_bool(struct store_pg_call *k, bool v) { param_add(k, v ? "t" : "f"); }

/* User metadata: name NUL value NUL ... in the caller's order (header values hold no NUL, so the split is
 * unambiguous); no metadata binds SQL NULL. */
static void param_meta(struct store_pg_call *k, const struct store_object *o)
{
    size_t len = 0;
    for (size_t i = 0; i < o->n_meta; i++)
        len += strlen(o->meta[i].name) + strlen(o->meta[i].value) + 2;
    if (!len) {
        param_add(k, NULL);
        return;
    }
    char *blob = malloc(len), *p = blob;
    if (!blob) {
        pg_param_fail(k, -ENOMEM);
        param_add(k, NULL);
        return;
    }
    for (size_t i = 0; i < o->n_meta; i++) {
        size_t n = strlen(o->meta[i].name) + 1, v = strlen(o->meta[i].value) + 1;
        memcpy(p, o->meta[i].name, n);
        memcpy(p + n, o->meta[i].value, v);
        p += n + v;
    }
    param_bytes(k, blob, len);
    free(blob);
}

void store_pg_param_headers(struct store_pg_call *k, const struct store_object *o)
{
    const char *before[] = {o->content_type,     o->content_encoding, o->content_disposition,
                            o->content_language, o->cache_control,    o->expires};
    for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
        store_pg_param_str(k, before[i]);
    param_meta(k, o);
    store_pg_param_str(k, o->tagging);
    store_pg_param_str(k, o->storage_class);
}

/* An array literal of n elements, each written by put(i, out) (NULL out: its length only). */
static void param_array(struct store_pg_call *k, size_t n, const void *ctx,
                        size_t (*put)(const void *ctx, size_t i, char *out))
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += put(ctx, i, NULL) + 1;
    char *out = store_arena_alloc(&k->tmp, len);
    if (!out) {
        pg_param_fail(k, -ENOMEM);
        param_add(k, NULL);
        return;
    }
    size_t at = 0;
    out[at++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[at++] = ',';
        at += put(ctx, i, out + at);
    }
    out[at++] = '}';
    out[at] = 0;
    param_add(k, out);
}

static size_t put_int(int64_t v, char *out)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    if (out)
        memcpy(out, buf, (size_t)n);
    return (size_t)n;
}

/* A bytea element: quoted, its backslash doubled ("\\x6162"); hex digits need no other escape. */
static size_t put_bytea(const char *s, char *out)
{
    size_t len = strlen(s);
    if (out) {
        out[0] = '"';
        out[1] = '\\';
        hex_put(out + 2, s, len);
        out[4 + 2 * len] = '"';
    }
    return 5 + 2 * len;
}

static size_t put_part_size(const void *ctx, size_t i, char *out)
{
    return put_int(((const struct store_object *)ctx)->part_sizes[i], out);
}

static size_t put_copy_backend(const void *ctx, size_t i, char *out)
{
    return put_bytea(((const struct store_object *)ctx)->copies[i].backend, out);
}

static size_t put_copy_key(const void *ctx, size_t i, char *out)
{
    return put_bytea(((const struct store_object *)ctx)->copies[i].backend_key, out);
}

static size_t put_copy_size(const void *ctx, size_t i, char *out)
{
    return put_int(((const struct store_object *)ctx)->copies[i].size, out);
}

static size_t put_copy_created(const void *ctx, size_t i, char *out)
{
    return put_int(((const struct store_object *)ctx)->copies[i].created_ms, out);
}

static size_t put_int_elem(const void *ctx, size_t i, char *out) { return put_int(((const int64_t *)ctx)[i], out); }

void store_pg_param_int_array(struct store_pg_call *k, const int64_t *v, size_t n)
{
    param_array(k, n, v, put_int_elem);
}

void store_pg_param_part_sizes(struct store_pg_call *k, const struct store_object *o)
{
    if (!o->n_parts) {
        param_add(k, NULL);
        return;
    }
    param_array(k, o->n_parts, o, put_part_size);
}

void store_pg_param_copies(struct store_pg_call *k, const struct store_object *o)
{
    param_array(k, o->n_copies, o, put_copy_backend);
    param_array(k, o->n_copies, o, put_copy_key);
    param_array(k, o->n_copies, o, put_copy_size);
    param_array(k, o->n_copies, o, put_copy_created);
}

static size_t put_usage_backend(const void *ctx, size_t i, char *out)
{
    return put_bytea(((const struct store_usage *)ctx)[i].backend, out);
}

static size_t put_usage_api(const void *ctx, size_t i, char *out)
{
    return put_int(((const struct store_usage *)ctx)[i].api_calls, out);
}

static size_t put_usage_egress(const void *ctx, size_t i, char *out)
{
    return put_int(((const struct store_usage *)ctx)[i].egress_bytes, out);
}

static size_t put_usage_ingress(const void *ctx, size_t i, char *out)
{
    return put_int(((const struct store_usage *)ctx)[i].ingress_bytes, out);
}

void store_pg_param_usage(struct store_pg_call *k, const struct store_usage *d, size_t n)
{
    param_array(k, n, d, put_usage_backend);
    param_array(k, n, d, put_usage_api);
    param_array(k, n, d, put_usage_egress);
    param_array(k, n, d, put_usage_ingress);
}

/* --- columns ---------------------------------------------------------------------------------------------------- */

/* A bytea column's bytes (NUL-terminated in the arena, *len without it), or a text column's text as is. */
static int col_bytes(const PGresult *r, int row, int col, struct store_arena **a, const char **dst, size_t *len)
{
    *dst = NULL;
    *len = 0;
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    size_t n = (size_t)PQgetlength(r, row, col);
    if (PQftype(r, col) != BYTEA_OID) {
        *len = n;
        return store_arena_strndup(a, v, n, dst);
    }
    if (n < 2 || v[0] != '\\' || v[1] != 'x' || n % 2) {
        log_error("store: a bytea value not in hex (bytea_output)");
        return -EIO;
    }
    char *out = store_arena_alloc(a, (n - 2) / 2 + 1);
    if (!out)
        return -ENOMEM;
    for (size_t i = 2; i < n; i += 2) {
        int hi = hex_digit_value((unsigned char)v[i]), lo = hex_digit_value((unsigned char)v[i + 1]);
        if (hi < 0 || lo < 0) {
            log_error("store: a malformed bytea value");
            return -EIO;
        }
        out[(i - 2) / 2] = (char)(hi << 4 | lo);
    }
    *len = (n - 2) / 2;
    *dst = out;
    return 0;
}

int store_pg_col_str(const PGresult *r, int row, int col, struct store_arena **a, const char **dst)
{
    size_t len;
    return col_bytes(r, row, col, a, dst, &len);
}

int64_t store_pg_col_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Splits the metadata bytes into o->meta; the strings point into the arena's copy. */
static int col_meta(const PGresult *r, int row, int col, struct store_arena **a, struct store_object *o)
{
    const char *blob;
    size_t len;
    int err = col_bytes(r, row, col, a, &blob, &len);
    if (err < 0 || !blob || len == 0)
        return err;
    size_t nuls = 0;
    for (size_t i = 0; i < len; i++)
        nuls += blob[i] == 0;
    if (nuls % 2 || blob[len - 1] != 0) {
        log_error("store: malformed user metadata on %s/%s", o->bucket, o->key);
        return -EIO;
    }
    struct store_meta *meta = store_arena_alloc(a, nuls / 2 * sizeof(*meta));
    if (!meta)
        return -ENOMEM;
    for (size_t i = 0, off = 0; i < nuls / 2; i++) {
        meta[i].name = blob + off;
        off += strlen(blob + off) + 1;
        meta[i].value = blob + off;
        off += strlen(blob + off) + 1;
    }
    o->meta = meta;
    o->n_meta = nuls / 2;
    return 0;
}

int store_pg_col_headers(const PGresult *r, int row, int first, struct store_arena **a, struct store_object *o)
{
    const char **before[] = {&o->content_type,     &o->content_encoding, &o->content_disposition,
                             &o->content_language, &o->cache_control,    &o->expires};
    enum { N_BEFORE = sizeof(before) / sizeof(before[0]) };
    int err = 0;
    for (int i = 0; !err && i < N_BEFORE; i++)
        err = store_pg_col_str(r, row, first + i, a, before[i]);
    if (!err)
        err = col_meta(r, row, first + N_BEFORE, a, o);
    if (!err)
        err = store_pg_col_str(r, row, first + N_BEFORE + 1, a, &o->tagging);
    if (!err)
        err = store_pg_col_str(r, row, first + N_BEFORE + 2, a, &o->storage_class);
    return err;
}

/* "{5242880,5242880,17}": 1..STORE_PART_NUMBER_MAX sizes >= 0 that sum to o->size, or malformed. */
int store_pg_col_part_sizes(const PGresult *r, int row, int col, struct store_arena **a, struct store_object *o)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *p = PQgetvalue(r, row, col);
    size_t n = 1;
    for (const char *c = p; *c; c++)
        n += *c == ',';
    int64_t *sizes = n <= STORE_PART_NUMBER_MAX ? store_arena_alloc(a, n * sizeof(*sizes)) : NULL;
    if (!sizes)
        return n <= STORE_PART_NUMBER_MAX ? -ENOMEM : -EIO;
    int64_t left = o->size;
    bool ok = *p++ == '{';
    for (size_t i = 0; ok && i < n; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        ok = end != p && !errno && v >= 0 && v <= left && *end == (i + 1 < n ? ',' : '}');
        sizes[i] = v;
        left -= v;
        p = end + 1;
    }
    if (!ok || left != 0 || *p) {
        log_error("store: malformed part sizes on %s/%s", o->bucket, o->key);
        return -EIO;
    }
    o->part_sizes = sizes;
    o->n_parts = n;
    return 0;
}

int store_pg_changed(PGresult *r)
{
    int changed = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    return changed;
}

int store_pg_rows(const PGresult *r, size_t elem_size, store_pg_row_fn read_row, void **v, size_t *n,
                  struct store_arena **mem)
{
    int rows = PQntuples(r), err = 0;
    struct store_arena *a = NULL;
    char *all = rows ? store_arena_alloc(&a, (size_t)rows * elem_size) : NULL;
    if (rows && !all)
        return -ENOMEM;
    for (int i = 0; !err && i < rows; i++)
        err = read_row(r, i, all + (size_t)i * elem_size, &a);
    if (err < 0) {
        store_arena_free(a);
        return err;
    }
    *v = all;
    *n = (size_t)rows;
    *mem = a;
    return 0;
}

static int cleanup_row(const PGresult *r, int i, void *elem, struct store_arena **a)
{
    struct store_cleanup *c = elem;
    c->id = store_pg_col_int(r, i, 0);
    c->size = store_pg_col_int(r, i, 3);
    c->attempts = (int)store_pg_col_int(r, i, 5);
    c->next_attempt_ms = store_pg_col_int(r, i, 6);
    c->created_ms = store_pg_col_int(r, i, 7);
    int err = store_pg_col_str(r, i, 1, a, &c->backend);
    if (!err)
        err = store_pg_col_str(r, i, 2, a, &c->backend_key);
    if (!err)
        err = store_pg_col_str(r, i, 4, a, &c->reason);
    return err;
}

int store_pg_cleanups_read(const PGresult *r, struct store_cleanup_list *out)
{
    return store_pg_rows(r, sizeof(*out->v), cleanup_row, (void **)&out->v, &out->n, &out->mem);
}
