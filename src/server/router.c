#include <string.h>

#include "s3/s3_error.h"
#include "server/debug_endpoints.h"
#include "server/router.h"

static bool str_is(struct http_str s, const char *lit) { return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0; }

void router_handle(struct http_conn *c, struct http_request *req, void *ctx)
{
    const struct router *rt = ctx;
    const char *q = memchr(req->target.p, '?', req->target.n);
    struct http_str path = {req->target.p, q ? (size_t)(q - req->target.p) : req->target.n};
    struct http_str query = {q ? q + 1 : "", q ? req->target.n - path.n - 1 : 0};
    bool read_only = req->method == HTTP_GET || req->method == HTTP_HEAD;

    if (read_only && str_is(path, "/health")) {
        http_respond_text(c, 200, "ok");
        return;
    }
    if (read_only && str_is(path, "/health/ready")) {
        if (http_conn_server(c)->draining)
            http_respond_text(c, 503, "draining");
        else
            http_respond_text(c, 200, "ready");
        return;
    }
    if (rt->debug_endpoints && debug_endpoint_handle(c, req, path, query, rt->s3, rt->job_stats))
        return;
    if (!rt->api)
        s3_error_respond(c, S3_ERR_SERVICE_UNAVAILABLE, path.p, path.n);
    else if (rt->s3)
        s3_handle(c, req, rt->s3);
    else
        s3_error_respond(c, S3_ERR_NOT_IMPLEMENTED, path.p, path.n);
}
