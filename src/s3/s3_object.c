/* PutObject, GetObject, HeadObject, DeleteObject on the store and the backends.
 *
 * A PUT writes the body under a backend key of its own ("<bucket>/<key>#<version>"), never over the live
 * version's bytes: a reader holding the old metadata keeps reading the old bytes, and a crash between the backend
 * write and the commit leaves a pending intent, not a half-swapped object. The commit then swaps the metadata and
 * hands back the displaced copy, deleted at once (or later, by the cleanup queue). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "s3/s3_error.h"
#include "s3/s3_object.h"
#include "s3/s3_put_body.h"
#include "store/store.h"
#include "util/log.h"

#define S3_META_MAX 2048

static struct backend *backend_named(const struct s3_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->nbackends; i++)
        if (strcmp(svc->backends[i]->name, name) == 0)
            return svc->backends[i];
    return NULL;
}

static void respond_store_error(struct http_conn *c, int err, const struct s3_request *r)
{
    log_error("store: %s", strerror(-err));
    s3_error_send(c, err == -EBUSY ? 503 : 500, err == -EBUSY ? "SlowDown" : "InternalError",
                  err == -EBUSY ? "Please reduce your request rate." : "We encountered an internal error.",
                  r->path.p, r->path.n);
}

/* A per-thread generator is enough: versions need to be unique, not secret. */
static uint64_t version_next(void)
{
    static _Thread_local uint64_t state;
    if (!state && getrandom(&state, sizeof(state), 0) != sizeof(state))
        state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static char *str_dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static const char *header_dup(const struct http_request *req, const char *name)
{
    const struct http_str *h = http_request_header(req, name);
    return h ? str_dup_n(h->p, h->n) : NULL;
}

/* Content-Encoding without the aws-chunked token, which describes the transfer, not the object (S14). */
static const char *content_encoding_dup(const struct http_request *req)
{
    const struct http_str *h = http_request_header(req, "content-encoding");
    if (!h)
        return NULL;
    char out[512];
    size_t n = 0;
    for (const char *p = h->p, *end = h->p + h->n; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        while (p < stop && *p == ' ')
            p++;
        size_t len = (size_t)(stop - p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len && !(len == 11 && strncasecmp(p, "aws-chunked", 11) == 0) && n + len + 1 < sizeof(out)) {
            if (n)
                out[n++] = ',';
            memcpy(out + n, p, len);
            n += len;
        }
        p = stop + 1;
    }
    return n ? str_dup_n(out, n) : NULL;
}

struct put_meta {
    struct store_meta meta[64];
    size_t n;
    size_t bytes;
};

static bool collect_meta(const struct http_request *req, struct put_meta *m)
{
    m->n = m->bytes = 0;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name.n <= 11 || strncasecmp(h->name.p, "x-amz-meta-", 11) != 0)
            continue;
        m->bytes += h->name.n - 11 + h->value.n;
        if (m->n == sizeof(m->meta) / sizeof(m->meta[0]) || m->bytes > S3_META_MAX)
            return false;
        char *name = str_dup_n(h->name.p + 11, h->name.n - 11);
        for (char *p = name; p && *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        m->meta[m->n++] = (struct store_meta){name, str_dup_n(h->value.p, h->value.n)};
    }
    return true;
}

static void free_meta(struct put_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free((char *)m->meta[i].name);
        free((char *)m->meta[i].value);
    }
}

/* Deletes the copies a commit or a delete displaced, and tells the store which are gone. */
static void delete_displaced(const struct s3_service *svc, struct store_cleanup_list *displaced)
{
    for (size_t i = 0; i < displaced->n; i++) {
        const struct store_cleanup *d = &displaced->v[i];
        struct backend *be = backend_named(svc, d->backend);
        if (be && backend_del(be, d->backend_key) == 0)
            store_cleanup_done(svc->store, d->id);
    }
    store_cleanup_list_free(displaced);
}

/* --- conditional requests ------------------------------------------------------------------------------ */

/* Whether etag (quoted) is in a header's list of entity tags ("*" matches anything). */
static bool etag_listed(const struct http_str *h, const char *etag)
{
    const char *bare = etag[0] == '"' ? etag + 1 : etag;
    size_t bare_n = strlen(bare) - (etag[0] == '"' ? 1 : 0);
    for (const char *p = h->p, *end = h->p + h->n; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        while (p < stop && (*p == ' ' || *p == '\t'))
            p++;
        size_t n = (size_t)(stop - p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n >= 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
            n -= 2;
        }
        if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
            p++;
            n -= 2;
        }
        if ((n == 1 && *p == '*') || (n == bare_n && memcmp(p, bare, n) == 0))
            return true;
        p = stop + 1;
    }
    return false;
}

/* 0 to go on, or the status to answer (304, 412), per RFC 9110 section 13.2.2 as S3 applies it. */
static int check_preconditions(const struct http_request *req, const struct store_object *o)
{
    const struct http_str *im = http_request_header(req, "if-match");
    const struct http_str *ius = http_request_header(req, "if-unmodified-since");
    const struct http_str *inm = http_request_header(req, "if-none-match");
    const struct http_str *ims = http_request_header(req, "if-modified-since");
    int64_t t, modified = o->modified_ms / 1000;
    if (im && !etag_listed(im, o->etag))
        return 412;
    if (!im && ius && s3_sigv4_parse_http_date(ius->p, ius->n, &t) == 0 && modified > t)
        return 412;
    if (inm && etag_listed(inm, o->etag))
        return 304;
    if (!inm && ims && s3_sigv4_parse_http_date(ims->p, ims->n, &t) == 0 && modified <= t)
        return 304;
    return 0;
}

/* --- PUT ------------------------------------------------------------------------------------------------ */

static void put_fail(struct http_conn *c, const struct s3_put_fail *f, const struct s3_request *r)
{
    s3_error_send(c, f->status, f->code, f->message, r->path.p, r->path.n);
}

void s3_object_put(struct http_conn *c, struct http_request *req, const struct s3_service *svc,
                   const struct s3_request *r, const struct s3_object_auth *a)
{
    struct s3_put_body *body = malloc(sizeof(*body));
    struct put_meta *meta = calloc(1, sizeof(*meta));
    struct store_object obj = {0};
    int64_t size = 0, intent = 0;
    char bkey[S3_BUCKET_MAX + S3_KEY_MAX + 32], etag[40];
    if (!body || !meta) {
        s3_error_respond(c, S3_ERR_INTERNAL, r->path.p, r->path.n);
        goto out;
    }
    if (!s3_put_body_init(body, c, req, a->auth, a->signing_key, a->seed_sig, &size)) {
        put_fail(c, &body->fail, r);
        goto out;
    }
    if (size > svc->cfg->server.max_object_size) {
        s3_error_send(c, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.",
                      r->path.p, r->path.n);
        goto out;
    }
    if (!collect_meta(req, meta)) {
        s3_error_send(c, 400, "MetadataTooLarge",
                      "Your metadata headers exceed the maximum allowed metadata size.", r->path.p, r->path.n);
        goto out;
    }

    /* Preconditions are checked before the body is read (so a 100-continue client stops early) and again
     * atomically in the commit. */
    const struct http_str *inm = http_request_header(req, "if-none-match");
    const struct http_str *im = http_request_header(req, "if-match");
    struct store_cond cond = {0};
    char if_match[80] = "";
    if (inm) {
        if (!(inm->n == 1 && inm->p[0] == '*')) {
            s3_error_send(c, 501, "NotImplemented", "If-None-Match on PUT supports only '*'.", r->path.p, r->path.n);
            goto out;
        }
        cond.if_none_match = true;
    }
    if (im) {
        size_t n = im->n;
        const char *p = im->p;
        if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
            p++;
            n -= 2;
        }
        snprintf(if_match, sizeof(if_match), "\"%.*s\"", (int)(n < 70 ? n : 70), p);
        cond.if_match = if_match;
    }
    if (inm || im) {
        struct store_object cur;
        int err = store_object_get(svc->store, r->bucket, r->key, &cur);
        bool exists = err == 0;
        bool ok = (!inm || !exists) && (!im || (exists && strcmp(cur.etag, if_match) == 0));
        if (exists)
            store_object_free(&cur);
        if (err < 0 && err != -ENOENT) {
            respond_store_error(c, err, r);
            goto out;
        }
        if (im && !exists) { /* S3: If-Match on a missing key is NoSuchKey, not a failed precondition */
            s3_error_send(c, 404, "NoSuchKey", "The specified key does not exist.", r->path.p, r->path.n);
            goto out;
        }
        if (!ok) {
            s3_error_send(c, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                          r->path.p, r->path.n);
            goto out;
        }
    }

    /* Routing across backends is its own issue: for now the first backend takes every write. */
    struct backend *be = svc->backends[0];
    snprintf(bkey, sizeof(bkey), "%s/%s#%016" PRIx64, r->bucket, r->key, version_next());
    int err = store_intent_create(svc->store,
                                  &(struct store_intent){.bucket = r->bucket, .key = r->key, .backend = be->name,
                                                         .backend_key = bkey, .size = size},
                                  &intent);
    if (err < 0) {
        respond_store_error(c, err, r);
        goto out;
    }
    err = backend_put(be, bkey, &body->src, size);
    if (err < 0) {
        store_intent_drop(svc->store, intent, NULL, NULL);
        if (body->fail.status)
            put_fail(c, &body->fail, r);
        else if (err == -EPIPE || err == -EMSGSIZE)
            s3_error_send(c, 400, "IncompleteBody",
                          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
                          r->path.p, r->path.n);
        else if (err != -ECANCELED)
            s3_error_respond(c, S3_ERR_INTERNAL, r->path.p, r->path.n);
        goto out;
    }

    snprintf(etag, sizeof(etag), "\"%s\"", body->etag_hex);
    obj = (struct store_object){
        .bucket = r->bucket,
        .key = r->key,
        .size = size,
        .etag = etag,
        .checksum_algorithm = body->ck_b64[0] ? s3_checksum_alg_name(body->ck_alg) : NULL,
        .checksum_value = body->ck_b64[0] ? body->ck_b64 : NULL,
        .checksum_type = body->ck_b64[0] ? "FULL_OBJECT" : NULL,
        .content_type = header_dup(req, "content-type"),
        .content_encoding = content_encoding_dup(req),
        .content_disposition = header_dup(req, "content-disposition"),
        .content_language = header_dup(req, "content-language"),
        .cache_control = header_dup(req, "cache-control"),
        .expires = header_dup(req, "expires"),
        .meta = meta->meta,
        .n_meta = meta->n,
        .tagging = header_dup(req, "x-amz-tagging"),
        .storage_class = header_dup(req, "x-amz-storage-class"),
        .copies = &(struct store_copy){.backend = be->name, .backend_key = bkey, .size = size},
        .n_copies = 1,
    };
    struct store_cleanup_list displaced = {0};
    err = store_object_commit_if(svc->store, intent, &obj, &cond, &displaced);
    if (err < 0) {
        backend_del(be, bkey);
        store_intent_drop(svc->store, intent, NULL, NULL);
        if (err == -ENOENT)
            s3_error_send(c, 404, "NoSuchKey", "The specified key does not exist.", r->path.p, r->path.n);
        else if (err == -EEXIST || err == -ESTALE)
            s3_error_send(c, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                          r->path.p, r->path.n);
        else
            respond_store_error(c, err, r);
        goto out_obj;
    }

    struct http_resp resp;
    http_resp_init(&resp, 200);
    http_resp_header(&resp, "ETag", etag);
    if (body->ck_b64[0]) {
        http_resp_header(&resp, s3_checksum_header_name(body->ck_alg), body->ck_b64);
        http_resp_header(&resp, "x-amz-checksum-type", "FULL_OBJECT");
    }
    http_respond(c, &resp, NULL, 0);
    delete_displaced(svc, &displaced);

out_obj:
    free((char *)obj.content_type);
    free((char *)obj.content_encoding);
    free((char *)obj.content_disposition);
    free((char *)obj.content_language);
    free((char *)obj.cache_control);
    free((char *)obj.expires);
    free((char *)obj.tagging);
    free((char *)obj.storage_class);
out:
    if (meta)
        free_meta(meta);
    free(meta);
    free(body);
}

/* --- GET / HEAD ------------------------------------------------------------------------------------------ */

/* "bytes=a-b", "bytes=a-", "bytes=-n" against size. 1: a range in *off and *len; 0: no usable Range header (serve
 * the whole object, as S3 does for syntax it ignores); -1: unsatisfiable (416). */
static int parse_range(const struct http_str *h, int64_t size, int64_t *off, int64_t *len)
{
    if (!h || h->n < 7 || strncasecmp(h->p, "bytes=", 6) != 0)
        return 0;
    const char *p = h->p + 6, *end = h->p + h->n;
    if (memchr(p, ',', (size_t)(end - p)))
        return 0; /* several ranges: S3 serves the whole object */
    int64_t a = -1, b = -1;
    const char *dash = memchr(p, '-', (size_t)(end - p));
    if (!dash)
        return 0;
    for (const char *q = p; q < dash; q++) {
        if (*q < '0' || *q > '9' || a > INT64_MAX / 10 - 9)
            return 0;
        a = (a < 0 ? 0 : a * 10) + (*q - '0');
    }
    for (const char *q = dash + 1; q < end; q++) {
        if (*q < '0' || *q > '9' || b > INT64_MAX / 10 - 9)
            return 0;
        b = (b < 0 ? 0 : b * 10) + (*q - '0');
    }
    if (a < 0 && b < 0)
        return 0;
    if (a < 0) { /* suffix: the last b bytes; of an empty object S3 serves the whole (empty) object */
        if (size == 0)
            return 0;
        if (b == 0)
            return -1;
        *off = b > size ? 0 : size - b;
        *len = size - *off;
        return 1;
    }
    if (b >= 0 && b < a)
        return 0;
    if (a >= size)
        return -1;
    *off = a;
    *len = (b < 0 || b >= size ? size - 1 : b) - a + 1;
    return 1;
}

static void http_date(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The object's own headers, with response-* query overrides (GetObject) applied. */
static void object_headers(struct http_resp *resp, const struct store_object *o, const struct s3_request *r)
{
    static const struct {
        const char *header, *override;
    } fields[] = {
        {"Content-Type", "response-content-type"},   {"Content-Encoding", "response-content-encoding"},
        {"Content-Disposition", "response-content-disposition"}, {"Content-Language", "response-content-language"},
        {"Cache-Control", "response-cache-control"}, {"Expires", "response-expires"},
    };
    const char *values[] = {o->content_type ? o->content_type : "binary/octet-stream", o->content_encoding,
                            o->content_disposition, o->content_language, o->cache_control, o->expires};
    char override[1024], date[40];
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (s3_query_get(r->query, fields[i].override, override, sizeof(override)) == 0)
            http_resp_header(resp, fields[i].header, override);
        else if (values[i])
            http_resp_header(resp, fields[i].header, values[i]);
    }
    http_date(o->modified_ms, date);
    http_resp_header(resp, "Last-Modified", date);
    http_resp_header(resp, "ETag", o->etag);
    http_resp_header(resp, "Accept-Ranges", "bytes");
    if (o->storage_class && strcmp(o->storage_class, "STANDARD") != 0)
        http_resp_header(resp, "x-amz-storage-class", o->storage_class);
    for (size_t i = 0; i < o->n_meta; i++) {
        char name[300];
        snprintf(name, sizeof(name), "x-amz-meta-%s", o->meta[i].name);
        http_resp_header(resp, name, o->meta[i].value);
    }
}

void s3_object_get(struct http_conn *c, struct http_request *req, const struct s3_service *svc,
                   const struct s3_request *r)
{
    struct store_object o;
    int err = store_object_get(svc->store, r->bucket, r->key, &o);
    if (err == -ENOENT) {
        s3_error_send(c, 404, "NoSuchKey", "The specified key does not exist.", r->path.p, r->path.n);
        return;
    }
    if (err < 0) {
        respond_store_error(c, err, r);
        return;
    }

    struct http_resp resp;
    int pre = check_preconditions(req, &o);
    if (pre == 412) {
        s3_error_send(c, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                      r->path.p, r->path.n);
        goto out;
    }
    if (pre == 304) {
        char date[40];
        http_resp_init(&resp, 304);
        http_resp_header(&resp, "ETag", o.etag);
        http_date(o.modified_ms, date);
        http_resp_header(&resp, "Last-Modified", date);
        http_respond(c, &resp, NULL, 0);
        goto out;
    }

    int64_t off = 0, len = o.size;
    int ranged = parse_range(http_request_header(req, "range"), o.size, &off, &len);
    if (ranged < 0) {
        http_resp_init(&resp, 416);
        http_resp_headerf(&resp, "Content-Range", "bytes */%" PRId64, o.size);
        s3_error_send(c, 416, "InvalidRange", "The requested range is not satisfiable", r->path.p, r->path.n);
        goto out;
    }
    http_resp_init(&resp, ranged ? 206 : 200);
    object_headers(&resp, &o, r);
    if (ranged)
        http_resp_headerf(&resp, "Content-Range", "bytes %" PRId64 "-%" PRId64 "/%" PRId64, off, off + len - 1,
                          o.size);
    const struct http_str *mode = http_request_header(req, "x-amz-checksum-mode");
    if (!ranged && o.checksum_value && mode && http_str_eq_nocase(*mode, "ENABLED")) {
        enum s3_checksum_alg alg = s3_checksum_alg_from_name(o.checksum_algorithm, strlen(o.checksum_algorithm));
        if (alg != S3_CK_NONE) {
            http_resp_header(&resp, s3_checksum_header_name(alg), o.checksum_value);
            http_resp_header(&resp, "x-amz-checksum-type", o.checksum_type ? o.checksum_type : "FULL_OBJECT");
        }
    }
    /* HEAD answers from the store alone (S10): no backend is touched. */
    if (req->method == HTTP_HEAD) {
        http_send_head(c, &resp, len);
        goto out;
    }

    struct backend *be = o.n_copies ? backend_named(svc, o.copies[0].backend) : NULL;
    if (!be) {
        s3_error_send(c, 503, "ServiceUnavailable", "No backend holding this object is available.", r->path.p,
                      r->path.n);
        goto out;
    }
    if (http_send_head(c, &resp, len) < 0)
        goto out;
    struct http_body_sink sink;
    http_body_sink_init(&sink, c);
    err = backend_get(be, o.copies[0].backend_key, off, len, &sink.sink);
    if (err < 0) {
        /* The head is out: the only way left to say "failed" is to cut the connection short. */
        log_error("get %s/%s from %s: %s", r->bucket, r->key, be->name, strerror(-err));
        http_conn_set_close(c);
    }
out:
    store_object_free(&o);
}

void s3_object_delete(struct http_conn *c, const struct s3_service *svc, const struct s3_request *r)
{
    struct store_cleanup_list displaced = {0};
    int err = store_object_delete(svc->store, r->bucket, r->key, &displaced);
    if (err < 0) {
        respond_store_error(c, err, r);
        return;
    }
    struct http_resp resp;
    http_resp_init(&resp, 204);
    http_respond(c, &resp, NULL, 0);
    delete_displaced(svc, &displaced);
}
