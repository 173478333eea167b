/* The contract of a storage backend driver (fs now, s3 later). Every call is made from a coroutine and yields on
 * I/O; errors are -errno: -ENOENT (no such object), -EIO (the backend failed), -ECANCELED, -ETIMEDOUT, and
 * whatever the body source reported (its error aborts the write and nothing becomes visible).
 *
 * A backend key ("bkey") names the object on the backend; the orchestrator chooses it (bucket/key) and records it
 * in the store. */
#ifndef S3ORCH_BACKEND_H
#define S3ORCH_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "util/body.h"

struct backend;

struct backend_object_info {
    int64_t size;
    int64_t mtime_ms;
};

struct backend_ops {
    /* Stores exactly `size` bytes read from src under bkey, replacing an existing object atomically: readers see
     * the old bytes or the new ones, never a mix. A source shorter than size → -EPIPE; longer → -EMSGSIZE. */
    int (*put)(struct backend *b, const char *bkey, struct body_source *src, int64_t size);
    /* Sends bytes [off, off+len) of bkey to sink; -ENOENT, or -ERANGE when the object is shorter than off+len. */
    int (*get)(struct backend *b, const char *bkey, int64_t off, int64_t len, struct body_sink *sink);
    int (*head)(struct backend *b, const char *bkey, struct backend_object_info *out);
    /* Removing an object that is not there is not an error. */
    int (*del)(struct backend *b, const char *bkey);
    void (*free)(struct backend *b);
};

struct backend {
    const struct backend_ops *ops;
    char name[64];
};

static inline int backend_put(struct backend *b, const char *bkey, struct body_source *src, int64_t size)
{
    return b->ops->put(b, bkey, src, size);
}

static inline int backend_get(struct backend *b, const char *bkey, int64_t off, int64_t len, struct body_sink *sink)
{
    return b->ops->get(b, bkey, off, len, sink);
}

static inline int backend_head(struct backend *b, const char *bkey, struct backend_object_info *out)
{
    return b->ops->head(b, bkey, out);
}

static inline int backend_del(struct backend *b, const char *bkey) { return b->ops->del(b, bkey); }

static inline void backend_free(struct backend *b) { b->ops->free(b); }

/* The local-disk driver. `durability_fsync`: fsync each object and its directory before put returns. Opens (and
 * creates) root with plain syscalls: call it at start-up, not from a ring thread's hot path. */
int backend_fs_open(struct backend **out, const char *name, const char *root, bool durability_fsync);
/* The relative path an fs backend stores bkey at (exposed for tests and reconcile): every segment
 * percent-encoded, long segments continued with a "%+" marker, and an "@" after the object's file name so that
 * keys "a" and "a/b" can coexist. -ENAMETOOLONG when the path does not fit in cap. */
int backend_fs_path(const char *bkey, char *out, size_t cap);

#endif
