#include <stdatomic.h>

#include "util/body_stats.h"

static _Atomic uint64_t counters[BODY_PATH_COUNT];

void body_stats_add(enum body_path path, uint64_t n)
{
    atomic_fetch_add_explicit(&counters[path], n, memory_order_relaxed);
}

uint64_t body_stats_get(enum body_path path) { return atomic_load_explicit(&counters[path], memory_order_relaxed); }

const char *body_stats_name(enum body_path path)
{
    static const char *const names[] = {"put_splice", "put_copy", "get_splice", "get_copy"};
    return names[path];
}
