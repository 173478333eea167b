/* An object's metadata as a request's headers give it (PutObject, CreateMultipartUpload, CopyObject with
 * x-amz-metadata-directive: REPLACE): Content-Type and its siblings, x-amz-meta-*, x-amz-tagging and
 * x-amz-storage-class. */
#ifndef S3ORCH_S3_OBJECT_META_H
#define S3ORCH_S3_OBJECT_META_H

#include "http/http_parser.h"
#include "store/store.h"

enum { S3_META_MAX_BYTES = 2048, S3_META_MAX_PAIRS = 64 };

struct s3_object_meta {
    char *content_type, *content_encoding, *content_disposition, *content_language, *cache_control, *expires;
    char *tagging;       /* normalised URL-encoded tag set, NULL when none */
    char *storage_class; /* NULL = STANDARD */
    struct store_meta meta[S3_META_MAX_PAIRS];
    size_t n_meta;
};

/* The S3 error a request's metadata headers earn. */
struct s3_meta_error {
    int status; /* 0: none */
    const char *code, *message;
};

/* Reads the headers into m (which owns copies). On failure m is freed and *err says what to answer. */
bool s3_object_meta_from_headers(struct s3_object_meta *m, const struct http_request *req,
                                 struct s3_meta_error *err);
/* Points obj's metadata fields at m's strings (m must outlive obj's use). */
void s3_object_meta_apply(const struct s3_object_meta *m, struct store_object *obj);
void s3_object_meta_free(struct s3_object_meta *m);

/* Tags in a stored URL-encoded tag set: 0 for NULL or "". */
int s3_tagging_count(const char *tagging);

#endif
