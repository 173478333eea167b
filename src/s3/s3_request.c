#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "s3/s3_request.h"
#include "util/hex.h"

ssize_t s3_percent_decode(char *dst, size_t cap, const char *src, size_t n, bool plus_is_space)
{
    size_t out = 0;
    if (cap == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hex_digit_value((unsigned char)src[i + 1]), l = hex_digit_value((unsigned char)src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (out + 1 >= cap)
            return -1;
        dst[out++] = c;
    }
    dst[out] = 0;
    return (ssize_t)out;
}

bool s3_bucket_name_valid(const char *name, size_t n)
{
    if (n < 3 || n > S3_BUCKET_MAX)
        return false;
    int dots = 0;
    bool all_digits_dots = true;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-')
            return false;
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
        if (c == '.' && i > 0 && name[i - 1] == '.')
            return false;
        dots += c == '.';
        all_digits_dots &= (c >= '0' && c <= '9') || c == '.';
    }
    return !(all_digits_dots && dots == 3); /* looks like an IPv4 address */
}

/* The bucket named by a virtual-host Host header, or an empty str. */
static struct http_str vhost_bucket(const struct http_request *req, const char *const *domains, size_t ndomains)
{
    const struct http_str *host = http_request_header(req, "host");
    struct http_str none = {NULL, 0};
    if (!host || !ndomains)
        return none;
    size_t n = host->n;
    const char *colon = memchr(host->p, ':', n);
    if (colon)
        n = (size_t)(colon - host->p);
    for (size_t i = 0; i < ndomains; i++) {
        size_t dn = strlen(domains[i]);
        if (n > dn + 1 && host->p[n - dn - 1] == '.' && strncasecmp(host->p + n - dn, domains[i], dn) == 0)
            return (struct http_str){host->p, n - dn - 1};
    }
    return none;
}

enum s3_request_err s3_request_parse(struct s3_request *r, const struct http_request *req,
                                     const char *const *domains, size_t ndomains)
{
    memset(r, 0, sizeof(*r));
    const char *q = memchr(req->target.p, '?', req->target.n);
    r->path = (struct http_str){req->target.p, q ? (size_t)(q - req->target.p) : req->target.n};
    r->query = (struct http_str){q ? q + 1 : "", q ? req->target.n - r->path.n - 1 : 0};
    if (r->path.n == 0 || r->path.p[0] != '/')
        return S3_REQ_INVALID_URI;

    const char *rest = r->path.p + 1;
    size_t rest_n = r->path.n - 1;
    struct http_str bucket = vhost_bucket(req, domains, ndomains);
    if (bucket.n) {
        r->virtual_host = true;
    } else {
        const char *slash = memchr(rest, '/', rest_n);
        bucket = (struct http_str){rest, slash ? (size_t)(slash - rest) : rest_n};
        rest = slash ? slash + 1 : rest + rest_n;
        rest_n = slash ? r->path.n - 1 - bucket.n - 1 : 0;
        /* A bucket in the path is percent-decoded too, but a valid name never needs escapes. */
        if (memchr(bucket.p, '%', bucket.n))
            return S3_REQ_BAD_BUCKET;
    }
    if (bucket.n) {
        if (bucket.n > S3_BUCKET_MAX)
            return S3_REQ_BAD_BUCKET;
        for (size_t i = 0; i < bucket.n; i++)
            r->bucket[i] = (char)(bucket.p[i] >= 'A' && bucket.p[i] <= 'Z' && r->virtual_host ? bucket.p[i] + 32
                                                                                            : bucket.p[i]);
        if (!s3_bucket_name_valid(r->bucket, bucket.n))
            return S3_REQ_BAD_BUCKET;
    }
    if (rest_n && !*r->bucket)
        return S3_REQ_BAD_BUCKET; /* "//key": a key needs a bucket */
    if (rest_n) {
        char key[S3_KEY_MAX * 3 + 1];
        ssize_t n = s3_percent_decode(key, sizeof(key), rest, rest_n, false);
        if (n < 0)
            return rest_n > S3_KEY_MAX * 3 ? S3_REQ_KEY_TOO_LONG : S3_REQ_INVALID_URI;
        if (memchr(key, 0, (size_t)n))
            return S3_REQ_INVALID_URI;
        if (n > S3_KEY_MAX)
            return S3_REQ_KEY_TOO_LONG;
        memcpy(r->key, key, (size_t)n + 1);
        r->key_len = (size_t)n;
    }
    return S3_REQ_OK;
}

/* Walks name[=value] pairs; finds `name` compared after decoding. */
int s3_query_get(struct http_str query, const char *name, char *dst, size_t cap)
{
    const char *p = query.p, *end = query.p + query.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *name_end = eq ? eq : stop;
        char decoded[256];
        ssize_t nn = s3_percent_decode(decoded, sizeof(decoded), p, (size_t)(name_end - p), true);
        /* Compared by length, not as C strings: "uploadId%00x" is not "uploadId". */
        if (nn >= 0 && (size_t)nn == strlen(name) && memcmp(decoded, name, (size_t)nn) == 0) {
            if (!eq) {
                if (!cap)
                    return -EINVAL;
                dst[0] = 0;
                return 0;
            }
            return s3_percent_decode(dst, cap, eq + 1, (size_t)(stop - eq - 1), true) < 0 ? -EINVAL : 0;
        }
        p = stop + 1;
    }
    return -ENOENT;
}

bool s3_query_has(struct http_str query, const char *name)
{
    char scratch[4096];
    return s3_query_get(query, name, scratch, sizeof(scratch)) != -ENOENT;
}
