/* Single-object operations: PutObject, GetObject, HeadObject, DeleteObject, and the steps CopyObject and
 * multipart share with them. */
#ifndef S3ORCH_S3_OBJECT_H
#define S3ORCH_S3_OBJECT_H

#include "s3/s3_ops.h"
#include "s3/s3_service.h"


/* 0 to go on, or the status the conditional headers call for (304 or 412): If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since, each name with `prefix` before it ("" or "x-amz-copy-source-"). */
int s3_preconditions_check(const struct http_request *req, const struct store_object *o, const char *prefix);
/* store_object_commit_if() with its failure answered to the client (NoSuchKey, PreconditionFailed, or the store
 * error). Returns the store's result. */
int s3_object_commit(const struct s3_call *k, int64_t intent, const struct store_object *obj,
                     const struct store_cond *cond, struct store_cleanup_list *displaced);

#endif
