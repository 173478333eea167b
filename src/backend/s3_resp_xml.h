/* Reading the XML bodies an S3 backend answers with (expat), for the s3 driver: errors, multipart initiate and
 * complete, copy results and object listings. A backend is trusted less than a config file and more than a
 * client: every body has a size cap and a depth cap, DOCTYPE is refused, and fields too long for their buffers
 * are errors, never truncated.
 *
 * All functions return 0, -EPROTO (not the document expected, malformed, a required field missing or too long),
 * -E2BIG (over S3_RESP_BODY_MAX) or -ENOMEM. Element names are matched on their local names (namespace
 * ignored). */
#ifndef S3ORCH_S3_RESP_XML_H
#define S3ORCH_S3_RESP_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    S3_RESP_BODY_MAX = 8 * 1024 * 1024, /* a listing page of 1000 keys of 1024 bytes, escaped, fits */
    S3_RESP_CODE_MAX = 64,
    S3_RESP_MESSAGE_MAX = 512,
    S3_RESP_ID_MAX = 1024,   /* upload ids (some providers' are long) */
    S3_RESP_ETAG_MAX = 128,
    S3_RESP_TOKEN_MAX = 2048,
    S3_RESP_LIST_MAX = 1000, /* entries of one page */
};

/* <Error><Code>…</Code><Message>…</Message></Error>: Code required and not empty, Message "" when absent (both
 * without surrounding whitespace). Also how a 200 that carries an error is recognised (CompleteMultipartUpload
 * and CopyObject may answer 200 and fail in the body): s3_resp_is_error(), true when the root element is Error;
 * it reads no further than that element's start tag (a body over the cap is no error). On failure *out is
 * zeroed. */
struct s3_resp_error {
    char code[S3_RESP_CODE_MAX];
    char message[S3_RESP_MESSAGE_MAX];
};
int s3_resp_parse_error(const char *body, size_t len, struct s3_resp_error *out);
bool s3_resp_is_error(const char *body, size_t len);

/* <InitiateMultipartUploadResult>…<UploadId>id</UploadId>…: the id, not empty, byte for byte. */
int s3_resp_parse_initiate(const char *body, size_t len, char upload_id[S3_RESP_ID_MAX]);
/* <CompleteMultipartUploadResult>…<ETag>"…"</ETag>…, <CopyObjectResult>…<ETag>…, <CopyPartResult>…<ETag>…: the
 * ETag as sent (quotes kept, surrounding whitespace dropped), not empty. root names the document expected;
 * CompleteMultipartUploadResult also takes moto's CompleteMultipartUploadResponse. The output buffers of both are
 * zeroed on failure. */
int s3_resp_parse_etag(const char *body, size_t len, const char *root, char etag[S3_RESP_ETAG_MAX]);

/* <ListBucketResult> of ListObjectsV2: at most S3_RESP_LIST_MAX Contents, each with a Key (not empty); Size,
 * ETag and LastModified are 0, "" and 0 when absent. IsTruncated is required. Keys are kept byte for byte, or
 * percent-decoded ("+" a space) when the document says EncodingType url; either way at most S3_KEY_MAX bytes
 * without a NUL. CommonPrefixes are not read. truncated with next_token "" is what the backend sent: the caller
 * decides. On failure *out is freed and zeroed; s3_resp_list_free() may be called twice. */
struct s3_resp_entry {
    char *key; /* malloc'd, owned by the list */
    int64_t size;
    char etag[S3_RESP_ETAG_MAX];
    int64_t modified_ms; /* LastModified, ISO 8601 with or without milliseconds */
};
struct s3_resp_list {
    struct s3_resp_entry *v;
    size_t n;
    bool truncated;
    char next_token[S3_RESP_TOKEN_MAX]; /* NextContinuationToken, "" when none */
};
int s3_resp_parse_list(const char *body, size_t len, struct s3_resp_list *out);
void s3_resp_list_free(struct s3_resp_list *l);

/* <DeleteResult> of DeleteObjects: fn(arg, key, code) for each <Error> entry, in order (key and code valid during
 * the call only); Deleted entries are not reported. An error fn sees before the walk fails stays seen. */
typedef void (*s3_resp_delete_error_fn)(void *arg, const char *key, const char *code);
int s3_resp_parse_delete(const char *body, size_t len, s3_resp_delete_error_fn fn, void *arg);

#endif
