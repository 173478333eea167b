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

#include "s3/s3_degraded.h"
#include "s3/s3_error.h"
#include "s3/s3_location_cache.h"
#include "util/body_record.h"
#include "s3/s3_object.h"
#include "s3/s3_object_meta.h"
#include "s3/s3_put_body.h"
#include "store/store.h"
#include "util/crash_point.h"
#include "util/log.h"

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

/* 0 to go on, or the status to answer (304, 412), per RFC 9110 section 13.2.2 as S3 applies it. The headers are
 * If-Match and its siblings, or with prefix "x-amz-copy-source-" CopyObject's (where 304 becomes 412). */
int s3_preconditions_check(const struct http_request *req, const struct store_object *o, const char *prefix)
{
    char name[64];
    snprintf(name, sizeof(name), "%sif-match", prefix);
    const struct http_str *im = http_request_header(req, name);
    snprintf(name, sizeof(name), "%sif-unmodified-since", prefix);
    const struct http_str *ius = http_request_header(req, name);
    snprintf(name, sizeof(name), "%sif-none-match", prefix);
    const struct http_str *inm = http_request_header(req, name);
    snprintf(name, sizeof(name), "%sif-modified-since", prefix);
    const struct http_str *ims = http_request_header(req, name);
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

static void put_fail(const struct s3_call *k, const struct s3_put_fail *f)
{
    s3_fail(k, f->status, f->code, f->message);
}

static void precondition_failed(const struct s3_call *k)
{
    s3_fail(k, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
}

/* If-None-Match: * and If-Match on PUT (beyond): checked before the body is read, so a 100-continue client stops
 * early, and again atomically in the commit. Returns false after answering. */
static bool put_preconditions(const struct s3_call *k, struct store_cond *cond, char if_match[80])
{
    const struct http_str *inm = http_request_header(k->req, "if-none-match");
    const struct http_str *im = http_request_header(k->req, "if-match");
    if (inm) {
        if (!(inm->n == 1 && inm->p[0] == '*')) {
            s3_fail(k, 501, "NotImplemented", "If-None-Match on PUT supports only '*'.");
            return false;
        }
        cond->if_none_match = true;
    }
    if (im) {
        size_t n = im->n;
        const char *p = im->p;
        if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
            p++;
            n -= 2;
        }
        snprintf(if_match, 80, "\"%.*s\"", (int)(n < 70 ? n : 70), p);
        cond->if_match = if_match;
    }
    if (!inm && !im)
        return true;
    struct store_object cur;
    int err = store_object_get(k->svc->store, k->r->bucket, k->r->key, &cur);
    bool exists = err == 0;
    bool ok = (!inm || !exists) && (!im || (exists && strcmp(cur.etag, if_match) == 0));
    if (exists)
        store_object_free(&cur);
    if (err < 0 && err != -ENOENT) {
        s3_respond_store_error(k, err);
        return false;
    }
    if (im && !exists) { /* S3: If-Match on a missing key is NoSuchKey, not a failed precondition */
        s3_fail(k, 404, "NoSuchKey", "The specified key does not exist.");
        return false;
    }
    if (!ok)
        precondition_failed(k);
    return ok;
}

/* The claims a body carries (payload hash, Content-MD5, one x-amz-checksum-* or an unsigned aws-chunked trailer),
 * for a backend that checks them itself, and the source that passes the body on unread. false when s3orch must
 * decode and check the body: chunk signatures, an unknown length. */
struct forward {
    struct backend_put_claims claims;
    struct http_body_source plain;
    struct s3_put_forward framed;
    struct body_source *src;
    int64_t size; /* bytes the backend receives */
    char sha256[65];
    char md5[32];
    char ck_name[32];
    char ck_value[S3_CHECKSUM_MAX_BASE64];
    enum s3_checksum_alg ck_alg;
};

static bool forward_claims(const struct s3_call *k, struct s3_put_body *body, int64_t size, struct forward *f)
{
    *f = (struct forward){.ck_alg = S3_CK_NONE, .src = &f->plain.src, .size = size};
    if (http_body_length(k->c) <= 0)
        return false;
    if (body->aws_chunked) {
        if (!s3_put_forward_init(&f->framed, body, k->svc->cfg->server.idle_timeout))
            return false;
        f->src = &f->framed.src;
        f->size = http_body_length(k->c);
        snprintf(f->ck_name, sizeof(f->ck_name), "%s", s3_checksum_header_name(body->ck_alg));
        f->claims.aws_chunked_trailer = f->ck_name;
        f->claims.decoded_length = size;
        f->ck_alg = body->ck_alg;
    } else {
        http_body_source_init(&f->plain, k->c);
    }
    const struct s3_sigv4_auth *a = k->oa->auth;
    if (a->payload == S3_SIGV4_PAYLOAD_HASH) {
        if (a->payload_hash.n != 64)
            return false;
        memcpy(f->sha256, a->payload_hash.p, 64);
        f->sha256[64] = 0;
        f->claims.content_sha256 = f->sha256;
    }
    const struct http_str *md5 = http_request_header(k->req, "content-md5");
    if (md5) {
        if (md5->n >= sizeof(f->md5))
            return false;
        memcpy(f->md5, md5->p, md5->n);
        f->md5[md5->n] = 0;
        f->claims.content_md5 = f->md5;
    }
    if (body->ck_expected_set) {
        f->ck_alg = body->ck_alg;
        snprintf(f->ck_name, sizeof(f->ck_name), "%s", s3_checksum_header_name(body->ck_alg));
        s3_checksum_to_base64(body->ck_expected, s3_checksum_size(body->ck_alg), f->ck_value, sizeof(f->ck_value));
        f->claims.checksum_header = f->ck_name;
        f->claims.checksum_value = f->ck_value;
    }
    return true;
}

int s3_object_commit(const struct s3_call *k, int64_t intent, const struct store_object *obj,
                     const struct store_cond *cond, struct store_cleanup_list *displaced)
{
    s3_location_forget(obj->bucket, obj->key);
    int err = store_object_commit_if(k->svc->store, intent, obj, cond, displaced);
    if (err == -ENOENT)
        s3_fail(k, 404, "NoSuchKey", "The specified key does not exist.");
    else if (err == -EEXIST || err == -ESTALE)
        precondition_failed(k);
    else if (err < 0)
        s3_respond_store_error(k, err);
    return err;
}

bool s3_put_commit(const struct s3_call *k, const struct s3_object_meta *meta, const struct store_cond *cond,
                   const struct s3_put_result *res)
{
    bool ck = res->ck_b64[0] != 0;
    struct store_object obj = {
        .bucket = k->r->bucket,
        .key = k->r->key,
        .size = res->size,
        .etag = res->etag,
        .checksum_algorithm = ck ? s3_checksum_alg_name(res->ck_alg) : NULL,
        .checksum_value = ck ? res->ck_b64 : NULL,
        .checksum_type = ck ? "FULL_OBJECT" : NULL,
        .copies = res->copies,
        .n_copies = res->n_copies,
    };
    s3_object_meta_apply(meta, &obj);
    struct store_cleanup_list displaced = {0};
    crash_point(CRASH_PUT_BEFORE_COMMIT);
    if (s3_object_commit(k, res->intent, &obj, cond, &displaced) < 0)
        return false;
    struct http_resp resp;
    http_resp_init(&resp, 200);
    http_resp_header(&resp, "ETag", res->etag);
    if (ck) {
        http_resp_header(&resp, s3_checksum_header_name(res->ck_alg), res->ck_b64);
        http_resp_header(&resp, "x-amz-checksum-type", "FULL_OBJECT");
    }
    http_respond(k->c, &resp, NULL, 0);
    s3_delete_displaced(k->svc, &displaced);
    return true;
}

/* One attempt to store the body on be. Zero-copy when the backend checks what the client claimed of the body: the
 * bytes go through unread (*forwarded, with the backend's ETag in fwd_etag); else s3orch reads and checks them. */
static int put_to_backend(const struct s3_call *k, struct s3_put_body *body, int64_t size, struct backend *be,
                          const char *bkey, struct forward *fwd, char fwd_etag[BACKEND_ETAG_MAX], bool *forwarded)
{
    int err = -ENOTSUP;
    if (backend_verifies(be) && forward_claims(k, body, size, fwd))
        err = backend_put_verified(be, bkey, fwd->src, fwd->size, &fwd->claims, fwd_etag);
    *forwarded = err != -ENOTSUP;
    if (!*forwarded)
        err = backend_put(be, bkey, &body->src, size);
    if (*forwarded && body->aws_chunked && !body->finished && !body->fail.status) {
        /* Content-Length ended before the framing did: whatever the backend made of it, the body is incomplete. */
        if (err == 0)
            backend_del(be, bkey);
        body->fail = (struct s3_put_fail){400, "IncompleteBody", "The request body ended before the aws-chunked "
                                                                 "framing did."};
        err = -EBADMSG;
    }
    return err;
}

/* Whether a backend's failure is the backend's (not an answer about the body): another may do better. */
static bool put_may_fail_over_kept(int err)
{
    switch (err) {
    case -EIO:
    case -EPROTO:
    case -EACCES:
    case -ENOSPC:
    case -EHOSTDOWN:
    case -ETIMEDOUT:
    case -ECONNREFUSED:
    case -ECONNRESET:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
        return true;
    default:
        return false;
    }
}

/* Whether a failed attempt may go to another backend: the backend failed (not the client's body), and no byte of
 * the body has moved yet, so it can still go anywhere. */
static bool put_may_fail_over(const struct s3_call *k, const struct s3_put_body *body, int err)
{
    return !body->fail.status && http_body_taken(k->c) == 0 && put_may_fail_over_kept(err);
}

void s3_put_respond_error(const struct s3_call *k, const struct s3_put_body *body, int err)
{
    if (body->fail.status)
        put_fail(k, &body->fail);
    else if (err == -EBADMSG)
        s3_fail(k, 400, "BadDigest", "The Content-MD5 or checksum you specified did not match what was received.");
    else if (err == -EPIPE || err == -EMSGSIZE)
        s3_fail(k, 400, "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header.");
    else
        s3_respond_backend_error(k, err);
}

void s3_op_put_object(const struct s3_call *k)
{
    struct s3_put_body *body = malloc(sizeof(*body));
    struct s3_object_meta meta = {0};
    struct s3_meta_error merr;
    int64_t size = 0, intent = 0;
    char bkey[S3_BKEY_MAX], etag[40], if_match[80] = "";
    struct store_cond cond = {0};
    struct placement_slot slot = {0};
    struct body_record rec = {0};
    struct body_replay replay;
    bool replaying = false;
    if (!body) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    if (!s3_put_body_init(body, k->c, k->req, k->oa->auth, k->oa->signing_key, k->oa->seed_sig, 0, &size)) {
        put_fail(k, &body->fail);
        goto out;
    }
    if (size > k->svc->cfg->server.max_object_size) {
        s3_fail(k, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
        goto out;
    }
    if (!s3_object_meta_from_headers(&meta, k->req, &merr)) {
        s3_fail(k, merr.status, merr.code, merr.message);
        goto out;
    }
    if (!put_preconditions(k, &cond, if_match))
        goto out;
    if (k->svc->cfg->replication.mode == CONFIG_REPL_SYNC && k->svc->cfg->replication.factor > 1) {
        s3_put_replicated(k, body, size, &meta, &cond);
        goto out;
    }

    /* The backend is chosen, and its space reserved, before a byte of the body is read. A backend that fails before
     * the body started moving is left for the next one with room (write failover); so is one that fails part-way
     * through a body small enough to keep (write_failover.buffer_limit), which is then sent again from memory. A
     * kept body is read by s3orch, not spliced: with one backend there is nowhere to fail over to, so none is kept. */
    struct backend *be = NULL;
    char fwd_etag[BACKEND_ETAG_MAX], ck_b64[S3_CHECKSUM_MAX_BASE64] = "";
    struct forward fwd;
    bool forwarded = false;
    int err = 0;
    bool keep = size > 0 && size <= k->svc->cfg->write_failover.buffer_limit && k->svc->nbackends > 1 &&
                body_record_init(&rec, &body->src, (size_t)size) == 0;
    for (uint64_t tried = 0;;) {
        int room = placement_reserve(k->svc->placement, size, tried, &slot);
        if (room < 0) {
            if (tried)
                s3_respond_backend_error(k, err);
            else
                s3_respond_no_room(k, room);
            goto out;
        }
        be = slot.backend;
        s3_backend_key_new(bkey, k->r->bucket, k->r->key);
        err = store_intent_create(k->svc->store,
                                  &(struct store_intent){.bucket = k->r->bucket, .key = k->r->key,
                                                         .backend = be->name, .backend_key = bkey, .size = size},
                                  &intent);
        if (err < 0) {
            s3_respond_store_error(k, err);
            goto out;
        }
        if (replaying)
            err = backend_put(be, bkey, &replay.src, size);
        else if (keep)
            err = backend_put(be, bkey, &rec.src, size);
        else
            err = put_to_backend(k, body, size, be, bkey, &fwd, fwd_etag, &forwarded);
        if (err == 0)
            break;
        store_intent_drop(k->svc->store, intent, NULL, NULL);
        if (keep && !replaying && !body->fail.status && put_may_fail_over_kept(err) &&
            body_record_finish(&rec) == 0) {
            body_replay_init(&replay, &rec); /* the whole body is here, read and checked: send it again */
            replaying = true;
        } else if (!replaying && !put_may_fail_over(k, body, err)) {
            s3_put_respond_error(k, body, err);
            goto out;
        } else if (replaying && !put_may_fail_over_kept(err)) {
            s3_put_respond_error(k, body, err);
            goto out;
        }
        if (replaying)
            body_replay_init(&replay, &rec);
        log_warn("PUT %s/%s: backend %s failed (%s): trying another", k->r->bucket, k->r->key, be->name,
                 strerror(-err));
        tried |= 1ull << slot.index;
        placement_release(k->svc->placement, &slot);
    }

    if (forwarded) {
        const char *e = fwd_etag[0] == '"' ? fwd_etag + 1 : fwd_etag;
        snprintf(etag, sizeof(etag), "\"%.*s\"", (int)strcspn(e, "\""), e);
        if (fwd.ck_alg != S3_CK_NONE)
            s3_checksum_to_base64(body->ck_expected, s3_checksum_size(fwd.ck_alg), ck_b64, sizeof(ck_b64));
    } else {
        snprintf(etag, sizeof(etag), "\"%s\"", body->etag_hex);
        snprintf(ck_b64, sizeof(ck_b64), "%s", body->ck_b64);
    }
    struct s3_put_result res = {
        .size = size,
        .etag = etag,
        .ck_b64 = ck_b64,
        .ck_alg = ck_b64[0] ? body->ck_alg : S3_CK_NONE,
        .copies = &(struct store_copy){.backend = be->name, .backend_key = bkey, .size = size},
        .n_copies = 1,
        .intent = intent,
    };
    if (!s3_put_commit(k, &meta, &cond, &res)) {
        backend_del(be, bkey);
        store_intent_drop(k->svc->store, intent, NULL, NULL);
        goto out;
    }
    placement_commit(k->svc->placement, &slot, size);
out:
    placement_release(k->svc->placement, &slot);
    body_record_free(&rec);
    s3_object_meta_free(&meta);
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

/* ?partNumber=N (S6): the bytes of part N of an object completed from a multipart upload; an object written
 * whole is its own part 1. 1 with *off and *len set; 0 without partNumber; -1 after answering an error. */
static int part_range(const struct s3_call *k, const struct store_object *o, int64_t *off, int64_t *len)
{
    char v[16], *end;
    if (s3_query_get(k->r->query, "partNumber", v, sizeof(v)) == -ENOENT)
        return 0;
    long n = strtol(v, &end, 10);
    if (!v[0] || *end || n < 1 || n > STORE_PART_NUMBER_MAX) {
        s3_fail(k, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
        return -1;
    }
    if (http_request_header(k->req, "range")) {
        s3_fail(k, 400, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
        return -1;
    }
    size_t parts = o->n_parts ? o->n_parts : 1;
    if ((size_t)n > parts) {
        s3_fail(k, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable");
        return -1;
    }
    if (!o->n_parts) {
        *off = 0;
        *len = o->size;
        return o->size ? 1 : 0; /* an empty object has no byte range to name */
    }
    *off = 0;
    for (long i = 0; i < n - 1; i++)
        *off += o->part_sizes[i];
    *len = o->part_sizes[n - 1];
    if (*len == 0) /* no range names zero bytes: answer the part as an empty 200 */
        return 0;
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
    int tags = s3_tagging_count(o->tagging);
    if (tags)
        http_resp_headerf(resp, "x-amz-tagging-count", "%d", tags);
}

/* The client's sink for a GET body, whose response head goes out only when the backend is about to deliver the
 * first byte: until then a backend failure can still be answered with an S3 error. */
struct deferred_head_sink {
    struct http_body_sink body; /* first: once started, it is the client's own sink */
    struct http_resp *resp;
    int64_t len;
    bool started;
};

static int deferred_start(struct body_sink *s)
{
    struct deferred_head_sink *d = (struct deferred_head_sink *)s;
    if (d->started)
        return 0;
    d->started = true;
    int err = http_send_head(d->body.conn, d->resp, d->len);
    if (err < 0)
        return err;
    /* From here the client's own sink does the work: splice straight into its socket. */
    http_body_sink_init(&d->body, d->body.conn);
    return 0;
}

/* Reached only before the start (which swaps in the client's own sink): the mover holds the whole body and skipped
 * the start, so the head goes out with the body in one send. */
static ssize_t deferred_write(struct body_sink *s, const void *buf, size_t len)
{
    struct deferred_head_sink *d = (struct deferred_head_sink *)s;
    d->started = true;
    return http_body_sink_start_with(&d->body, d->resp, d->len, buf, len);
}

/* Our buckets are unversioned: each object's one version is "null" (S8), and no other exists. */
static bool version_id_ok(const struct s3_call *k)
{
    char v[64];
    int err = s3_query_get(k->r->query, "versionId", v, sizeof(v));
    if (err == -ENOENT || (err == 0 && strcmp(v, "null") == 0))
        return true;
    s3_fail(k, 400, "InvalidArgument", "Invalid version id specified");
    return false;
}

/* One lookup and one read. true (nothing answered) when the backend no longer had the copy the store named and
 * may_retry: a writer replaced or deleted the object between the lookup and the read, so a new lookup finds the
 * version to serve (or that there is none). */
static bool object_get_once(const struct s3_call *k, bool may_retry)
{
    struct http_conn *c = k->c;
    const struct s3_request *r = k->r;
    bool retry = false;
    struct store_object o;
    int err = store_object_get(k->svc->store, r->bucket, r->key, &o);
    if (err == 0) {
        s3_location_remember(&o, k->svc->cfg->circuit_breaker.cache_ttl);
    } else if (store_err_unavailable(err)) {
        err = s3_degraded_locate(k->svc, r->bucket, r->key, &o); /* degraded mode (O7) */
        may_retry = false;
    }
    if (err < 0) {
        s3_respond_object_error(k, err);
        return false;
    }

    struct http_resp resp;
    int pre = s3_preconditions_check(k->req, &o, "");
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
    int part = part_range(k, &o, &off, &len);
    if (part < 0)
        goto out;
    int ranged = part ? 1 : parse_range(http_request_header(k->req, "range"), o.size, &off, &len);
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
    if (part && o.n_parts)
        http_resp_headerf(&resp, "x-amz-mp-parts-count", "%zu", o.n_parts);
    const struct http_str *mode = http_request_header(k->req, "x-amz-checksum-mode");
    if (!ranged && o.checksum_value && mode && http_str_eq_nocase(*mode, "ENABLED")) {
        enum s3_checksum_alg alg = s3_checksum_alg_from_name(o.checksum_algorithm, strlen(o.checksum_algorithm));
        if (alg != S3_CK_NONE) {
            http_resp_header(&resp, s3_checksum_header_name(alg), o.checksum_value);
            http_resp_header(&resp, "x-amz-checksum-type", o.checksum_type ? o.checksum_type : "FULL_OBJECT");
        }
    }
    /* HEAD answers from the store alone (S10): no backend is touched. */
    if (k->req->method == HTTP_HEAD) {
        http_send_head(c, &resp, len);
        goto out;
    }

    struct deferred_head_sink sink = {
        .body = {.sink = {.write = deferred_write, .splice_fd = -1, .start = deferred_start}, .conn = c},
        .resp = &resp,
        .len = len,
    };
    /* Copies in preference order; a copy that fails before the first byte went out leaves the read to the next. */
    const struct store_copy *order[STORE_COPIES_MAX];
    size_t over, missing = 0;
    size_t n = s3_copies_in_order(k->svc, &o, len, order, &over);
    if (n == 0 && over) {
        s3_respond_over_limits(k);
        goto out;
    }
    err = -EIO;
    for (size_t i = 0; i < n && !sink.started; i++) {
        struct backend *be = s3_backend_named(k->svc, order[i]->backend);
        err = be ? backend_get(be, order[i]->backend_key, off, len, &sink.body.sink) : -EIO;
        if (err == 0 && !sink.started)
            err = deferred_start(&sink.body.sink); /* an empty body: nothing made the backend start the sink */
        if (err < 0)
            log_error("get %s/%s from %s: %s", r->bucket, r->key, order[i]->backend, strerror(-err));
        if (err == 0)
            break;
        missing += err == -ENOENT;
    }
    if (err < 0 && !sink.started && missing == n && may_retry) {
        retry = true;
    } else if (err < 0 && !sink.started) {
        s3_respond_backend_error(k, err == -ENOENT || err == -ERANGE || n == 0 ? -EIO : err);
    } else if (err < 0) {
        /* The head is out: the only way left to say "failed" is to cut the connection short. */
        http_conn_set_close(c);
    }
out:
    store_object_free(&o);
    return retry;
}

/* GET and HEAD (HEAD answers from the store alone, S10). */
void s3_op_get_object(const struct s3_call *k)
{
    if (!version_id_ok(k))
        return;
    for (int attempt = 0; attempt < 3 && object_get_once(k, attempt < 2); attempt++)
        ;
}

void s3_op_delete_object(const struct s3_call *k)
{
    if (!version_id_ok(k))
        return;
    struct store_cleanup_list displaced = {0};
    s3_location_forget(k->r->bucket, k->r->key);
    int err = store_object_delete(k->svc->store, k->r->bucket, k->r->key, &displaced);
    if (err < 0) {
        s3_respond_store_error(k, err);
        return;
    }
    s3_respond_empty(k, 204);
    s3_delete_displaced(k->svc, &displaced);
}
