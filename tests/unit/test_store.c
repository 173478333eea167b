/* The metadata store contract (src/store/store.h), written against store.h only so that every implementation
 * runs the same suite (contract_suite()); here on SQLite in a temporary directory, and on PostgreSQL by
 * test_store_pg.c, which includes this file with STORE_TEST_PG defined. A few tests at the end are SQLite's own
 * (schema migrations, reopening the file).
 *
 * Calls are made from the main thread (a plain thread: the blocking variant) unless a test runs coroutines on
 * ring threads of its own. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "store/store.h"
#include "unit.h"

static struct store *st;
static bool have_uring;
/* Whether the store runs concurrent calls in shared transactions (SQLite's batches); PostgreSQL runs each call in
 * a transaction of its own. */
static bool batching = true;

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }
#define CHECK_SEQ(a, b) unit_check(str_eq((a), (b)), #a " equals " #b, __FILE__, __LINE__)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A plain object with the given copies. */
static struct store_object mkobj(const char *bucket, const char *key, const char *etag, const struct store_copy *c,
                                 size_t n)
{
    return (struct store_object){.bucket = bucket, .key = key, .size = 10, .etag = etag, .copies = c, .n_copies = n};
}

static int put(const char *bucket, const char *key, const char *etag, const char *backend, const char *backend_key)
{
    struct store_copy c = {.backend = backend, .backend_key = backend_key, .size = 10};
    struct store_object o = mkobj(bucket, key, etag, &c, 1);
    return store_object_commit(st, 0, &o, NULL);
}

/* Empties the cleanup queue so a test can count exactly what it adds. */
static void cleanup_drain(void)
{
    struct store_cleanup_list l;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, SIZE_MAX, &l), 0);
    for (size_t i = 0; i < l.n; i++)
        CHECK_EQ(store_cleanup_done(st, l.v[i].id), 0);
    store_cleanup_list_free(&l);
}

static const struct store_cleanup *cleanup_find(const struct store_cleanup_list *l, const char *backend,
                                                const char *backend_key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].backend, backend) == 0 && strcmp(l->v[i].backend_key, backend_key) == 0)
            return &l->v[i];
    return NULL;
}

/* --- objects --------------------------------------------------------------------------------------------------- */

static void test_put_get(void)
{
    static const struct store_meta meta[] = {
        {"x-amz-meta-author", "Zoë Ångström"},
        {"x-amz-meta-日本", "東京 🌸"},
        {"x-amz-meta-empty", ""},
        {"x-amz-meta-spaces", "  a  b  "},
    };
    struct store_copy copies[] = {
        {.backend = "disk1", .backend_key = "b1/photos/cat.jpg", .size = 1234, .created_ms = 1700000000000},
        {.backend = "s3-eu", .backend_key = "enc/cat.jpg", .size = 1262},
    };
    struct store_object o = {
        .bucket = "b1", .key = "photos/cat.jpg", .size = 1234, .etag = "\"9e107d9d372bb6826bd81d3542a419d6\"",
        .checksum_algorithm = "CRC32C", .checksum_value = "yZRlqg==", .checksum_type = "FULL_OBJECT",
        .content_type = "image/jpeg", .content_encoding = "", .content_disposition = "attachment; filename=\"c.jpg\"",
        .content_language = "fr-CH", .cache_control = "max-age=60", .expires = "Thu, 01 Dec 1994 16:00:00 GMT",
        .meta = meta, .n_meta = 4, .tagging = "k1=v1&k2=v%202", .storage_class = "STANDARD_IA",
        .modified_ms = 1700000001000, .copies = copies, .n_copies = 2,
    };
    struct store_cleanup_list displaced;
    CHECK_EQ(store_object_commit(st, 0, &o, &displaced), 0);
    CHECK_EQ(displaced.n, 0);
    store_cleanup_list_free(&displaced);

    struct store_object g;
    int64_t before = wall_ms();
    CHECK_EQ(store_object_get(st, "b1", "photos/cat.jpg", &g), 0);
    CHECK_SEQ(g.bucket, "b1");
    CHECK_SEQ(g.key, "photos/cat.jpg");
    CHECK_EQ(g.size, 1234);
    CHECK_SEQ(g.etag, o.etag);
    CHECK_SEQ(g.checksum_algorithm, "CRC32C");
    CHECK_SEQ(g.checksum_value, "yZRlqg==");
    CHECK_SEQ(g.checksum_type, "FULL_OBJECT");
    CHECK_SEQ(g.content_type, "image/jpeg");
    CHECK_SEQ(g.content_encoding, ""); /* "" is not NULL */
    CHECK_SEQ(g.content_disposition, o.content_disposition);
    CHECK_SEQ(g.content_language, "fr-CH");
    CHECK_SEQ(g.cache_control, "max-age=60");
    CHECK_SEQ(g.expires, o.expires);
    CHECK_SEQ(g.tagging, o.tagging);
    CHECK_SEQ(g.storage_class, "STANDARD_IA");
    CHECK_EQ(g.modified_ms, 1700000001000);
    CHECK_EQ(g.created_ms, 1700000001000);
    CHECK_EQ(g.n_meta, 4);
    for (size_t i = 0; i < g.n_meta && i < 4; i++) {
        CHECK_SEQ(g.meta[i].name, meta[i].name);
        CHECK_SEQ(g.meta[i].value, meta[i].value);
    }
    CHECK_EQ(g.n_copies, 2);
    if (g.n_copies == 2) {
        CHECK_SEQ(g.copies[0].backend, "disk1");
        CHECK_SEQ(g.copies[0].backend_key, "b1/photos/cat.jpg");
        CHECK_EQ(g.copies[0].size, 1234);
        CHECK_EQ(g.copies[0].created_ms, 1700000000000);
        CHECK_SEQ(g.copies[1].backend, "s3-eu");
        CHECK_EQ(g.copies[1].size, 1262);
        CHECK(g.copies[1].created_ms >= before - 60000 && g.copies[1].created_ms <= wall_ms());
    }
    store_object_free(&g);
    store_object_free(&g); /* freeing twice is fine */

    /* Absent optional fields come back NULL; a commit time is set when the caller gives none. */
    CHECK_EQ(put("b1", "plain", "e1", "disk1", "b1/plain"), 0);
    CHECK_EQ(store_object_get(st, "b1", "plain", &g), 0);
    CHECK(g.content_type == NULL && g.content_encoding == NULL && g.checksum_algorithm == NULL);
    CHECK(g.meta == NULL && g.n_meta == 0 && g.tagging == NULL && g.storage_class == NULL);
    CHECK(g.modified_ms >= before && g.modified_ms <= wall_ms());
    store_object_free(&g);

    CHECK_EQ(store_object_get(st, "b1", "missing", &g), -ENOENT);
    CHECK(g.mem == NULL && g.key == NULL);
    CHECK_EQ(store_object_get(st, "b2", "photos/cat.jpg", &g), -ENOENT); /* buckets are separate */
}

static void test_invalid(void)
{
    struct store_copy c[2] = {{.backend = "d", .backend_key = "k", .size = 1}, {.backend = "d", .backend_key = "k2"}};
    struct store_object o = mkobj("b", "k", "e", c, 0);
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), -EINVAL); /* no copy */
    o.n_copies = 2;
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), -EINVAL); /* two copies on one backend */
    o.n_copies = 1;
    o.etag = NULL;
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), -EINVAL);
    o.etag = "e";
    char long_key[STORE_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = 0;
    o.key = long_key;
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), -EINVAL);
    o.key = "";
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), -EINVAL);
    o.key = "k";
    struct store_cond both = {.if_match = "e", .if_none_match = true};
    CHECK_EQ(store_object_commit_if(st, 0, &o, &both, NULL), -EINVAL);
    struct store_list l;
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "b", .max_keys = STORE_LIST_MAX_KEYS + 1}, &l),
             -EINVAL);
    CHECK_EQ(store_bucket_create(st, "", "AK"), -EINVAL);
    CHECK_EQ(store_cleanup_done(st, 0), -EINVAL);
}

static void test_overwrite(void)
{
    cleanup_drain();
    struct store_copy v1[] = {{.backend = "A", .backend_key = "ow/key", .size = 5},
                              {.backend = "B", .backend_key = "ow/key.v1", .size = 5}};
    struct store_object o = mkobj("ow", "key", "etag-1", v1, 2);
    o.modified_ms = 1000;
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);

    /* v2 rewrites A in place (same backend key) and moves B's copy to C: only B's old copy is displaced. */
    struct store_copy v2[] = {{.backend = "A", .backend_key = "ow/key", .size = 7},
                              {.backend = "C", .backend_key = "ow/key.v2", .size = 7}};
    o = mkobj("ow", "key", "etag-2", v2, 2);
    o.modified_ms = 2000;
    struct store_cleanup_list d;
    int64_t t0 = wall_ms();
    CHECK_EQ(store_object_commit(st, 0, &o, &d), 0);
    CHECK_EQ(d.n, 1);
    if (d.n == 1) {
        CHECK_SEQ(d.v[0].backend, "B");
        CHECK_SEQ(d.v[0].backend_key, "ow/key.v1");
        CHECK_EQ(d.v[0].size, 5);
        CHECK_SEQ(d.v[0].reason, "overwrite");
        CHECK_EQ(d.v[0].attempts, 0);
        CHECK(d.v[0].id > 0);
        CHECK(d.v[0].next_attempt_ms >= t0 + STORE_CLEANUP_GRACE_MS);
    }

    struct store_object g;
    CHECK_EQ(store_object_get(st, "ow", "key", &g), 0);
    CHECK_SEQ(g.etag, "etag-2");
    CHECK_EQ(g.modified_ms, 2000);
    CHECK_EQ(g.created_ms, 1000); /* the key's first write */
    CHECK_EQ(g.n_copies, 2);
    if (g.n_copies == 2) {
        CHECK_SEQ(g.copies[0].backend, "A");
        CHECK_EQ(g.copies[0].size, 7);
        CHECK_SEQ(g.copies[1].backend_key, "ow/key.v2");
    }
    store_object_free(&g);

    /* Not due during the grace period (the caller deletes first); due after it. */
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, wall_ms(), 100, &due), 0);
    CHECK_EQ(due.n, 0);
    store_cleanup_list_free(&due);
    CHECK_EQ(store_cleanup_due(st, wall_ms() + STORE_CLEANUP_GRACE_MS + 1000, 100, &due), 0);
    CHECK_EQ(due.n, 1);
    if (due.n == 1 && d.n == 1)
        CHECK_EQ(due.v[0].id, d.v[0].id);
    store_cleanup_list_free(&due);

    /* The caller deleted the displaced copy itself. */
    if (d.n == 1) {
        CHECK_EQ(store_cleanup_done(st, d.v[0].id), 0);
        CHECK_EQ(store_cleanup_done(st, d.v[0].id), -ENOENT);
    }
    store_cleanup_list_free(&d);

    /* v3 goes back to B's old backend key while a cleanup row for it is queued: the row must go. */
    struct store_cleanup in = {.backend = "B", .backend_key = "ow/key.v3", .size = 1, .reason = "test"};
    int64_t id;
    CHECK_EQ(store_cleanup_add(st, &in, &id), 0);
    struct store_copy v3[] = {{.backend = "B", .backend_key = "ow/key.v3", .size = 9}};
    o = mkobj("ow", "key", "etag-3", v3, 1);
    CHECK_EQ(store_object_commit(st, 0, &o, &d), 0);
    CHECK_EQ(d.n, 2); /* A and C of v2 */
    CHECK(cleanup_find(&d, "A", "ow/key") && cleanup_find(&d, "C", "ow/key.v2"));
    store_cleanup_list_free(&d);
    CHECK_EQ(store_cleanup_done(st, id), -ENOENT);
    cleanup_drain();
}

static void test_delete(void)
{
    cleanup_drain();
    struct store_copy c[] = {{.backend = "A", .backend_key = "del/x", .size = 3},
                             {.backend = "B", .backend_key = "del/x", .size = 3}};
    struct store_object o = mkobj("del", "x", "e", c, 2);
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);

    struct store_cleanup_list d;
    CHECK_EQ(store_object_delete(st, "del", "x", &d), 0);
    CHECK_EQ(d.n, 2);
    CHECK(cleanup_find(&d, "A", "del/x") && cleanup_find(&d, "B", "del/x"));
    if (d.n)
        CHECK_SEQ(d.v[0].reason, "delete");
    store_cleanup_list_free(&d);

    struct store_object g;
    CHECK_EQ(store_object_get(st, "del", "x", &g), -ENOENT);

    /* Idempotent: a missing key is no error and displaces nothing. */
    CHECK_EQ(store_object_delete(st, "del", "x", &d), 0);
    CHECK_EQ(d.n, 0);
    CHECK(d.v == NULL);
    store_cleanup_list_free(&d);
    CHECK_EQ(store_object_delete(st, "del", "never", NULL), 0);

    /* Without an output the copies are still queued. */
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);
    CHECK_EQ(store_object_delete(st, "del", "x", NULL), 0);
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK_EQ(due.n, 2);
    store_cleanup_list_free(&due);
    cleanup_drain();
}

static void test_conditional(void)
{
    struct store_copy c = {.backend = "A", .backend_key = "cond/k", .size = 1};
    struct store_object o = mkobj("cond", "k", "e1", &c, 1);
    struct store_cond none_match = {.if_none_match = true};
    int64_t intent;
    struct store_intent in = {.bucket = "cond", .key = "k", .backend = "A", .backend_key = "cond/k", .size = 1};

    CHECK_EQ(store_intent_create(st, &in, &intent), 0);
    CHECK_EQ(store_object_commit_if(st, intent, &o, &none_match, NULL), 0);

    CHECK_EQ(store_intent_create(st, &in, &intent), 0);
    o.etag = "e2";
    CHECK_EQ(store_object_commit_if(st, intent, &o, &none_match, NULL), -EEXIST);
    /* A failed commit leaves its intent for the caller to drop. */
    struct store_intent_list il;
    CHECK_EQ(store_intents_older_than(st, INT64_MAX, 1000, &il), 0);
    bool found = false;
    for (size_t i = 0; i < il.n; i++)
        found |= il.v[i].id == intent;
    CHECK(found);
    store_intent_list_free(&il);

    struct store_cond match = {.if_match = "wrong"};
    CHECK_EQ(store_object_commit_if(st, intent, &o, &match, NULL), -ESTALE);
    match.if_match = "e1";
    CHECK_EQ(store_object_commit_if(st, intent, &o, &match, NULL), 0);

    struct store_object g;
    CHECK_EQ(store_object_get(st, "cond", "k", &g), 0);
    CHECK_SEQ(g.etag, "e2");
    store_object_free(&g);

    o.key = "absent";
    CHECK_EQ(store_object_commit_if(st, 0, &o, &match, NULL), -ENOENT);
    CHECK_EQ(store_object_get(st, "cond", "absent", &g), -ENOENT);
    /* A NULL condition is an ordinary commit. */
    CHECK_EQ(store_object_commit_if(st, 0, &o, NULL, NULL), 0);
    CHECK_EQ(store_object_delete(st, "cond", "absent", NULL), 0);
    CHECK_EQ(store_object_delete(st, "cond", "k", NULL), 0);
    cleanup_drain();
}

static void test_tagging(void)
{
    cleanup_drain();
    static const struct store_meta meta[] = {{"x-amz-meta-a", "1"}};
    struct store_copy c = {.backend = "A", .backend_key = "tag/k", .size = 10};
    struct store_object o = mkobj("tag", "k", "\"etag-t\"", &c, 1);
    o.tagging = "a=1";
    o.content_type = "text/plain";
    o.meta = meta;
    o.n_meta = 1;
    o.modified_ms = 5000;
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);
    CHECK_EQ(put("tag", "other", "e", "A", "tag/other"), 0);

    struct store_object g;
    CHECK_EQ(store_object_set_tagging(st, "tag", "k", "b=2&c=%203"), 0);
    CHECK_EQ(store_object_get(st, "tag", "k", &g), 0);
    CHECK_SEQ(g.tagging, "b=2&c=%203");
    /* Only the tag set changes: the version, its time and everything else stay. */
    CHECK_SEQ(g.etag, "\"etag-t\"");
    CHECK_EQ(g.modified_ms, 5000);
    CHECK_EQ(g.created_ms, 5000);
    CHECK_EQ(g.size, 10);
    CHECK_SEQ(g.content_type, "text/plain");
    CHECK_EQ(g.n_meta, 1);
    CHECK_EQ(g.n_copies, 1);
    if (g.n_copies == 1)
        CHECK_SEQ(g.copies[0].backend_key, "tag/k");
    store_object_free(&g);

    /* "" is an empty tag set, not none; NULL removes it. */
    CHECK_EQ(store_object_set_tagging(st, "tag", "k", ""), 0);
    CHECK_EQ(store_object_get(st, "tag", "k", &g), 0);
    CHECK(g.tagging != NULL);
    CHECK_SEQ(g.tagging, "");
    store_object_free(&g);
    CHECK_EQ(store_object_set_tagging(st, "tag", "k", NULL), 0);
    CHECK_EQ(store_object_get(st, "tag", "k", &g), 0);
    CHECK(g.tagging == NULL);
    CHECK_EQ(g.modified_ms, 5000);
    store_object_free(&g);

    /* The neighbour keeps its own (none). */
    CHECK_EQ(store_object_set_tagging(st, "tag", "k", "x=y"), 0);
    CHECK_EQ(store_object_get(st, "tag", "other", &g), 0);
    CHECK(g.tagging == NULL);
    store_object_free(&g);

    CHECK_EQ(store_object_set_tagging(st, "tag", "missing", "a=1"), -ENOENT);
    CHECK_EQ(store_object_set_tagging(st, "tag2", "k", "a=1"), -ENOENT);
    CHECK_EQ(store_object_get(st, "tag", "missing", &g), -ENOENT); /* and it was not created */
    CHECK_EQ(store_object_set_tagging(st, "", "k", "a=1"), -EINVAL);
    CHECK_EQ(store_object_set_tagging(st, "tag", NULL, NULL), -EINVAL);

    /* Retagging displaced no copy. */
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK_EQ(due.n, 0);
    store_cleanup_list_free(&due);
    CHECK_EQ(store_object_delete(st, "tag", "k", NULL), 0);
    CHECK_EQ(store_object_delete(st, "tag", "other", NULL), 0);
    cleanup_drain();
}

static void test_intents(void)
{
    struct store_intent_list il;
    CHECK_EQ(store_intents_older_than(st, INT64_MAX, 1000, &il), 0);
    size_t before = il.n;
    store_intent_list_free(&il);

    int64_t t0 = wall_ms();
    struct store_intent in = {.bucket = "int", .key = "a", .backend = "A", .backend_key = "int/a", .size = -1};
    int64_t id1, id2, id3;
    CHECK_EQ(store_intent_create(st, &in, &id1), 0);
    in.key = "b";
    in.backend_key = "int/b";
    in.size = 42;
    CHECK_EQ(store_intent_create(st, &in, &id2), 0);
    in.key = "c";
    in.backend_key = "int/c";
    CHECK_EQ(store_intent_create(st, &in, &id3), 0);
    CHECK(id1 > 0 && id2 > id1 && id3 > id2);

    CHECK_EQ(store_intents_older_than(st, t0 - 1000, 1000, &il), 0);
    CHECK_EQ(il.n, before); /* none of ours is that old */
    store_intent_list_free(&il);
    CHECK_EQ(store_intents_older_than(st, wall_ms() + 1, 1000, &il), 0);
    CHECK_EQ(il.n, before + 3);
    if (il.n == before + 3) {
        const struct store_intent *a = &il.v[before];
        CHECK_EQ(a->id, id1);
        CHECK_SEQ(a->bucket, "int");
        CHECK_SEQ(a->key, "a");
        CHECK_SEQ(a->backend, "A");
        CHECK_SEQ(a->backend_key, "int/a");
        CHECK_EQ(a->size, -1);
        CHECK(a->created_ms >= t0 - 1000 && a->created_ms <= wall_ms());
        CHECK_EQ(il.v[before + 2].size, 42);
    }
    store_intent_list_free(&il);
    CHECK_EQ(store_intents_older_than(st, INT64_MAX, 1, &il), 0);
    CHECK_EQ(il.n, 1); /* limit */
    store_intent_list_free(&il);

    /* Commit under an intent consumes it; the intent must name the same object. */
    struct store_copy c = {.backend = "A", .backend_key = "int/a", .size = 1};
    struct store_object o = mkobj("int", "b", "e", &c, 1);
    CHECK_EQ(store_object_commit(st, id1, &o, NULL), -EINVAL); /* id1 is for key "a" */
    o.key = "a";
    CHECK_EQ(store_object_commit(st, id1, &o, NULL), 0);
    CHECK_EQ(store_object_commit(st, id1, &o, NULL), -EIDRM); /* reaped or already used */
    CHECK_EQ(store_intent_drop(st, id1, NULL, NULL), -ENOENT);

    /* Drop without and with queueing the copy. */
    int64_t cid = -1;
    cleanup_drain();
    CHECK_EQ(store_intent_drop(st, id2, NULL, &cid), 0);
    CHECK_EQ(cid, 0);
    CHECK_EQ(store_intent_drop(st, id3, "put failed", &cid), 0);
    CHECK(cid > 0);
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, wall_ms() + 1, 100, &due), 0); /* due at once */
    CHECK_EQ(due.n, 1);
    if (due.n == 1) {
        CHECK_EQ(due.v[0].id, cid);
        CHECK_SEQ(due.v[0].backend_key, "int/c");
        CHECK_SEQ(due.v[0].reason, "put failed");
        CHECK_EQ(due.v[0].size, 42);
    }
    store_cleanup_list_free(&due);
    CHECK_EQ(store_intents_older_than(st, INT64_MAX, 1000, &il), 0);
    CHECK_EQ(il.n, before);
    store_intent_list_free(&il);
    CHECK_EQ(store_object_delete(st, "int", "a", NULL), 0);
    cleanup_drain();
}

static void test_cleanup_queue(void)
{
    cleanup_drain();
    int64_t now = wall_ms(), id_a, id_b, id_c, id_live, id_pending;
    struct store_cleanup in = {.backend = "A", .backend_key = "q/a", .size = 1, .reason = "r1",
                               .next_attempt_ms = now - 2000};
    CHECK_EQ(store_cleanup_add(st, &in, &id_a), 0);
    in = (struct store_cleanup){.backend = "A", .backend_key = "q/b", .size = 2, .reason = "r2",
                                .next_attempt_ms = now - 5000};
    CHECK_EQ(store_cleanup_add(st, &in, &id_b), 0);
    in = (struct store_cleanup){.backend = "B", .backend_key = "q/c", .size = 3, .reason = "r3",
                                .next_attempt_ms = now + 100000};
    CHECK_EQ(store_cleanup_add(st, &in, &id_c), 0);

    /* Adding the same backend key again updates the row rather than duplicating it. */
    int64_t again;
    in.reason = "r3b";
    CHECK_EQ(store_cleanup_add(st, &in, &again), 0);
    CHECK_EQ(again, id_c);

    /* A key that is live again (a copy) or being written (an intent) is never handed out. */
    CHECK_EQ(put("q", "live", "e", "A", "q/live"), 0);
    in = (struct store_cleanup){.backend = "A", .backend_key = "q/live", .reason = "stale", .next_attempt_ms = 0};
    CHECK_EQ(store_cleanup_add(st, &in, &id_live), 0);
    int64_t intent;
    struct store_intent pi = {.bucket = "q", .key = "p", .backend = "B", .backend_key = "q/pending", .size = 1};
    CHECK_EQ(store_intent_create(st, &pi, &intent), 0);
    in = (struct store_cleanup){.backend = "B", .backend_key = "q/pending", .reason = "stale"};
    CHECK_EQ(store_cleanup_add(st, &in, &id_pending), 0);

    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, now, 100, &due), 0);
    CHECK_EQ(due.n, 2); /* most overdue first */
    if (due.n == 2) {
        CHECK_EQ(due.v[0].id, id_b);
        CHECK_SEQ(due.v[0].reason, "r2");
        CHECK_EQ(due.v[0].size, 2);
        CHECK_EQ(due.v[1].id, id_a);
    }
    store_cleanup_list_free(&due);
    CHECK_EQ(store_cleanup_due(st, now, 1, &due), 0);
    CHECK_EQ(due.n, 1);
    store_cleanup_list_free(&due);

    /* A failed attempt: attempts + 1, due later. */
    CHECK_EQ(store_cleanup_retry(st, id_b, now + 60000), 0);
    CHECK_EQ(store_cleanup_retry(st, id_b, now + 60000), 0);
    CHECK_EQ(store_cleanup_due(st, now, 100, &due), 0);
    CHECK_EQ(due.n, 1);
    store_cleanup_list_free(&due);
    CHECK_EQ(store_cleanup_due(st, now + 60000, 100, &due), 0);
    CHECK_EQ(due.n, 2);
    const struct store_cleanup *b = cleanup_find(&due, "A", "q/b");
    CHECK(b && b->attempts == 2 && b->next_attempt_ms == now + 60000);
    store_cleanup_list_free(&due);
    CHECK_EQ(store_cleanup_retry(st, 999999999, now), -ENOENT);

    /* Once the intent is gone, its key's cleanup row is due. */
    CHECK_EQ(store_intent_drop(st, intent, NULL, NULL), 0);
    CHECK_EQ(store_cleanup_due(st, now + 1000000, 100, &due), 0);
    CHECK(cleanup_find(&due, "B", "q/pending") != NULL);
    CHECK(cleanup_find(&due, "A", "q/live") == NULL);
    CHECK_EQ(due.n, 4);
    store_cleanup_list_free(&due);

    CHECK_EQ(store_object_delete(st, "q", "live", NULL), 0);
    cleanup_drain();
    CHECK_EQ(store_cleanup_done(st, id_live), -ENOENT);
}

/* --- listing --------------------------------------------------------------------------------------------------- */

static const char *const list_keys[] = {
    "a",        "a b",          "a+b",      "a/",          "a//x",     "a/b",        "a/b/c",     "a/b/d",
    "a/c",      "a/c+d/e",      "ab",       "abab",        "abxab/z",  "b",          "b/1",       "photos/2024/01/x.jpg",
    "photos/2024/02/y.jpg",     "photos/2025/z.jpg",       "photos/a b/c", "q+r",    "x y/z",     "é",
    "é/x",      "é/y/z",        "éé",       "日本/語",     "日本/語/x", "\xef\xbf\xbf/x", "y\xff",   "y\xff\xff" "1",
    "y\xff\xff" "2", "z\x7f",
};
enum { N_LIST_KEYS = sizeof(list_keys) / sizeof(list_keys[0]) };

/* The expected answer, by brute force over the sorted keys. */
struct ref_item {
    const char *s;
    size_t len;
    bool prefix;
};

static int cmp_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static size_t ref_list(const char **sorted, const struct store_list_query *q, struct ref_item *items)
{
    const char *p = q->prefix ? q->prefix : "", *d = q->delimiter ? q->delimiter : "";
    const char *sa = q->start_after ? q->start_after : "";
    size_t n = 0;
    for (size_t i = 0; i < N_LIST_KEYS; i++) {
        const char *k = sorted[i];
        if (strncmp(k, p, strlen(p)) != 0)
            continue;
        const char *hit = *d ? strstr(k + strlen(p), d) : NULL;
        size_t len = hit ? (size_t)(hit - k) + strlen(d) : strlen(k);
        if (bytes_cmp(k, len, sa, strlen(sa)) <= 0)
            continue;
        if (hit && n && items[n - 1].prefix && items[n - 1].len == len && memcmp(items[n - 1].s, k, len) == 0)
            continue;
        items[n++] = (struct ref_item){k, len, hit != NULL};
    }
    return n;
}

/* Checks one listing call against the reference. */
static bool list_matches(const char **sorted, const struct store_list_query *q)
{
    struct ref_item items[N_LIST_KEYS];
    size_t n = ref_list(sorted, q, items), take = n < q->max_keys ? n : q->max_keys;
    struct store_list l;
    if (store_list_objects(st, q, &l) != 0)
        return false;
    bool ok = l.truncated == (n > q->max_keys) && l.n_entries + l.n_prefixes == take;
    size_t e = 0, p = 0;
    for (size_t i = 0; ok && i < take; i++) {
        const char *got = items[i].prefix ? (p < l.n_prefixes ? l.prefixes[p++] : NULL)
                                          : (e < l.n_entries ? l.entries[e++].key : NULL);
        ok = got && strlen(got) == items[i].len && memcmp(got, items[i].s, items[i].len) == 0;
    }
    if (ok && l.truncated && take)
        ok = l.next_marker && strlen(l.next_marker) == items[take - 1].len &&
             memcmp(l.next_marker, items[take - 1].s, items[take - 1].len) == 0;
    if (ok && !l.truncated)
        ok = l.next_marker == NULL;
    if (!ok)
        fprintf(stderr, "    listing differs: prefix \"%s\" delimiter \"%s\" start_after \"%s\" max_keys %zu\n",
                q->prefix, q->delimiter, q->start_after, q->max_keys);
    store_list_free(&l);
    return ok;
}

/* Pages through with next_marker and checks the concatenation against the reference in one go. */
static bool list_pages_match(const char **sorted, struct store_list_query q)
{
    struct ref_item items[N_LIST_KEYS];
    size_t n = ref_list(sorted, &q, items), got = 0;
    char marker[STORE_KEY_MAX + 1];
    bool ok = true;
    for (int pages = 0; ok && pages <= N_LIST_KEYS + 1; pages++) {
        struct store_list l;
        if (store_list_objects(st, &q, &l) != 0)
            return false;
        for (size_t i = 0, e = 0, p = 0; ok && i < l.n_entries + l.n_prefixes; i++, got++) {
            ok = got < n;
            if (!ok)
                break;
            const char *s = items[got].prefix ? l.prefixes[p++] : l.entries[e++].key;
            ok = strlen(s) == items[got].len && memcmp(s, items[got].s, items[got].len) == 0;
        }
        bool more = l.truncated;
        if (more)
            snprintf(marker, sizeof(marker), "%s", l.next_marker);
        store_list_free(&l);
        if (!more)
            break;
        q.start_after = marker;
    }
    return ok && got == n;
}

static void test_list(void)
{
    const char *sorted[N_LIST_KEYS];
    for (size_t i = 0; i < N_LIST_KEYS; i++) {
        sorted[i] = list_keys[i];
        CHECK_EQ(put("lst", list_keys[i], "e", "disk", list_keys[i]), 0);
        /* A sibling bucket whose keys would interleave must not show. */
        CHECK_EQ(put("lst2", list_keys[i], "e", "disk2", list_keys[i]), 0);
    }
    CHECK_EQ(put("lsa", "a/zzz", "e", "disk", "lsa/a"), 0);
    qsort(sorted, N_LIST_KEYS, sizeof(sorted[0]), cmp_keys);

    /* Fields of an entry. */
    struct store_list l;
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "lst", .max_keys = 1}, &l), 0);
    CHECK_EQ(l.n_entries, 1);
    if (l.n_entries == 1) {
        CHECK_SEQ(l.entries[0].key, "a");
        CHECK_EQ(l.entries[0].size, 10);
        CHECK_SEQ(l.entries[0].etag, "e");
        CHECK(l.entries[0].modified_ms > 0);
    }
    CHECK(l.truncated);
    CHECK_SEQ(l.next_marker, "a");
    store_list_free(&l);

    /* A hand-checked case: common prefixes end with the delimiter and count against max_keys. */
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "lst", .prefix = "a/", .delimiter = "/",
                                                               .max_keys = 1000},
                                &l),
             0);
    CHECK_EQ(l.n_entries, 3); /* a/ (nothing after the prefix), a/b, a/c */
    CHECK_EQ(l.n_prefixes, 3); /* a//, a/b/, a/c+d/ */
    if (l.n_entries == 3 && l.n_prefixes == 3) {
        CHECK_SEQ(l.entries[0].key, "a/");
        CHECK_SEQ(l.entries[1].key, "a/b");
        CHECK_SEQ(l.entries[2].key, "a/c");
        CHECK_SEQ(l.prefixes[0], "a//");
        CHECK_SEQ(l.prefixes[1], "a/b/");
        CHECK_SEQ(l.prefixes[2], "a/c+d/");
    }
    CHECK(!l.truncated);
    store_list_free(&l);

    /* Every combination against the reference, one page and paged through. */
    static const char *const prefixes[] = {"", "a", "a/", "é", "photos/", "y", "日本/", "nothing"};
    static const char *const delims[] = {"", "/", "+", " ", "ab", "é", "\xff"};
    static const char *const starts[] = {"", "a", "a/", "a/b", "a/b/c", "a/c+d/", "b", "photos/2024/", "é/y", "zzz"};
    static const size_t maxes[] = {0, 1, 2, 3, 1000};
    int bad = 0, runs = 0;
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
        for (size_t d = 0; d < sizeof(delims) / sizeof(delims[0]); d++)
            for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++)
                for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
                    struct store_list_query q = {.bucket = "lst", .prefix = prefixes[p], .delimiter = delims[d],
                                                 .start_after = starts[s], .max_keys = maxes[m]};
                    bad += !list_matches(sorted, &q);
                    if (maxes[m] > 0)
                        bad += !list_pages_match(sorted, q);
                    runs++;
                }
    CHECK_EQ(bad, 0);
    CHECK(runs > 1000);

    /* NULL and "" mean the same. */
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "lst", .max_keys = 1000}, &l), 0);
    CHECK_EQ(l.n_entries, N_LIST_KEYS);
    store_list_free(&l);
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "empty-bucket", .max_keys = 10}, &l), 0);
    CHECK(l.n_entries == 0 && l.n_prefixes == 0 && !l.truncated);
    store_list_free(&l);
}

/* --- multipart uploads ----------------------------------------------------------------------------------------- */

/* An upload of bucket/key without headers; its backend key is its id. */
static struct store_upload mkupload(const char *id, const char *bucket, const char *key)
{
    return (struct store_upload){.id = id, .owner = "AKIDU", .backend = "A", .backend_key = id,
                                 .backend_upload_id = "native-1", .obj = {.bucket = bucket, .key = key}};
}

static int upload_new(const char *id, const char *bucket, const char *key)
{
    struct store_upload up = mkupload(id, bucket, key);
    return store_upload_create(st, &up);
}

static int part_put(const char *id, int number, int64_t size, const char *etag)
{
    struct store_part p = {.number = number, .size = size, .etag = etag, .backend_etag = etag};
    return store_part_put(st, id, &p);
}

static size_t parts_count(const char *id)
{
    struct store_part_list pl;
    if (store_parts_list(st, id, 0, STORE_PART_NUMBER_MAX, &pl) != 0)
        return SIZE_MAX;
    size_t n = pl.n;
    store_part_list_free(&pl);
    return n;
}

static void test_upload_create_get(void)
{
    static const struct store_meta meta[] = {
        {"x-amz-meta-zeta", "last name first"},
        {"x-amz-meta-alpha", ""},
        {"x-amz-meta-日本", "東京 🌸"},
        {"x-amz-meta-zeta", "again"},
    };
    struct store_upload up = {
        .id = "u-full", .owner = "AKIDFULL", .backend = "s3-eu", .backend_key = "mp/photos/cat.jpg.v7",
        .backend_upload_id = "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
        .created_ms = 42, /* ignored */
        .obj = {.bucket = "mp", .key = "photos/cat.jpg", .checksum_algorithm = "CRC32", .checksum_type = "COMPOSITE",
                .content_type = "image/jpeg", .content_encoding = "", .content_disposition = "inline",
                .content_language = NULL, .cache_control = "", .expires = "Thu, 01 Dec 1994 16:00:00 GMT",
                .meta = meta, .n_meta = 4, .tagging = "", .storage_class = "GLACIER_IR"},
    };
    int64_t t0 = wall_ms();
    CHECK_EQ(store_upload_create(st, &up), 0);

    struct store_upload g;
    CHECK_EQ(store_upload_get(st, "u-full", &g), 0);
    CHECK_SEQ(g.id, "u-full");
    CHECK_SEQ(g.owner, "AKIDFULL");
    CHECK_SEQ(g.backend, "s3-eu");
    CHECK_SEQ(g.backend_key, "mp/photos/cat.jpg.v7");
    CHECK_SEQ(g.backend_upload_id, up.backend_upload_id);
    CHECK(g.created_ms >= t0 && g.created_ms <= wall_ms());
    CHECK(g.mem != NULL && g.obj.mem == NULL);
    const struct store_object *o = &g.obj;
    CHECK_SEQ(o->bucket, "mp");
    CHECK_SEQ(o->key, "photos/cat.jpg");
    CHECK_SEQ(o->checksum_algorithm, "CRC32");
    CHECK_SEQ(o->checksum_type, "COMPOSITE");
    CHECK(o->checksum_value == NULL && o->etag == NULL && o->copies == NULL && o->n_copies == 0);
    CHECK_SEQ(o->content_type, "image/jpeg");
    CHECK(o->content_encoding != NULL);
    CHECK_SEQ(o->content_encoding, "");
    CHECK_SEQ(o->content_disposition, "inline");
    CHECK(o->content_language == NULL);
    CHECK(o->cache_control != NULL);
    CHECK_SEQ(o->cache_control, "");
    CHECK_SEQ(o->expires, up.obj.expires);
    CHECK(o->tagging != NULL);
    CHECK_SEQ(o->tagging, "");
    CHECK_SEQ(o->storage_class, "GLACIER_IR");
    CHECK_EQ(o->n_meta, 4);
    for (size_t i = 0; i < o->n_meta && i < 4; i++) {
        CHECK_SEQ(o->meta[i].name, meta[i].name);
        CHECK_SEQ(o->meta[i].value, meta[i].value);
    }
    store_upload_free(&g);
    store_upload_free(&g); /* freeing twice is fine */

    /* Absent headers come back NULL. */
    CHECK_EQ(upload_new("u-bare", "mp", "bare"), 0);
    CHECK_EQ(store_upload_get(st, "u-bare", &g), 0);
    o = &g.obj;
    CHECK(o->checksum_algorithm == NULL && o->checksum_type == NULL && o->content_type == NULL);
    CHECK(o->content_encoding == NULL && o->content_disposition == NULL && o->content_language == NULL);
    CHECK(o->cache_control == NULL && o->expires == NULL && o->tagging == NULL && o->storage_class == NULL);
    CHECK(o->meta == NULL && o->n_meta == 0);
    CHECK_SEQ(o->key, "bare");
    CHECK_SEQ(g.backend_upload_id, "native-1");
    store_upload_free(&g);

    /* Ids are unique whatever the object; the first upload is untouched. */
    CHECK_EQ(upload_new("u-full", "mp2", "other"), -EEXIST);
    CHECK_EQ(store_upload_get(st, "u-full", &g), 0);
    CHECK_SEQ(g.obj.bucket, "mp");
    CHECK_SEQ(g.owner, "AKIDFULL");
    store_upload_free(&g);

    /* Several uploads of one key may be in progress. */
    CHECK_EQ(upload_new("u-bare2", "mp", "bare"), 0);

    CHECK_EQ(store_upload_get(st, "u-missing", &g), -ENOENT);
    CHECK(g.mem == NULL && g.id == NULL && g.obj.bucket == NULL);
    CHECK_EQ(store_object_get(st, "mp", "photos/cat.jpg", &(struct store_object){0}), -ENOENT); /* no object yet */

    CHECK_EQ(store_upload_abort(st, "u-full"), 0);
    CHECK_EQ(store_upload_abort(st, "u-bare"), 0);
    CHECK_EQ(store_upload_abort(st, "u-bare2"), 0);
}

static void test_upload_invalid(void)
{
    char id_max[STORE_UPLOAD_ID_MAX + 1], id_long[STORE_UPLOAD_ID_MAX + 2];
    memset(id_max, 'i', sizeof(id_max) - 1);
    id_max[sizeof(id_max) - 1] = 0;
    memset(id_long, 'i', sizeof(id_long) - 1);
    id_long[sizeof(id_long) - 1] = 0;
    char long_key[STORE_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = 0;

    CHECK_EQ(store_upload_create(st, NULL), -EINVAL);
    struct store_upload up = mkupload(id_long, "inv", "k");
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("", "inv", "k");
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload(NULL, "inv", "k");
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "", "k");
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", long_key);
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", NULL);
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", "k");
    up.owner = NULL;
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", "k");
    up.backend = NULL;
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", "k");
    up.backend_key = "";
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", "k");
    up.backend_upload_id = NULL;
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up.backend_upload_id = id_long;
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up = mkupload("u-inv", "inv", "k");
    up.obj.n_meta = 1; /* and no array */
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    up.obj.meta = &(struct store_meta){"x-amz-meta-a", NULL};
    CHECK_EQ(store_upload_create(st, &up), -EINVAL);
    struct store_upload g;
    CHECK_EQ(store_upload_get(st, "u-inv", &g), -ENOENT); /* none of these was recorded */
    CHECK_EQ(store_upload_get(st, id_long, &g), -EINVAL);
    CHECK_EQ(store_upload_get(st, NULL, &g), -EINVAL);

    /* The longest id is fine, for ours and the backend's. */
    up = mkupload(id_max, "inv", "k");
    up.backend_upload_id = id_max;
    CHECK_EQ(store_upload_create(st, &up), 0);
    CHECK_EQ(store_upload_get(st, id_max, &g), 0);
    CHECK_SEQ(g.backend_upload_id, id_max);
    store_upload_free(&g);

    /* Parts: number 1..STORE_PART_NUMBER_MAX, size >= 0, both ETags. */
    struct store_part p = {.number = 0, .size = 1, .etag = "e", .backend_etag = "b"};
    CHECK_EQ(store_part_put(st, id_max, &p), -EINVAL);
    p.number = STORE_PART_NUMBER_MAX + 1;
    CHECK_EQ(store_part_put(st, id_max, &p), -EINVAL);
    p.number = -1;
    CHECK_EQ(store_part_put(st, id_max, &p), -EINVAL);
    p.number = 1;
    p.size = -1;
    CHECK_EQ(store_part_put(st, id_max, &p), -EINVAL);
    p.size = 1;
    p.etag = NULL;
    CHECK_EQ(store_part_put(st, id_max, &p), -EINVAL);
    p.etag = "e";
    p.backend_etag = NULL;
    CHECK_EQ(store_part_put(st, id_max, &p), -EINVAL);
    p.backend_etag = "b";
    CHECK_EQ(store_part_put(st, id_long, &p), -EINVAL);
    CHECK_EQ(store_part_put(st, "", &p), -EINVAL);
    CHECK_EQ(store_part_put(st, id_max, NULL), -EINVAL);
    CHECK_EQ(parts_count(id_max), 0);

    struct store_part_list pl;
    CHECK_EQ(store_parts_list(st, id_max, 0, 0, &pl), -EINVAL);
    CHECK_EQ(store_parts_list(st, id_max, 0, STORE_PART_NUMBER_MAX + 1, &pl), -EINVAL);
    CHECK_EQ(store_parts_list(st, id_max, -1, 10, &pl), -EINVAL);
    CHECK_EQ(store_parts_list(st, id_max, STORE_PART_NUMBER_MAX + 1, 10, &pl), -EINVAL);
    CHECK_EQ(store_parts_list(st, id_long, 0, 10, &pl), -EINVAL);
    CHECK(pl.v == NULL && pl.n == 0 && pl.mem == NULL);

    struct store_copy c = {.backend = "A", .backend_key = "inv/k", .size = 1};
    struct store_object o = mkobj("inv", "k", "e", &c, 0); /* no copy */
    CHECK_EQ(store_upload_complete(st, id_max, &o, NULL), -EINVAL);
    o.n_copies = 1;
    CHECK_EQ(store_upload_complete(st, id_long, &o, NULL), -EINVAL);
    CHECK_EQ(store_upload_complete(st, id_max, NULL, NULL), -EINVAL);
    CHECK_EQ(store_upload_abort(st, id_long), -EINVAL);
    CHECK_EQ(store_upload_abort(st, NULL), -EINVAL);
    CHECK_EQ(store_upload_get(st, id_max, &g), 0); /* still there */
    store_upload_free(&g);

    struct store_upload_list ul;
    CHECK_EQ(store_uploads_list(st, NULL, &ul), -EINVAL);
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "inv", .max_uploads = 1001}, &ul), -EINVAL);
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "", .max_uploads = 10}, &ul), -EINVAL);
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "inv", .prefix = long_key, .max_uploads = 10},
                                &ul),
             -EINVAL);
    CHECK_EQ(store_uploads_list(
                 st, &(struct store_upload_query){.bucket = "inv", .key_marker = long_key, .max_uploads = 10}, &ul),
             -EINVAL);
    CHECK_EQ(store_uploads_list(st,
                                &(struct store_upload_query){.bucket = "inv", .key_marker = "k",
                                                             .upload_id_marker = id_long, .max_uploads = 10},
                                &ul),
             -EINVAL);
    CHECK(ul.v == NULL && ul.n == 0 && ul.mem == NULL);
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "inv", .max_uploads = 1000}, &ul), 0);
    CHECK_EQ(ul.n, 1);
    store_upload_list_free(&ul);
    CHECK_EQ(store_upload_abort(st, id_max), 0);
}

static void test_parts(void)
{
    CHECK_EQ(upload_new("u-parts", "mp", "parts"), 0);
    CHECK_EQ(upload_new("u-parts2", "mp", "parts"), 0);
    int64_t t0 = wall_ms();
    /* Put out of order; listed by number. */
    struct store_part p3 = {.number = 3, .size = 5, .etag = "\"e3\"", .checksum_value = "AAAAAA==",
                            .backend_etag = "b3", .modified_ms = 7};
    struct store_part p1 = {.number = 1, .size = 5242880, .etag = "\"e1\"", .backend_etag = "b1"};
    struct store_part p2 = {.number = 2, .size = 5242880, .etag = "\"e2\"", .checksum_value = "", .backend_etag = ""};
    CHECK_EQ(store_part_put(st, "u-parts", &p3), 0);
    CHECK_EQ(store_part_put(st, "u-parts", &p1), 0);
    CHECK_EQ(store_part_put(st, "u-parts", &p2), 0);
    CHECK_EQ(part_put("u-parts2", 1, 1, "\"other\""), 0); /* another upload's part 1 */

    struct store_part_list pl;
    CHECK_EQ(store_parts_list(st, "u-parts", 0, STORE_PART_NUMBER_MAX, &pl), 0);
    CHECK_EQ(pl.n, 3);
    CHECK(!pl.truncated);
    if (pl.n == 3) {
        CHECK_EQ(pl.v[0].number, 1);
        CHECK_EQ(pl.v[0].size, 5242880);
        CHECK_SEQ(pl.v[0].etag, "\"e1\"");
        CHECK(pl.v[0].checksum_value == NULL);
        CHECK_SEQ(pl.v[0].backend_etag, "b1");
        CHECK_EQ(pl.v[1].number, 2);
        CHECK(pl.v[1].checksum_value != NULL);
        CHECK_SEQ(pl.v[1].checksum_value, "");
        CHECK_SEQ(pl.v[1].backend_etag, "");
        CHECK_EQ(pl.v[2].number, 3);
        CHECK_EQ(pl.v[2].size, 5);
        CHECK_SEQ(pl.v[2].checksum_value, "AAAAAA==");
        CHECK_SEQ(pl.v[2].backend_etag, "b3");
        CHECK(pl.v[2].modified_ms >= t0 && pl.v[2].modified_ms <= wall_ms()); /* set by the store */
    }
    store_part_list_free(&pl);
    store_part_list_free(&pl);

    /* A part with the same number replaces the earlier one, every field. */
    struct store_part p2b = {.number = 2, .size = 7, .etag = "\"e2b\"", .backend_etag = "b2b"};
    CHECK_EQ(store_part_put(st, "u-parts", &p2b), 0);
    CHECK_EQ(store_parts_list(st, "u-parts", 1, 1, &pl), 0);
    CHECK_EQ(pl.n, 1);
    CHECK(pl.truncated); /* part 3 follows */
    if (pl.n == 1) {
        CHECK_EQ(pl.v[0].number, 2);
        CHECK_EQ(pl.v[0].size, 7);
        CHECK_SEQ(pl.v[0].etag, "\"e2b\"");
        CHECK(pl.v[0].checksum_value == NULL);
        CHECK_SEQ(pl.v[0].backend_etag, "b2b");
    }
    store_part_list_free(&pl);
    CHECK_EQ(parts_count("u-parts"), 3);

    /* Pages: after_number and max. */
    static const struct {
        int after;
        size_t max, n;
        int first;
        bool truncated;
    } pages[] = {
        {0, 2, 2, 1, true}, {2, 2, 1, 3, false}, {0, 3, 3, 1, false}, {3, 10, 0, 0, false}, {1, 1, 1, 2, true},
        {0, 1, 1, 1, true}, {2, 1, 1, 3, false},
    };
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        CHECK_EQ(store_parts_list(st, "u-parts", pages[i].after, pages[i].max, &pl), 0);
        CHECK_EQ(pl.n, pages[i].n);
        CHECK_EQ(pl.truncated, pages[i].truncated);
        if (pl.n)
            CHECK_EQ(pl.v[0].number, pages[i].first);
        store_part_list_free(&pl);
    }

    /* The highest number; and after it nothing. */
    CHECK_EQ(part_put("u-parts", STORE_PART_NUMBER_MAX, 1, "\"last\""), 0);
    CHECK_EQ(store_parts_list(st, "u-parts", 3, 1, &pl), 0);
    CHECK_EQ(pl.n, 1);
    CHECK(!pl.truncated);
    if (pl.n == 1)
        CHECK_EQ(pl.v[0].number, STORE_PART_NUMBER_MAX);
    store_part_list_free(&pl);
    CHECK_EQ(store_parts_list(st, "u-parts", STORE_PART_NUMBER_MAX, 10, &pl), 0);
    CHECK(pl.n == 0 && !pl.truncated);
    store_part_list_free(&pl);
    CHECK_EQ(parts_count("u-parts2"), 1);

    /* No upload: no part. */
    CHECK_EQ(part_put("u-none", 1, 1, "\"x\""), -ENOENT);
    CHECK_EQ(store_parts_list(st, "u-none", 0, 10, &pl), -ENOENT);
    CHECK(pl.v == NULL && pl.n == 0 && pl.mem == NULL);
    /* An upload without parts lists none. */
    CHECK_EQ(upload_new("u-parts3", "mp", "parts"), 0);
    CHECK_EQ(store_parts_list(st, "u-parts3", 0, 10, &pl), 0);
    CHECK(pl.n == 0 && !pl.truncated);
    store_part_list_free(&pl);

    CHECK_EQ(store_upload_abort(st, "u-parts"), 0);
    CHECK_EQ(store_upload_abort(st, "u-parts2"), 0);
    CHECK_EQ(store_upload_abort(st, "u-parts3"), 0);
}

static void test_upload_complete(void)
{
    cleanup_drain();
    /* The version the upload replaces. */
    struct store_copy v1[] = {{.backend = "A", .backend_key = "mpc/big.v1", .size = 3},
                              {.backend = "B", .backend_key = "mpc/big.v1", .size = 3}};
    struct store_object o = mkobj("mpc", "big", "etag-v1", v1, 2);
    o.modified_ms = 1000;
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);

    static const struct store_meta meta[] = {{"x-amz-meta-k", "v"}, {"x-amz-meta-e", ""}};
    struct store_upload up = mkupload("u-c1", "mpc", "big");
    up.backend_key = "mpc/big.c1";
    up.obj.content_type = "video/mp4";
    up.obj.content_language = "";
    up.obj.meta = meta;
    up.obj.n_meta = 2;
    up.obj.checksum_algorithm = "CRC32C";
    up.obj.checksum_type = "COMPOSITE";
    CHECK_EQ(store_upload_create(st, &up), 0);
    CHECK_EQ(part_put("u-c1", 1, 5, "\"p1\""), 0);
    CHECK_EQ(part_put("u-c1", 2, 3, "\"p2\""), 0);

    /* The object as the caller builds it from the upload and its parts. */
    struct store_upload fetched, g;
    CHECK_EQ(store_upload_get(st, "u-c1", &fetched), 0);
    struct store_copy c[] = {{.backend = "A", .backend_key = "mpc/big.c1", .size = 8}};
    struct store_object done = fetched.obj; /* borrows fetched's strings */
    done.size = 8;
    done.etag = "\"abc-2\"";
    done.checksum_value = "AAAAAA==-2";
    done.copies = c;
    done.n_copies = 1;
    struct store_cleanup_list d;
    int64_t t0 = wall_ms();
    CHECK_EQ(store_upload_complete(st, "u-c1", &done, &d), 0);
    CHECK_EQ(d.n, 2);
    CHECK(cleanup_find(&d, "A", "mpc/big.v1") && cleanup_find(&d, "B", "mpc/big.v1"));
    for (size_t i = 0; i < d.n; i++) {
        CHECK_SEQ(d.v[i].reason, "overwrite");
        CHECK(d.v[i].next_attempt_ms >= t0 + STORE_CLEANUP_GRACE_MS);
        CHECK_EQ(d.v[i].size, 3);
    }

    struct store_object obj;
    CHECK_EQ(store_object_get(st, "mpc", "big", &obj), 0);
    CHECK_SEQ(obj.etag, "\"abc-2\"");
    CHECK_EQ(obj.size, 8);
    CHECK_SEQ(obj.content_type, "video/mp4");
    CHECK_SEQ(obj.content_language, "");
    CHECK(obj.content_encoding == NULL);
    CHECK_SEQ(obj.checksum_algorithm, "CRC32C");
    CHECK_SEQ(obj.checksum_value, "AAAAAA==-2");
    CHECK_SEQ(obj.checksum_type, "COMPOSITE");
    CHECK_EQ(obj.n_meta, 2);
    if (obj.n_meta == 2) {
        CHECK_SEQ(obj.meta[0].name, "x-amz-meta-k");
        CHECK_SEQ(obj.meta[1].value, "");
    }
    CHECK_EQ(obj.n_copies, 1);
    if (obj.n_copies == 1)
        CHECK_SEQ(obj.copies[0].backend_key, "mpc/big.c1");
    CHECK_EQ(obj.created_ms, 1000); /* the key's first write */
    CHECK(obj.modified_ms >= t0 && obj.modified_ms <= wall_ms());
    store_object_free(&obj);

    /* The upload and its parts are gone: every later call on it says so. */
    CHECK_EQ(store_upload_get(st, "u-c1", &g), -ENOENT);
    struct store_part_list pl;
    CHECK_EQ(store_parts_list(st, "u-c1", 0, 10, &pl), -ENOENT);
    CHECK_EQ(part_put("u-c1", 3, 1, "\"late\""), -ENOENT);
    CHECK_EQ(store_upload_complete(st, "u-c1", &done, NULL), -ENOENT);
    CHECK_EQ(store_upload_abort(st, "u-c1"), -ENOENT);
    store_upload_free(&fetched);

    /* The displaced copies are queued (due after the grace period); the new one is not. */
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK_EQ(due.n, 2);
    for (size_t i = 0; i < d.n; i++)
        CHECK(cleanup_find(&due, d.v[i].backend, d.v[i].backend_key) != NULL);
    CHECK(cleanup_find(&due, "A", "mpc/big.c1") == NULL);
    store_cleanup_list_free(&due);
    store_cleanup_list_free(&d);
    cleanup_drain();

    /* A missing upload changes nothing: the object and the queue stay. */
    struct store_copy c2[] = {{.backend = "C", .backend_key = "mpc/big.none", .size = 1}};
    struct store_object other = mkobj("mpc", "big", "etag-none", c2, 1);
    CHECK_EQ(store_upload_complete(st, "u-none", &other, &d), -ENOENT);
    CHECK(d.n == 0 && d.v == NULL && d.mem == NULL);
    CHECK_EQ(store_object_get(st, "mpc", "big", &obj), 0);
    CHECK_SEQ(obj.etag, "\"abc-2\"");
    if (obj.n_copies == 1)
        CHECK_SEQ(obj.copies[0].backend_key, "mpc/big.c1");
    store_object_free(&obj);
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK_EQ(due.n, 0);
    store_cleanup_list_free(&due);

    /* obj must name the upload's bucket and key; refused, the upload and its parts stay and nothing is written. */
    CHECK_EQ(upload_new("u-c2", "mpc", "small"), 0);
    CHECK_EQ(part_put("u-c2", 1, 1, "\"q1\""), 0);
    CHECK_EQ(store_upload_complete(st, "u-c2", &other, &d), -EINVAL); /* key "big" */
    CHECK(d.n == 0 && d.mem == NULL);
    other.bucket = "mpc2";
    other.key = "small";
    CHECK_EQ(store_upload_complete(st, "u-c2", &other, &d), -EINVAL); /* bucket "mpc2" */
    CHECK_EQ(store_object_get(st, "mpc", "big", &obj), 0);
    CHECK_SEQ(obj.etag, "\"abc-2\"");
    store_object_free(&obj);
    CHECK_EQ(store_object_get(st, "mpc2", "small", &obj), -ENOENT);
    CHECK_EQ(store_object_get(st, "mpc", "small", &obj), -ENOENT);
    CHECK_EQ(parts_count("u-c2"), 1);
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK_EQ(due.n, 0);
    store_cleanup_list_free(&due);

    /* Without a displaced output; a first version displaces nothing. */
    other = mkobj("mpc", "small", "etag-small", c2, 1);
    CHECK_EQ(store_upload_complete(st, "u-c2", &other, NULL), 0);
    CHECK_EQ(store_object_get(st, "mpc", "small", &obj), 0);
    CHECK_SEQ(obj.etag, "etag-small");
    store_object_free(&obj);
    CHECK_EQ(store_upload_get(st, "u-c2", &g), -ENOENT);

    /* Completing over a version whose copy it reuses in place displaces only the others (as a commit does). */
    CHECK_EQ(upload_new("u-c3", "mpc", "small"), 0);
    struct store_copy c3[] = {{.backend = "C", .backend_key = "mpc/big.none", .size = 2},
                              {.backend = "D", .backend_key = "mpc/small.c3", .size = 2}};
    other = mkobj("mpc", "small", "etag-small-3", c3, 2);
    CHECK_EQ(store_upload_complete(st, "u-c3", &other, &d), 0);
    CHECK_EQ(d.n, 0);
    store_cleanup_list_free(&d);

    CHECK_EQ(store_object_delete(st, "mpc", "big", NULL), 0);
    CHECK_EQ(store_object_delete(st, "mpc", "small", NULL), 0);
    cleanup_drain();
}

static void test_upload_abort(void)
{
    CHECK_EQ(upload_new("u-a1", "mpa", "k"), 0);
    CHECK_EQ(upload_new("u-a2", "mpa", "k"), 0);
    for (int i = 1; i <= 2; i++) {
        CHECK_EQ(part_put("u-a1", i, 1, "\"a1\""), 0);
        CHECK_EQ(part_put("u-a2", i, 1, "\"a2\""), 0);
    }
    CHECK_EQ(store_upload_abort(st, "u-a1"), 0);
    struct store_upload g;
    CHECK_EQ(store_upload_get(st, "u-a1", &g), -ENOENT);
    CHECK_EQ(parts_count("u-a1"), SIZE_MAX); /* -ENOENT */
    CHECK_EQ(part_put("u-a1", 3, 1, "\"late\""), -ENOENT);
    CHECK_EQ(store_upload_abort(st, "u-a1"), -ENOENT);
    /* The other upload of the key keeps its parts; nothing was committed. */
    CHECK_EQ(parts_count("u-a2"), 2);
    CHECK_EQ(store_object_get(st, "mpa", "k", &(struct store_object){0}), -ENOENT);
    CHECK_EQ(store_upload_abort(st, "u-a2"), 0);
    CHECK_EQ(store_upload_abort(st, "u-never"), -ENOENT);
}

/* An upload's backend key is spoken for until Complete or Abort, as a pending intent's is. */
static void test_upload_reserves_backend_key(void)
{
    cleanup_drain();
    CHECK_EQ(upload_new("u-r", "mpr", "k"), 0); /* backend A, backend key "u-r" */
    struct store_cleanup in = {.backend = "A", .backend_key = "u-r", .size = -1, .reason = "stale"};
    int64_t id;
    CHECK_EQ(store_cleanup_add(st, &in, &id), 0);
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK(cleanup_find(&due, "A", "u-r") == NULL);
    store_cleanup_list_free(&due);
    CHECK_EQ(store_upload_abort(st, "u-r"), 0);
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK(cleanup_find(&due, "A", "u-r") != NULL);
    store_cleanup_list_free(&due);
    cleanup_drain();
}

/* Uploads listing: created one after the other (2 ms apart, so created_ms orders them within a key). Ids are
 * chosen so that id order differs from creation order within key "b". */
static const struct {
    const char *id, *key;
} ul_defs[] = {
    {"u01", "b"},         {"u02", "a/c"},           {"z03", "b"},           {"a04", "b"},
    {"u05", "a"},         {"u06", "a/b"},           {"u07", "photos/2024/x"}, {"u08", "photos/2025/y"},
    {"u09", "q"},         {"u10", "a/c"},           {"u11", "é/x"},         {"u12", "a//"},
    {"m13", "b"},         {"u14", "y\xff"},         {"u15", "a b"},         {"u16", "ab"},
};
enum { N_UL = sizeof(ul_defs) / sizeof(ul_defs[0]) };

struct ul_item {
    int up; /* index into ul_defs, or -1 for a prefix */
    const char *s;
    size_t len;
};

static int ul_cmp(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b, c = strcmp(ul_defs[i].key, ul_defs[j].key);
    return c ? c : i - j;
}

/* The expected listing, by brute force over the uploads in (key, creation) order. */
static size_t ul_ref(const int *sorted, const struct store_upload_query *q, struct ul_item *items)
{
    const char *p = q->prefix ? q->prefix : "", *d = q->delimiter ? q->delimiter : "";
    const char *km = q->key_marker ? q->key_marker : "", *im = q->upload_id_marker && *km ? q->upload_id_marker : "";
    int mark = -1; /* creation index of the marker upload */
    for (int i = 0; i < N_UL; i++)
        if (*im && strcmp(ul_defs[i].id, im) == 0 && strcmp(ul_defs[i].key, km) == 0)
            mark = i;
    size_t n = 0;
    for (size_t s = 0; s < N_UL; s++) {
        int i = sorted[s];
        const char *k = ul_defs[i].key;
        if (strncmp(k, p, strlen(p)) != 0)
            continue;
        const char *hit = *d ? strstr(k + strlen(p), d) : NULL;
        if (hit) {
            size_t len = (size_t)(hit - k) + strlen(d);
            if (bytes_cmp(k, len, km, strlen(km)) <= 0)
                continue;
            if (n && items[n - 1].up < 0 && items[n - 1].len == len && memcmp(items[n - 1].s, k, len) == 0)
                continue;
            items[n++] = (struct ul_item){-1, k, len};
            continue;
        }
        int c = strcmp(k, km);
        if (c < 0 || (c == 0 && (!*im || i <= mark)))
            continue;
        items[n++] = (struct ul_item){i, k, strlen(k)};
    }
    return n;
}

static bool ul_item_is(const struct ul_item *it, const struct store_upload_list *l, size_t *u, size_t *p)
{
    if (it->up >= 0)
        return *u < l->n && strcmp(l->v[*u].id, ul_defs[it->up].id) == 0 &&
               strcmp(l->v[(*u)++].obj.key, ul_defs[it->up].key) == 0;
    return *p < l->n_prefixes && strlen(l->prefixes[*p]) == it->len && memcmp(l->prefixes[(*p)++], it->s, it->len) == 0;
}

static bool ul_matches(const int *sorted, const struct store_upload_query *q)
{
    struct ul_item items[N_UL];
    size_t n = ul_ref(sorted, q, items), take = n < q->max_uploads ? n : q->max_uploads;
    struct store_upload_list l;
    if (store_uploads_list(st, q, &l) != 0)
        return false;
    bool ok = l.truncated == (n > q->max_uploads) && l.n + l.n_prefixes == take;
    size_t u = 0, p = 0;
    for (size_t i = 0; ok && i < take; i++)
        ok = ul_item_is(&items[i], &l, &u, &p);
    if (ok && l.truncated && take) {
        const struct ul_item *last = &items[take - 1];
        ok = l.next_key_marker && strlen(l.next_key_marker) == last->len &&
             memcmp(l.next_key_marker, last->s, last->len) == 0 &&
             (last->up < 0 ? l.next_upload_id_marker == NULL
                           : l.next_upload_id_marker && strcmp(l.next_upload_id_marker, ul_defs[last->up].id) == 0);
    }
    if (ok && (!l.truncated || !take))
        ok = l.next_key_marker == NULL && l.next_upload_id_marker == NULL;
    if (!ok)
        fprintf(stderr, "    uploads listing differs: prefix \"%s\" delimiter \"%s\" key_marker \"%s\" "
                        "upload_id_marker \"%s\" max %zu\n",
                q->prefix, q->delimiter, q->key_marker, q->upload_id_marker, q->max_uploads);
    store_upload_list_free(&l);
    return ok;
}

/* Pages through with the next markers and checks the concatenation against the reference. */
static bool ul_pages_match(const int *sorted, struct store_upload_query q)
{
    struct ul_item items[N_UL];
    size_t n = ul_ref(sorted, &q, items), got = 0;
    char km[STORE_KEY_MAX + 1], im[STORE_UPLOAD_ID_MAX + 1];
    bool ok = true;
    for (int pages = 0; ok && pages <= N_UL + 1; pages++) {
        struct store_upload_list l;
        if (store_uploads_list(st, &q, &l) != 0)
            return false;
        size_t u = 0, p = 0;
        for (size_t i = 0; ok && i < l.n + l.n_prefixes; i++, got++)
            ok = got < n && ul_item_is(&items[got], &l, &u, &p);
        bool more = l.truncated;
        if (more) {
            snprintf(km, sizeof(km), "%s", l.next_key_marker);
            snprintf(im, sizeof(im), "%s", l.next_upload_id_marker ? l.next_upload_id_marker : "");
        }
        store_upload_list_free(&l);
        if (!more)
            break;
        q.key_marker = km;
        q.upload_id_marker = im[0] ? im : NULL;
    }
    if (!ok || got != n)
        fprintf(stderr, "    uploads pages differ: prefix \"%s\" delimiter \"%s\" max %zu\n", q.prefix, q.delimiter,
                q.max_uploads);
    return ok && got == n;
}

static void test_uploads_list(void)
{
    for (int i = 0; i < N_UL; i++) {
        CHECK_EQ(upload_new(ul_defs[i].id, "ul", ul_defs[i].key), 0);
        nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
    }
    /* A sibling bucket whose keys would interleave must not show. */
    CHECK_EQ(upload_new("v01", "ul2", "a0"), 0);
    CHECK_EQ(upload_new("v02", "ul2", "b"), 0);
    CHECK_EQ(upload_new("v03", "uk", "b"), 0);
    int sorted[N_UL];
    for (int i = 0; i < N_UL; i++)
        sorted[i] = i;
    qsort(sorted, N_UL, sizeof(sorted[0]), ul_cmp);

    /* Hand-checked: the uploads of "b" by creation, not by id; every field of an entry. */
    struct store_upload_list l;
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "ul", .prefix = "b", .max_uploads = 1000},
                                &l),
             0);
    CHECK_EQ(l.n, 4);
    CHECK(l.n_prefixes == 0 && !l.truncated && l.next_key_marker == NULL && l.next_upload_id_marker == NULL);
    if (l.n == 4) {
        CHECK_SEQ(l.v[0].id, "u01");
        CHECK_SEQ(l.v[1].id, "z03");
        CHECK_SEQ(l.v[2].id, "a04");
        CHECK_SEQ(l.v[3].id, "m13");
        CHECK(l.v[0].created_ms < l.v[1].created_ms);
        CHECK_SEQ(l.v[0].owner, "AKIDU");
        CHECK_SEQ(l.v[0].backend, "A");
        CHECK_SEQ(l.v[0].backend_key, "u01");
        CHECK_SEQ(l.v[0].backend_upload_id, "native-1");
        CHECK_SEQ(l.v[0].obj.bucket, "ul");
        CHECK_SEQ(l.v[0].obj.key, "b");
        CHECK(l.v[0].mem == NULL && l.v[0].obj.mem == NULL);
    }
    store_upload_list_free(&l);
    store_upload_list_free(&l);

    /* Hand-checked: a delimiter; prefixes count against max and a prefix as the last thing has no id marker. */
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "ul", .delimiter = "/", .max_uploads = 3},
                                &l),
             0);
    CHECK_EQ(l.n, 2); /* a, "a b" */
    CHECK_EQ(l.n_prefixes, 1);
    CHECK(l.truncated);
    if (l.n == 2 && l.n_prefixes == 1) {
        CHECK_SEQ(l.v[0].obj.key, "a");
        CHECK_SEQ(l.v[1].obj.key, "a b");
        CHECK_SEQ(l.prefixes[0], "a/");
        CHECK_SEQ(l.next_key_marker, "a/");
        CHECK(l.next_upload_id_marker == NULL);
    }
    store_upload_list_free(&l);

    /* Hand-checked: resuming inside key "b" after its second upload. */
    CHECK_EQ(store_uploads_list(st,
                                &(struct store_upload_query){.bucket = "ul", .key_marker = "b",
                                                             .upload_id_marker = "z03", .max_uploads = 2},
                                &l),
             0);
    CHECK_EQ(l.n, 2);
    CHECK(l.truncated);
    if (l.n == 2) {
        CHECK_SEQ(l.v[0].id, "a04");
        CHECK_SEQ(l.v[1].id, "m13");
        CHECK_SEQ(l.next_key_marker, "b");
        CHECK_SEQ(l.next_upload_id_marker, "m13");
    }
    store_upload_list_free(&l);

    /* max 0: nothing, but whether anything would come. */
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "ul", .max_uploads = 0}, &l), 0);
    CHECK(l.n == 0 && l.n_prefixes == 0 && l.truncated && l.next_key_marker == NULL);
    store_upload_list_free(&l);
    CHECK_EQ(store_uploads_list(st, &(struct store_upload_query){.bucket = "ul-empty", .max_uploads = 10}, &l), 0);
    CHECK(l.n == 0 && l.n_prefixes == 0 && !l.truncated);
    store_upload_list_free(&l);

    /* Every combination against the reference, one page and paged through. An upload_id_marker is paired with
     * its own key (one without a key_marker is ignored). */
    static const char *const prefixes[] = {"", "a", "a/", "b", "photos/", "é", "y", "nothing"};
    static const char *const delims[] = {"", "/", "b", " ", "\xff"};
    static const struct {
        const char *key, *id;
    } markers[] = {
        {"", ""},       {"a", ""},      {"a", "u05"},   {"b", ""},        {"b", "u01"},   {"b", "z03"},
        {"b", "a04"},   {"b", "m13"},   {"a/", ""},     {"a/c", "u02"},   {"a/c", "u10"}, {"photos/", ""},
        {"é/x", "u11"}, {"zzz", ""},    {"", "u01"},    {"a/b", "u06"},
    };
    static const size_t maxes[] = {0, 1, 2, 3, 1000};
    int bad = 0, runs = 0;
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
        for (size_t d = 0; d < sizeof(delims) / sizeof(delims[0]); d++)
            for (size_t m = 0; m < sizeof(markers) / sizeof(markers[0]); m++)
                for (size_t x = 0; x < sizeof(maxes) / sizeof(maxes[0]); x++) {
                    struct store_upload_query q = {.bucket = "ul", .prefix = prefixes[p], .delimiter = delims[d],
                                                   .key_marker = markers[m].key,
                                                   .upload_id_marker = markers[m].id, .max_uploads = maxes[x]};
                    bad += !ul_matches(sorted, &q);
                    if (maxes[x] > 0)
                        bad += !ul_pages_match(sorted, q);
                    runs++;
                }
    CHECK_EQ(bad, 0);
    CHECK(runs > 1000);

    for (int i = 0; i < N_UL; i++)
        CHECK_EQ(store_upload_abort(st, ul_defs[i].id), 0);
    CHECK_EQ(store_upload_abort(st, "v01"), 0);
    CHECK_EQ(store_upload_abort(st, "v02"), 0);
    CHECK_EQ(store_upload_abort(st, "v03"), 0);
}

/* --- part sizes (GetObject ?partNumber=N) ---------------------------------------------------------------------- */

/* Whether (bucket, key) has exactly these part sizes (none: n 0 and NULL). */
static bool parts_are(const char *bucket, const char *key, const int64_t *sizes, size_t n)
{
    struct store_object g;
    if (store_object_get(st, bucket, key, &g) != 0)
        return false;
    bool same = g.n_parts == n && (n ? g.part_sizes && memcmp(g.part_sizes, sizes, n * sizeof(*sizes)) == 0
                                     : g.part_sizes == NULL);
    store_object_free(&g);
    return same;
}

static int put_parts(const char *key, const char *etag, const int64_t *sizes, size_t n, int64_t size)
{
    struct store_copy c = {.backend = "A", .backend_key = key, .size = size};
    struct store_object o = mkobj("pz", key, etag, &c, 1);
    o.size = size;
    o.part_sizes = sizes;
    o.n_parts = n;
    return store_object_commit(st, 0, &o, NULL);
}

static void test_part_sizes(void)
{
    cleanup_drain();
    /* Runs of one size, sizes that alternate, empty parts, one part, and sizes needing every varint byte. */
    static const int64_t runs[] = {5, 5, 5, 3}, alt[] = {1, 2, 1, 2, 1}, zeros[] = {0, 7, 0, 0}, one[] = {10},
                         huge[] = {INT64_MAX - 5, 5}, wide[] = {127, 128, 16383, 16384, INT64_C(1) << 62};
    static const struct {
        const char *key;
        const int64_t *v;
        size_t n;
        int64_t size;
    } cases[] = {
        {"runs", runs, 4, 18},
        {"alt", alt, 5, 7},
        {"zeros", zeros, 4, 7},
        {"one", one, 1, 10},
        {"huge", huge, 2, INT64_MAX},
        {"wide", wide, 5, 127 + 128 + 16383 + 16384 + (INT64_C(1) << 62)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(put_parts(cases[i].key, "\"e-n\"", cases[i].v, cases[i].n, cases[i].size), 0);
        CHECK(parts_are("pz", cases[i].key, cases[i].v, cases[i].n));
    }
    struct store_object g;
    CHECK_EQ(store_object_get(st, "pz", "runs", &g), 0);
    CHECK_EQ(g.size, 18);
    CHECK_EQ(g.n_parts, 4);
    if (g.n_parts == 4)
        CHECK(g.part_sizes[0] == 5 && g.part_sizes[2] == 5 && g.part_sizes[3] == 3);
    store_object_free(&g);
    CHECK(g.part_sizes == NULL && g.n_parts == 0); /* freed and zeroed */

    /* Retagging keeps them (and the version). */
    CHECK_EQ(store_object_set_tagging(st, "pz", "runs", "t=1"), 0);
    CHECK(parts_are("pz", "runs", runs, 4));

    /* An overwrite replaces them: with other parts, under a condition, then by an object written whole. */
    struct store_copy c = {.backend = "A", .backend_key = "runs", .size = 7};
    struct store_object o = mkobj("pz", "runs", "\"e-5\"", &c, 1);
    o.size = 7;
    o.part_sizes = alt;
    o.n_parts = 5;
    CHECK_EQ(store_object_commit_if(st, 0, &o, &(struct store_cond){.if_match = "\"e-n\""}, NULL), 0);
    CHECK(parts_are("pz", "runs", alt, 5));
    o = mkobj("pz", "runs", "\"whole\"", &c, 1);
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);
    CHECK(parts_are("pz", "runs", NULL, 0));
    CHECK_EQ(store_object_get(st, "pz", "runs", &g), 0);
    CHECK_SEQ(g.etag, "\"whole\"");
    CHECK(g.tagging == NULL);
    store_object_free(&g);
    /* A whole object's neighbours keep theirs. */
    CHECK(parts_are("pz", "alt", alt, 5));

    /* Listing entries still carry the object size. */
    struct store_list l;
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "pz", .prefix = "huge", .max_keys = 5}, &l),
             0);
    CHECK_EQ(l.n_entries, 1);
    if (l.n_entries == 1)
        CHECK_EQ(l.entries[0].size, INT64_MAX);
    store_list_free(&l);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ(store_object_delete(st, "pz", cases[i].key, NULL), 0);
    cleanup_drain();
}

static void test_part_sizes_invalid(void)
{
    static const int64_t ok[] = {4, 4, 2}, neg[] = {-1, 11}, over[] = {INT64_MAX, INT64_MAX, 2};
    static int64_t ones[STORE_PART_NUMBER_MAX + 1];
    for (size_t i = 0; i < STORE_PART_NUMBER_MAX + 1; i++)
        ones[i] = 1;
    CHECK_EQ(put_parts("inv", "\"kept\"", ok, 3, 10), 0);

    CHECK_EQ(put_parts("inv", "e", ok, 3, 11), -EINVAL);   /* sum below size */
    CHECK_EQ(put_parts("inv", "e", ok, 3, 9), -EINVAL);    /* sum above size */
    CHECK_EQ(put_parts("inv", "e", ok, 2, 10), -EINVAL);   /* a part short */
    CHECK_EQ(put_parts("inv", "e", neg, 2, 10), -EINVAL);  /* a negative size, though the sum matches */
    CHECK_EQ(put_parts("inv", "e", over, 3, 0), -EINVAL);  /* a sum that overflows int64_t */
    CHECK_EQ(put_parts("inv", "e", over, 3, INT64_MAX), -EINVAL);
    CHECK_EQ(put_parts("inv", "e", NULL, 3, 10), -EINVAL); /* NULL with n_parts > 0 */
    CHECK_EQ(put_parts("inv", "e", ok, 0, 10), -EINVAL);   /* sizes with n_parts 0 */
    CHECK_EQ(put_parts("inv", "e", ones, STORE_PART_NUMBER_MAX + 1, STORE_PART_NUMBER_MAX + 1), -EINVAL);
    CHECK_EQ(put_parts("inv", "e", NULL, 0, 10), 0);      /* none at all is a whole object: fine */
    CHECK(parts_are("pz", "inv", NULL, 0));
    CHECK_EQ(put_parts("inv", "\"kept\"", ok, 3, 10), 0);

    /* Through commit_if and Complete too; a refused call changes nothing, the upload stays. */
    struct store_copy c = {.backend = "A", .backend_key = "inv", .size = 10};
    struct store_object o = mkobj("pz", "inv", "e", &c, 1);
    o.part_sizes = ok;
    o.n_parts = 3;
    o.size = 11;
    CHECK_EQ(store_object_commit_if(st, 0, &o, &(struct store_cond){.if_match = "\"kept\""}, NULL), -EINVAL);
    CHECK_EQ(upload_new("u-pinv", "pz", "inv"), 0);
    struct store_cleanup_list d;
    CHECK_EQ(store_upload_complete(st, "u-pinv", &o, &d), -EINVAL);
    CHECK(d.n == 0 && d.mem == NULL);
    o.size = 10;
    o.part_sizes = neg;
    o.n_parts = 2;
    CHECK_EQ(store_upload_complete(st, "u-pinv", &o, NULL), -EINVAL);
    o.part_sizes = NULL;
    CHECK_EQ(store_upload_complete(st, "u-pinv", &o, NULL), -EINVAL);
    o.part_sizes = ones;
    o.n_parts = STORE_PART_NUMBER_MAX + 1;
    o.size = STORE_PART_NUMBER_MAX + 1;
    CHECK_EQ(store_upload_complete(st, "u-pinv", &o, NULL), -EINVAL);
    struct store_upload g;
    CHECK_EQ(store_upload_get(st, "u-pinv", &g), 0);
    store_upload_free(&g);
    CHECK_EQ(store_upload_abort(st, "u-pinv"), 0);

    struct store_object got;
    CHECK_EQ(store_object_get(st, "pz", "inv", &got), 0);
    CHECK_SEQ(got.etag, "\"kept\"");
    CHECK_EQ(got.size, 10);
    store_object_free(&got);
    CHECK(parts_are("pz", "inv", ok, 3));
    CHECK_EQ(store_object_delete(st, "pz", "inv", NULL), 0);
    cleanup_drain();
}

/* Completing uploads of STORE_PART_NUMBER_MAX parts: one size but the last (as SDKs upload), and all different. */
static void test_part_sizes_complete(void)
{
    enum { N = STORE_PART_NUMBER_MAX };
    int64_t *same = malloc(N * sizeof(*same)), *differ = malloc(N * sizeof(*differ));
    CHECK(same && differ);
    if (!same || !differ) {
        free(same);
        free(differ);
        return;
    }
    int64_t same_total = 0, differ_total = 0;
    for (int i = 0; i < N; i++) {
        same[i] = i < N - 1 ? 8 << 20 : 1234;
        /* Varints of 1 to 7 bytes, and a few empty parts. */
        differ[i] = i % 97 == 0 ? 0 : ((int64_t)i * 1000000007) >> (i % 7 * 6);
        same_total += same[i];
        differ_total += differ[i];
    }

    /* The template's part sizes are not part of an upload: Create ignores them. */
    struct store_upload up = mkupload("u-p10k", "pz", "big");
    up.obj.part_sizes = same;
    up.obj.n_parts = 3; /* they would not even add up */
    CHECK_EQ(store_upload_create(st, &up), 0);
    struct store_upload fetched;
    CHECK_EQ(store_upload_get(st, "u-p10k", &fetched), 0);
    CHECK(fetched.obj.part_sizes == NULL && fetched.obj.n_parts == 0);
    CHECK_EQ(part_put("u-p10k", 1, same[0], "\"p1\""), 0);

    struct store_copy c = {.backend = "A", .backend_key = "u-p10k", .size = same_total};
    struct store_object o = fetched.obj; /* borrows fetched's strings */
    o.size = same_total;
    o.etag = "\"big-10000\"";
    o.copies = &c;
    o.n_copies = 1;
    o.part_sizes = same;
    o.n_parts = N;
    CHECK_EQ(store_upload_complete(st, "u-p10k", &o, NULL), 0);
    store_upload_free(&fetched);
    CHECK(parts_are("pz", "big", same, N));
    struct store_object g;
    CHECK_EQ(store_object_get(st, "pz", "big", &g), 0);
    CHECK_EQ(g.size, same_total);
    CHECK_EQ(g.n_parts, N);
    if (g.n_parts == N)
        CHECK(g.part_sizes[0] == 8 << 20 && g.part_sizes[N - 2] == 8 << 20 && g.part_sizes[N - 1] == 1234);
    store_object_free(&g);

    /* Completing again over it: the new parts replace the old. */
    CHECK_EQ(upload_new("u-p10k2", "pz", "big"), 0);
    c = (struct store_copy){.backend = "A", .backend_key = "u-p10k2", .size = differ_total};
    o = mkobj("pz", "big", "\"differ-10000\"", &c, 1);
    o.size = differ_total;
    o.part_sizes = differ;
    o.n_parts = N;
    CHECK_EQ(store_upload_complete(st, "u-p10k2", &o, NULL), 0);
    CHECK(parts_are("pz", "big", differ, N));

    /* And through a plain commit. */
    c.backend_key = "pz/big.commit";
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);
    CHECK(parts_are("pz", "big", differ, N));

    CHECK_EQ(store_object_delete(st, "pz", "big", NULL), 0);
    cleanup_drain();
    free(same);
    free(differ);
}

/* --- coroutines on ring threads ---------------------------------------------------------------------------------- */

/* Runs fn(args[i]) as n coroutines on each of `threads` fresh ring threads (args laid out per thread). */
struct ring_thread {
    coro_fn fn;
    char *args;
    size_t n, arg_size;
    int err;
};

static void *ring_thread_main(void *arg)
{
    struct ring_thread *t = arg;
    struct coro_sched *s;
    t->err = coro_sched_create(&s, &(struct coro_sched_config){.stack_size = 128 * 1024});
    if (t->err < 0)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (!coro_spawn(s, t->fn, t->args + i * t->arg_size))
            t->err = -ENOMEM;
    coro_sched_run(s);
    coro_sched_free(s);
    return NULL;
}

static void run_on_rings(int threads, coro_fn fn, void *args, size_t per_thread, size_t arg_size)
{
    pthread_t tid[8];
    struct ring_thread t[8];
    for (int i = 0; i < threads; i++) {
        t[i] = (struct ring_thread){fn, (char *)args + (size_t)i * per_thread * arg_size, per_thread, arg_size, 0};
        CHECK_EQ(pthread_create(&tid[i], NULL, ring_thread_main, &t[i]), 0);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        CHECK_EQ(t[i].err, 0);
    }
}

struct committer {
    int index;
    const char *bucket;
    char key[32], backend_key[48];
    bool use_intent;
    bool if_none_match;
    int res;
    size_t displaced;
    int64_t displaced_ids[4];
};

static void committer_main(void *arg)
{
    struct committer *c = arg;
    int64_t intent = 0;
    if (c->use_intent) {
        struct store_intent in = {.bucket = c->bucket, .key = c->key, .backend = "A", .backend_key = c->backend_key,
                                  .size = 10};
        c->res = store_intent_create(st, &in, &intent);
        if (c->res < 0)
            return;
    }
    struct store_copy copy = {.backend = "A", .backend_key = c->backend_key, .size = 10};
    struct store_object o = mkobj(c->bucket, c->key, c->backend_key, &copy, 1);
    struct store_cond cond = {.if_none_match = c->if_none_match};
    struct store_cleanup_list d;
    c->res = store_object_commit_if(st, intent, &o, &cond, &d);
    c->displaced = d.n;
    for (size_t i = 0; i < d.n && i < 4; i++)
        c->displaced_ids[i] = d.v[i].id;
    store_cleanup_list_free(&d);
    if (c->res < 0 && intent)
        store_intent_drop(st, intent, NULL, NULL);
}

/* 200 coroutines on 2 ring threads commit at once: distinct keys, one contended key (last writer wins, every
 * displaced copy queued) and a conditional create that exactly one may win. */
static void test_concurrent_commits(void)
{
    if (!have_uring)
        return;
    cleanup_drain();
    enum { N = 200 };
    static struct committer cs[N];
    for (int i = 0; i < N; i++) {
        struct committer *c = &cs[i];
        *c = (struct committer){.index = i, .bucket = "conc", .use_intent = i % 2 == 0};
        if (i % 4 == 1) { /* 50 writers of one key */
            snprintf(c->key, sizeof(c->key), "hot");
        } else if (i % 4 == 3 && i < 80) { /* 20 racing If-None-Match creators */
            snprintf(c->key, sizeof(c->key), "once");
            c->if_none_match = true;
        } else {
            snprintf(c->key, sizeof(c->key), "k%03d", i);
        }
        snprintf(c->backend_key, sizeof(c->backend_key), "conc/%s/%d", c->key, i);
    }
    struct store_stats s0, s1;
    store_stats_get(st, &s0);
    run_on_rings(2, committer_main, cs, N / 2, sizeof(cs[0]));
    store_stats_get(st, &s1);

    int ok = 0, exists = 0, hot_ok = 0, once_ok = 0;
    size_t hot_displaced = 0;
    for (int i = 0; i < N; i++) {
        if (cs[i].res == 0)
            ok++;
        else if (cs[i].res == -EEXIST && cs[i].if_none_match)
            exists++;
        else
            fprintf(stderr, "    committer %d: %d\n", i, cs[i].res);
        if (strcmp(cs[i].key, "hot") == 0 && cs[i].res == 0) {
            hot_ok++;
            hot_displaced += cs[i].displaced;
        }
        if (cs[i].if_none_match && cs[i].res == 0)
            once_ok++;
    }
    CHECK_EQ(ok + exists, N);
    CHECK_EQ(once_ok, 1);
    CHECK_EQ(exists, 19);
    CHECK_EQ(hot_ok, 50);
    CHECK_EQ(hot_displaced, 49); /* every write of "hot" but the last was displaced exactly once */

    uint64_t requests = s1.requests - s0.requests, txns = s1.transactions - s0.transactions;
    printf("concurrent commits: %llu requests in %llu transactions (largest batch %llu)\n",
           (unsigned long long)requests, (unsigned long long)txns, (unsigned long long)s1.max_batch);
    CHECK(requests >= N);
    if (batching)
        CHECK(txns < requests);

    /* One live version of "hot"; its copy is not in the cleanup queue, the 49 displaced ones are. */
    struct store_object g;
    CHECK_EQ(store_object_get(st, "conc", "hot", &g), 0);
    CHECK_EQ(g.n_copies, 1);
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 1000, &due), 0);
    size_t hot_queued = 0;
    for (size_t i = 0; i < due.n; i++)
        hot_queued += strncmp(due.v[i].backend_key, "conc/hot/", 9) == 0;
    CHECK_EQ(hot_queued, 49);
    if (g.n_copies == 1)
        CHECK(cleanup_find(&due, "A", g.copies[0].backend_key) == NULL);
    store_cleanup_list_free(&due);
    store_object_free(&g);

    struct store_list l;
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "conc", .max_keys = 1000}, &l), 0);
    CHECK_EQ(l.n_entries, N - 50 - 20 + 2);
    store_list_free(&l);
    struct store_intent_list il;
    CHECK_EQ(store_intents_older_than(st, INT64_MAX, 1000, &il), 0);
    CHECK_EQ(il.n, 0); /* used by commits or dropped after failures */
    store_intent_list_free(&il);
    cleanup_drain();
}

/* Part puts from 200 coroutines on 2 ring threads, batched with each other: replacements of one number, puts to
 * an aborted upload (which must fail alone, changing nothing) and four racing Completes of one upload (one wins). */
struct part_writer {
    int upload; /* index into cp_ids; -1: the aborted upload; -2: complete "u-race" */
    int number;
    char etag[16];
    int res;
    size_t displaced;
};

static const char *const cp_ids[] = {"u-cp0", "u-cp1", "u-cp2", "u-cp3"};

static void part_writer_main(void *arg)
{
    struct part_writer *w = arg;
    if (w->upload == -2) {
        struct store_copy c = {.backend = "A", .backend_key = "cp/race.mpu", .size = 10};
        struct store_object o = mkobj("cp", "race", w->etag, &c, 1);
        struct store_cleanup_list d;
        w->res = store_upload_complete(st, "u-race", &o, &d);
        w->displaced = d.n;
        store_cleanup_list_free(&d);
        return;
    }
    struct store_part p = {.number = w->number, .size = 10, .etag = w->etag, .backend_etag = w->etag};
    w->res = store_part_put(st, w->upload < 0 ? "u-gone" : cp_ids[w->upload], &p);
}

static void test_concurrent_parts(void)
{
    if (!have_uring)
        return;
    cleanup_drain();
    for (int u = 0; u < 4; u++)
        CHECK_EQ(upload_new(cp_ids[u], "cp", "k"), 0);
    CHECK_EQ(upload_new("u-race", "cp", "race"), 0);
    CHECK_EQ(put("cp", "race", "old", "A", "cp/race.old"), 0);
    CHECK_EQ(upload_new("u-gone", "cp", "gone"), 0);
    CHECK_EQ(store_upload_abort(st, "u-gone"), 0);

    enum { N = 200, NUMBERS = 20 };
    static struct part_writer ws[N];
    bool expected[4][NUMBERS + 1] = {{false}};
    for (int i = 0; i < N; i++) {
        struct part_writer *w = &ws[i];
        *w = (struct part_writer){.upload = i % 4, .number = (i / 4) % NUMBERS + 1};
        snprintf(w->etag, sizeof(w->etag), "\"%d\"", i);
        if (i % 50 == 7)
            w->upload = -2;
        else if (i % 10 == 9)
            w->upload = -1;
        else
            expected[w->upload][w->number] = true;
    }
    struct store_stats s0, s1;
    store_stats_get(st, &s0);
    run_on_rings(2, part_writer_main, ws, N / 2, sizeof(ws[0]));
    store_stats_get(st, &s1);

    int ok = 0, gone = 0, completed = 0, lost_race = 0;
    size_t displaced = 0;
    for (int i = 0; i < N; i++) {
        const struct part_writer *w = &ws[i];
        if (w->upload >= 0)
            ok += w->res == 0;
        else if (w->upload == -1)
            gone += w->res == -ENOENT;
        else if (w->res == 0) {
            completed++;
            displaced += w->displaced;
        } else {
            lost_race += w->res == -ENOENT;
        }
    }
    CHECK_EQ(ok, N - 20 - 4);
    CHECK_EQ(gone, 20);
    CHECK_EQ(completed, 1);
    CHECK_EQ(lost_race, 3);
    CHECK_EQ(displaced, 1);
    uint64_t requests = s1.requests - s0.requests, txns = s1.transactions - s0.transactions;
    printf("concurrent part puts: %llu requests in %llu transactions\n", (unsigned long long)requests,
           (unsigned long long)txns);
    if (batching)
        CHECK(txns < requests);

    /* Each upload holds exactly the numbers put to it, each with the ETag of one of its writers. */
    for (int u = 0; u < 4; u++) {
        struct store_part_list pl;
        CHECK_EQ(store_parts_list(st, cp_ids[u], 0, STORE_PART_NUMBER_MAX, &pl), 0);
        size_t want = 0;
        for (int n = 1; n <= NUMBERS; n++)
            want += expected[u][n];
        CHECK_EQ(pl.n, want);
        int bad = 0;
        for (size_t j = 0; j < pl.n; j++) {
            int writer = atoi(pl.v[j].etag + 1);
            bad += pl.v[j].number < 1 || pl.v[j].number > NUMBERS || !expected[u][pl.v[j].number] || writer < 0 ||
                   writer >= N || ws[writer].upload != u || ws[writer].number != pl.v[j].number ||
                   strcmp(pl.v[j].backend_etag, pl.v[j].etag) != 0;
        }
        CHECK_EQ(bad, 0);
        store_part_list_free(&pl);
        CHECK_EQ(store_upload_abort(st, cp_ids[u]), 0);
    }
    CHECK_EQ(parts_count("u-gone"), SIZE_MAX); /* the failed puts left no parts behind */

    /* The race's winner is the object; the old version was queued once. */
    struct store_object g;
    CHECK_EQ(store_object_get(st, "cp", "race", &g), 0);
    if (g.n_copies == 1)
        CHECK_SEQ(g.copies[0].backend_key, "cp/race.mpu");
    store_object_free(&g);
    struct store_cleanup_list due;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, 100, &due), 0);
    CHECK_EQ(due.n, 1);
    CHECK(cleanup_find(&due, "A", "cp/race.old") != NULL);
    store_cleanup_list_free(&due);
    CHECK_EQ(store_upload_get(st, "u-race", &(struct store_upload){0}), -ENOENT);
    CHECK_EQ(store_object_delete(st, "cp", "race", NULL), 0);
    cleanup_drain();
}

/* A coroutine cancelled while its call is in flight still gets the call's real result. */
struct cancel_case {
    struct coro *victim;
    int res;
    bool cancelled_seen;
};

static void cancel_victim(void *arg)
{
    struct cancel_case *cc = arg;
    cc->res = put("cancel", "k", "e", "A", "cancel/k");
    cc->cancelled_seen = coro_is_cancelled();
}

static void cancel_main(void *arg)
{
    struct cancel_case *cc = arg;
    cc->victim = coro_spawn(coro_sched_self(), cancel_victim, cc);
    coro_yield(); /* the victim runs, queues its commit and parks */
    coro_cancel(cc->victim);
}

static void test_cancelled_caller(void)
{
    if (!have_uring)
        return;
    struct cancel_case cc = {.res = 1};
    run_on_rings(1, cancel_main, &cc, 1, sizeof(cc));
    CHECK_EQ(cc.res, 0);
    CHECK(cc.cancelled_seen);
    struct store_object g;
    CHECK_EQ(store_object_get(st, "cancel", "k", &g), 0);
    store_object_free(&g);
    CHECK_EQ(store_object_delete(st, "cancel", "k", NULL), 0);
    cleanup_drain();
}

/* The blocking variant from a plain thread that has no scheduler at all. */
static void *plain_thread(void *arg)
{
    int *res = arg;
    struct store_object g;
    res[0] = put("plain", "k", "e", "A", "plain/k");
    res[1] = store_object_get(st, "plain", "k", &g);
    store_object_free(&g);
    res[2] = store_object_delete(st, "plain", "k", NULL);
    res[3] = coro_sched_self() == NULL;
    return NULL;
}

static void test_plain_thread(void)
{
    int res[4] = {1, 1, 1, 0};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, plain_thread, res), 0);
    pthread_join(t, NULL);
    CHECK_EQ(res[0], 0);
    CHECK_EQ(res[1], 0);
    CHECK_EQ(res[2], 0);
    CHECK_EQ(res[3], 1);
    cleanup_drain();
}

/* --- 10,000 keys: the commit rate, and a delimiter listing that seeks ---------------------------------------------- */

struct filler {
    int first, count;
    bool use_intent;
    int failures;
};

static void filler_main(void *arg)
{
    struct filler *f = arg;
    for (int i = f->first; i < f->first + f->count; i++) {
        char key[32], bkey[48];
        snprintf(key, sizeof(key), "d%03d/f%03d", i / 100, i % 100);
        snprintf(bkey, sizeof(bkey), "%s/%s", f->use_intent ? "bi" : "big", key);
        int64_t intent = 0;
        if (f->use_intent) {
            struct store_intent in = {.bucket = "bigi", .key = key, .backend = "A", .backend_key = bkey, .size = 10};
            if (store_intent_create(st, &in, &intent) < 0) {
                f->failures++;
                continue;
            }
        }
        struct store_copy c = {.backend = "A", .backend_key = bkey, .size = 10};
        struct store_object o = mkobj(f->use_intent ? "bigi" : "big", key, "etag", &c, 1);
        f->failures += store_object_commit(st, intent, &o, NULL) != 0;
    }
}

/* 10,000 commits from 100 coroutines on one ring thread (or the main thread without io_uring); prints the rate. */
static void fill(bool use_intent)
{
    enum { KEYS = 10000, COROS = 100 };
    static struct filler fs[COROS];
    for (int i = 0; i < COROS; i++)
        fs[i] = (struct filler){.first = i * (KEYS / COROS), .count = KEYS / COROS, .use_intent = use_intent};
    struct store_stats s0, s1;
    store_stats_get(st, &s0);
    int64_t t0 = mono_ns();
    if (have_uring) {
        run_on_rings(1, filler_main, fs, COROS, sizeof(fs[0]));
    } else {
        for (int i = 0; i < COROS; i++)
            filler_main(&fs[i]);
    }
    double secs = (double)(mono_ns() - t0) / 1e9;
    store_stats_get(st, &s1);
    int failures = 0;
    for (int i = 0; i < COROS; i++)
        failures += fs[i].failures;
    CHECK_EQ(failures, 0);
    printf("%d commits%s from %d coroutines: %.2f s, %.0f commits/s, %llu transactions\n", KEYS,
           use_intent ? " (each after an intent)" : "", COROS, secs, KEYS / secs,
           (unsigned long long)(s1.transactions - s0.transactions));
}

static void test_ten_thousand(void)
{
    fill(false);
    fill(true);

    struct store_stats s0, s1;
    store_stats_get(st, &s0);
    struct store_list l;
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "big", .delimiter = "/", .max_keys = 1000},
                                &l),
             0);
    store_stats_get(st, &s1);
    CHECK_EQ(l.n_prefixes, 100);
    CHECK_EQ(l.n_entries, 0);
    CHECK(!l.truncated);
    if (l.n_prefixes == 100) {
        CHECK_SEQ(l.prefixes[0], "d000/");
        CHECK_SEQ(l.prefixes[99], "d099/");
    }
    store_list_free(&l);
    /* One row per group, plus the row that ends the walk at most: no scan of the 10,000 keys. */
    printf("delimiter listing of 10,000 keys in 100 groups read %llu rows\n",
           (unsigned long long)(s1.list_rows - s0.list_rows));
    CHECK(s1.list_rows - s0.list_rows <= 101);

    /* Paged by 7 with a delimiter: markers that are prefixes skip their group. */
    struct store_list_query q = {.bucket = "big", .delimiter = "/", .max_keys = 7};
    char marker[64];
    size_t total = 0;
    for (int page = 0; page < 100; page++) {
        CHECK_EQ(store_list_objects(st, &q, &l), 0);
        total += l.n_prefixes;
        bool more = l.truncated;
        if (more)
            snprintf(marker, sizeof(marker), "%s", l.next_marker);
        store_list_free(&l);
        if (!more)
            break;
        q.start_after = marker;
    }
    CHECK_EQ(total, 100);

    /* Inside one group, and the whole bucket paged by 1000. */
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "big", .prefix = "d042/", .delimiter = "/",
                                                               .max_keys = 1000},
                                &l),
             0);
    CHECK_EQ(l.n_entries, 100);
    CHECK_EQ(l.n_prefixes, 0);
    store_list_free(&l);
    q = (struct store_list_query){.bucket = "big", .max_keys = 1000};
    total = 0;
    for (int page = 0; page < 20; page++) {
        CHECK_EQ(store_list_objects(st, &q, &l), 0);
        total += l.n_entries;
        bool more = l.truncated;
        if (more)
            snprintf(marker, sizeof(marker), "%s", l.next_marker);
        store_list_free(&l);
        if (!more)
            break;
        q.start_after = marker;
    }
    CHECK_EQ(total, 10000);
    struct store_intent_list il;
    CHECK_EQ(store_intents_older_than(st, INT64_MAX, 10, &il), 0);
    CHECK_EQ(il.n, 0);
    store_intent_list_free(&il);
}

/* --- buckets --------------------------------------------------------------------------------------------------- */

static void test_buckets(void)
{
    int64_t t0 = wall_ms();
    CHECK_EQ(store_bucket_create(st, "zeta", "AKIDZ"), 0);
    CHECK_EQ(store_bucket_create(st, "alpha", "AKIDA"), 0);
    CHECK_EQ(store_bucket_create(st, "alpha", "AKIDB"), -EEXIST);

    struct store_bucket b;
    CHECK_EQ(store_bucket_get(st, "alpha", &b), 0);
    CHECK_SEQ(b.name, "alpha");
    CHECK_SEQ(b.owner, "AKIDA"); /* the first creator keeps it */
    CHECK(b.created_ms >= t0 - 1000 && b.created_ms <= wall_ms());
    CHECK_EQ(store_bucket_get(st, "alpha", NULL), 0);
    CHECK_EQ(store_bucket_get(st, "nope", &b), -ENOENT);

    struct store_bucket_list bl;
    CHECK_EQ(store_bucket_list(st, &bl), 0);
    CHECK_EQ(bl.n, 2);
    if (bl.n == 2) {
        CHECK_SEQ(bl.v[0].name, "alpha");
        CHECK_SEQ(bl.v[1].name, "zeta");
        CHECK_SEQ(bl.v[1].owner, "AKIDZ");
    }
    store_bucket_list_free(&bl);

    /* Not empty while an object or a pending intent is in it. */
    CHECK_EQ(put("alpha", "obj", "e", "A", "alpha/obj"), 0);
    CHECK_EQ(store_bucket_delete(st, "alpha"), -ENOTEMPTY);
    CHECK_EQ(store_object_delete(st, "alpha", "obj", NULL), 0);
    int64_t intent;
    struct store_intent in = {.bucket = "alpha", .key = "p", .backend = "A", .backend_key = "alpha/p", .size = 1};
    CHECK_EQ(store_intent_create(st, &in, &intent), 0);
    CHECK_EQ(store_bucket_delete(st, "alpha"), -ENOTEMPTY);
    CHECK_EQ(store_intent_drop(st, intent, NULL, NULL), 0);
    CHECK_EQ(upload_new("u-alpha", "alpha", "m"), 0); /* and while a multipart upload is */
    CHECK_EQ(store_bucket_delete(st, "alpha"), -ENOTEMPTY);
    CHECK_EQ(store_bucket_get(st, "alpha", NULL), 0);
    CHECK_EQ(store_upload_abort(st, "u-alpha"), 0);
    CHECK_EQ(store_bucket_delete(st, "alpha"), 0);
    CHECK_EQ(store_bucket_delete(st, "alpha"), -ENOENT);
    CHECK_EQ(store_bucket_get(st, "alpha", NULL), -ENOENT);
    CHECK_EQ(store_bucket_delete(st, "zeta"), 0);
    CHECK_EQ(store_bucket_list(st, &bl), 0);
    CHECK_EQ(bl.n, 0);
    store_bucket_list_free(&bl);
    cleanup_drain();
}

/* Every contract test, on the store in st. */
/* --- backend usage --------------------------------------------------------------------------------------------- */

static const struct store_backend_usage *usage_of(const struct store_backend_usage_list *l, const char *backend)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].backend, backend) == 0)
            return &l->v[i];
    return NULL;
}

/* Live copies, pending intents, upload parts and queued cleanups all count; an overwrite moves the old copy's
 * bytes to the cleanup queue, and they go when the cleanup is done. */
static void test_backend_usage(void)
{
    struct store_copy c1[] = {{.backend = "usage-a", .backend_key = "k1", .size = 100},
                              {.backend = "usage-b", .backend_key = "k1", .size = 120}};
    struct store_object o = mkobj("usage", "k1", "\"e1\"", c1, 2);
    CHECK_EQ(store_object_commit(st, 0, &o, NULL), 0);
    int64_t intent;
    CHECK_EQ(store_intent_create(st, &(struct store_intent){.bucket = "usage", .key = "k2", .backend = "usage-a",
                                                          .backend_key = "k2", .size = 7}, &intent), 0);
    struct store_upload up = mkupload("usage-up", "usage", "k3");
    up.backend = "usage-c";
    CHECK_EQ(store_upload_create(st, &up), 0);
    CHECK_EQ(part_put("usage-up", 1, 30, "\"p1\""), 0);
    CHECK_EQ(part_put("usage-up", 2, 12, "\"p2\""), 0);

    struct store_backend_usage_list l;
    CHECK_EQ(store_backend_usage(st, &l), 0);
    const struct store_backend_usage *a = usage_of(&l, "usage-a"), *b = usage_of(&l, "usage-b"),
                                     *c = usage_of(&l, "usage-c");
    CHECK(a && a->bytes == 107 && a->objects == 1);
    CHECK(b && b->bytes == 120 && b->objects == 1);
    CHECK(c && c->bytes == 42 && c->objects == 0);
    for (size_t i = 1; i < l.n; i++)
        CHECK(strcmp(l.v[i - 1].backend, l.v[i].backend) < 0);
    store_backend_usage_list_free(&l);

    /* Overwrite onto usage-b only: usage-a's copy is displaced but still on the backend until cleaned up. */
    struct store_copy c2 = {.backend = "usage-b", .backend_key = "k1v2", .size = 50};
    struct store_object o2 = mkobj("usage", "k1", "\"e2\"", &c2, 1);
    struct store_cleanup_list displaced;
    CHECK_EQ(store_object_commit(st, 0, &o2, &displaced), 0);
    CHECK_EQ(store_backend_usage(st, &l), 0);
    a = usage_of(&l, "usage-a");
    b = usage_of(&l, "usage-b");
    CHECK(a && a->bytes == 107 && a->objects == 0);
    CHECK(b && b->bytes == 170 && b->objects == 1);
    store_backend_usage_list_free(&l);
    for (size_t i = 0; i < displaced.n; i++)
        CHECK_EQ(store_cleanup_done(st, displaced.v[i].id), 0);
    store_cleanup_list_free(&displaced);
    CHECK_EQ(store_intent_drop(st, intent, NULL, NULL), 0);
    CHECK_EQ(store_upload_abort(st, "usage-up"), 0);
    CHECK_EQ(store_backend_usage(st, &l), 0);
    CHECK(!usage_of(&l, "usage-a") && !usage_of(&l, "usage-c"));
    b = usage_of(&l, "usage-b");
    CHECK(b && b->bytes == 50 && b->objects == 1);
    store_backend_usage_list_free(&l);
    CHECK_EQ(store_object_delete(st, "usage", "k1", &displaced), 0);
    for (size_t i = 0; i < displaced.n; i++)
        CHECK_EQ(store_cleanup_done(st, displaced.v[i].id), 0);
    store_cleanup_list_free(&displaced);
}

/* --- usage counters ----------------------------------------------------------------------------------------- */

static const struct store_usage *usage_row(const struct store_usage_list *l, const char *backend)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].backend, backend) == 0)
            return &l->v[i];
    return NULL;
}

static void test_usage_counters(void)
{
    struct store_usage d[] = {{"ctr-b", 3, 100, 7}, {"ctr-a", 1, 0, 50}};
    struct store_usage_list l;
    CHECK_EQ(store_usage_add(st, "2031-01", d, 2, &l), 0);
    CHECK_EQ(l.n, 2);
    if (l.n != 2)
        return;
    CHECK_STR(l.v[0].backend, "ctr-a"); /* by name */
    CHECK(l.v[0].api_calls == 1 && l.v[0].egress_bytes == 0 && l.v[0].ingress_bytes == 50);
    store_usage_list_free(&l);
    CHECK_EQ(store_usage_add(st, "2031-01", d, 1, &l), 0);
    const struct store_usage *b = usage_row(&l, "ctr-b");
    CHECK(b && b->api_calls == 6 && b->egress_bytes == 200 && b->ingress_bytes == 14);
    store_usage_list_free(&l);
    /* Another month starts from nothing; n 0 only reads. */
    CHECK_EQ(store_usage_add(st, "2031-02", NULL, 0, &l), 0);
    CHECK_EQ(l.n, 0);
    store_usage_list_free(&l);
    CHECK_EQ(store_usage_add(st, "2031-02", &d[1], 1, &l), 0);
    CHECK(l.n == 1 && l.v[0].api_calls == 1);
    store_usage_list_free(&l);

    struct store_usage dup[] = {{"ctr-a", 1, 1, 1}, {"ctr-a", 1, 1, 1}}, neg = {"ctr-a", -1, 0, 0}, none = {NULL, 1, 0, 0};
    CHECK_EQ(store_usage_add(st, "2031-1", d, 1, &l), -EINVAL);
    CHECK_EQ(store_usage_add(st, "203x-01", d, 1, &l), -EINVAL);
    CHECK_EQ(store_usage_add(st, NULL, d, 1, &l), -EINVAL);
    CHECK_EQ(store_usage_add(st, "2031-01", dup, 2, &l), -EINVAL);
    CHECK_EQ(store_usage_add(st, "2031-01", &neg, 1, &l), -EINVAL);
    CHECK_EQ(store_usage_add(st, "2031-01", &none, 1, &l), -EINVAL);
    CHECK_EQ(store_usage_add(st, "2031-01", d, STORE_USAGE_MAX + 1, &l), -EINVAL);
    CHECK(l.n == 0 && l.v == NULL);
}

struct usage_adder {
    int rounds, failed;
};

static void *usage_adder_run(void *arg)
{
    struct usage_adder *a = arg;
    struct store_usage d = {"ctr-race", 1, 10, 100};
    for (int i = 0; i < a->rounds; i++) {
        struct store_usage_list l;
        if (store_usage_add(st, "2031-03", &d, 1, &l) != 0)
            a->failed++;
        store_usage_list_free(&l);
    }
    return NULL;
}

/* Adders racing on one row lose no increment. */
static void test_usage_concurrent(void)
{
    pthread_t t[4];
    struct usage_adder a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct usage_adder){.rounds = 50};
        pthread_create(&t[i], NULL, usage_adder_run, &a[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(a[i].failed, 0);
    }
    struct store_usage_list l;
    CHECK_EQ(store_usage_add(st, "2031-03", NULL, 0, &l), 0);
    const struct store_usage *r = usage_row(&l, "ctr-race");
    CHECK(r && r->api_calls == 200 && r->egress_bytes == 2000 && r->ingress_bytes == 20000);
    store_usage_list_free(&l);
}

/* --- availability ------------------------------------------------------------------------------------------- */

/* The breaker: unavailability failures open it, it fails fast while open, a probe after the open time closes it;
 * answers about the request (not found) never count. */
static void test_breaker(void)
{
    store_breaker_set(st, &(struct store_breaker_config){.threshold = 2, .open_ns = 300000000});
    struct store_object o;
    CHECK_EQ(store_object_get(st, "brk", "none", &o), -ENOENT);
    CHECK(store_available(st));
    store_fault_set(st, true);
    CHECK_EQ(store_object_get(st, "brk", "none", &o), -EIO);
    CHECK(store_available(st)); /* one failure: still closed */
    CHECK_EQ(put("brk", "k", "\"e\"", "A", "brk/k"), -EIO);
    CHECK(!store_available(st));
    CHECK_EQ(store_object_get(st, "brk", "none", &o), -EHOSTDOWN);
    store_fault_set(st, false);
    CHECK_EQ(store_object_get(st, "brk", "none", &o), -EHOSTDOWN); /* open until its time is up */
    struct timespec pause = {0, 350000000};
    nanosleep(&pause, NULL);
    CHECK(store_available(st));
    CHECK_EQ(put("brk", "k", "\"e\"", "A", "brk/k"), 0); /* the probe succeeds: closed */
    CHECK_EQ(store_object_get(st, "brk", "k", &o), 0);
    store_object_free(&o);
    CHECK(store_available(st));
    CHECK(store_err_unavailable(-EHOSTDOWN) && !store_err_unavailable(-ENOENT) && !store_err_unavailable(-EINVAL));
    store_breaker_set(st, NULL);
}

static void test_object_clone(void)
{
    static const struct store_meta meta[] = {{"a", "1"}, {"b", ""}};
    static const int64_t parts[] = {5, 5};
    struct store_copy c[] = {{"A", "x/1", 10, 7}, {"B", "x/2", 10, 8}};
    struct store_object o = mkobj("cl", "k", "\"e\"", c, 2);
    o.meta = meta;
    o.n_meta = 2;
    o.part_sizes = parts;
    o.n_parts = 2;
    o.content_type = "text/plain";
    struct store_object d;
    CHECK_EQ(store_object_clone(&o, &d), 0);
    CHECK(d.bucket != o.bucket && strcmp(d.bucket, "cl") == 0 && strcmp(d.etag, "\"e\"") == 0);
    CHECK(d.n_meta == 2 && strcmp(d.meta[1].name, "b") == 0 && strcmp(d.meta[1].value, "") == 0);
    CHECK(d.n_copies == 2 && strcmp(d.copies[1].backend_key, "x/2") == 0 && d.copies[1].created_ms == 8);
    CHECK(d.n_parts == 2 && d.part_sizes[1] == 5 && d.part_sizes != parts);
    CHECK(d.content_encoding == NULL && strcmp(d.content_type, "text/plain") == 0);
    store_object_free(&d);
}

/* --- backend state --------------------------------------------------------------------------------------------- */

static void test_backend_state(void)
{
    struct store_backend_state_list l;
    CHECK_EQ(store_backend_states(st, &l), 0);
    size_t before = l.n;
    store_backend_state_list_free(&l);
    CHECK_EQ(store_backend_state_set(st, "st-b", STORE_BACKEND_DRAINING), 0);
    CHECK_EQ(store_backend_state_set(st, "st-a", STORE_BACKEND_DRAINING), 0);
    CHECK_EQ(store_backend_state_set(st, "st-a", STORE_BACKEND_DRAINING), 0); /* again: no error */
    CHECK_EQ(store_backend_states(st, &l), 0);
    CHECK_EQ(l.n, before + 2);
    const struct store_backend_state_row *a = NULL;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.v[i].backend, "st-a") == 0)
            a = &l.v[i];
        if (i)
            CHECK(strcmp(l.v[i - 1].backend, l.v[i].backend) < 0);
    }
    CHECK(a && a->state == STORE_BACKEND_DRAINING && a->changed_ms > 0);
    store_backend_state_list_free(&l);
    CHECK_EQ(store_backend_state_set(st, "st-a", STORE_BACKEND_ACTIVE), 0);
    CHECK_EQ(store_backend_state_set(st, "st-b", STORE_BACKEND_ACTIVE), 0);
    CHECK_EQ(store_backend_state_set(st, "st-never", STORE_BACKEND_ACTIVE), 0);
    CHECK_EQ(store_backend_states(st, &l), 0);
    CHECK_EQ(l.n, before);
    store_backend_state_list_free(&l);
    CHECK_EQ(store_backend_state_set(st, "", STORE_BACKEND_DRAINING), -EINVAL);
    CHECK_EQ(store_backend_state_set(st, "x", (enum store_backend_state)7), -EINVAL);
}

/* A batch delete's rows go in one call; rows already gone are no error; the rest stay. */
static void test_cleanup_done_many(void)
{
    cleanup_drain();
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof(key), "many/%d", i);
        struct store_cleanup in = {.backend = "A", .backend_key = key, .size = 1, .reason = "r"};
        CHECK_EQ(store_cleanup_add(st, &in, &ids[i]), 0);
    }
    int64_t done[] = {ids[0], ids[2], ids[2] + 1000000};
    CHECK_EQ(store_cleanup_done_many(st, done, 3), 0);
    struct store_cleanup_list l;
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, SIZE_MAX, &l), 0);
    CHECK_EQ(l.n, 1);
    if (l.n == 1)
        CHECK_EQ(l.v[0].id, ids[1]);
    store_cleanup_list_free(&l);
    CHECK_EQ(store_cleanup_done_many(st, done, 0), 0);
    int64_t bad[] = {ids[1], 0};
    CHECK_EQ(store_cleanup_done_many(st, bad, 2), -EINVAL);
    CHECK_EQ(store_cleanup_done_many(st, ids, STORE_CLEANUP_MANY_MAX + 1), -EINVAL);
    CHECK_EQ(store_cleanup_done_many(st, &ids[1], 1), 0);
    CHECK_EQ(store_cleanup_due(st, INT64_MAX, SIZE_MAX, &l), 0);
    CHECK_EQ(l.n, 0);
    store_cleanup_list_free(&l);
}

/* --- job locks ------------------------------------------------------------------------------------------------ */

/* A second handle on the same database, as a second s3orch instance would open (defined per implementation). */
static int store_open_again(struct store **out);

static bool job_held(struct store *s, enum store_job job)
{
    bool held = true;
    CHECK_EQ(store_job_lock(s, job, &held), 0);
    return held;
}

/* Whether s gets the lock within 5 s: a closed handle's session ends on the server a moment after it goes. */
static bool job_held_soon(struct store *s, enum store_job job)
{
    for (int i = 0; i < 500; i++) {
        bool held = false;
        if (store_job_lock(s, job, &held) == 0 && held)
            return true;
        usleep(10000);
    }
    return false;
}

/* One handle holds a job's lock at a time; asking again is not taking it twice; an unlock or the holder's end
 * frees it for the other. */
static void test_job_locks(void)
{
    struct store *other = NULL;
    CHECK_EQ(store_open_again(&other), 0);
    if (!other)
        return;
    CHECK(job_held(st, STORE_JOB_CLEANER));
    CHECK(job_held(st, STORE_JOB_CLEANER));
    CHECK(!job_held(other, STORE_JOB_CLEANER));
    CHECK(job_held(other, STORE_JOB_REAPER));
    CHECK(!job_held(st, STORE_JOB_REAPER));
    /* One unlock frees it, though it was asked for twice. */
    CHECK_EQ(store_job_unlock(st, STORE_JOB_CLEANER), 0);
    CHECK(job_held(other, STORE_JOB_CLEANER));
    CHECK(!job_held(st, STORE_JOB_CLEANER));
    CHECK_EQ(store_job_unlock(st, STORE_JOB_CLEANER), 0); /* not held: nothing happens */
    CHECK(!job_held(st, STORE_JOB_CLEANER));
    /* The holder goes away (an instance that died): its locks go with it. */
    store_close(other);
    CHECK(job_held_soon(st, STORE_JOB_CLEANER));
    CHECK(job_held_soon(st, STORE_JOB_REAPER));
    bool held = true;
    CHECK_EQ(store_job_lock(st, STORE_JOB_COUNT, &held), -EINVAL);
    CHECK(!held);
    CHECK_EQ(store_job_unlock(st, (enum store_job)-1), -EINVAL);
    CHECK(strcmp(store_job_name(STORE_JOB_REAPER), "reaper") == 0);
    CHECK_EQ(store_job_unlock(st, STORE_JOB_CLEANER), 0);
    CHECK_EQ(store_job_unlock(st, STORE_JOB_REAPER), 0);
}

static void contract_suite(void)
{
    RUN(test_put_get);
    RUN(test_invalid);
    RUN(test_overwrite);
    RUN(test_delete);
    RUN(test_conditional);
    RUN(test_tagging);
    RUN(test_intents);
    RUN(test_cleanup_queue);
    RUN(test_cleanup_done_many);
    RUN(test_list);
    RUN(test_upload_create_get);
    RUN(test_upload_invalid);
    RUN(test_parts);
    RUN(test_upload_complete);
    RUN(test_upload_abort);
    RUN(test_upload_reserves_backend_key);
    RUN(test_uploads_list);
    RUN(test_part_sizes);
    RUN(test_part_sizes_invalid);
    RUN(test_part_sizes_complete);
    RUN(test_buckets);
    RUN(test_backend_usage);
    RUN(test_usage_counters);
    RUN(test_usage_concurrent);
    RUN(test_backend_state);
    RUN(test_job_locks);
    RUN(test_breaker);
    RUN(test_object_clone);
    RUN(test_concurrent_commits);
    RUN(test_concurrent_parts);
    RUN(test_cancelled_caller);
    RUN(test_plain_thread);
    RUN(test_ten_thousand);
}

/* Whether coroutine tests can run: they need io_uring; the rest run on the blocking variant regardless. */
static void probe_uring(void)
{
    struct coro_sched *probe;
    int err = coro_sched_create(&probe, NULL);
    have_uring = err == 0;
    if (have_uring)
        coro_sched_free(probe);
    else
        fprintf(stderr, "io_uring unavailable (%s): coroutine tests skipped\n", strerror(-err));
}

#ifndef STORE_TEST_PG

/* --- SQLite only: the file ------------------------------------------------------------------------------------- */

static char dir[64], db_path[128];

static int open_sqlite(const char *path, struct store **out)
{
    return store_sqlite_open(out, &(struct store_sqlite_config){.path = path});
}

static int store_open_again(struct store **out) { return open_sqlite(db_path, out); }

static void test_reopen(void)
{
    CHECK_EQ(store_bucket_create(st, "persist", "AK"), 0);
    CHECK_EQ(put("persist", "k", "etag-p", "A", "persist/k"), 0);
    static const struct store_meta meta[] = {{"x-amz-meta-b", "2"}, {"x-amz-meta-a", "1"}};
    struct store_upload up = mkupload("u-persist", "persist", "m");
    up.obj.meta = meta;
    up.obj.n_meta = 2;
    up.obj.cache_control = "";
    CHECK_EQ(store_upload_create(st, &up), 0);
    CHECK_EQ(part_put("u-persist", 2, 9, "\"p2\""), 0);
    store_close(st);
    st = NULL;
    CHECK_EQ(open_sqlite(db_path, &st), 0);
    if (!st)
        return;
    struct store_object g;
    CHECK_EQ(store_object_get(st, "persist", "k", &g), 0);
    CHECK_SEQ(g.etag, "etag-p");
    store_object_free(&g);
    CHECK_EQ(store_bucket_get(st, "persist", NULL), 0);
    struct store_upload gu;
    CHECK_EQ(store_upload_get(st, "u-persist", &gu), 0);
    CHECK_SEQ(gu.obj.key, "m");
    CHECK_SEQ(gu.obj.cache_control, "");
    CHECK(gu.obj.content_type == NULL);
    CHECK_EQ(gu.obj.n_meta, 2);
    if (gu.obj.n_meta == 2)
        CHECK_SEQ(gu.obj.meta[0].name, "x-amz-meta-b");
    store_upload_free(&gu);
    struct store_part_list pl;
    CHECK_EQ(store_parts_list(st, "u-persist", 0, 10, &pl), 0);
    CHECK_EQ(pl.n, 1);
    if (pl.n == 1) {
        CHECK_EQ(pl.v[0].number, 2);
        CHECK_SEQ(pl.v[0].etag, "\"p2\"");
    }
    store_part_list_free(&pl);
    CHECK_EQ(store_upload_abort(st, "u-persist"), 0);
    struct store_list l;
    CHECK_EQ(store_list_objects(st, &(struct store_list_query){.bucket = "big", .max_keys = 5}, &l), 0);
    CHECK_EQ(l.n_entries, 5);
    store_list_free(&l);
}

static void test_migrate_empty_file(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/empty.db", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0);
    close(fd);
    struct store *s;
    CHECK_EQ(open_sqlite(path, &s), 0);
    if (!s)
        return;
    CHECK_STR(store_kind(s), "sqlite");
    struct store_object g;
    CHECK_EQ(store_object_get(s, "b", "k", &g), -ENOENT);
    store_close(s);

    sqlite3 *db;
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    CHECK_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    CHECK(sqlite3_column_int(q, 0) >= 1);
    sqlite3_finalize(q);
    CHECK_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* The indexes on intents, which every PUT pays for twice (insert and delete): only the one cleanup safety needs. */
static void test_intent_indexes(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/intent-indexes.db", dir);
    struct store *s = NULL;
    CHECK_EQ(open_sqlite(path, &s), 0);
    store_close(s);
    sqlite3 *db;
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    CHECK_EQ(sqlite3_prepare_v2(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                                    "WHERE type = 'index' AND tbl_name = 'intents' AND sql IS NOT NULL ORDER BY name)",
                                -1, &q, NULL),
             SQLITE_OK);
    CHECK_EQ(sqlite3_step(q), SQLITE_ROW);
    const char *names = (const char *)sqlite3_column_text(q, 0);
    CHECK_STR(names ? names : "", "intents_backend_key");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static int file_schema_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int version = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            version = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return version;
}

/* A database of schema version 1 (before multipart uploads) is migrated on open and keeps its data. */
static void test_migrate_from_v1(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/v1.db", dir);
    struct store *s;
    CHECK_EQ(open_sqlite(path, &s), 0);
    if (!s)
        return;
    static const struct store_meta meta[] = {{"x-amz-meta-old", "yes"}};
    struct store_copy c = {.backend = "A", .backend_key = "old/k", .size = 10};
    struct store_object o = mkobj("old", "k", "etag-old", &c, 1);
    o.tagging = "t=1";
    o.meta = meta;
    o.n_meta = 1;
    CHECK_EQ(store_object_commit(s, 0, &o, NULL), 0);
    CHECK_EQ(store_bucket_create(s, "old", "AK"), 0);
    store_close(s);

    /* Back to version 1: what version 2 added is its two tables, their indexes going with them; version 3 a
     * column of objects; versions 4 and 5 the usage and backend_state tables. */
    sqlite3 *db;
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db,
                          "DROP TABLE backend_state; DROP TABLE usage; DROP TABLE parts; DROP TABLE uploads; "
                          "ALTER TABLE objects DROP COLUMN part_sizes; PRAGMA user_version = 1",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ(file_schema_version(path), 1);

    CHECK_EQ(open_sqlite(path, &s), 0);
    if (!s)
        return;
    struct store_object g;
    CHECK_EQ(store_object_get(s, "old", "k", &g), 0);
    CHECK_SEQ(g.etag, "etag-old");
    CHECK_SEQ(g.tagging, "t=1");
    CHECK_EQ(g.n_meta, 1);
    store_object_free(&g);
    CHECK_EQ(store_bucket_get(s, "old", NULL), 0);
    /* The new tables work, Complete included. */
    struct store_upload up = mkupload("u-old", "old", "k");
    CHECK_EQ(store_upload_create(s, &up), 0);
    struct store_part p = {.number = 1, .size = 10, .etag = "\"p\"", .backend_etag = "b"};
    CHECK_EQ(store_part_put(s, "u-old", &p), 0);
    struct store_upload_list l;
    CHECK_EQ(store_uploads_list(s, &(struct store_upload_query){.bucket = "old", .max_uploads = 10}, &l), 0);
    CHECK_EQ(l.n, 1);
    store_upload_list_free(&l);
    CHECK_EQ(store_bucket_delete(s, "old"), -ENOTEMPTY);
    struct store_copy c2 = {.backend = "A", .backend_key = "u-old", .size = 10};
    o = mkobj("old", "k", "etag-new", &c2, 1);
    struct store_cleanup_list d;
    CHECK_EQ(store_upload_complete(s, "u-old", &o, &d), 0);
    CHECK_EQ(d.n, 1);
    if (d.n == 1)
        CHECK_SEQ(d.v[0].backend_key, "old/k");
    store_cleanup_list_free(&d);
    store_close(s);
    CHECK(file_schema_version(path) >= 2);

    /* Reopening a migrated file migrates nothing more. */
    CHECK_EQ(open_sqlite(path, &s), 0);
    if (s) {
        CHECK_EQ(store_object_get(s, "old", "k", &g), 0);
        CHECK_SEQ(g.etag, "etag-new");
        store_object_free(&g);
        store_close(s);
    }
}

/* The BLOB of (bucket, key)'s part sizes in hex ("" for NULL), or NULL when it cannot be read. */
static char *file_part_sizes_hex(sqlite3 *db, const char *bucket, const char *key)
{
    sqlite3_stmt *q;
    char *hex = NULL;
    if (sqlite3_prepare_v2(db, "SELECT hex(part_sizes) FROM objects WHERE bucket = ?1 AND key = ?2", -1, &q,
                           NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(q, 1, bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        hex = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return hex;
}

/* A database of schema version 2 (before part sizes) is migrated on open: its objects read as written whole, and
 * new ones keep their part sizes, in the encoding sqlite_part_sizes.c documents. Malformed sizes read as -EIO. */
static void test_migrate_from_v2(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/v2.db", dir);
    struct store *s;
    CHECK_EQ(open_sqlite(path, &s), 0);
    if (!s)
        return;
    static const struct store_meta meta[] = {{"x-amz-meta-old", "yes"}};
    struct store_copy c = {.backend = "A", .backend_key = "old/k", .size = 10};
    struct store_object o = mkobj("old", "k", "etag-old", &c, 1);
    o.tagging = "t=1";
    o.meta = meta;
    o.n_meta = 1;
    CHECK_EQ(store_object_commit(s, 0, &o, NULL), 0);
    struct store_upload up = mkupload("u-v2", "old", "m");
    CHECK_EQ(store_upload_create(s, &up), 0);
    store_close(s);

    /* Back to version 2: what version 3 added is one column of objects, versions 4 and 5 two tables. */
    sqlite3 *db;
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db, "DROP TABLE backend_state; DROP TABLE usage; ALTER TABLE objects DROP COLUMN part_sizes; "
                          "PRAGMA user_version = 2",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ(file_schema_version(path), 2);

    CHECK_EQ(open_sqlite(path, &s), 0);
    if (!s)
        return;
    struct store_object g;
    CHECK_EQ(store_object_get(s, "old", "k", &g), 0);
    CHECK_SEQ(g.etag, "etag-old");
    CHECK_SEQ(g.tagging, "t=1");
    CHECK_EQ(g.n_meta, 1);
    CHECK_EQ(g.size, 10);
    CHECK_EQ(g.n_parts, 0);
    CHECK(g.part_sizes == NULL);
    store_object_free(&g);
    CHECK_EQ(store_object_set_tagging(s, "old", "k", "t=2"), 0);
    CHECK_EQ(store_object_get(s, "old", "k", &g), 0);
    CHECK(g.n_parts == 0 && g.part_sizes == NULL);
    store_object_free(&g);

    /* The upload made before completes with its part sizes, as do new objects. */
    static const int64_t sizes[] = {5, 5, 5, 3};
    struct store_copy c2 = {.backend = "A", .backend_key = "u-v2", .size = 18};
    o = mkobj("old", "m", "\"m-4\"", &c2, 1);
    o.size = 18;
    o.part_sizes = sizes;
    o.n_parts = 4;
    CHECK_EQ(store_upload_complete(s, "u-v2", &o, NULL), 0);
    static const int64_t wide[] = {300, INT64_MAX - 300};
    struct store_copy c3 = {.backend = "A", .backend_key = "old/w", .size = 1};
    o = mkobj("old", "w", "\"w-2\"", &c3, 1);
    o.size = INT64_MAX;
    o.part_sizes = wide;
    o.n_parts = 2;
    CHECK_EQ(store_object_commit(s, 0, &o, NULL), 0);
    CHECK_EQ(store_object_get(s, "old", "m", &g), 0);
    CHECK_EQ(g.n_parts, 4);
    if (g.n_parts == 4)
        CHECK(memcmp(g.part_sizes, sizes, sizeof(sizes)) == 0);
    store_object_free(&g);
    store_close(s);
    CHECK(file_schema_version(path) >= 3);

    /* The encoding is the file's: runs of (count, size) as LEB128 varints, NULL for a whole object. */
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    char *hex = file_part_sizes_hex(db, "old", "m");
    CHECK_SEQ(hex, "03050103"); /* 3 x 5, 1 x 3 */
    free(hex);
    hex = file_part_sizes_hex(db, "old", "w");
    CHECK_SEQ(hex, "01AC0201D3FDFFFFFFFFFFFF7F"); /* 1 x 300, 1 x (2^63 - 1 - 300) */
    free(hex);
    hex = file_part_sizes_hex(db, "old", "k");
    CHECK_SEQ(hex, "");
    free(hex);

    /* Malformed BLOBs on the 18-byte object "m": each is refused on read rather than handed out. */
    static const char *const bad[] = {
        "X'030501'",                 /* cut off after a count */
        "X'0305018380'",             /* a varint cut off */
        "X'0005010312'",             /* a run of 0 parts */
        "X'03050102'",               /* 17 bytes, not 18 */
        "X'03050104'",               /* 19 bytes */
        "X'01FFFFFFFFFFFFFFFFFF01'", /* a varint longer than 9 bytes */
        "X'904E000112'",             /* 10,000 + 1 parts */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char sql[160];
        snprintf(sql, sizeof(sql), "UPDATE objects SET part_sizes = %s WHERE bucket = 'old' AND key = 'm'", bad[i]);
        CHECK_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        CHECK_EQ(open_sqlite(path, &s), 0);
        if (s) {
            fprintf(stderr, "    (an error log about malformed part sizes on old/m is expected here)\n");
            CHECK_EQ(store_object_get(s, "old", "m", &g), -EIO);
            CHECK(g.mem == NULL && g.part_sizes == NULL);
            store_close(s);
        }
        CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    }
    /* 10,000 parts is the most: 9,999 empty ones and one of 18 bytes. */
    CHECK_EQ(sqlite3_exec(db, "UPDATE objects SET part_sizes = X'8F4E000112' WHERE bucket = 'old' AND key = 'm'",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ(open_sqlite(path, &s), 0);
    if (s) {
        CHECK_EQ(store_object_get(s, "old", "m", &g), 0);
        CHECK_EQ(g.n_parts, STORE_PART_NUMBER_MAX);
        if (g.n_parts == STORE_PART_NUMBER_MAX)
            CHECK(g.part_sizes[0] == 0 && g.part_sizes[9998] == 0 && g.part_sizes[9999] == 18);
        store_object_free(&g);
        store_close(s);
    }
}

static void test_future_schema(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/future.db", dir);
    sqlite3 *db;
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db, "CREATE TABLE t (x); PRAGMA user_version = 9999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct store *s = (struct store *)1;
    fprintf(stderr, "    (an error log about schema version 9999 is expected here)\n");
    CHECK_EQ(open_sqlite(path, &s), -EPROTONOSUPPORT);
    CHECK(s == NULL);

    snprintf(path, sizeof(path), "%s/garbage.db", dir);
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK_EQ(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    CHECK_EQ(open_sqlite(path, &s), -EIO);
    CHECK_EQ(store_sqlite_open(&s, &(struct store_sqlite_config){.path = ""}), -EINVAL);
}

/* synchronous=FULL: the same 10,000 commits, each batch fsynced. */
static void test_sync_full_rate(void)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/full.db", dir);
    struct store *keep = st;
    CHECK_EQ(store_sqlite_open(&st, &(struct store_sqlite_config){.path = path, .sync_full = true}), 0);
    if (st) {
        printf("synchronous=FULL: ");
        fflush(stdout);
        fill(false);
        /* The baseline batching saves: one caller, so one commit per transaction. */
        enum { SEQ = 1000 };
        int failures = 0;
        int64_t t0 = mono_ns();
        for (int i = 0; i < SEQ; i++) {
            char key[32];
            snprintf(key, sizeof(key), "seq%04d", i);
            failures += put("seq", key, "e", "A", key) != 0;
        }
        double secs = (double)(mono_ns() - t0) / 1e9;
        CHECK_EQ(failures, 0);
        printf("synchronous=FULL: %d commits one at a time from a plain thread: %.0f commits/s\n", SEQ, SEQ / secs);
        store_close(st);
    }
    st = keep;
}

static void remove_dir(void)
{
    static const char *const files[] = {"store.db", "empty.db", "v1.db", "v2.db", "future.db", "garbage.db", "full.db"};
    char path[192];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        for (int j = 0; j < 5; j++) {
            snprintf(path, sizeof(path), "%s/%s%s", dir, files[i],
                     (const char *[]){"", "-wal", "-shm", "-job-cleaner.lock", "-job-reaper.lock"}[j]);
            unlink(path);
        }
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/s3orch-store-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db_path, sizeof(db_path), "%s/store.db", dir);

    probe_uring();
    int err = open_sqlite(db_path, &st);
    if (err < 0) {
        fprintf(stderr, "cannot open the store: %s\n", strerror(-err));
        remove_dir();
        return 1;
    }
    contract_suite();
    /* SQLite's own */
    RUN(test_reopen);
    RUN(test_migrate_empty_file);
    RUN(test_intent_indexes);
    RUN(test_migrate_from_v1);
    RUN(test_migrate_from_v2);
    RUN(test_future_schema);
    RUN(test_sync_full_rate);
    store_close(st);
    remove_dir();
    return unit_finish("store");
}

#endif /* STORE_TEST_PG */
