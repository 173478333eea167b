/* The list of configuration errors: every problem is collected, so one run of `s3orch validate` shows them all. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

const struct config_error *config_errors_find(const struct config_errors *errs, const char *path)
{
    for (size_t i = 0; i < errs->count; i++)
        if (strcmp(errs->items[i].path, path) == 0)
            return &errs->items[i];
    return NULL;
}

void config_errors_add(struct config_errors *errs, const char *path, int line, int column, const char *fmt, ...)
{
    /* A few hundred errors say all there is to say; a file of aliases could otherwise produce millions, and every
     * one is looked up among those before it. */
    if (errs->count >= CONFIG_ERRORS_MAX) {
        errs->truncated = true;
        return;
    }
    if (errs->count == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 16;
        struct config_error *items = realloc(errs->items, cap * sizeof(*items));
        if (!items) {
            errs->out_of_mem = true;
            return;
        }
        errs->items = items;
        errs->cap = cap;
    }
    char *message = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&message, fmt, ap);
    va_end(ap);
    char *p = strdup(path ? path : "");
    if (n < 0 || !p) {
        free(p);
        if (n >= 0)
            free(message);
        errs->out_of_mem = true;
        return;
    }
    errs->items[errs->count++] = (struct config_error){.path = p, .line = line, .column = column, .message = message};
}

/* File order; errors with no place in the file (line 0) come last, in the order they were found. */
static int by_position(const void *a, const void *b)
{
    const struct config_error *x = a, *y = b;
    long kx = x->line ? (long)x->line : 0x7fffffffL, ky = y->line ? (long)y->line : 0x7fffffffL;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return 0;
}

void config_errors_print(const struct config_errors *errs, FILE *out)
{
    /* Sort a copy of the order (not the list) so printing never changes what callers see; a stable insertion
     * sort keeps errors at one position in the order they were found. */
    size_t n = errs->count;
    const struct config_error **order = malloc((n ? n : 1) * sizeof(*order));
    if (order) {
        for (size_t i = 0; i < n; i++) {
            size_t j = i;
            while (j > 0 && by_position(order[j - 1], &errs->items[i]) > 0) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = &errs->items[i];
        }
    }
    const char *file = errs->file ? errs->file : "config";
    for (size_t i = 0; i < n; i++) {
        const struct config_error *e = order ? order[i] : &errs->items[i];
        if (e->line > 0)
            fprintf(out, "%s:%d:%d: ", file, e->line, e->column);
        else
            fprintf(out, "%s: ", file);
        if (e->path[0])
            fprintf(out, "%s: ", e->path);
        fprintf(out, "%s\n", e->message);
    }
    if (errs->out_of_mem)
        fprintf(out, "%s: out of memory while recording errors; some are not shown\n", file);
    if (errs->truncated)
        fprintf(out, "%s: more than %d errors; the rest are not shown\n", file, CONFIG_ERRORS_MAX);
    free(order);
}

void config_errors_free(struct config_errors *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        free(errs->items[i].path);
        free(errs->items[i].message);
    }
    free(errs->items);
    free(errs->file);
    *errs = (struct config_errors){0};
}
