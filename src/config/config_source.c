#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_source.h"

struct source_entry {
    char *path;
    int line, column;
};

/* A flat list: a config has hundreds of keys, and it is searched only when an error is reported. */
struct config_source {
    struct source_entry *items;
    size_t n, cap;
};

struct config_source *config_source_new(void) { return calloc(1, sizeof(struct config_source)); }

void config_source_free(struct config_source *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->n; i++)
        free(src->items[i].path);
    free(src->items);
    free(src);
}

int config_source_add(struct config_source *src, const char *path, int line, int column)
{
    if (src->n == src->cap) {
        size_t cap = src->cap ? src->cap * 2 : 64;
        struct source_entry *items = realloc(src->items, cap * sizeof(*items));
        if (!items)
            return -ENOMEM;
        src->items = items;
        src->cap = cap;
    }
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    src->items[src->n++] = (struct source_entry){p, line, column};
    return 0;
}

static const struct source_entry *find(const struct config_source *src, const char *path, size_t len)
{
    for (size_t i = 0; src && i < src->n; i++)
        if (strncmp(src->items[i].path, path, len) == 0 && src->items[i].path[len] == 0)
            return &src->items[i];
    return NULL;
}

bool config_source_has(const struct config_source *src, const char *path)
{
    return find(src, path, strlen(path)) != NULL;
}

void config_source_position(const struct config_source *src, const char *path, int *line, int *column)
{
    *line = *column = 0;
    size_t len = strlen(path);
    for (;;) {
        const struct source_entry *e = find(src, path, len);
        if (e) {
            *line = e->line;
            *column = e->column;
            return;
        }
        /* Drop the last component: ".name" or "[i]". */
        while (len > 0 && path[len - 1] != '.' && path[len - 1] != '[')
            len--;
        if (len == 0)
            return;
        len--;
    }
}
