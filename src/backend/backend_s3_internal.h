/* The S3 driver's internals, shared by its files: the handle, one signed request, the exchange on either
 * transport, and how a response's status becomes an -errno. Private to src/backend/. */
#ifndef S3ORCH_BACKEND_S3_INTERNAL_H
#define S3ORCH_BACKEND_S3_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "http/http_client.h"
#include "http/http_curl.h"

struct s3b {
    struct backend base;
    struct http_endpoint ep;          /* http:// */
    struct http_curl_endpoint *tls;   /* https://, on libcurl; NULL for http:// */
    char bucket[64];
    char region[64];
    char *access_key, *secret;
    bool path_style, unsigned_payload, disable_checksum, strip_sdk_headers;
    int64_t timeout_ns;
};

enum { S3B_EXTRA_HEADERS = 8 };

/* One request to the backend. */
struct s3b_call {
    const char *method;
    const char *key;   /* the object's key on the backend (raw bytes), NULL for the bucket itself */
    const char *query; /* already encoded, without "?"; NULL for none */
    struct http_client_header extra[S3B_EXTRA_HEADERS]; /* sent and signed; lower-case names */
    size_t nextra;
    int64_t content_length; /* -1: no body */
    struct body_source *body;
    const char *payload_hash; /* hex SHA-256 of the body, or NULL for UNSIGNED-PAYLOAD */
    const char *payload_mode; /* a STREAMING-* x-amz-content-sha256, sent whatever unsigned_payload says; or NULL */
    bool idempotent, head;
};

/* One exchange with the backend, on the transport the endpoint's scheme picked: the ring's own HTTP client for
 * http:// (which can splice bodies), libcurl for https://. The s3b_* calls below stand for the transport's
 * http_client_* / http_curl_* calls of the same name and meaning. */
struct s3b_exchange {
    int status;             /* the transport's, copied once the head is in */
    int64_t content_length; /* likewise */
    bool tls;
    union {
        struct http_client_exchange plain;
        struct http_curl_exchange curl;
    } u;
};

const char *s3b_header(const struct s3b_exchange *ex, const char *name);
ssize_t s3b_body_read(struct s3b_exchange *ex, void *buf, size_t len);
int s3b_body_to_sink(struct s3b_exchange *ex, struct body_sink *sink);
int s3b_body_discard(struct s3b_exchange *ex, size_t limit);
void s3b_done(struct s3b_exchange *ex);

/* Signs and sends call; on success the exchange is open with the response head read (any status). */
int s3b_send(struct s3b *b, const struct s3b_call *call, struct s3b_exchange *ex, int64_t deadline);
/* For a response that is not 2xx: reads its (small) error body, ends the exchange and returns the -errno the
 * contract wants: -ENOENT (404), -ERANGE (416), -EBADMSG (400 for a body failing its claims), -EACCES (403),
 * -EIO (5xx and anything else). */
int s3b_fail(struct s3b *b, struct s3b_exchange *ex);
/* Reads a whole small response body (an XML document) into a malloc'd buffer; ends the exchange. */
int s3b_read_body(struct s3b_exchange *ex, char **out, size_t *len);
static inline bool s3b_ok_status(int status) { return status >= 200 && status < 300; }
/* An empty body sends nothing, but is still read to its end: a source checks its signature and checksums there.
 * 0, the source's error, or -EMSGSIZE when it holds bytes after all. */
int s3b_empty_body_end(struct body_source *src);
/* Whether a failed call may be tried again (the backend or the network failed, not the request). */
bool s3b_retryable(int err);
/* Runs fn up to three times with backoff while it fails retryably. */
int s3b_retry(struct s3b *b, int (*fn)(struct s3b *b, void *arg), void *arg);
int64_t s3b_deadline(const struct s3b *b);

/* A body source over a buffer (a request's XML document), which must outlive the call. */
struct s3b_buf_source {
    struct body_source src;
    const char *p;
    size_t left;
};
void s3b_buf_source_init(struct s3b_buf_source *s, const char *p, size_t len);

/* backend_s3_list.c: the contract's list. */
int s3b_list(struct backend *be, const char *prefix, const char *start_after, size_t max,
             struct backend_list_page *out);
/* backend_s3_delete.c: the contract's del_many (DeleteObjects). */
int s3b_del_many(struct backend *be, const char *const *bkeys, size_t n, int *errs);

#endif
