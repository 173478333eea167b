#include "backend/placement.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct placement_entry {
    struct backend *backend;
    int64_t quota; /* 0 = unlimited */
    int64_t weight;
    _Atomic int64_t used; /* held + reserved */
    atomic_bool draining;
};

struct placement {
    enum placement_strategy strategy;
    const struct usage *usage;
    size_t n;
    struct placement_entry v[];
};

int placement_create(struct placement **out, struct backend *const *backends,
                     const struct placement_backend_config *cfg, size_t n, enum placement_strategy strategy,
                     const struct usage *usage)
{
    *out = NULL;
    if (n == 0 || n > PLACEMENT_MAX_BACKENDS)
        return -EINVAL;
    struct placement *p = calloc(1, sizeof(*p) + n * sizeof(p->v[0]));
    if (!p)
        return -ENOMEM;
    p->strategy = strategy;
    p->usage = usage;
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        p->v[i].backend = backends[i];
        p->v[i].quota = cfg[i].quota_bytes > 0 ? cfg[i].quota_bytes : 0;
        p->v[i].weight = cfg[i].weight > 0 ? cfg[i].weight : 0;
        atomic_init(&p->v[i].used, 0);
    }
    *out = p;
    return 0;
}

void placement_free(struct placement *p) { free(p); }

static struct placement_entry *entry_named(const struct placement *p, const char *backend)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].backend->name, backend) == 0)
            return (struct placement_entry *)&p->v[i];
    return NULL;
}

void placement_set_draining(struct placement *p, const char *backend, bool draining)
{
    struct placement_entry *e = entry_named(p, backend);
    if (e)
        atomic_store(&e->draining, draining);
}

bool placement_is_draining(const struct placement *p, const char *backend)
{
    struct placement_entry *e = entry_named(p, backend);
    return e && atomic_load(&e->draining);
}

void placement_add_held(struct placement *p, const char *backend, int64_t bytes)
{
    struct placement_entry *e = entry_named(p, backend);
    if (e)
        atomic_fetch_add(&e->used, bytes);
}

int64_t placement_used(const struct placement *p, const char *backend)
{
    struct placement_entry *e = entry_named(p, backend);
    return e ? atomic_load(&e->used) : -1;
}

static bool has_room(const struct placement_entry *e, int64_t used, int64_t bytes)
{
    return !e->quota || (bytes <= e->quota && used <= e->quota - bytes);
}

/* Takes bytes on e unless that would pass its quota. */
static bool entry_take(struct placement_entry *e, int64_t bytes)
{
    int64_t used = atomic_load(&e->used);
    do {
        if (!has_room(e, used, bytes))
            return false;
    } while (!atomic_compare_exchange_weak(&e->used, &used, used + bytes));
    return true;
}

/* Per-thread xorshift: weighted choice needs no more than that, and no lock. */
static uint64_t random_next(void)
{
    static _Thread_local uint64_t x;
    if (!x) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)(uintptr_t)&x ^ (uint64_t)ts.tv_sec;
        x |= 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

/* Whether a has lower utilisation than b: held / quota (0 with no quota), then bytes held. */
static bool less_utilised(const struct placement_entry *a, int64_t ua, const struct placement_entry *b, int64_t ub)
{
    double ra = a->quota ? (double)ua / (double)a->quota : 0, rb = b->quota ? (double)ub / (double)b->quota : 0;
    return ra < rb || (ra == rb && ua < ub);
}

/* The candidate the strategy picks among those whose bit is clear in `out_of`; -1 when none is left. */
static long choose(const struct placement *p, int64_t bytes, uint64_t out_of)
{
    long best = -1;
    int64_t best_used = 0, total_weight = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct placement_entry *e = &p->v[i];
        int64_t used = atomic_load(&e->used);
        if ((out_of >> i) & 1 || !has_room(e, used, bytes))
            continue;
        switch (p->strategy) {
        case PLACEMENT_PACK:
            return (long)i;
        case PLACEMENT_SPREAD:
            if (best < 0 || less_utilised(e, used, &p->v[best], best_used)) {
                best = (long)i;
                best_used = used;
            }
            break;
        case PLACEMENT_WEIGHTED:
            total_weight += e->weight;
            break;
        }
    }
    if (p->strategy != PLACEMENT_WEIGHTED || total_weight == 0)
        return best;
    int64_t r = (int64_t)(random_next() % (uint64_t)total_weight);
    for (size_t i = 0; i < p->n; i++) {
        const struct placement_entry *e = &p->v[i];
        if ((out_of >> i) & 1 || !has_room(e, atomic_load(&e->used), bytes))
            continue;
        if (r < e->weight)
            return (long)i;
        r -= e->weight;
    }
    return -1; /* room went meanwhile */
}

int placement_reserve(struct placement *p, int64_t bytes, uint64_t skip, struct placement_slot *out)
{
    *out = (struct placement_slot){0};
    if (bytes < 0)
        return -EINVAL;
    uint64_t out_of = skip;
    bool saw_down = false, saw_limit = false;
    for (size_t i = 0; i < p->n; i++) {
        if ((skip >> i) & 1)
            continue;
        if (atomic_load(&p->v[i].draining)) {
            out_of |= 1ull << i;
            continue;
        }
        bool room = has_room(&p->v[i], atomic_load(&p->v[i].used), bytes);
        if (!backend_available(p->v[i].backend)) {
            out_of |= 1ull << i;
            saw_down |= room;
        } else if (!usage_allows_write(p->usage, i, bytes)) {
            out_of |= 1ull << i;
            saw_limit |= room;
        }
    }
    /* Each failed take rules a backend out, so this ends within n rounds. */
    for (size_t round = 0; round < p->n; round++) {
        long i = choose(p, bytes, out_of);
        if (i < 0)
            break;
        if (entry_take(&p->v[i], bytes)) {
            *out = (struct placement_slot){p->v[i].backend, (size_t)i, bytes};
            return 0;
        }
        out_of |= 1ull << i;
    }
    return saw_down ? -EHOSTDOWN : saw_limit ? -EDQUOT : -ENOSPC;
}

int placement_reserve_on(struct placement *p, const char *backend, int64_t bytes, struct placement_slot *out)
{
    *out = (struct placement_slot){0};
    struct placement_entry *e = entry_named(p, backend);
    if (!e || bytes < 0)
        return -EINVAL;
    if (!entry_take(e, bytes))
        return -ENOSPC;
    *out = (struct placement_slot){e->backend, (size_t)(e - p->v), bytes};
    return 0;
}

void placement_commit(struct placement *p, struct placement_slot *slot, int64_t stored)
{
    if (slot->backend)
        atomic_fetch_add(&p->v[slot->index].used, stored - slot->bytes);
    *slot = (struct placement_slot){0};
}

void placement_release(struct placement *p, struct placement_slot *slot)
{
    if (slot->backend)
        atomic_fetch_sub(&p->v[slot->index].used, slot->bytes);
    *slot = (struct placement_slot){0};
}

void placement_freed(struct placement *p, const char *backend, int64_t bytes)
{
    struct placement_entry *e = entry_named(p, backend);
    if (e && bytes > 0)
        atomic_fetch_sub(&e->used, bytes);
}
