/* Chunked bump allocator for store results (see store_arena.h). */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_arena.h"

/* The newest chunk heads the chain; allocations bump `used` in it. */
struct store_arena {
    struct store_arena *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

enum { ARENA_MIN_CHUNK = 4096 - 64 };

static size_t align_up(size_t n) { return (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1); }

void *store_arena_alloc(struct store_arena **a, size_t n)
{
    n = align_up(n ? n : 1);
    struct store_arena *c = *a;
    if (!c || c->cap - c->used < n) {
        /* Chunks grow with the result so a big listing needs few of them. */
        size_t cap = c ? c->cap * 2 : ARENA_MIN_CHUNK;
        if (cap < n)
            cap = n;
        if (cap > SIZE_MAX / 2 - sizeof(*c))
            return NULL;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->next = *a;
        c->used = 0;
        c->cap = cap;
        *a = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

int store_arena_strndup(struct store_arena **a, const char *src, size_t len, const char **dst)
{
    if (!src) {
        *dst = NULL;
        return 0;
    }
    char *p = store_arena_alloc(a, len + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, src, len);
    p[len] = 0;
    *dst = p;
    return 0;
}

int store_arena_strdup(struct store_arena **a, const char *src, const char **dst)
{
    return store_arena_strndup(a, src, src ? strlen(src) : 0, dst);
}

void *store_arena_push(struct store_arena **a, void **v, size_t *n, size_t *cap, size_t elem_size)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        if (ncap > SIZE_MAX / elem_size)
            return NULL;
        void *nv = store_arena_alloc(a, ncap * elem_size);
        if (!nv)
            return NULL;
        if (*n)
            memcpy(nv, *v, *n * elem_size);
        *v = nv;
        *cap = ncap;
    }
    unsigned char *e = (unsigned char *)*v + *n * elem_size;
    (*n)++;
    return e; /* zeroed by store_arena_alloc and never handed out before */
}

void store_arena_free(struct store_arena *a)
{
    while (a) {
        struct store_arena *next = a->next;
        free(a);
        a = next;
    }
}
