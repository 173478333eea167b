/* The contract of a storage backend driver (fs now, s3 later). Every call is made from a coroutine and yields on
 * I/O; errors are -errno: -ENOENT (no such object), -EIO (the backend failed), -ECANCELED, -ETIMEDOUT, and
 * whatever the body source reported (its error aborts the write and nothing becomes visible).
 *
 * A backend key ("bkey") names the object on the backend; the orchestrator chooses it (bucket/key) and records it
 * in the store. */
#ifndef S3ORCH_BACKEND_H
#define S3ORCH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
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

/* What a client claimed of a body that s3orch passes through unread (zero-copy): the backend checks it. */
struct backend_put_claims {
    const char *content_sha256;  /* hex the body hashes to (a signed payload), or NULL */
    const char *content_md5;     /* base64 Content-MD5, or NULL */
    const char *checksum_header; /* "x-amz-checksum-crc32"…, or NULL */
    const char *checksum_value;  /* base64 */
    /* Non-NULL: the body is the client's unsigned aws-chunked framing (STREAMING-UNSIGNED-PAYLOAD-TRAILER) ending
     * in this checksum trailer ("x-amz-checksum-crc32"…), passed on as it came; `size` counts the framing and
     * decoded_length the object's bytes. The backend decodes the framing and checks the trailer. */
    const char *aws_chunked_trailer;
    int64_t decoded_length;
};

/* A part of a native multipart upload, as handed to complete. */
struct backend_part {
    int number;       /* ascending, 1..10000 */
    int64_t size;     /* bytes the part holds */
    const char *etag; /* what put_part answered */
};

enum { BACKEND_LIST_MAX = 1000 };     /* entries of one list page, at most */
enum { BACKEND_DEL_MANY_MAX = 1000 }; /* keys of one del_many, at most (DeleteObjects' limit) */

/* One object of a list page. */
struct backend_list_entry {
    char *bkey; /* malloc'd, owned by the page */
    int64_t size;
    int64_t mtime_ms;
    char etag[BACKEND_ETAG_MAX]; /* as the backend sent it (quotes kept); "" where it keeps none (fs) */
};

/* What list answers; free it with backend_list_page_free(). */
struct backend_list_page {
    struct backend_list_entry *v;
    size_t n;
    bool truncated;               /* more keys follow: list again with start_after = next_start_after */
    const char *next_start_after; /* v[n-1].bkey, NULL when n is 0 */
};

struct backend_ops {
    /* Stores exactly `size` bytes read from src under bkey, replacing an existing object atomically: readers see
     * the old bytes or the new ones, never a mix. A source shorter than size → -EPIPE; longer → -EMSGSIZE. */
    int (*put)(struct backend *b, const char *bkey, struct body_source *src, int64_t size);
    /* Optional, NULL where the backend cannot check a body (fs): put, with the client's claims passed on for the
     * backend to verify, so s3orch need not read the bytes; etag receives the backend's ETag of the stored object
     * (quoted hex MD5 for a plain PUT). A body that fails a claim → -EBADMSG. -ENOTSUP, before anything of the
     * body is read, when the backend is known not to check one of the claims (the caller then checks itself). */
    int (*put_verified)(struct backend *b, const char *bkey, struct body_source *src, int64_t size,
                        const struct backend_put_claims *claims, char etag[BACKEND_ETAG_MAX]);
    /* Sends bytes [off, off+len) of bkey to sink; -ENOENT, or -ERANGE when the object is shorter than off+len. */
    int (*get)(struct backend *b, const char *bkey, int64_t off, int64_t len, struct body_sink *sink);
    int (*head)(struct backend *b, const char *bkey, struct backend_object_info *out);
    /* Removing an object that is not there is not an error. */
    int (*del)(struct backend *b, const char *bkey);
    /* Optional (NULL: del one by one): deletes n (1..BACKEND_DEL_MANY_MAX) objects in one request (S3
     * DeleteObjects), errs[i] receiving what del would have answered for bkeys[i]. 0 when the request was
     * answered (each key then has its own result), else its -errno, which every errs[i] then holds too. */
    int (*del_many)(struct backend *b, const char *const *bkeys, size_t n, int *errs);
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

    /* One page of the backend's objects: up to max (1..BACKEND_LIST_MAX, else -EINVAL) keys that start with
     * prefix and sort after start_after (either NULL or "" for none), ascending in byte order (memcmp, shorter
     * first on a tie), so paging on start_after neither skips nor repeats a key. Only objects: a driver's own
     * files (temporary files, multipart staging) never appear. *out is the caller's to free, also on failure
     * (then empty). A key put or deleted while a listing pages may or may not appear. */
    int (*list)(struct backend *b, const char *prefix, const char *start_after, size_t max,
                struct backend_list_page *out);
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

static inline bool backend_verifies(const struct backend *b) { return b->ops->put_verified != NULL; }

static inline int backend_put_verified(struct backend *b, const char *bkey, struct body_source *src, int64_t size,
                                       const struct backend_put_claims *claims, char etag[BACKEND_ETAG_MAX])
{
    return b->ops->put_verified(b, bkey, src, size, claims, etag);
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

/* del_many where the backend has it, else del for each key; 0 or the -errno of a failed del_many request. */
int backend_del_many(struct backend *b, const char *const *bkeys, size_t n, int *errs);

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

static inline int backend_list(struct backend *b, const char *prefix, const char *start_after, size_t max,
                               struct backend_list_page *out)
{
    return b->ops->list(b, prefix, start_after, max, out);
}

/* Frees the page's entries and empties it; safe on an empty page and twice. */
void backend_list_page_free(struct backend_list_page *p);

/* Every object under prefix, one at a time, fetching pages of page_max as it goes:
 *     struct backend_list_iter it;
 *     backend_list_iter_init(&it, b, "bucket/", 1000);
 *     const struct backend_list_entry *e;
 *     while ((r = backend_list_iter_next(&it, &e)) > 0) … e is valid until the next call …
 *     backend_list_iter_free(&it);
 * next answers 1 with an entry, 0 at the end, or the -errno of the list call that failed (call it again to
 * retry that page; -EPROTO when a backend claimed more keys and sent none). */
struct backend_list_iter {
    struct backend *b;
    const char *prefix; /* borrowed: must outlive the iterator */
    size_t page_max;
    struct backend_list_page page; /* the current page; its last key is where the next one starts */
    size_t i;                      /* the entry of page next handed out */
    bool started;
};
void backend_list_iter_init(struct backend_list_iter *it, struct backend *b, const char *prefix, size_t page_max);
int backend_list_iter_next(struct backend_list_iter *it, const struct backend_list_entry **out);
void backend_list_iter_free(struct backend_list_iter *it);

static inline void backend_free(struct backend *b) { b->ops->free(b); }

/* The local-disk driver. `durability_fsync`: fsync each object and its directory before put returns. Opens (and
 * creates) root with plain syscalls: call it at start-up, not from a ring thread's hot path. */
int backend_fs_open(struct backend **out, const char *name, const char *root, bool durability_fsync);
/* The relative path an fs backend stores bkey at (exposed for tests and reconcile): every segment
 * percent-encoded, long segments continued with a "%+" marker, and an "@" after the object's file name so that
 * keys "a" and "a/b" can coexist. -ENAMETOOLONG when the path does not fit in cap. */
int backend_fs_path(const char *bkey, char *out, size_t cap);
/* The inverse of backend_fs_path: the bkey stored at relative path rel. -EINVAL when rel is no path
 * backend_fs_path makes; -ENAMETOOLONG when the key does not fit in cap. */
int backend_fs_key(const char *rel, char *out, size_t cap);

/* The S3 driver: objects on an S3-compatible server, over http:// with the ring's HTTP client, or over https://
 * with libcurl driven by the ring. The endpoint's host is resolved here (blocking: call at start-up). */
struct backend_s3_config {
    const char *name;
    const char *endpoint; /* "http://host[:port]" or "https://host[:port]" */
    const char *ca_file;  /* https: CA certificates to verify the server with, in place of the system bundle */
    const char *region;
    const char *bucket;
    const char *access_key_id, *secret_access_key;
    bool force_path_style;   /* else bucket.host addressing */
    bool unsigned_payload;   /* sign bodies as UNSIGNED-PAYLOAD: the backend checks no payload hash */
    bool disable_checksum;   /* send no Content-MD5 or x-amz-checksum-*: the backend checks neither */
    bool strip_sdk_headers;  /* send none of the newer SDKs' headers (x-amz-checksum-*, x-amz-trailer, aws-chunked
                                framing), which older S3 implementations reject; Content-MD5 still goes */
    int64_t timeout_ns;      /* each call's deadline; 0 = 30 s */
};
/* -EINVAL (bad endpoint), -ENOENT (host does not resolve). */
int backend_s3_open(struct backend **out, const struct backend_s3_config *cfg);

/* A circuit breaker around any backend: after `threshold` consecutive failures (a backend that errs, times out
 * or cannot be reached; "not found" and other answers about the request do not count) calls fail at once with
 * -EHOSTDOWN for `open_ns`, then one probe call at a time is let through (with jitter, so the threads do not
 * probe together); a probe that succeeds closes the breaker. Takes ownership of inner. */
struct backend_breaker_config {
    unsigned threshold; /* 0 = 5 */
    int64_t open_ns;    /* 0 = 10 s */
};
int backend_breaker_wrap(struct backend **out, struct backend *inner, const struct backend_breaker_config *cfg);
/* Whether calls to b go through: false while its breaker is open (and no probe is due yet); true for a backend
 * without a breaker. */
bool backend_available(struct backend *b);

#endif
