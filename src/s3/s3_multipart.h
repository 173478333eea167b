/* What the multipart operations (s3_multipart*.c) share. */
#ifndef S3ORCH_S3_MULTIPART_H
#define S3ORCH_S3_MULTIPART_H

#include "s3/s3_ops.h"

/* The upload the request's uploadId names, which must belong to the request's bucket and key; answers
 * NoSuchUpload (or the store's error) and returns false otherwise. */
bool s3_mpu_open(const struct s3_call *k, struct store_upload *up);

/* Answers a failed store call on an upload: NoSuchUpload for -ENOENT, else the store's error. */
void s3_mpu_store_fail(const struct s3_call *k, int err);

#endif
