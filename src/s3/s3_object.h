/* Single-object operations: PutObject, GetObject, HeadObject, DeleteObject, and the steps CopyObject and
 * multipart share with them. */
#ifndef S3ORCH_S3_OBJECT_H
#define S3ORCH_S3_OBJECT_H

#include "s3/s3_object_meta.h"
#include "s3/s3_ops.h"
#include "s3/s3_service.h"


/* 0 to go on, or the status the conditional headers call for (304 or 412): If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since, each name with `prefix` before it ("" or "x-amz-copy-source-"). */
int s3_preconditions_check(const struct http_request *req, const struct store_object *o, const char *prefix);
/* store_object_commit_if() with its failure answered to the client (NoSuchKey, PreconditionFailed, or the store
 * error). Returns the store's result. */
int s3_object_commit(const struct s3_call *k, int64_t intent, const struct store_object *obj,
                     const struct store_cond *cond, struct store_cleanup_list *displaced);

/* What a PUT stored, to become the object's new version. */
struct s3_put_result {
    int64_t size;
    const char *etag;   /* quoted */
    const char *ck_b64; /* the object's checksum, "" for none */
    enum s3_checksum_alg ck_alg;
    const struct store_copy *copies;
    size_t n_copies;
    int64_t intent; /* the PUT intent the commit resolves */
};
/* Commits res with the request's metadata under cond, answers 200 (ETag, checksum) and deletes the copies the new
 * version displaced. false after answering the failure: the caller then deletes its backend copies. */
bool s3_put_commit(const struct s3_call *k, const struct s3_object_meta *meta, const struct store_cond *cond,
                   const struct s3_put_result *res);
/* Answers a PUT whose body did not reach the backend: the body's own failure, a bad digest, a short body, or the
 * backend's error. */
void s3_put_respond_error(const struct s3_call *k, const struct s3_put_body *body, int err);
/* PutObject with replication.mode sync (O5): the body goes to `factor` backends at once and the client hears 200
 * once write_quorum (0: all) of the copies are stored and committed. */
void s3_put_replicated(const struct s3_call *k, struct s3_put_body *body, int64_t size,
                       const struct s3_object_meta *meta, const struct store_cond *cond);

#endif
