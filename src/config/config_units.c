#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "config/config_units.h"

struct unit {
    const char *name;
    int64_t scale;
};

/* Longest names first, so "ms" is not read as "m" followed by garbage. */
static const struct unit duration_units[] = {
    {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL},
};

static const struct unit size_units[] = {
    {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30}, {"TiB", 1LL << 40},
    {"KB", 1000LL}, {"MB", 1000000LL}, {"GB", 1000000000LL}, {"TB", 1000000000000LL}, {"B", 1},
};

/* Reads "<digits>[.<digits>]" and scales it by the unit that follows; advances *s. */
/* Sizes are read case-insensitively ("10gb"); durations are not, since "m" and "M" could mean different things. */
static int parse_term(const char **s, const struct unit *units, size_t nunits, bool is_size, int64_t *out)
{
    const char *p = *s;
    int64_t whole = 0, frac = 0, frac_div = 1;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > (INT64_MAX - 9) / 10)
            return -ERANGE;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (frac_div < 1000000000LL) {
                frac = frac * 10 + (*p - '0');
                frac_div *= 10;
            }
        }
    }

    const struct unit *u = NULL;
    size_t best = 0;
    for (size_t i = 0; i < nunits; i++) {
        size_t n = strlen(units[i].name);
        bool match = is_size ? strncasecmp(p, units[i].name, n) == 0 : strncmp(p, units[i].name, n) == 0;
        if (n > best && match) {
            u = &units[i];
            best = n;
        }
    }
    if (!u) {
        if (!is_size || frac_div > 1)
            return -EINVAL;
        *out = whole;
        *s = p;
        return 0;
    }
    if (whole > INT64_MAX / u->scale)
        return -ERANGE;
    *out = whole * u->scale + (int64_t)((double)frac / (double)frac_div * (double)u->scale);
    *s = p + best;
    return 0;
}

int config_parse_duration(const char *s, int64_t *out_ns)
{
    if (!s || !*s)
        return -EINVAL;
    if (*s == '-')
        return -ERANGE;
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    int64_t total = 0;
    while (*s) {
        int64_t term;
        int err = parse_term(&s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]), false, &term);
        if (err < 0)
            return err;
        if (total > INT64_MAX - term)
            return -ERANGE;
        total += term;
    }
    *out_ns = total;
    return 0;
}

int config_parse_size(const char *s, int64_t *out_bytes)
{
    if (!s || !*s)
        return -EINVAL;
    if (*s == '-')
        return -ERANGE;
    int64_t v;
    int err = parse_term(&s, size_units, sizeof(size_units) / sizeof(size_units[0]), true, &v);
    if (err < 0)
        return err;
    if (*s)
        return -EINVAL;
    *out_bytes = v;
    return 0;
}
