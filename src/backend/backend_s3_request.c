/* One signed request to an S3 backend (SigV4 with the verifier's own functions), and what its answer means. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backend/backend_s3_internal.h"
#include "backend/s3_resp_xml.h"
#include "coro/coro.h"
#include "s3/s3_sigv4.h"
#include "util/log.h"

#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

int64_t s3b_deadline(const struct s3b *b) { return coro_deadline_in(b->timeout_ns); }

/* The signing key changes once a day; each thread keeps the last ones it derived. */
struct key_cache_entry {
    const struct s3b *owner;
    char date[9];
    uint8_t key[32];
};

static const uint8_t *signing_key(const struct s3b *b, const char amz_date[17])
{
    static _Thread_local struct key_cache_entry cache[8];
    static _Thread_local unsigned next;
    for (size_t i = 0; i < sizeof(cache) / sizeof(cache[0]); i++)
        if (cache[i].owner == b && memcmp(cache[i].date, amz_date, 8) == 0)
            return cache[i].key;
    struct key_cache_entry *e = &cache[next++ % (sizeof(cache) / sizeof(cache[0]))];
    e->owner = b;
    memcpy(e->date, amz_date, 8);
    e->date[8] = 0;
    s3_sigv4_signing_key(b->secret, strlen(b->secret), amz_date, b->region, strlen(b->region), "s3", 2, e->key);
    return e->key;
}

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const struct http_client_header *)a)->name, ((const struct http_client_header *)b)->name);
}

int s3b_send(struct s3b *b, const struct s3b_call *call, struct s3b_exchange *ex, int64_t deadline)
{
    /* Target: path-style "/bucket/key" or virtual-host "/key" with the bucket in Host. */
    char target[3 * 1024 * 3 + 256]; /* an encoded key, or a listing's encoded prefix and start-after */
    size_t n = 0;
    if (b->path_style)
        n = (size_t)snprintf(target, sizeof(target), "/%s", b->bucket);
    target[n++] = '/';
    if (call->key) {
        ssize_t k = s3_uri_encode(target + n, sizeof(target) - n - 1, call->key, strlen(call->key), false);
        if (k < 0)
            return -ENAMETOOLONG;
        n += (size_t)k;
    }
    size_t path_len = n;
    if (call->query) {
        int q = snprintf(target + n, sizeof(target) - n, "?%s", call->query);
        if (q < 0 || (size_t)q >= sizeof(target) - n)
            return -ENAMETOOLONG;
        n += (size_t)q;
    }
    target[n] = 0;

    char host[sizeof(b->ep.host) + 80], amz_date[17];
    if (b->tls)
        snprintf(host, sizeof(host), "%s", b->tls->host); /* the bucket is in it already when not path-style */
    else if (b->path_style)
        snprintf(host, sizeof(host), "%s", b->ep.host);
    else
        snprintf(host, sizeof(host), "%s.%s", b->bucket, b->ep.host);
    s3_sigv4_format_amz_date((int64_t)time(NULL), amz_date);
    const char *payload = call->payload_mode                            ? call->payload_mode
                          : call->payload_hash && !b->unsigned_payload ? call->payload_hash
                                                                       : UNSIGNED_PAYLOAD;

    /* Every header we send is signed, in sorted order. */
    struct http_client_header hs[S3B_EXTRA_HEADERS + 4];
    size_t nh = 0;
    hs[nh++] = (struct http_client_header){"host", host};
    hs[nh++] = (struct http_client_header){"x-amz-content-sha256", payload};
    hs[nh++] = (struct http_client_header){"x-amz-date", amz_date};
    for (size_t i = 0; i < call->nextra; i++)
        hs[nh++] = call->extra[i];
    qsort(hs, nh, sizeof(hs[0]), cmp_header);
    char signed_headers[512];
    size_t sh = 0;
    struct s3_sigv4_header sig_headers[S3B_EXTRA_HEADERS + 4];
    for (size_t i = 0; i < nh; i++) {
        int w = snprintf(signed_headers + sh, sizeof(signed_headers) - sh, "%s%s", i ? ";" : "", hs[i].name);
        if (w < 0 || (size_t)w >= sizeof(signed_headers) - sh)
            return -E2BIG;
        sh += (size_t)w;
        sig_headers[i] = (struct s3_sigv4_header){hs[i].name, strlen(hs[i].name), hs[i].value, strlen(hs[i].value)};
    }
    char scope[128], signature[65];
    int sl = snprintf(scope, sizeof(scope), "%.8s/%s/s3/aws4_request", amz_date, b->region);
    struct s3_sigv4_request sreq = {
        .method = call->method,
        .method_len = strlen(call->method),
        .path = target,
        .path_len = path_len,
        .query = call->query,
        .query_len = call->query ? strlen(call->query) : 0,
        .headers = sig_headers,
        .nheaders = nh,
    };
    if (s3_sigv4_sign(&sreq, false, signed_headers, sh, payload, strlen(payload), amz_date, scope, (size_t)sl,
                      signing_key(b, amz_date), signature) != S3_SIGV4_OK)
        return -EINVAL;
    char auth[1024];
    snprintf(auth, sizeof(auth), "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
             b->access_key, scope, signed_headers, signature);

    /* Host goes out from the endpoint (either transport adds it); the others as signed. */
    struct http_client_header out[S3B_EXTRA_HEADERS + 4];
    size_t no = 0;
    for (size_t i = 0; i < nh; i++)
        if (strcmp(hs[i].name, "host") != 0)
            out[no++] = hs[i];
    out[no++] = (struct http_client_header){"authorization", auth};
    struct http_endpoint ep = b->ep;
    if (!b->path_style)
        snprintf(ep.host, sizeof(ep.host), "%s", host);
    struct http_client_request req = {
        .method = call->method,
        .target = target,
        .headers = out,
        .nheaders = no,
        .content_length = call->content_length,
        .body = call->body,
        .idempotent = call->idempotent,
        .head = call->head,
    };
    ex->tls = b->tls != NULL;
    int err = ex->tls ? http_curl_request(b->tls, &req, &ex->u.curl, deadline)
                      : http_client_request(b->path_style ? &b->ep : &ep, &req, &ex->u.plain, deadline);
    if (err < 0)
        return err;
    ex->status = ex->tls ? ex->u.curl.status : ex->u.plain.status;
    ex->content_length = ex->tls ? ex->u.curl.content_length : ex->u.plain.content_length;
    return 0;
}

int s3b_read_body(struct s3b_exchange *ex, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t cap = ex->content_length >= 0 ? (size_t)ex->content_length : 64 * 1024;
    if (cap > S3_RESP_BODY_MAX) {
        s3b_done(ex);
        return -E2BIG;
    }
    char *buf = malloc(cap + 1);
    size_t got = 0;
    int err = 0;
    while (buf) {
        if (got == cap) {
            if (ex->content_length >= 0 || cap >= S3_RESP_BODY_MAX) {
                char extra;
                ssize_t r = s3b_body_read(ex, &extra, 1);
                err = r == 0 ? 0 : (r < 0 ? (int)r : -E2BIG);
                break;
            }
            cap = cap * 2 > S3_RESP_BODY_MAX ? S3_RESP_BODY_MAX : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                break;
            buf = nb;
        }
        ssize_t r = s3b_body_read(ex, buf + got, cap - got);
        if (r <= 0) {
            err = (int)r;
            break;
        }
        got += (size_t)r;
    }
    s3b_done(ex);
    if (!buf)
        return -ENOMEM;
    if (err < 0) {
        free(buf);
        return err;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}

int s3b_fail(struct s3b *b, struct s3b_exchange *ex)
{
    int status = ex->status;
    char *body = NULL;
    size_t len = 0;
    struct s3_resp_error e = {0};
    if (s3b_read_body(ex, &body, &len) == 0 && len)
        s3_resp_parse_error(body, len, &e);
    free(body);
    if (status == 404)
        return -ENOENT;
    if (status == 416)
        return -ERANGE;
    /* The backend refused a body whose claims (hash, MD5, checksum) it checked: the client's fault. */
    if (status == 400 && (strcmp(e.code, "BadDigest") == 0 || strcmp(e.code, "XAmzContentSHA256Mismatch") == 0 ||
                          strcmp(e.code, "InvalidDigest") == 0 || strcmp(e.code, "InvalidRequest") == 0))
        return -EBADMSG;
    log_error("backend %s: HTTP %d %s: %s", b->base.name, status, e.code, e.message);
    if (status == 403)
        return -EACCES;
    return -EIO;
}

int s3b_empty_body_end(struct body_source *src)
{
    char extra;
    ssize_t n = src ? body_source_read(src, &extra, 1) : 0;
    return n < 0 ? (int)n : (n > 0 ? -EMSGSIZE : 0);
}

bool s3b_retryable(int err)
{
    return err == -EIO || err == -ECONNREFUSED || err == -ECONNRESET || err == -ETIMEDOUT || err == -EPIPE ||
           err == -EHOSTUNREACH || err == -ENETUNREACH || err == -EPROTO;
}

int s3b_retry(struct s3b *b, int (*fn)(struct s3b *b, void *arg), void *arg)
{
    int err = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt) {
            /* 50 ms, then 200 ms, each with up to half again of jitter. */
            int64_t base = CORO_MS(attempt == 1 ? 50 : 200);
            if (coro_sleep(base + (int64_t)((uint64_t)coro_now() % (uint64_t)(base / 2))) < 0)
                return -ECANCELED;
        }
        err = fn(b, arg);
        if (!s3b_retryable(err))
            return err;
    }
    return err;
}

static ssize_t s3b_buf_read(struct body_source *src, void *buf, size_t len)
{
    struct s3b_buf_source *s = (struct s3b_buf_source *)src;
    size_t n = len < s->left ? len : s->left;
    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    return (ssize_t)n;
}

void s3b_buf_source_init(struct s3b_buf_source *s, const char *p, size_t len)
{
    *s = (struct s3b_buf_source){.src = {.read = s3b_buf_read, .length = (int64_t)len}, .p = p, .left = len};
}
