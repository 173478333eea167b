#include <string.h>
#include <time.h>

#include "s3/s3_auth.h"
#include "s3/s3_error.h"
#include "s3/s3_handler.h"
#include "s3/s3_object.h"
#include "s3/s3_request.h"

static const struct config_bucket *config_bucket_find(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nbuckets; i++)
        if (strcmp(cfg->buckets[i].name, name) == 0)
            return &cfg->buckets[i];
    return NULL;
}

static void s3_addressing_error(struct http_conn *c, enum s3_request_err err, struct http_str path)
{
    static const enum s3_err map[] = {
        [S3_REQ_INVALID_URI] = S3_ERR_INVALID_URI,
        [S3_REQ_BAD_BUCKET] = S3_ERR_INVALID_BUCKET_NAME,
        [S3_REQ_KEY_TOO_LONG] = S3_ERR_KEY_TOO_LONG,
    };
    s3_error_respond(c, map[err], path.p, path.n);
}

/* Whether the identity may do this to the bucket: a credential belongs to one bucket; read-only ones may read. */
static bool s3_allowed(const struct s3_identity *id, const char *bucket, enum http_method method)
{
    bool reads = method == HTTP_GET || method == HTTP_HEAD;
    if (!*bucket)
        return reads; /* ListBuckets */
    if (strcmp(id->bucket->name, bucket) != 0)
        return false;
    return reads || id->cred->permission == CONFIG_PERM_READ_WRITE;
}

/* Query parameters that name another operation on the object (?tagging, ?uploads, ?partNumber=…). */
static bool has_subresource(struct http_str query)
{
    static const char *const names[] = {"acl", "attributes", "legal-hold", "partNumber", "restore", "retention",
                                        "select", "tagging", "torrent", "uploadId", "uploads", "versionId"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (s3_query_has(query, names[i]))
            return true;
    return false;
}

void s3_handle(struct http_conn *c, struct http_request *req, const struct s3_service *svc)
{
    const struct config *cfg = svc->cfg;
    struct s3_request r;
    enum s3_request_err rerr = s3_request_parse(&r, req, (const char *const *)cfg->server.virtual_host_domains.items,
                                                cfg->server.virtual_host_domains.n);
    if (rerr != S3_REQ_OK) {
        s3_addressing_error(c, rerr, r.path);
        return;
    }

    struct s3_sigv4_auth auth;
    struct s3_identity id;
    uint8_t key[32];
    char seed[65];
    struct s3_auth_result ar = s3_auth_verify(cfg, req, (int64_t)time(NULL), &auth, key, seed, &id);
    if (ar.status) {
        s3_error_send(c, ar.status, ar.code, ar.message, r.path.p, r.path.n);
        return;
    }
    if (*r.bucket && !config_bucket_find(cfg, r.bucket)) {
        s3_error_respond(c, S3_ERR_NO_SUCH_BUCKET, r.path.p, r.path.n);
        return;
    }
    if (!s3_allowed(&id, r.bucket, req->method)) {
        s3_error_respond(c, S3_ERR_ACCESS_DENIED, r.path.p, r.path.n);
        return;
    }
    if (!*r.key || !svc->store || !svc->nbackends || has_subresource(r.query)) {
        /* Bucket- and service-level calls and sub-resources (?tagging, ?uploads…) come with later issues. */
        s3_error_respond(c, S3_ERR_NOT_IMPLEMENTED, r.path.p, r.path.n);
        return;
    }
    struct s3_object_auth oa = {.auth = &auth, .signing_key = key, .seed_sig = seed};
    switch (req->method) {
    case HTTP_PUT:
        s3_object_put(c, req, svc, &r, &oa);
        return;
    case HTTP_GET:
    case HTTP_HEAD:
        s3_object_get(c, req, svc, &r);
        return;
    case HTTP_DELETE:
        s3_object_delete(c, svc, &r);
        return;
    default:
        s3_error_send(c, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                      r.path.p, r.path.n);
    }
}
