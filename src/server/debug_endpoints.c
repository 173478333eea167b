/* Endpoints that exist only with --debug-endpoints, so tests can hold a request in flight (sleep) and push bodies
 * through the HTTP layer before any S3 handler exists (echo). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_error.h"
#include "s3/s3_request.h"
#include "server/debug_endpoints.h"
#include "util/body_stats.h"

#define ECHO_MAX (64 * 1024 * 1024)

static void debug_sleep(struct http_conn *c, struct http_str query)
{
    char value[16], *end;
    long ms = s3_query_get(query, "ms", value, sizeof(value)) == 0 ? strtol(value, &end, 10) : -1;
    if (ms < 0 || ms > 60000 || !value[0] || *end) {
        s3_error_respond(c, S3_ERR_BAD_REQUEST, NULL, 0);
        return;
    }
    if (coro_sleep(CORO_MS(ms)) < 0)
        return;
    http_respond_text(c, 200, "slept");
}

static void debug_echo(struct http_conn *c)
{
    size_t len = 0, cap = 64 * 1024;
    char *body = malloc(cap);
    if (!body) {
        s3_error_respond(c, S3_ERR_INTERNAL, NULL, 0);
        return;
    }
    for (;;) {
        if (len == cap) {
            char *bigger = cap < ECHO_MAX ? realloc(body, cap * 2) : NULL;
            if (!bigger) {
                http_conn_set_close(c);
                s3_error_respond(c, S3_ERR_INTERNAL, NULL, 0);
                goto out;
            }
            body = bigger;
            cap *= 2;
        }
        ssize_t n = http_body_read(c, body + len, cap - len);
        if (n < 0) {
            if (n == -EPROTO)
                s3_error_respond(c, S3_ERR_BAD_REQUEST, NULL, 0);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    struct http_resp r;
    http_resp_init(&r, 200);
    http_resp_header(&r, "Content-Type", "application/octet-stream");
    http_resp_headerf(&r, "x-body-length", "%zu", len);
    http_respond(c, &r, body, len);
out:
    free(body);
}

/* {"body_bytes": {"put_splice": N, …}}: which path object bodies took (util/body_stats.h). */
static void debug_stats(struct http_conn *c)
{
    char json[512];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"body_bytes\": {");
    for (int p = 0; p < BODY_PATH_COUNT; p++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"%s\": %llu", p ? ", " : "", body_stats_name(p),
                              (unsigned long long)body_stats_get(p));
    n += (size_t)snprintf(json + n, sizeof(json) - n, "}}\n");
    struct http_resp r;
    http_resp_init(&r, 200);
    http_resp_header(&r, "Content-Type", "application/json");
    http_respond(c, &r, json, n);
}

bool debug_endpoint_handle(struct http_conn *c, struct http_request *req, struct http_str path,
                           struct http_str query)
{
    if (http_str_eq_nocase(path, "/_debug/sleep") && req->method == HTTP_GET) {
        debug_sleep(c, query);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/stats") && req->method == HTTP_GET) {
        debug_stats(c);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/echo") && (req->method == HTTP_PUT || req->method == HTTP_POST)) {
        debug_echo(c);
        return true;
    }
    return false;
}
