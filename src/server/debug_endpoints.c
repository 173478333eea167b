/* Endpoints that exist only with --debug-endpoints, so tests can hold a request in flight (sleep), push bodies
 * through the HTTP layer before any S3 handler exists (echo), see which path bodies took (stats) and read a
 * backend's own listing (backend-list). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "s3/s3_error.h"
#include "s3/s3_request.h"
#include "s3/s3_service.h"
#include "server/debug_endpoints.h"
#include "util/body_stats.h"
#include "util/crash_point.h"
#include "worker/job.h"

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

/* POST /_debug/store-fault?down=1|0: makes every store call fail as if the database were unreachable (degraded
 * mode tests on SQLite, which cannot be stopped apart from s3orch). */
static void debug_store_fault(struct http_conn *c, struct http_str query, const struct s3_service *svc)
{
    char value[4];
    if (!svc || !svc->store || s3_query_get(query, "down", value, sizeof(value)) < 0 ||
        (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)) {
        s3_error_respond(c, S3_ERR_BAD_REQUEST, NULL, 0);
        return;
    }
    store_fault_set(svc->store, value[0] == '1');
    http_respond_text(c, 200, value[0] == '1' ? "store down\n" : "store up\n");
}

/* POST /_debug/backend-state?backend=NAME&state=draining|active: what the admin API will do (W4): records the
 * state in the store (other instances follow within a usage_flush interval) and applies it here at once. */
static void debug_backend_state(struct http_conn *c, struct http_str query, const struct s3_service *svc)
{
    char name[64], state[16];
    if (!svc || !svc->store || s3_query_get(query, "backend", name, sizeof(name)) < 0 ||
        s3_query_get(query, "state", state, sizeof(state)) < 0 ||
        (strcmp(state, "draining") != 0 && strcmp(state, "active") != 0)) {
        s3_error_respond(c, S3_ERR_BAD_REQUEST, NULL, 0);
        return;
    }
    if (!s3_backend_named(svc, name)) {
        http_respond_text(c, 404, "no such backend\n");
        return;
    }
    bool draining = strcmp(state, "draining") == 0;
    int err = store_backend_state_set(svc->store, name, draining ? STORE_BACKEND_DRAINING : STORE_BACKEND_ACTIVE);
    if (err < 0) {
        http_respond_text(c, 503, "the store did not take it\n");
        return;
    }
    placement_set_draining(svc->placement, name, draining);
    http_respond_text(c, 200, draining ? "draining\n" : "active\n");
}

/* POST /_debug/crash?at=NAME: arms a crash point (util/crash_point.h); at=none disarms. */
static void debug_crash(struct http_conn *c, struct http_str query)
{
    char at[32];
    enum crash_point p = CRASH_NONE;
    if (s3_query_get(query, "at", at, sizeof(at)) < 0 ||
        ((p = crash_point_named(at)) == CRASH_NONE && strcmp(at, "none") != 0)) {
        s3_error_respond(c, S3_ERR_BAD_REQUEST, NULL, 0);
        return;
    }
    crash_point_arm(p);
    http_respond_text(c, 200, "armed\n");
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

/* {"body_bytes": {"put_splice": N, …}, "backends": {"NAME": {"used_bytes": N, "api_calls": N, …}, …},
 * "store": {"requests": N, "transactions": N, "max_batch": N}, "jobs": {"cleaner": {"holder": B, "passes": N, …},
 * …}}: which path object bodies took (util/body_stats.h), what the router counts on each backend (held plus
 * reserved), its use this month, how the store batched its calls, and what the background jobs did. */
static void debug_stats(struct http_conn *c, const struct s3_service *svc, const struct job_stats *jobs)
{
    char json[8192];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"body_bytes\": {");
    for (int p = 0; p < BODY_PATH_COUNT; p++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"%s\": %llu", p ? ", " : "", body_stats_name(p),
                              (unsigned long long)body_stats_get(p));
    n += (size_t)snprintf(json + n, sizeof(json) - n, "}, \"backends\": {");
    for (size_t i = 0; svc && svc->placement && i < svc->nbackends && n < sizeof(json); i++) {
        struct store_usage u = usage_get(svc->usage, i);
        n += (size_t)snprintf(json + n, sizeof(json) - n,
                              "%s\"%s\": {\"used_bytes\": %lld, \"api_calls\": %lld, \"egress_bytes\": %lld, "
                              "\"ingress_bytes\": %lld}",
                              i ? ", " : "", svc->backends[i]->name,
                              (long long)placement_used(svc->placement, svc->backends[i]->name),
                              (long long)u.api_calls, (long long)u.egress_bytes, (long long)u.ingress_bytes);
    }
    if (n < sizeof(json) && svc && svc->store) {
        struct store_stats st;
        store_stats_get(svc->store, &st);
        n += (size_t)snprintf(json + n, sizeof(json) - n,
                              "}, \"store\": {\"requests\": %llu, \"transactions\": %llu, \"max_batch\": %llu",
                              (unsigned long long)st.requests, (unsigned long long)st.transactions,
                              (unsigned long long)st.max_batch);
    }
    if (n < sizeof(json))
        n += (size_t)snprintf(json + n, sizeof(json) - n, "}, \"jobs\": {");
    for (int j = 0; jobs && j < STORE_JOB_COUNT && n < sizeof(json); j++)
        n += (size_t)snprintf(json + n, sizeof(json) - n,
                              "%s\"%s\": {\"holder\": %s, \"passes\": %llu, \"skipped\": %llu, \"done\": %llu, "
                              "\"failed\": %llu, \"parked\": %llu}",
                              j ? ", " : "", store_job_name(j), atomic_load(&jobs[j].holder) ? "true" : "false",
                              (unsigned long long)atomic_load(&jobs[j].passes),
                              (unsigned long long)atomic_load(&jobs[j].skipped),
                              (unsigned long long)atomic_load(&jobs[j].done),
                              (unsigned long long)atomic_load(&jobs[j].failed),
                              (unsigned long long)atomic_load(&jobs[j].parked));
    if (n < sizeof(json))
        n += (size_t)snprintf(json + n, sizeof(json) - n, "}}\n");
    if (n >= sizeof(json)) {
        http_respond_text(c, 500, "stats too long\n");
        return;
    }
    struct http_resp r;
    http_resp_init(&r, 200);
    http_resp_header(&r, "Content-Type", "application/json");
    http_respond(c, &r, json, n);
}

/* A growing JSON text; a failed allocation is remembered and reported once at the end. */
struct json_buf {
    char *p;
    size_t n, cap;
    bool failed;
};

static void json_put(struct json_buf *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (j->n + n > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (cap < j->n + n)
            cap *= 2;
        char *p = realloc(j->p, cap);
        if (!p) {
            j->failed = true;
            return;
        }
        j->p = p;
        j->cap = cap;
    }
    memcpy(j->p + j->n, s, n);
    j->n += n;
}

static void json_puts(struct json_buf *j, const char *s) { json_put(j, s, strlen(s)); }

static void json_putf(struct json_buf *j, const char *fmt, long long v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), fmt, v);
    json_put(j, num, (size_t)n);
}

/* Bytes of the well-formed UTF-8 sequence at s (of n bytes), 0 when there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    unsigned cp = len == 2 ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)
                  : len == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)
                             : (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
    bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    return overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ? 0 : len;
}

/* A JSON string of s. UTF-8 goes through as is; a byte that is not part of any (keys should never hold one) comes
 * out as \u00XX, the one lossy spot of this debug view. */
static void json_string(struct json_buf *j, const char *s)
{
    json_puts(j, "\"");
    for (size_t n = strlen(s), i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : utf8_len((const unsigned char *)s + i, n - i);
        if (c == '"' || c == '\\') {
            json_puts(j, "\\");
            json_put(j, s + i, 1);
        } else if (c < 0x20 || c == 0x7f || len == 0) {
            json_putf(j, "\\u%04llx", c);
            len = 1;
        } else {
            json_put(j, s + i, len);
        }
        i += len;
    }
    json_puts(j, "\"");
}

static void json_page(struct json_buf *j, const struct backend_list_page *page)
{
    json_puts(j, "{\"entries\": [");
    for (size_t i = 0; i < page->n; i++) {
        const struct backend_list_entry *e = &page->v[i];
        json_puts(j, i ? ",\n{\"key\": " : "\n{\"key\": ");
        json_string(j, e->bkey);
        json_putf(j, ", \"size\": %lld", e->size);
        json_putf(j, ", \"mtime_ms\": %lld", e->mtime_ms);
        json_puts(j, ", \"etag\": ");
        json_string(j, e->etag);
        json_puts(j, "}");
    }
    json_puts(j, page->truncated ? "],\n\"truncated\": true" : "],\n\"truncated\": false");
    json_puts(j, ", \"next_start_after\": ");
    if (page->next_start_after)
        json_string(j, page->next_start_after);
    else
        json_puts(j, "null");
    json_puts(j, "}\n");
}

static struct backend *backend_named(const struct s3_service *svc, const char *name)
{
    for (size_t i = 0; svc && i < svc->nbackends; i++)
        if (strcmp(svc->backends[i]->name, name) == 0)
            return svc->backends[i];
    return NULL;
}

/* ?backend=NAME[&prefix=P][&start-after=S][&max=N]: one page of that backend's own list, as JSON. */
static void debug_backend_list(struct http_conn *c, struct http_str query, const struct s3_service *svc)
{
    enum { PARAM_MAX = 4096 };
    char name[64], num[16], *prefix = malloc(PARAM_MAX), *after = malloc(PARAM_MAX), *end;
    struct backend_list_page page = {0};
    struct json_buf j = {0};
    if (!prefix || !after) {
        s3_error_respond(c, S3_ERR_INTERNAL, NULL, 0);
        goto out;
    }
    int rp = s3_query_get(query, "prefix", prefix, PARAM_MAX);
    int ra = s3_query_get(query, "start-after", after, PARAM_MAX);
    int rm = s3_query_get(query, "max", num, sizeof(num));
    long max = rm == 0 ? strtol(num, &end, 10) : BACKEND_LIST_MAX;
    if (s3_query_get(query, "backend", name, sizeof(name)) != 0 || (rp < 0 && rp != -ENOENT) ||
        (ra < 0 && ra != -ENOENT) || (rm < 0 && rm != -ENOENT) || (rm == 0 && (!num[0] || *end)) || max < 1 ||
        max > BACKEND_LIST_MAX) {
        s3_error_respond(c, S3_ERR_BAD_REQUEST, NULL, 0);
        goto out;
    }
    struct backend *b = backend_named(svc, name);
    if (!b) {
        http_respond_text(c, 404, "no such backend");
        goto out;
    }
    int err = backend_list(b, rp == 0 ? prefix : NULL, ra == 0 ? after : NULL, (size_t)max, &page);
    if (err < 0) {
        http_respond_text(c, err == -EHOSTDOWN ? 503 : 502, strerror(-err));
        goto out;
    }
    json_page(&j, &page);
    if (j.failed) {
        s3_error_respond(c, S3_ERR_INTERNAL, NULL, 0);
        goto out;
    }
    struct http_resp r;
    http_resp_init(&r, 200);
    http_resp_header(&r, "Content-Type", "application/json");
    http_respond(c, &r, j.p, j.n);
out:
    backend_list_page_free(&page);
    free(j.p);
    free(prefix);
    free(after);
}

bool debug_endpoint_handle(struct http_conn *c, struct http_request *req, struct http_str path,
                           struct http_str query, const struct s3_service *svc, const struct job_stats *jobs)
{
    if (http_str_eq_nocase(path, "/_debug/backend-list") && req->method == HTTP_GET) {
        debug_backend_list(c, query, svc);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/backend-state") && req->method == HTTP_POST) {
        debug_backend_state(c, query, svc);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/store-fault") && req->method == HTTP_POST) {
        debug_store_fault(c, query, svc);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/sleep") && req->method == HTTP_GET) {
        debug_sleep(c, query);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/stats") && req->method == HTTP_GET) {
        debug_stats(c, svc, jobs);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/crash") && req->method == HTTP_POST) {
        debug_crash(c, query);
        return true;
    }
    if (http_str_eq_nocase(path, "/_debug/echo") && (req->method == HTTP_PUT || req->method == HTTP_POST)) {
        debug_echo(c);
        return true;
    }
    return false;
}
