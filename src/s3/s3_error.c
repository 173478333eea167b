#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "s3/s3_error.h"
#include "s3/s3_xml.h"

static const struct {
    int status;
    const char *code;
    const char *message;
} s3_errors[S3_ERR_COUNT] = {
    [S3_ERR_BAD_REQUEST] = {400, "BadRequest", "An error occurred when parsing the HTTP request."},
    [S3_ERR_REQUEST_TIMEOUT] = {400, "RequestTimeout",
                                "Your socket connection to the server was not read from or written to within "
                                "the timeout period."},
    [S3_ERR_URI_TOO_LONG] = {414, "RequestURITooLong", "The request line is longer than the server accepts."},
    [S3_ERR_EXPECTATION_FAILED] = {417, "ExpectationFailed", "The Expect header can only be 100-continue."},
    [S3_ERR_HEADERS_TOO_LARGE] = {431, "RequestHeaderSectionTooLarge",
                                  "Your request header section exceeds the maximum allowed size."},
    [S3_ERR_NOT_IMPLEMENTED] = {501, "NotImplemented",
                                "A header you provided implies functionality that is not implemented."},
    [S3_ERR_HTTP_VERSION] = {505, "HttpVersionNotSupported", "The HTTP version is not supported."},
    [S3_ERR_SLOW_DOWN] = {503, "SlowDown", "Please reduce your request rate."},
    [S3_ERR_SERVICE_UNAVAILABLE] = {503, "ServiceUnavailable", "The server is shutting down."},
    [S3_ERR_INTERNAL] = {500, "InternalError", "We encountered an internal error. Please try again."},
    [S3_ERR_INVALID_URI] = {400, "InvalidURI", "Couldn't parse the specified URI."},
    [S3_ERR_INVALID_BUCKET_NAME] = {400, "InvalidBucketName", "The specified bucket is not valid."},
    [S3_ERR_KEY_TOO_LONG] = {400, "KeyTooLongError", "Your key is too long."},
    [S3_ERR_INVALID_ACCESS_KEY] = {403, "InvalidAccessKeyId",
                                   "The AWS Access Key Id you provided does not exist in our records."},
    [S3_ERR_ACCESS_DENIED] = {403, "AccessDenied", "Access Denied"},
    [S3_ERR_NO_SUCH_BUCKET] = {404, "NoSuchBucket", "The specified bucket does not exist"},
};

int s3_error_status(enum s3_err err) { return s3_errors[err].status; }

const char *s3_error_code(enum s3_err err) { return s3_errors[err].code; }

int s3_error_send(struct http_conn *c, int status, const char *code, const char *message, const char *resource,
                  size_t resource_len)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open(&x, "Error");
    s3_xml_element(&x, "Code", code);
    s3_xml_element(&x, "Message", message);
    if (resource)
        s3_xml_element_n(&x, "Resource", resource, resource_len);
    s3_xml_element(&x, "RequestId", http_request_id(c));
    s3_xml_close(&x, "Error");

    struct http_resp r;
    http_resp_init(&r, status);
    http_resp_header(&r, "Content-Type", "application/xml");
    int ret = x.overflow ? -E2BIG : http_respond(c, &r, x.buf, x.len);
    s3_xml_free(&x);
    return ret;
}

int s3_error_respond(struct http_conn *c, enum s3_err err, const char *resource, size_t resource_len)
{
    return s3_error_send(c, s3_errors[err].status, s3_errors[err].code, s3_errors[err].message, resource,
                         resource_len);
}

void s3_error_reject(struct http_conn *c, int status)
{
    enum s3_err err;
    switch (status) {
    case 400: err = S3_ERR_BAD_REQUEST; break;
    case 408: err = S3_ERR_REQUEST_TIMEOUT; break;
    case 414: err = S3_ERR_URI_TOO_LONG; break;
    case 417: err = S3_ERR_EXPECTATION_FAILED; break;
    case 431: err = S3_ERR_HEADERS_TOO_LARGE; break;
    case 501: err = S3_ERR_NOT_IMPLEMENTED; break;
    case 503: err = S3_ERR_SLOW_DOWN; break;
    case 505: err = S3_ERR_HTTP_VERSION; break;
    default: err = S3_ERR_INTERNAL; break;
    }
    s3_error_respond(c, err, NULL, 0);
}
