#include "s3/s3_location_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"

enum { PROBE = 8 }; /* slots tried from a key's home slot */

struct slot {
    uint64_t hash;
    int64_t expires; /* coro_now() ns; 0: empty */
    struct store_object obj;
};

static _Thread_local struct slot *table;

static uint64_t key_hash(const char *bucket, const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = bucket; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0) * 1099511628211ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static bool slot_is(const struct slot *s, uint64_t h, const char *bucket, const char *key)
{
    return s->expires && s->hash == h && strcmp(s->obj.bucket, bucket) == 0 && strcmp(s->obj.key, key) == 0;
}

static struct slot *slot_find(uint64_t h, const char *bucket, const char *key)
{
    for (unsigned i = 0; table && i < PROBE; i++) {
        struct slot *s = &table[(h + i) & (S3_LOCATION_CACHE_SLOTS - 1)];
        if (slot_is(s, h, bucket, key))
            return s;
    }
    return NULL;
}

static void slot_empty(struct slot *s)
{
    store_object_free(&s->obj);
    s->expires = 0;
}

void s3_location_remember(const struct store_object *o, int64_t ttl_ns)
{
    if (ttl_ns <= 0)
        return;
    if (!table && !(table = calloc(S3_LOCATION_CACHE_SLOTS, sizeof(*table))))
        return;
    int64_t now = coro_now();
    uint64_t h = key_hash(o->bucket, o->key);
    struct slot *s = slot_find(h, o->bucket, o->key);
    /* Still fresh for a while and the same version: keep it, and spare the copy. */
    if (s && s->expires - now > ttl_ns / 2 && strcmp(s->obj.etag, o->etag) == 0 && s->obj.modified_ms == o->modified_ms)
        return;
    if (!s) { /* an empty slot, else the stalest in reach */
        s = &table[h & (S3_LOCATION_CACHE_SLOTS - 1)];
        for (unsigned i = 0; i < PROBE && s->expires; i++) {
            struct slot *c = &table[(h + i) & (S3_LOCATION_CACHE_SLOTS - 1)];
            if (!c->expires || c->expires < s->expires)
                s = c;
        }
    }
    if (s->expires)
        slot_empty(s);
    if (store_object_clone(o, &s->obj) < 0)
        return;
    s->hash = h;
    s->expires = now + ttl_ns - (int64_t)(h % (uint64_t)(ttl_ns / 10 + 1));
}

int s3_location_recall(const char *bucket, const char *key, struct store_object *out)
{
    struct slot *s = slot_find(key_hash(bucket, key), bucket, key);
    if (!s)
        return -ENOENT;
    if (s->expires <= coro_now()) {
        slot_empty(s);
        return -ENOENT;
    }
    return store_object_clone(&s->obj, out);
}

void s3_location_forget(const char *bucket, const char *key)
{
    struct slot *s = slot_find(key_hash(bucket, key), bucket, key);
    if (s)
        slot_empty(s);
}

void s3_location_clear(void)
{
    for (unsigned i = 0; table && i < S3_LOCATION_CACHE_SLOTS; i++)
        if (table[i].expires)
            slot_empty(&table[i]);
    free(table);
    table = NULL;
}
