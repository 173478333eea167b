/* Where an S3 request points: bucket and key from path-style (/bucket/key) or virtual-host-style
 * (bucket.domain/key) addressing, the key percent-decoded once, and query parameters looked up by name. */
#ifndef S3ORCH_S3_REQUEST_H
#define S3ORCH_S3_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "http/http_parser.h"

#define S3_BUCKET_MAX 63
#define S3_KEY_MAX 1024

enum s3_request_err {
    S3_REQ_OK = 0,
    S3_REQ_INVALID_URI,    /* InvalidURI 400: bad percent escape, NUL in the key, target not a path */
    S3_REQ_BAD_BUCKET,     /* InvalidBucketName 400 */
    S3_REQ_KEY_TOO_LONG,   /* KeyTooLongError 400 */
};

struct s3_request {
    char bucket[S3_BUCKET_MAX + 1]; /* "" for service-level requests (ListBuckets) */
    char key[S3_KEY_MAX + 1];       /* decoded; "" for bucket-level requests */
    size_t key_len;
    bool virtual_host;
    struct http_str path;  /* raw path as sent, without the query */
    struct http_str query; /* raw query after '?', may be empty */
};

/* domains: the configured virtual_host_domains (server.virtual_host_domains); a Host of "<bucket>.<domain>[:port]"
 * selects virtual-host addressing. */
enum s3_request_err s3_request_parse(struct s3_request *r, const struct http_request *req,
                                     const char *const *domains, size_t ndomains);
/* Percent-decodes src once into dst (NUL-terminated); -1 on a bad escape or when it does not fit. "+" stays "+"
 * in paths; query values decode "+" as space (plus_is_space). */
ssize_t s3_percent_decode(char *dst, size_t cap, const char *src, size_t n, bool plus_is_space);
/* The decoded value of query parameter `name` into dst; 0 when found (a bare "name" gives ""), -ENOENT, or
 * -EINVAL (bad escape / too long). */
int s3_query_get(struct http_str query, const char *name, char *dst, size_t cap);
bool s3_query_has(struct http_str query, const char *name);
/* S3 bucket naming rules: 3–63 chars of a-z 0-9 . -, starting and ending with a letter or digit, no "..", not an
 * IPv4 address. */
bool s3_bucket_name_valid(const char *name, size_t n);

#endif
