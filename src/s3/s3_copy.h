/* The source of CopyObject and UploadPartCopy: x-amz-copy-source parsed, the credential's read access checked,
 * the object fetched and the x-amz-copy-source-if-* conditions applied; and the bytes of a range of it streamed
 * into a destination. */
#ifndef S3ORCH_S3_COPY_H
#define S3ORCH_S3_COPY_H

#include "s3/s3_checksum.h"
#include "s3/s3_service.h"

struct s3_copy_source {
    char bucket[S3_BUCKET_MAX + 1];
    char key[S3_KEY_MAX + 1];
    struct store_object obj; /* owned: store_object_free() */
};

/* Fills src; answers the client and returns false on failure (bad header, NoSuchBucket, AccessDenied,
 * NoSuchKey, PreconditionFailed). */
bool s3_copy_source_open(const struct s3_call *k, struct s3_copy_source *src);

/* What a stream through s3orch computed on the way. */
struct s3_copy_hashes {
    char etag_hex[33];
    enum s3_checksum_alg ck_alg; /* in: the checksum to compute, S3_CK_NONE for none */
    char ck_b64[S3_CHECKSUM_MAX_BASE64];
};

/* The consumer of a streamed range: stores `size` bytes read from src. */
typedef int (*s3_copy_put_fn)(struct body_source *src, int64_t size, void *arg);

/* Streams bytes [off, off+len) of the source object's copy through s3orch into put(), hashing them. Returns 0 or
 * -errno (the source's or the destination's failure). */
int s3_copy_stream(const struct s3_service *svc, const struct store_object *o, int64_t off, int64_t len,
                   s3_copy_put_fn put, void *arg, struct s3_copy_hashes *h);

#endif
