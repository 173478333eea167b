/* Who may use which bucket. A credential belongs to one bucket of the config; a credential allowed to create
 * buckets also owns those it created through the API (kept in the store). Read-only credentials may read. */
#ifndef S3ORCH_S3_ACCESS_H
#define S3ORCH_S3_ACCESS_H

#include <stdbool.h>

#include "s3/s3_service.h"

const struct config_bucket *s3_config_bucket_find(const struct config *cfg, const char *name);
/* 0 when id may read (write false) or write the bucket; -ENOENT no such bucket; -EACCES not this credential's;
 * another -errno from the store. */
int s3_bucket_access(const struct s3_service *svc, const struct s3_identity *id, const char *bucket, bool write);
/* Answers a failed s3_bucket_access(): NoSuchBucket, AccessDenied or the store's error. */
void s3_access_fail(const struct s3_call *k, int err);

#endif
