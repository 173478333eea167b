#include <errno.h>
#include <string.h>
#include <time.h>

#include "s3/s3_access.h"
#include "s3/s3_auth.h"
#include "s3/s3_error.h"
#include "s3/s3_handler.h"
#include "s3/s3_ops.h"
#include "s3/s3_request.h"

static void s3_addressing_error(struct http_conn *c, enum s3_request_err err, struct http_str path)
{
    static const enum s3_err map[] = {
        [S3_REQ_INVALID_URI] = S3_ERR_INVALID_URI,
        [S3_REQ_BAD_BUCKET] = S3_ERR_INVALID_BUCKET_NAME,
        [S3_REQ_KEY_TOO_LONG] = S3_ERR_KEY_TOO_LONG,
    };
    s3_error_respond(c, map[err], path.p, path.n);
}

/* How an operation touches its bucket. */
enum s3_route_access {
    ROUTE_NONE,  /* no bucket (ListBuckets) or the handler checks (CreateBucket, DeleteBucket) */
    ROUTE_READ,
    ROUTE_WRITE,
};

struct s3_route {
    s3_op_fn *op; /* NULL: not an operation we serve */
    enum s3_route_access access;
};

/* Sub-resources we do not serve: their presence must not fall through to a plain object or bucket call. */
static bool has_unserved_subresource(struct http_str q, bool bucket_level)
{
    static const char *const object_names[] = {"acl", "attributes", "legal-hold", "restore", "retention",
                                               "select", "torrent", "versions"};
    static const char *const bucket_names[] = {
        "accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering", "inventory",
        "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls", "policy",
        "policyStatus", "publicAccessBlock", "replication", "requestPayment", "tagging", "website"};
    const char *const *names = bucket_level ? bucket_names : object_names;
    size_t n = bucket_level ? sizeof(bucket_names) / sizeof(bucket_names[0])
                            : sizeof(object_names) / sizeof(object_names[0]);
    for (size_t i = 0; i < n; i++)
        if (s3_query_has(q, names[i]))
            return true;
    return false;
}

static struct s3_route route_bucket(const struct http_request *req, struct http_str q)
{
    if (has_unserved_subresource(q, true))
        return (struct s3_route){0};
    switch (req->method) {
    case HTTP_GET:
        if (s3_query_has(q, "location"))
            return (struct s3_route){s3_op_bucket_location, ROUTE_READ};
        if (s3_query_has(q, "versioning"))
            return (struct s3_route){s3_op_bucket_versioning, ROUTE_READ};
        if (s3_query_has(q, "uploads"))
            return (struct s3_route){s3_op_mpu_list_uploads, ROUTE_READ};
        if (s3_query_has(q, "versions"))
            return (struct s3_route){s3_op_list_object_versions, ROUTE_READ};
        return (struct s3_route){s3_op_list_objects, ROUTE_READ};
    case HTTP_HEAD:
        return (struct s3_route){s3_op_head_bucket, ROUTE_READ};
    case HTTP_PUT:
        if (s3_query_has(q, "versioning"))
            return (struct s3_route){0};
        return (struct s3_route){s3_op_create_bucket, ROUTE_NONE};
    case HTTP_DELETE:
        return (struct s3_route){s3_op_delete_bucket, ROUTE_NONE};
    case HTTP_POST:
        if (s3_query_has(q, "delete"))
            return (struct s3_route){s3_op_delete_objects, ROUTE_WRITE};
        return (struct s3_route){0};
    default:
        return (struct s3_route){0};
    }
}

static struct s3_route route_object(const struct http_request *req, struct http_str q)
{
    if (has_unserved_subresource(q, false))
        return (struct s3_route){0};
    bool tagging = s3_query_has(q, "tagging");
    bool upload = s3_query_has(q, "uploadId");
    switch (req->method) {
    case HTTP_GET:
    case HTTP_HEAD:
        if (tagging)
            return (struct s3_route){req->method == HTTP_GET ? s3_op_get_tagging : NULL, ROUTE_READ};
        if (upload)
            return (struct s3_route){req->method == HTTP_GET ? s3_op_mpu_list_parts : NULL, ROUTE_READ};
        return (struct s3_route){s3_op_get_object, ROUTE_READ};
    case HTTP_PUT: {
        bool copy = http_request_header(req, "x-amz-copy-source") != NULL;
        if (tagging)
            return (struct s3_route){s3_op_put_tagging, ROUTE_WRITE};
        if (upload || s3_query_has(q, "partNumber"))
            return (struct s3_route){copy ? s3_op_mpu_upload_part_copy : s3_op_mpu_upload_part, ROUTE_WRITE};
        return (struct s3_route){copy ? s3_op_copy_object : s3_op_put_object, ROUTE_WRITE};
    }
    case HTTP_DELETE:
        if (tagging)
            return (struct s3_route){s3_op_delete_tagging, ROUTE_WRITE};
        if (upload)
            return (struct s3_route){s3_op_mpu_abort, ROUTE_WRITE};
        return (struct s3_route){s3_op_delete_object, ROUTE_WRITE};
    case HTTP_POST:
        if (s3_query_has(q, "uploads"))
            return (struct s3_route){s3_op_mpu_create, ROUTE_WRITE};
        if (upload)
            return (struct s3_route){s3_op_mpu_complete, ROUTE_WRITE};
        return (struct s3_route){0};
    default:
        return (struct s3_route){0};
    }
}

static struct s3_route route(const struct http_request *req, const struct s3_request *r)
{
    if (!*r->bucket)
        return (struct s3_route){req->method == HTTP_GET ? s3_op_list_buckets : NULL, ROUTE_NONE};
    if (!*r->key)
        return route_bucket(req, r->query);
    return route_object(req, r->query);
}

static void handle_admitted(struct http_conn *c, struct http_request *req, const struct s3_service *svc,
                            const struct s3_request *r)
{
    const struct config *cfg = svc->cfg;

    struct s3_sigv4_auth auth;
    struct s3_identity id;
    uint8_t key[32];
    char seed[65];
    struct s3_auth_result ar = s3_auth_verify(cfg, req, (int64_t)time(NULL), &auth, key, seed, &id);
    if (ar.status) {
        s3_error_send(c, ar.status, ar.code, ar.message, r->path.p, r->path.n);
        return;
    }
    struct s3_object_auth oa = {.auth = &auth, .signing_key = key, .seed_sig = seed};
    struct s3_call k = {.c = c, .req = req, .svc = svc, .r = r, .id = &id, .oa = &oa};

    struct s3_route rt = route(req, r);
    if (rt.access != ROUTE_NONE) {
        int err = s3_bucket_access(svc, &id, r->bucket, rt.access == ROUTE_WRITE);
        if (err < 0) {
            s3_access_fail(&k, err);
            return;
        }
    }
    if (!rt.op) {
        bool known = req->method == HTTP_GET || req->method == HTTP_PUT || req->method == HTTP_DELETE ||
                     req->method == HTTP_POST || req->method == HTTP_HEAD;
        if (known)
            s3_error_respond(c, S3_ERR_NOT_IMPLEMENTED, r->path.p, r->path.n);
        else
            s3_fail(&k, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
        return;
    }
    if (!svc->store || !svc->nbackends) {
        s3_error_respond(c, S3_ERR_SERVICE_UNAVAILABLE, r->path.p, r->path.n);
        return;
    }
    rt.op(&k);
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
    /* Admitted before the signature is checked: a flood is turned away at the least cost. */
    struct sockaddr_storage peer = {0};
    if (s3_admission_wants_peer(svc->admission))
        http_conn_peer(c, &peer);
    bool write = req->method == HTTP_PUT || req->method == HTTP_POST || req->method == HTTP_DELETE;
    struct s3_ticket ticket;
    int err = s3_admit(svc->admission, &peer, req, write, &ticket);
    if (err == -EDQUOT) {
        s3_error_send(c, 429, "SlowDown", "Please reduce your request rate.", r.path.p, r.path.n);
        return;
    }
    if (err < 0) {
        s3_error_send(c, 503, "SlowDown", "Please reduce your request rate.", r.path.p, r.path.n);
        return;
    }
    handle_admitted(c, req, svc, &r);
    s3_ticket_release(&ticket);
}
