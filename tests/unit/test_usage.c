/* Usage counting (src/backend/usage.c): every call through the wrapper counts, from many threads without losing a
 * count; limits rule a backend out for writes or reads; a flush adds the counts to the store and takes back the
 * month's totals (another instance's included), and a new month starts again. On SQLite in a temporary dir. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "backend/usage.h"
#include "unit.h"

static struct store *st;

static int ok_put(struct backend *b, const char *k, struct body_source *s, int64_t n)
{
    (void)b, (void)k, (void)s, (void)n;
    return 0;
}
static int ok_get(struct backend *b, const char *k, int64_t o, int64_t l, struct body_sink *s)
{
    (void)b, (void)k, (void)o, (void)l, (void)s;
    return 0;
}
static int fail_get(struct backend *b, const char *k, int64_t o, int64_t l, struct body_sink *s)
{
    (void)b, (void)k, (void)o, (void)l, (void)s;
    return -EIO;
}
static int ok_del(struct backend *b, const char *k)
{
    (void)b, (void)k;
    return 0;
}
static int slow_get(struct backend *b, const char *k, int64_t o, int64_t l, struct body_sink *s)
{
    (void)b, (void)k, (void)o, (void)l, (void)s;
    struct timespec t = {0, 3000000};
    nanosleep(&t, NULL);
    return 0;
}
static void no_free(struct backend *b) { (void)b; }

static const struct backend_ops ok_ops = {.put = ok_put, .get = ok_get, .del = ok_del, .free = no_free};
static const struct backend_ops failing_ops = {.put = ok_put, .get = fail_get, .del = ok_del, .free = no_free};
static const struct backend_ops slow_ops = {.put = ok_put, .get = slow_get, .del = ok_del, .free = no_free};

/* 2031-01-14 and 2031-02-14, noon UTC, in ms. */
#define JAN 1926158400000LL
#define FEB 1928836800000LL

static struct usage *make(const struct usage_limits *lim, struct backend **w0, struct backend **w1,
                          const struct backend_ops *ops1)
{
    static struct backend inner[2];
    inner[0] = (struct backend){&ok_ops, "u0"};
    inner[1] = (struct backend){ops1, "u1"};
    const char *names[] = {"u0", "u1"};
    struct usage *u;
    CHECK_EQ(usage_create(&u, names, lim, 2), 0);
    CHECK_EQ(backend_usage_wrap(w0, &inner[0], u, 0), 0);
    CHECK_EQ(backend_usage_wrap(w1, &inner[1], u, 1), 0);
    return u;
}

static void test_counts_and_limits(void)
{
    struct usage_limits lim[2] = {{.api_calls = 5}, {.egress_bytes = 1000, .ingress_bytes = 300}};
    struct backend *w0, *w1;
    struct usage *u = make(lim, &w0, &w1, &ok_ops);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(backend_del(w0, "k"), 0);
    CHECK(usage_allows_write(u, 0, 0) && usage_allows_read(u, 0, 0));
    CHECK_EQ(backend_put(w0, "k", NULL, 10), 0);
    CHECK_EQ(usage_get(u, 0).api_calls, 5);
    CHECK_EQ(usage_get(u, 0).ingress_bytes, 10);
    CHECK(!usage_allows_write(u, 0, 0) && !usage_allows_read(u, 0, 0)); /* a sixth call would pass the limit */

    CHECK_EQ(backend_get(w1, "k", 0, 900, NULL), 0);
    CHECK(usage_allows_read(u, 1, 100) && !usage_allows_read(u, 1, 101));
    CHECK_EQ(backend_put(w1, "k", NULL, 300), 0);
    CHECK(usage_allows_write(u, 1, 0) && !usage_allows_write(u, 1, 1));
    CHECK(usage_allows_write(NULL, 0, 1 << 30)); /* no usage: no limits */
    backend_free(w0);
    backend_free(w1);
    usage_free(u);
}

static void test_failed_reads_count_a_call_not_bytes(void)
{
    struct usage_limits lim[2] = {{0}, {0}};
    struct backend *w0, *w1;
    struct usage *u = make(lim, &w0, &w1, &failing_ops);
    CHECK_EQ(backend_get(w1, "k", 0, 500, NULL), -EIO);
    struct store_usage g = usage_get(u, 1);
    CHECK(g.api_calls == 1 && g.egress_bytes == 0);
    backend_free(w0);
    backend_free(w1);
    usage_free(u);
}

struct caller {
    struct backend *b;
    int calls;
};

static void *call_many(void *arg)
{
    struct caller *c = arg;
    for (int i = 0; i < c->calls; i++)
        backend_get(c->b, "k", 0, 3, NULL);
    return NULL;
}

static void test_threads_and_flushes(void)
{
    struct usage_limits lim[2] = {{0}, {.api_calls = 100000}};
    struct backend *w0, *w1;
    struct usage *u = make(lim, &w0, &w1, &ok_ops);
    pthread_t t[6];
    struct caller c[6];
    for (int i = 0; i < 6; i++) {
        c[i] = (struct caller){w1, 5000};
        pthread_create(&t[i], NULL, call_many, &c[i]);
    }
    /* Flushes while the threads count: nothing is lost or counted twice. */
    int err;
    double worst = 0;
    for (int i = 0; i < 20; i++) {
        worst = usage_flush(u, st, JAN, &err);
        CHECK_EQ(err, 0);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    worst = usage_flush(u, st, JAN, &err);
    CHECK_EQ(err, 0);
    CHECK_EQ(usage_get(u, 1).api_calls, 30000);
    CHECK_EQ(usage_get(u, 1).egress_bytes, 90000);
    CHECK(worst > 0.29 && worst < 0.31); /* 30000 of 100000 calls */

    /* The store has it all; another instance starting now sees the month's totals. */
    struct store_usage_list l;
    CHECK_EQ(store_usage_add(st, "2031-01", NULL, 0, &l), 0);
    CHECK(l.n == 1 && l.v[0].api_calls == 30000);
    store_usage_list_free(&l);
    struct backend *x0, *x1;
    struct usage *other = make(lim, &x0, &x1, &ok_ops);
    usage_flush(other, st, JAN, &err);
    CHECK_EQ(usage_get(other, 1).api_calls, 30000);
    CHECK_EQ(backend_del(x1, "k"), 0);
    usage_flush(other, st, JAN, &err);
    usage_flush(u, st, JAN, &err);
    CHECK_EQ(usage_get(u, 1).api_calls, 30001); /* the other instance's call */

    /* A new month starts from zero; the calls of the old one stay with it. */
    CHECK_EQ(backend_del(w1, "k"), 0);
    usage_flush(u, st, FEB, &err);
    CHECK_EQ(err, 0);
    CHECK_EQ(usage_get(u, 1).api_calls, 0);
    CHECK_EQ(store_usage_add(st, "2031-01", NULL, 0, &l), 0);
    CHECK(l.n == 1 && l.v[0].api_calls == 30002);
    store_usage_list_free(&l);
    backend_free(w0);
    backend_free(w1);
    backend_free(x0);
    backend_free(x1);
    usage_free(u);
    usage_free(other);
}

/* Latency is an average of calls with small bodies; large transfers do not count. */
static void test_latency(void)
{
    struct usage_limits lim[2] = {{0}, {0}};
    struct backend *w0, *w1;
    struct usage *u = make(lim, &w0, &w1, &slow_ops);
    CHECK_EQ(usage_latency_ns(u, 0), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(backend_get(w0, "k", 0, 100, NULL), 0);
        CHECK_EQ(backend_get(w1, "k", 0, 100, NULL), 0);
    }
    CHECK(usage_latency_ns(u, 1) >= 3000000);
    CHECK(usage_latency_ns(u, 0) > 0 && usage_latency_ns(u, 0) < usage_latency_ns(u, 1));
    int64_t before = usage_latency_ns(u, 0);
    CHECK_EQ(backend_get(w0, "k", 0, 10 << 20, NULL), 0); /* a 10 MiB read says nothing about latency */
    CHECK_EQ(usage_latency_ns(u, 0), before);
    CHECK_EQ(usage_latency_ns(NULL, 0), 0);
    backend_free(w0);
    backend_free(w1);
    usage_free(u);
}

int main(void)
{
    char dir[] = "/tmp/s3orch-usage-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/meta.db", dir);
    if (store_sqlite_open(&st, &(struct store_sqlite_config){.path = path}) < 0)
        return 1;
    RUN(test_counts_and_limits);
    RUN(test_failed_reads_count_a_call_not_bytes);
    RUN(test_threads_and_flushes);
    RUN(test_latency);
    store_close(st);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return unit_finish("usage");
}
