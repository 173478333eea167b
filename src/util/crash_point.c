#include "util/crash_point.h"

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static _Atomic int armed = CRASH_NONE;

void crash_point_arm(enum crash_point p) { atomic_store(&armed, (int)p); }

void crash_point(enum crash_point p)
{
    if (atomic_load_explicit(&armed, memory_order_relaxed) == (int)p && p != CRASH_NONE)
        _exit(CRASH_POINT_EXIT);
}

enum crash_point crash_point_named(const char *name)
{
    if (strcmp(name, "put-before-commit") == 0)
        return CRASH_PUT_BEFORE_COMMIT;
    if (strcmp(name, "replicated-after-commit") == 0)
        return CRASH_REPLICATED_AFTER_COMMIT;
    return CRASH_NONE;
}
