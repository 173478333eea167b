#include <string.h>

#include "s3load.h"

void stats_init(struct stats *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < OP_COUNT; i++)
        hist_init(&s->lat[i]);
}

void stats_merge(struct stats *into, const struct stats *from)
{
    for (int i = 0; i < OP_COUNT; i++) {
        into->ok[i] += from->ok[i];
        into->bytes[i] += from->bytes[i];
        hist_merge(&into->lat[i], &from->lat[i]);
    }
    for (int i = 0; i < 600; i++)
        into->status[i] += from->status[i];
    for (int i = 0; i < FAIL_COUNT; i++)
        into->fail[i] += from->fail[i];
    into->late += from->late;
}

uint64_t stats_errors(const struct stats *s)
{
    uint64_t n = 0;
    for (int i = 0; i < 600; i++)
        n += s->status[i];
    for (int i = 0; i < FAIL_COUNT; i++)
        n += s->fail[i];
    return n;
}

const char *fail_name(enum fail f)
{
    static const char *const names[FAIL_COUNT] = {
        [FAIL_TIMEOUT] = "timeout", [FAIL_CONNECT] = "connect", [FAIL_IO] = "io",
        [FAIL_PROTOCOL] = "protocol", [FAIL_LENGTH] = "length",
    };
    return names[f];
}
