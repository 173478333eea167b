/* Listing in the SQLite store (M5): a walk of the (bucket, key) index in byte order that, with a delimiter,
 * emits each common prefix once and then re-seeks to the first key after it, so a group of a million keys costs
 * one row read, not a million. */
#include <errno.h>
#include <string.h>

#include "store/sqlite_impl.h"
#include "util/log.h"

int store_sqlite_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

void store_sqlite_cursor_start(struct store_sqlite_cursor *c, const char *prefix, const char *marker)
{
    size_t plen = strlen(prefix), mlen = strlen(marker);
    if (store_sqlite_bytes_cmp(marker, mlen, prefix, plen) >= 0) {
        memcpy(c->pos, marker, mlen);
        c->len = mlen;
        c->inclusive = false;
    } else {
        memcpy(c->pos, prefix, plen);
        c->len = plen;
        c->inclusive = true;
    }
}

/* The smallest string above every string that starts with s[0..len): s with its last byte below 0xFF raised
 * by one and what follows dropped. None when s is all 0xFF bytes. */
bool store_sqlite_cursor_skip(struct store_sqlite_cursor *c, const char *s, size_t len)
{
    while (len && (unsigned char)s[len - 1] == 0xFF)
        len--;
    if (!len)
        return false;
    memmove(c->pos, s, len);
    c->pos[len - 1] = (char)((unsigned char)s[len - 1] + 1);
    c->len = len;
    c->inclusive = true;
    return true;
}

sqlite3_stmt *store_sqlite_cursor_seek(struct store_sqlite *ss, const struct store_sqlite_cursor *c,
                                       enum store_sqlite_stmt gt, enum store_sqlite_stmt ge, const char *bucket)
{
    sqlite3_stmt *st = store_sqlite_stmt(ss, c->inclusive ? ge : gt);
    if (st) {
        store_sqlite_bind_str(st, 1, bucket);
        sqlite3_bind_text(st, 2, c->pos, (int)c->len, SQLITE_STATIC);
    }
    return st;
}

/* The list being built: entries and prefixes are arrays in the result's arena. */
struct list_builder {
    struct store_arena *mem;
    void *entries, *prefixes;
    size_t n_entries, cap_entries, n_prefixes, cap_prefixes;
    const char *last;
};

static int list_add_prefix(struct list_builder *b, const char *key, size_t len)
{
    const char **p = store_arena_push(&b->mem, &b->prefixes, &b->n_prefixes, &b->cap_prefixes, sizeof(*p));
    if (!p || store_arena_strndup(&b->mem, key, len, p) < 0)
        return -ENOMEM;
    b->last = *p;
    return 0;
}

static int list_add_entry(struct list_builder *b, sqlite3_stmt *st)
{
    struct store_list_entry *e =
        store_arena_push(&b->mem, &b->entries, &b->n_entries, &b->cap_entries, sizeof(*e));
    if (!e)
        return -ENOMEM;
    int err = store_sqlite_col_str(st, 0, &b->mem, &e->key);
    e->size = sqlite3_column_int64(st, 1);
    if (!err)
        err = store_sqlite_col_str(st, 2, &b->mem, &e->etag);
    e->modified_ms = sqlite3_column_int64(st, 3);
    if (!err)
        err = store_sqlite_col_str(st, 4, &b->mem, &e->storage_class);
    if (!err)
        err = store_sqlite_col_str(st, 5, &b->mem, &e->checksum_algorithm);
    if (!err)
        err = store_sqlite_col_str(st, 6, &b->mem, &e->checksum_type);
    b->last = e->key;
    return err;
}

int store_sqlite_list_objects(struct store_sqlite *ss, struct store_req *req)
{
    const struct store_list_query *q = req->u.list.q;
    const size_t plen = strlen(q->prefix), dlen = strlen(q->delimiter), slen = strlen(q->start_after);
    struct list_builder b = {0};
    struct store_sqlite_cursor cur;
    size_t emitted = 0;
    uint64_t rows = 0;
    bool truncated = false;
    int err = 0;

    store_sqlite_cursor_start(&cur, q->prefix, q->start_after);
    sqlite3_stmt *st = store_sqlite_cursor_seek(ss, &cur, STMT_LIST_GT, STMT_LIST_GE, q->bucket);
    if (!st)
        return -EIO;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE)
                err = store_sqlite_errno(ss, rc);
            break;
        }
        rows++;
        const char *key = (const char *)sqlite3_column_text(st, 0);
        size_t klen = (size_t)sqlite3_column_bytes(st, 0);
        if (!key) {
            err = -ENOMEM;
            break;
        }
        if (klen < plen || memcmp(key, q->prefix, plen) != 0)
            break; /* past the prefix: keys are in order, nothing further matches */
        const char *d = dlen ? memmem(key + plen, klen - plen, q->delimiter, dlen) : NULL;
        if (!d) {
            if (emitted == q->max_keys) {
                truncated = true;
                break;
            }
            if ((err = list_add_entry(&b, st)) < 0)
                break;
            emitted++;
            continue;
        }
        /* A common prefix: emitted unless start_after is inside it (it was returned already), then skipped. */
        size_t glen = (size_t)(d - key) + dlen;
        if (glen > STORE_KEY_MAX) {
            log_error("store: key longer than %d bytes in bucket %s", STORE_KEY_MAX, q->bucket);
            err = -EIO;
            break;
        }
        if (store_sqlite_bytes_cmp(key, glen, q->start_after, slen) > 0) {
            if (emitted == q->max_keys) {
                truncated = true;
                break;
            }
            if ((err = list_add_prefix(&b, key, glen)) < 0)
                break;
            emitted++;
        }
        /* key points into the statement's row: move past its group before the reset invalidates it. */
        bool more = store_sqlite_cursor_skip(&cur, key, glen);
        store_sqlite_reset(st);
        if (!more)
            break;
        if (!(st = store_sqlite_cursor_seek(ss, &cur, STMT_LIST_GT, STMT_LIST_GE, q->bucket))) {
            err = -EIO;
            break;
        }
    }
    store_sqlite_reset(st);
    atomic_fetch_add(&ss->base.list_rows, rows);

    struct store_list *out = req->u.list.out;
    if (err < 0) {
        store_arena_free(b.mem);
        return err;
    }
    out->entries = b.entries;
    out->n_entries = b.n_entries;
    out->prefixes = b.prefixes;
    out->n_prefixes = b.n_prefixes;
    out->truncated = truncated;
    out->next_marker = truncated ? b.last : NULL;
    out->mem = b.mem;
    return 0;
}
