/* The memory a store result owns: a chain of chunks that is freed as one, so a result with many strings costs
 * one free call and cannot leak a piece. Built on the store thread, freed by the caller on its own thread.
 * Private to src/store/. */
#ifndef S3ORCH_STORE_ARENA_H
#define S3ORCH_STORE_ARENA_H

#include <stddef.h>

struct store_arena;

/* n bytes aligned for any type, zeroed, or NULL when out of memory. *a may be NULL (a first chunk is made). */
void *store_arena_alloc(struct store_arena **a, size_t n);
/* Copies len bytes of src and a NUL into the arena; src NULL gives *dst = NULL. 0 or -ENOMEM. */
int store_arena_strndup(struct store_arena **a, const char *src, size_t len, const char **dst);
int store_arena_strdup(struct store_arena **a, const char *src, const char **dst);
/* Appends one element to an array that lives in the arena (*v, *n elements, room for *cap), moving the array to
 * a doubled block when full; the old block stays in the arena until it is freed, which costs at most as much
 * again. Returns the new element, zeroed, or NULL when out of memory. */
void *store_arena_push(struct store_arena **a, void **v, size_t *n, size_t *cap, size_t elem_size);
void store_arena_free(struct store_arena *a);

#endif
