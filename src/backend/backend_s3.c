/* The s3 driver: objects as objects of one bucket on an S3-compatible server. Bodies stream through the ring's
 * HTTP client over http://, or libcurl over https://; over http:// a GET's body goes to the caller's sink spliced
 * when the sink can take it (backend socket → pipe → client socket). Calls without a body are retried with
 * backoff when the backend or the network fails. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_s3_internal.h"
#include "backend/s3_resp_xml.h"
#include "coro/coro.h"
#include "s3/s3_sigv4.h"

static struct s3b *s3b_of(struct backend *b) { return (struct s3b *)b; }

/* Whether this backend checks every claim, in the form the claims come: a payload hash only when payloads are
 * signed, Content-MD5 unless checksums are off, flexible checksums and aws-chunked trailers unless those or the
 * newer SDK headers are off. */
static bool s3b_checks_claims(const struct s3b *b, const struct backend_put_claims *c)
{
    bool sdk = c->checksum_header || c->aws_chunked_trailer;
    return !(c->content_sha256 && b->unsigned_payload) && !((c->content_md5 || sdk) && b->disable_checksum) &&
           !(sdk && b->strip_sdk_headers);
}

static int s3b_put_verified(struct backend *be, const char *bkey, struct body_source *src, int64_t size,
                            const struct backend_put_claims *claims, char etag[BACKEND_ETAG_MAX])
{
    struct s3b *b = s3b_of(be);
    struct s3b_exchange ex;
    struct s3b_call call = {.method = "PUT", .key = bkey, .content_length = size, .body = size ? src : NULL};
    char decoded[24];
    if (claims && !s3b_checks_claims(b, claims))
        return -ENOTSUP;
    if (claims) {
        call.payload_hash = claims->content_sha256;
        if (claims->content_md5)
            call.extra[call.nextra++] = (struct http_client_header){"content-md5", claims->content_md5};
        if (claims->checksum_header)
            call.extra[call.nextra++] = (struct http_client_header){claims->checksum_header, claims->checksum_value};
    }
    if (claims && claims->aws_chunked_trailer) {
        snprintf(decoded, sizeof(decoded), "%" PRId64, claims->decoded_length);
        call.payload_mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
        call.extra[call.nextra++] = (struct http_client_header){"content-encoding", "aws-chunked"};
        call.extra[call.nextra++] = (struct http_client_header){"x-amz-decoded-content-length", decoded};
        call.extra[call.nextra++] = (struct http_client_header){"x-amz-trailer", claims->aws_chunked_trailer};
    }
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status))
        return s3b_fail(b, &ex);
    const char *e = s3b_header(&ex, "etag");
    etag[0] = 0;
    if (e && strlen(e) < BACKEND_ETAG_MAX)
        memcpy(etag, e, strlen(e) + 1);
    s3b_body_discard(&ex, 64 * 1024);
    s3b_done(&ex);
    return 0;
}

static int s3b_put(struct backend *be, const char *bkey, struct body_source *src, int64_t size)
{
    char etag[BACKEND_ETAG_MAX];
    int err = size == 0 ? s3b_empty_body_end(src) : 0;
    return err < 0 ? err : s3b_put_verified(be, bkey, src, size, NULL, etag);
}

struct get_args {
    const char *bkey;
    int64_t off, len;
    struct body_sink *sink;
    bool started; /* bytes reached the sink: no retry from here on */
};

static int get_once(struct s3b *b, void *arg)
{
    struct get_args *a = arg;
    char range[64];
    snprintf(range, sizeof(range), "bytes=%" PRId64 "-%" PRId64, a->off, a->off + a->len - 1);
    struct s3b_call call = {.method = "GET", .key = a->bkey, .content_length = -1, .idempotent = true};
    call.extra[call.nextra++] = (struct http_client_header){"range", range};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status))
        return s3b_fail(b, &ex);
    if (ex.content_length != a->len) {
        s3b_done(&ex);
        return -EPROTO;
    }
    a->started = true;
    err = s3b_body_to_sink(&ex, a->sink);
    s3b_done(&ex);
    return err;
}

static int get_retry(struct s3b *b, void *arg)
{
    struct get_args *a = arg;
    int err = get_once(b, a);
    /* Once bytes went to the client there is no taking them back: a failure then is final. */
    return a->started && err < 0 ? -ECONNABORTED : err;
}

static int s3b_get(struct backend *be, const char *bkey, int64_t off, int64_t len, struct body_sink *sink)
{
    if (len == 0)
        return 0;
    struct get_args a = {bkey, off, len, sink, false};
    return s3b_retry(s3b_of(be), get_retry, &a);
}

struct head_args {
    const char *bkey;
    struct backend_object_info *out;
};

static int head_once(struct s3b *b, void *arg)
{
    struct head_args *a = arg;
    struct s3b_call call = {.method = "HEAD", .key = a->bkey, .content_length = -1, .idempotent = true, .head = true};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    int status = ex.status;
    int64_t size = ex.content_length;
    s3b_done(&ex);
    if (status == 404)
        return -ENOENT;
    if (!s3b_ok_status(status))
        return status == 403 ? -EACCES : -EIO;
    *a->out = (struct backend_object_info){.size = size, .mtime_ms = 0};
    return size < 0 ? -EPROTO : 0;
}

static int s3b_head(struct backend *be, const char *bkey, struct backend_object_info *out)
{
    struct head_args a = {bkey, out};
    return s3b_retry(s3b_of(be), head_once, &a);
}

static int del_once(struct s3b *b, void *arg)
{
    struct s3b_call call = {.method = "DELETE", .key = arg, .content_length = -1, .idempotent = true};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status) && ex.status != 404)
        return s3b_fail(b, &ex);
    s3b_body_discard(&ex, 64 * 1024);
    s3b_done(&ex);
    return 0;
}

static int s3b_del(struct backend *be, const char *bkey) { return s3b_retry(s3b_of(be), del_once, (void *)bkey); }

struct copy_args {
    const char *src, *dst;
};

static int copy_once(struct s3b *b, void *arg)
{
    struct copy_args *a = arg;
    char source[3 * 1024 + 80];
    int n = snprintf(source, sizeof(source), "/%s/", b->bucket);
    if (s3_uri_encode(source + n, sizeof(source) - (size_t)n, a->src, strlen(a->src), false) < 0)
        return -ENAMETOOLONG;
    struct s3b_call call = {.method = "PUT", .key = a->dst, .content_length = 0, .idempotent = true};
    call.extra[call.nextra++] = (struct http_client_header){"x-amz-copy-source", source};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status))
        return s3b_fail(b, &ex);
    /* A copy may fail after its 200 went out: the error is then the body. */
    char *body;
    size_t len;
    err = s3b_read_body(&ex, &body, &len);
    if (err < 0)
        return err;
    if (s3_resp_is_error(body, len)) {
        struct s3_resp_error e = {0};
        s3_resp_parse_error(body, len, &e);
        err = strcmp(e.code, "NoSuchKey") == 0 ? -ENOENT : -EIO;
    }
    free(body);
    return err;
}

static int s3b_copy(struct backend *be, const char *src_bkey, const char *dst_bkey)
{
    struct copy_args a = {src_bkey, dst_bkey};
    return s3b_retry(s3b_of(be), copy_once, &a);
}

static void s3b_free(struct backend *be)
{
    struct s3b *b = s3b_of(be);
    if (!b)
        return;
    if (b->tls)
        http_curl_endpoint_free(b->tls);
    free(b->tls);
    free(b->access_key);
    free(b->secret);
    free(b);
}

int s3b_mpu_create(struct backend *be, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX]);
int s3b_mpu_put_part(struct backend *be, const char *bkey, const char *upload_id, int number,
                     struct body_source *src, int64_t size, char etag[BACKEND_ETAG_MAX]);
int s3b_mpu_complete(struct backend *be, const char *bkey, const char *upload_id, const struct backend_part *parts,
                     size_t n);
int s3b_mpu_abort(struct backend *be, const char *bkey, const char *upload_id);

static const struct backend_ops s3b_ops = {
    .put = s3b_put,
    .put_verified = s3b_put_verified,
    .get = s3b_get,
    .head = s3b_head,
    .del = s3b_del,
    .del_many = s3b_del_many,
    .copy = s3b_copy,
    .mpu_create = s3b_mpu_create,
    .mpu_put_part = s3b_mpu_put_part,
    .mpu_complete = s3b_mpu_complete,
    .mpu_abort = s3b_mpu_abort,
    .list = s3b_list,
    .free = s3b_free,
};

/* "http[s]://host[:port][/]" into host and port; *tls for https. */
static int endpoint_split(const char *url, bool *tls, char *host, size_t hcap, char *port, size_t pcap)
{
    *tls = strncmp(url, "https://", 8) == 0;
    if (!*tls && strncmp(url, "http://", 7) != 0)
        return -EINVAL;
    const char *p = url + (*tls ? 8 : 7);
    size_t n = strcspn(p, "/");
    if (p[n] && strcmp(p + n, "/") != 0)
        return -EINVAL; /* a path prefix on the endpoint is not supported */
    const char *colon = p[0] == '[' ? NULL : memchr(p, ':', n);
    size_t hn = colon ? (size_t)(colon - p) : n;
    if (hn == 0 || hn >= hcap)
        return -EINVAL;
    memcpy(host, p, hn);
    host[hn] = 0;
    if (colon)
        snprintf(port, pcap, "%.*s", (int)(n - hn - 1), colon + 1);
    else
        snprintf(port, pcap, "%s", *tls ? "443" : "80");
    return 0;
}

int backend_s3_open(struct backend **out, const struct backend_s3_config *cfg)
{
    *out = NULL;
    char host[256], port[16];
    bool tls;
    int err = endpoint_split(cfg->endpoint, &tls, host, sizeof(host), port, sizeof(port));
    if (err < 0)
        return err;
    if (strlen(cfg->bucket) >= sizeof(((struct s3b *)0)->bucket) || !cfg->bucket[0] ||
        strlen(cfg->region) >= sizeof(((struct s3b *)0)->region))
        return -EINVAL;
    struct s3b *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->base.ops = &s3b_ops;
    snprintf(b->base.name, sizeof(b->base.name), "%s", cfg->name);
    snprintf(b->bucket, sizeof(b->bucket), "%s", cfg->bucket);
    snprintf(b->region, sizeof(b->region), "%s", cfg->region && *cfg->region ? cfg->region : "us-east-1");
    b->access_key = strdup(cfg->access_key_id ? cfg->access_key_id : "");
    b->secret = strdup(cfg->secret_access_key ? cfg->secret_access_key : "");
    b->path_style = cfg->force_path_style;
    b->unsigned_payload = cfg->unsigned_payload;
    b->disable_checksum = cfg->disable_checksum;
    b->strip_sdk_headers = cfg->strip_sdk_headers;
    b->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : CORO_SEC(30);
    static unsigned next_id;
    if (tls) {
        /* Not path-style, the bucket is part of the name in the URL: what TLS sends (SNI) and verifies. */
        char url_host[sizeof(host) + sizeof(b->bucket) + 1];
        snprintf(url_host, sizeof(url_host), "%s%s%s", b->path_style ? "" : b->bucket, b->path_style ? "" : ".",
                 host);
        b->tls = calloc(1, sizeof(*b->tls));
        err = b->tls ? http_curl_endpoint_init(b->tls, "https", url_host, port, cfg->ca_file) : -ENOMEM;
    } else {
        err = http_endpoint_resolve(&b->ep, host, port);
    }
    if (err < 0 || !b->access_key || !b->secret) {
        s3b_free(&b->base);
        return err < 0 ? err : -ENOMEM;
    }
    b->ep.id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    *out = &b->base;
    return 0;
}
