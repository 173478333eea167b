/* Write routing and byte quotas (src/backend/placement.c): each strategy's choice, reservations that never pass a
 * quota however many threads race for the last bytes, skip masks, and backends whose breaker is open. */
#include <errno.h>
#include <pthread.h>

#include "backend/placement.h"
#include "unit.h"

/* A backend that fails every call: only its name matters here, and its failures trip a breaker. */
static int fail_head(struct backend *b, const char *k, struct backend_object_info *i)
{
    (void)b, (void)k, (void)i;
    return -EIO;
}
static void no_free(struct backend *b) { (void)b; }
static const struct backend_ops failing_ops = {.head = fail_head, .free = no_free};

static struct backend bk[4] = {{&failing_ops, "b0"}, {&failing_ops, "b1"}, {&failing_ops, "b2"}, {&failing_ops, "b3"}};
static struct backend *bks[4] = {&bk[0], &bk[1], &bk[2], &bk[3]};

static struct placement *make(enum placement_strategy s, size_t n, const int64_t *quota, const int64_t *weight)
{
    struct placement_backend_config cfg[4];
    for (size_t i = 0; i < n; i++)
        cfg[i] = (struct placement_backend_config){quota ? quota[i] : 0, weight ? weight[i] : 1};
    struct placement *p;
    CHECK_EQ(placement_create(&p, bks, cfg, n, s, NULL), 0);
    return p;
}

static int reserve_on_index(struct placement *p, int64_t bytes, uint64_t skip)
{
    struct placement_slot slot;
    int err = placement_reserve(p, bytes, skip, &slot);
    if (err < 0)
        return err;
    int index = (int)slot.index;
    placement_commit(p, &slot, bytes);
    return index;
}

static void test_pack_fills_in_config_order(void)
{
    struct placement *p = make(PLACEMENT_PACK, 3, (int64_t[]){100, 100, 0}, NULL);
    CHECK_EQ(reserve_on_index(p, 60, 0), 0);
    CHECK_EQ(reserve_on_index(p, 60, 0), 1); /* 40 left on b0 */
    CHECK_EQ(reserve_on_index(p, 40, 0), 0); /* b0 exactly full */
    CHECK_EQ(reserve_on_index(p, 41, 0), 2); /* b1 has 40 left: on to the unlimited one */
    CHECK_EQ(reserve_on_index(p, 10, 1u << 2), 1);
    CHECK_EQ(reserve_on_index(p, 31, 1u << 2), -ENOSPC);
    CHECK_EQ(reserve_on_index(p, 101, 0), 2);
    CHECK_EQ(placement_used(p, "b0"), 100);
    CHECK_EQ(placement_used(p, "b1"), 70);
    CHECK_EQ(placement_used(p, "nope"), -1);
    placement_freed(p, "b0", 60);
    CHECK_EQ(reserve_on_index(p, 50, 0), 0);
    placement_free(p);
}

static void test_reservation_commit_and_release(void)
{
    struct placement *p = make(PLACEMENT_PACK, 1, (int64_t[]){1000}, NULL);
    placement_add_held(p, "b0", 900);
    placement_add_held(p, "elsewhere", 5);
    struct placement_slot a, b;
    CHECK_EQ(placement_reserve(p, 80, 0, &a), 0);
    CHECK_EQ(placement_reserve(p, 80, 0, &b), -ENOSPC); /* 900 held + 80 reserved: 20 left */
    CHECK_EQ(placement_used(p, "b0"), 980);
    placement_commit(p, &a, 90); /* the backend holds more than reserved (framing, encryption) */
    CHECK_EQ(placement_used(p, "b0"), 990);
    CHECK_EQ(placement_reserve_on(p, "b0", 10, &b), 0);
    CHECK_EQ(placement_reserve_on(p, "b0", 1, &a), -ENOSPC);
    placement_release(p, &b);
    placement_release(p, &b); /* a spent slot is zeroed: releasing it again is harmless */
    CHECK_EQ(placement_used(p, "b0"), 990);
    CHECK_EQ(placement_reserve_on(p, "zz", 1, &a), -EINVAL);
    placement_free(p);
}

static void test_spread_keeps_utilisation_even(void)
{
    struct placement *p = make(PLACEMENT_SPREAD, 3, (int64_t[]){1000, 2000, 4000}, NULL);
    for (int i = 0; i < 70; i++)
        CHECK(reserve_on_index(p, 10, 0) >= 0);
    /* 700 bytes over quotas 1:2:4 → 100, 200, 400 */
    CHECK_EQ(placement_used(p, "b0"), 100);
    CHECK_EQ(placement_used(p, "b1"), 200);
    CHECK_EQ(placement_used(p, "b2"), 400);
    placement_free(p);

    p = make(PLACEMENT_SPREAD, 2, NULL, NULL); /* no quotas: the fewest bytes */
    placement_add_held(p, "b0", 500);
    for (int i = 0; i < 60; i++)
        CHECK(reserve_on_index(p, 10, 0) >= 0);
    CHECK_EQ(placement_used(p, "b0"), 550);
    CHECK_EQ(placement_used(p, "b1"), 550);
    placement_free(p);
}

static void test_weighted_follows_weights(void)
{
    struct placement *p = make(PLACEMENT_WEIGHTED, 3, NULL, (int64_t[]){3, 1, 0});
    int count[3] = {0};
    for (int i = 0; i < 8000; i++) {
        struct placement_slot s;
        CHECK_EQ(placement_reserve(p, 1, 0, &s), 0);
        count[s.index]++;
        placement_release(p, &s);
    }
    /* Expected 6000 / 2000 / 0; 6000 ± 5 sd (sd ≈ 39). */
    CHECK(count[0] > 5800 && count[0] < 6200);
    CHECK_EQ(count[2], 0);
    placement_free(p);

    p = make(PLACEMENT_WEIGHTED, 2, (int64_t[]){10, 0}, (int64_t[]){1000, 1});
    CHECK_EQ(reserve_on_index(p, 11, 0), 1); /* the heavy one has no room for it */
    CHECK_EQ(reserve_on_index(p, 1, 1u << 1), 0);
    placement_free(p);
}

struct racer {
    struct placement *p;
    int won;
    struct placement_slot slots[200];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < 200; i++)
        if (placement_reserve(r->p, 7, 0, &r->slots[r->won]) == 0)
            r->won++;
    return NULL;
}

static void test_racing_writers_never_pass_the_quota(void)
{
    for (int round = 0; round < 20; round++) {
        struct placement *p = make(PLACEMENT_PACK, 2, (int64_t[]){1000, 300}, NULL);
        struct racer r[8];
        pthread_t t[8];
        for (int i = 0; i < 8; i++) {
            r[i] = (struct racer){.p = p};
            pthread_create(&t[i], NULL, race, &r[i]);
        }
        int won = 0;
        for (int i = 0; i < 8; i++) {
            pthread_join(t[i], NULL);
            won += r[i].won;
        }
        CHECK_EQ(won, 1000 / 7 + 300 / 7); /* every byte that fits is taken, not one more */
        CHECK(placement_used(p, "b0") <= 1000 && placement_used(p, "b1") <= 300);
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < r[i].won; j++)
                placement_release(p, &r[i].slots[j]);
        CHECK_EQ(placement_used(p, "b0"), 0);
        CHECK_EQ(placement_used(p, "b1"), 0);
        placement_free(p);
    }
}

static void test_open_breaker_is_skipped(void)
{
    struct backend *wrapped[2];
    struct backend inner[2] = {{&failing_ops, "w0"}, {&failing_ops, "w1"}};
    for (int i = 0; i < 2; i++)
        CHECK_EQ(backend_breaker_wrap(&wrapped[i], &inner[i],
                                      &(struct backend_breaker_config){.threshold = 1, .open_ns = 60000000000LL}),
                 0);
    struct placement *p;
    struct placement_backend_config cfg[2] = {{0, 1}, {0, 1}};
    CHECK_EQ(placement_create(&p, wrapped, cfg, 2, PLACEMENT_PACK, NULL), 0);
    struct backend_object_info info;
    CHECK(backend_available(wrapped[0]));
    CHECK_EQ(backend_head(wrapped[0], "k", &info), -EIO); /* one failure opens it */
    CHECK(!backend_available(wrapped[0]));
    struct placement_slot s;
    CHECK_EQ(placement_reserve(p, 5, 0, &s), 0);
    CHECK_EQ(s.index, 1);
    placement_release(p, &s);
    CHECK_EQ(backend_head(wrapped[1], "k", &info), -EIO);
    CHECK_EQ(placement_reserve(p, 5, 0, &s), -EHOSTDOWN);
    placement_free(p);
    for (int i = 0; i < 2; i++)
        backend_free(wrapped[i]);
}

static void test_draining_backend_is_skipped(void)
{
    struct placement *p = make(PLACEMENT_PACK, 2, NULL, NULL);
    CHECK_EQ(reserve_on_index(p, 5, 0), 0);
    placement_set_draining(p, "b0", true);
    CHECK(placement_is_draining(p, "b0") && !placement_is_draining(p, "b1") && !placement_is_draining(p, "zz"));
    CHECK_EQ(reserve_on_index(p, 5, 0), 1);
    CHECK_EQ(reserve_on_index(p, 5, 1u << 1), -ENOSPC); /* only the draining one is left */
    struct placement_slot s;
    CHECK_EQ(placement_reserve_on(p, "b0", 5, &s), 0); /* an upload already there goes on */
    placement_release(p, &s);
    placement_set_draining(p, "b0", false);
    CHECK_EQ(reserve_on_index(p, 5, 0), 0);
    placement_free(p);
}

int main(void)
{
    RUN(test_pack_fills_in_config_order);
    RUN(test_reservation_commit_and_release);
    RUN(test_spread_keeps_utilisation_even);
    RUN(test_weighted_follows_weights);
    RUN(test_racing_writers_never_pass_the_quota);
    RUN(test_open_breaker_is_skipped);
    RUN(test_draining_backend_is_skipped);
    return unit_finish("placement");
}
