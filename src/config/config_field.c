/* One value of the config struct, addressed through its schema field: parse from text, default, free. The defaults
 * go through the same parser as the file, so a default is spelled exactly as a user would write it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "config/config_units.h"

void *config_list_items(const void *base, const struct config_field *f)
{
    void *items;
    memcpy(&items, config_cslot(base, f->offset), sizeof(items));
    return items;
}

size_t config_list_count(const void *base, const struct config_field *f)
{
    size_t n;
    memcpy(&n, config_cslot(base, f->count_offset), sizeof(n));
    return n;
}

void config_list_set(void *base, const struct config_field *f, void *items, size_t n)
{
    memcpy(config_slot(base, f->offset), &items, sizeof(items));
    memcpy(config_slot(base, f->count_offset), &n, sizeof(n));
}

const char *config_enum_name(const struct config_field *f, int value)
{
    for (int i = 0; f->names[i]; i++)
        if (i == value)
            return f->names[i][0] ? f->names[i] : "(unset)";
    return "?";
}

/* YAML 1.2 core schema booleans; YAML 1.1's yes/no/on/off are left out, as the Go system's parser does. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return -EINVAL;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double *out)
{
    char *end;
    if (!*s || strchr(" \t\n", *s))
        return -EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return *end ? -EINVAL : -ERANGE;
    *out = v;
    return 0;
}

static int set_string(char **slot, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return -ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

int config_field_set(const struct config_field *f, void *base, const char *text, char *why, size_t whylen)
{
    void *slot = config_slot(base, f->offset);
    int err = 0;
    why[0] = 0;
    switch (f->kind) {
    case CONFIG_KIND_STRING:
        return set_string(slot, text);
    case CONFIG_KIND_BOOL:
        if ((err = parse_bool(text, slot)) < 0)
            snprintf(why, whylen, "want true or false, got '%s'", text);
        return err;
    case CONFIG_KIND_INT:
        if ((err = parse_int(text, slot)) < 0)
            snprintf(why, whylen, err == -ERANGE ? "number out of range: '%s'" : "want a whole number, got '%s'",
                     text);
        return err;
    case CONFIG_KIND_FLOAT:
        if ((err = parse_float(text, slot)) < 0)
            snprintf(why, whylen, "want a number, got '%s'", text);
        return err;
    case CONFIG_KIND_SIZE:
        if ((err = config_parse_size(text, slot)) < 0)
            snprintf(why, whylen,
                     err == -ERANGE ? "size out of range: '%s'" : "bad size '%s' (e.g. 4096, 500MB, 10GiB)", text);
        return err;
    case CONFIG_KIND_DURATION:
        if ((err = config_parse_duration(text, slot)) < 0)
            snprintf(why, whylen,
                     err == -ERANGE ? "duration out of range: '%s'"
                                    : "bad duration '%s' (e.g. 500ms, 30s, 5m, 6h; a unit is required)",
                     text);
        return err;
    case CONFIG_KIND_ENUM:
        for (int i = 0; f->names[i]; i++) {
            if (f->names[i][0] && strcmp(f->names[i], text) == 0) {
                *(int *)slot = i;
                return 0;
            }
        }
        {
            /* "want one of a, b, c" — the caller may append a suggestion. */
            size_t n = (size_t)snprintf(why, whylen, "want one of ");
            const char *sep = "";
            for (int i = 0; f->names[i] && n < whylen; i++) {
                if (!f->names[i][0])
                    continue;
                n += (size_t)snprintf(why + n, whylen - n, "%s%s", sep, f->names[i]);
                sep = ", ";
            }
            if (n < whylen)
                snprintf(why + n, whylen - n, "; got '%s'", text);
        }
        return -EINVAL;
    default:
        snprintf(why, whylen, "not a single value");
        return -EINVAL;
    }
}

int config_schema_apply_defaults(const struct config_schema *s, void *base)
{
    char why[256];
    for (size_t i = 0; i < s->nfields; i++) {
        const struct config_field *f = &s->fields[i];
        int err = 0;
        if (f->kind == CONFIG_KIND_SECTION)
            err = config_schema_apply_defaults(f->sub, config_slot(base, f->offset));
        else if (f->def)
            err = config_field_set(f, base, f->def, why, sizeof(why));
        if (err < 0)
            return err; /* -ENOMEM; a bad default is a bug the unit tests catch */
    }
    return 0;
}

static void free_strings(struct config_strings *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->items[i]);
    free(v->items);
    *v = (struct config_strings){0};
}

static void free_labels(struct config_labels *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->items[i].key);
        free(v->items[i].value);
    }
    free(v->items);
    *v = (struct config_labels){0};
}

void config_schema_free(const struct config_schema *s, void *base)
{
    for (size_t i = 0; i < s->nfields; i++) {
        const struct config_field *f = &s->fields[i];
        void *slot = config_slot(base, f->offset);
        switch (f->kind) {
        case CONFIG_KIND_STRING:
            free(*(char **)slot);
            *(char **)slot = NULL;
            break;
        case CONFIG_KIND_STRINGS: free_strings(slot); break;
        case CONFIG_KIND_LABELS: free_labels(slot); break;
        case CONFIG_KIND_SECTION: config_schema_free(f->sub, slot); break;
        case CONFIG_KIND_LIST: {
            char *items = config_list_items(base, f);
            size_t n = config_list_count(base, f);
            for (size_t j = 0; j < n; j++)
                config_schema_free(f->sub, items + j * f->sub->size);
            free(items);
            config_list_set(base, f, NULL, 0);
            break;
        }
        default: break;
        }
    }
}
