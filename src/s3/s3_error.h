/* S3 error responses: <Error> XML with Code, Message, Resource and RequestId, and the status that goes with the
 * code. */
#ifndef S3ORCH_S3_ERROR_H
#define S3ORCH_S3_ERROR_H

#include "http/http_server.h"

enum s3_err {
    S3_ERR_BAD_REQUEST,
    S3_ERR_REQUEST_TIMEOUT,
    S3_ERR_URI_TOO_LONG,
    S3_ERR_EXPECTATION_FAILED,
    S3_ERR_HEADERS_TOO_LARGE,
    S3_ERR_NOT_IMPLEMENTED,
    S3_ERR_HTTP_VERSION,
    S3_ERR_SLOW_DOWN,
    S3_ERR_SERVICE_UNAVAILABLE,
    S3_ERR_INTERNAL,
    S3_ERR_INVALID_URI,
    S3_ERR_INVALID_BUCKET_NAME,
    S3_ERR_KEY_TOO_LONG,
    S3_ERR_INVALID_ACCESS_KEY,
    S3_ERR_ACCESS_DENIED,
    S3_ERR_NO_SUCH_BUCKET,
    S3_ERR_COUNT
};

int s3_error_status(enum s3_err err);
const char *s3_error_code(enum s3_err err);
/* Sends an <Error> with any code: the general form, for codes owned by other modules (SigV4's, the store's). */
int s3_error_send(struct http_conn *c, int status, const char *code, const char *message, const char *resource,
                  size_t resource_len);
/* Sends the error; resource may be NULL. */
int s3_error_respond(struct http_conn *c, enum s3_err err, const char *resource, size_t resource_len);
/* An http_reject_fn: the S3 error for an HTTP status the server produced on its own. */
void s3_error_reject(struct http_conn *c, int status);

#endif
