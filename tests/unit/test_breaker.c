/* The circuit breaker around a scripted backend: it opens after the threshold of backend failures, fails fast
 * while open, lets one probe through after the open time, closes on a good probe and reopens on a bad one; and
 * answers about the request (not found, a client's short body) never trip it; list goes through like the rest. */
#include <errno.h>
#include <time.h>

#include "backend/backend.h"
#include "unit.h"

struct fake {
    struct backend base;
    int next_err; /* what every call returns */
    int calls;
    int *freed;
};

static int fake_result(struct backend *b)
{
    struct fake *f = (struct fake *)b;
    f->calls++;
    return f->next_err;
}

static int fake_put(struct backend *b, const char *k, struct body_source *s, int64_t n)
{
    (void)k, (void)s, (void)n;
    return fake_result(b);
}
static int fake_get(struct backend *b, const char *k, int64_t o, int64_t l, struct body_sink *s)
{
    (void)k, (void)o, (void)l, (void)s;
    return fake_result(b);
}
static int fake_head(struct backend *b, const char *k, struct backend_object_info *i)
{
    (void)k, (void)i;
    return fake_result(b);
}
static int fake_del(struct backend *b, const char *k)
{
    (void)k;
    return fake_result(b);
}
static int fake_list(struct backend *b, const char *p, const char *a, size_t max, struct backend_list_page *out)
{
    (void)p, (void)a, (void)max;
    *out = (struct backend_list_page){.truncated = true}; /* marks that the inner backend answered */
    return fake_result(b);
}
static void fake_free(struct backend *b) { (*((struct fake *)b)->freed)++; }

static const struct backend_ops fake_ops = {
    .put = fake_put, .get = fake_get, .head = fake_head, .del = fake_del, .list = fake_list, .free = fake_free};
static const struct backend_ops fake_ops_no_list = {
    .put = fake_put, .get = fake_get, .head = fake_head, .del = fake_del, .free = fake_free};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_opens_fails_fast_probes_and_closes(void)
{
    int freed = 0;
    struct fake f = {.base = {.ops = &fake_ops, .name = "fake"}, .freed = &freed};
    struct backend *b;
    CHECK_EQ(backend_breaker_wrap(&b, &f.base, &(struct backend_breaker_config){3, 30 * 1000000LL}), 0);

    f.next_err = -ECONNREFUSED;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(backend_del(b, "k"), -ECONNREFUSED);
    CHECK_EQ(f.calls, 3);
    CHECK_EQ(backend_head(b, "k", &(struct backend_object_info){0}), -EHOSTDOWN);
    CHECK_EQ(f.calls, 3); /* open: the backend is not called */

    sleep_ms(50); /* past open_ns and its jitter */
    CHECK_EQ(backend_del(b, "k"), -ECONNREFUSED); /* the probe fails: open again */
    CHECK_EQ(f.calls, 4);
    CHECK_EQ(backend_del(b, "k"), -EHOSTDOWN);
    CHECK_EQ(f.calls, 4);

    sleep_ms(50);
    f.next_err = 0;
    CHECK_EQ(backend_del(b, "k"), 0); /* a good probe closes it */
    CHECK_EQ(backend_del(b, "k"), 0);
    CHECK_EQ(f.calls, 6);
    backend_free(b);
    CHECK_EQ(freed, 1);
}

static void test_request_errors_do_not_trip(void)
{
    int freed = 0;
    struct fake f = {.base = {.ops = &fake_ops, .name = "fake"}, .freed = &freed};
    struct backend *b;
    CHECK_EQ(backend_breaker_wrap(&b, &f.base, &(struct backend_breaker_config){2, 1000000000LL}), 0);
    f.next_err = -ENOENT;
    for (int i = 0; i < 10; i++)
        CHECK_EQ(backend_get(b, "k", 0, 1, NULL), -ENOENT);
    /* A write whose client stalled or sent too little is the client's failure, not the backend's. */
    f.next_err = -ETIMEDOUT;
    for (int i = 0; i < 10; i++)
        CHECK_EQ(backend_put(b, "k", NULL, 1), -ETIMEDOUT);
    f.next_err = -EPIPE;
    for (int i = 0; i < 10; i++)
        CHECK_EQ(backend_put(b, "k", NULL, 1), -EPIPE);
    CHECK_EQ(f.calls, 30);
    /* Failures must be consecutive: a success in between resets the count. */
    f.next_err = -EIO;
    CHECK_EQ(backend_del(b, "k"), -EIO);
    f.next_err = 0;
    CHECK_EQ(backend_del(b, "k"), 0);
    f.next_err = -EIO;
    CHECK_EQ(backend_del(b, "k"), -EIO);
    CHECK_EQ(backend_del(b, "k"), -EIO);
    CHECK_EQ(backend_del(b, "k"), -EHOSTDOWN);
    backend_free(b);
}

/* list goes through, counts like any call, and while open fails fast with an empty page. */
static void test_list_passes_through(void)
{
    int freed = 0;
    struct fake f = {.base = {.ops = &fake_ops, .name = "fake"}, .freed = &freed};
    struct backend *b;
    CHECK_EQ(backend_breaker_wrap(&b, &f.base, &(struct backend_breaker_config){2, 1000000000LL}), 0);
    struct backend_list_page page;
    CHECK_EQ(backend_list(b, "p", NULL, 10, &page), 0);
    CHECK(page.truncated);
    f.next_err = -ENOENT; /* an answer about the request */
    CHECK_EQ(backend_list(b, "p", NULL, 10, &page), -ENOENT);
    f.next_err = -EIO;
    CHECK_EQ(backend_list(b, "p", NULL, 10, &page), -EIO);
    CHECK_EQ(backend_list(b, "p", NULL, 10, &page), -EIO);
    CHECK_EQ(f.calls, 4);
    page.truncated = true;
    CHECK_EQ(backend_list(b, "p", NULL, 10, &page), -EHOSTDOWN);
    CHECK_EQ(f.calls, 4);
    CHECK(!page.truncated && page.n == 0 && page.v == NULL);
    backend_free(b);

    /* A backend without list: neither has the breaker. */
    struct fake g = {.base = {.ops = &fake_ops_no_list, .name = "fake"}, .freed = &freed};
    CHECK_EQ(backend_breaker_wrap(&b, &g.base, NULL), 0);
    CHECK(b->ops->list == NULL);
    backend_free(b);
    CHECK_EQ(freed, 2);
}

int main(void)
{
    RUN(test_opens_fails_fast_probes_and_closes);
    RUN(test_request_errors_do_not_trip);
    RUN(test_list_passes_through);
    return unit_finish("breaker");
}
