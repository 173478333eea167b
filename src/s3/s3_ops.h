/* Every S3 operation's handler. s3_handle() authenticates the request, checks the credential may use the bucket
 * (read or write, as the operation needs), then calls one of these. */
#ifndef S3ORCH_S3_OPS_H
#define S3ORCH_S3_OPS_H

#include "s3/s3_service.h"

typedef void s3_op_fn(const struct s3_call *k);

/* Buckets (S8, S13): s3_bucket.c */
s3_op_fn s3_op_list_buckets, s3_op_create_bucket, s3_op_delete_bucket, s3_op_head_bucket, s3_op_bucket_location,
    s3_op_bucket_versioning;
/* Listing (S8): s3_list.c */
s3_op_fn s3_op_list_objects, s3_op_list_object_versions;
/* Objects (S6): s3_object.c, s3_delete_objects.c, s3_copy.c */
s3_op_fn s3_op_put_object, s3_op_get_object, s3_op_delete_object, s3_op_delete_objects, s3_op_copy_object;
/* Tagging (S11): s3_tagging.c */
s3_op_fn s3_op_get_tagging, s3_op_put_tagging, s3_op_delete_tagging;
/* Multipart (S9): s3_multipart.c, s3_multipart_list.c */
s3_op_fn s3_op_mpu_create, s3_op_mpu_upload_part, s3_op_mpu_upload_part_copy, s3_op_mpu_complete, s3_op_mpu_abort,
    s3_op_mpu_list_parts, s3_op_mpu_list_uploads;

#endif
