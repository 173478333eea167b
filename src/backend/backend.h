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

enum {
    BACKEND_UPLOAD_ID_MAX = 128, /* bytes in a backend's multipart upload id, NUL included */
    BACKEND_ETAG_MAX = 128,      /* bytes in a backend's part ETag, NUL included */
};

/* A part of a native multipart upload, as handed to complete. */
struct backend_part {
    int number;       /* ascending, 1..10000 */
    int64_t size;     /* bytes the part holds */
    const char *etag; /* what put_part answered */
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
    /* Server-side copy of a whole object to dst_bkey (replacing it atomically), the bytes never passing through
     * s3orch. -ENOENT when src_bkey is missing; -ENOTSUP when the backend cannot (the caller then streams). */
    int (*copy)(struct backend *b, const char *src_bkey, const char *dst_bkey);

    /* Native multipart upload of the object bkey. create answers the backend's upload id (a NUL-terminated string
     * of at most BACKEND_UPLOAD_ID_MAX bytes). put_part stores exactly `size` bytes from src as part `number`
     * (replacing an earlier part of that number) and answers the part's ETag; -ENOENT when the upload is gone,
     * -EINVAL for a number outside 1..10000. complete concatenates the listed parts, in order, into bkey
     * (atomically, as put does) and ends the upload; -ENOENT when the upload is gone, -EINVAL when the list is
     * empty or not ascending or a part is missing or its size or ETag differs. abort drops the upload and its
     * parts; an upload that is already gone is not an error. An upload id the backend could never have made is
     * -ENOENT to all three, abort included. */
    int (*mpu_create)(struct backend *b, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX]);
    int (*mpu_put_part)(struct backend *b, const char *bkey, const char *upload_id, int number,
                        struct body_source *src, int64_t size, char etag[BACKEND_ETAG_MAX]);
    int (*mpu_complete)(struct backend *b, const char *bkey, const char *upload_id, const struct backend_part *parts,
                        size_t n);
    int (*mpu_abort)(struct backend *b, const char *bkey, const char *upload_id);
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

static inline int backend_copy(struct backend *b, const char *src_bkey, const char *dst_bkey)
{
    return b->ops->copy(b, src_bkey, dst_bkey);
}

static inline int backend_mpu_create(struct backend *b, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX])
{
    return b->ops->mpu_create(b, bkey, upload_id);
}

static inline int backend_mpu_put_part(struct backend *b, const char *bkey, const char *upload_id, int number,
                                       struct body_source *src, int64_t size, char etag[BACKEND_ETAG_MAX])
{
    return b->ops->mpu_put_part(b, bkey, upload_id, number, src, size, etag);
}

static inline int backend_mpu_complete(struct backend *b, const char *bkey, const char *upload_id,
                                       const struct backend_part *parts, size_t n)
{
    return b->ops->mpu_complete(b, bkey, upload_id, parts, n);
}

static inline int backend_mpu_abort(struct backend *b, const char *bkey, const char *upload_id)
{
    return b->ops->mpu_abort(b, bkey, upload_id);
}

static inline void backend_free(struct backend *b) { b->ops->free(b); }

/* The local-disk driver. `durability_fsync`: fsync each object and its directory before put returns. Opens (and
 * creates) root with plain syscalls: call it at start-up, not from a ring thread's hot path. */
int backend_fs_open(struct backend **out, const char *name, const char *root, bool durability_fsync);
/* The relative path an fs backend stores bkey at (exposed for tests and reconcile): every segment
 * percent-encoded, long segments continued with a "%+" marker, and an "@" after the object's file name so that
 * keys "a" and "a/b" can coexist. -ENAMETOOLONG when the path does not fit in cap. */
int backend_fs_path(const char *bkey, char *out, size_t cap);

#endif
