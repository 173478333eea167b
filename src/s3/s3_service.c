#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "s3/s3_error.h"
#include "s3/s3_service.h"
#include "s3/s3_xml.h"
#include "util/log.h"

struct backend *s3_backend_named(const struct s3_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->nbackends; i++)
        if (strcmp(svc->backends[i]->name, name) == 0)
            return svc->backends[i];
    return NULL;
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

void s3_backend_key_new(char out[S3_BKEY_MAX], const char *bucket, const char *key)
{
    snprintf(out, S3_BKEY_MAX, "%s/%s#%016" PRIx64, bucket, key, version_next());
}

void s3_upload_id_new(char out[33])
{
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, version_next(), version_next());
}

void s3_fail(const struct s3_call *k, int status, const char *code, const char *message)
{
    s3_error_send(k->c, status, code, message, k->r->path.p, k->r->path.n);
}

void s3_respond_store_error(const struct s3_call *k, int err)
{
    log_error("store: %s", strerror(-err));
    if (err == -EBUSY)
        s3_fail(k, 503, "SlowDown", "Please reduce your request rate.");
    else if (store_err_unavailable(err))
        s3_fail(k, 503, "ServiceUnavailable", "The metadata store cannot be reached; please try again.");
    else
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
}

void s3_respond_object_error(const struct s3_call *k, int err)
{
    if (err == -ENOENT)
        s3_fail(k, 404, "NoSuchKey", "The specified key does not exist.");
    else
        s3_respond_store_error(k, err);
}

void s3_respond_backend_error(const struct s3_call *k, int err)
{
    switch (err) {
    case -ECANCELED:
        return;
    case -EHOSTDOWN:
    case -ETIMEDOUT:
    case -ECONNREFUSED:
    case -ECONNRESET:
    case -ECONNABORTED:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
    case -EIO:
    case -EPROTO:
        s3_fail(k, 503, "ServiceUnavailable", "A backend holding the data is unavailable. Please try again.");
        return;
    default:
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
    }
}

static long backend_index(const struct s3_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->nbackends; i++)
        if (strcmp(svc->backends[i]->name, name) == 0)
            return (long)i;
    return -1;
}

size_t s3_copies_in_order(const struct s3_service *svc, const struct store_object *o, int64_t len,
                          const struct store_copy *order[STORE_COPIES_MAX], size_t *over)
{
    size_t n = 0;
    *over = 0;
    int64_t latency[STORE_COPIES_MAX];
    for (int pass = 0; pass < 2; pass++) {
        size_t first = n;
        for (size_t i = 0; i < o->n_copies && i < STORE_COPIES_MAX; i++) {
            long b = backend_index(svc, o->copies[i].backend);
            bool up = b >= 0 && backend_available(svc->backends[b]);
            if (up != (pass == 0))
                continue;
            if (b >= 0 && !usage_allows_read(svc->usage, (size_t)b, len)) {
                (*over)++;
                continue;
            }
            /* Within the group, the lowest measured latency first (insertion keeps commit order for ties). */
            int64_t l = b >= 0 ? usage_latency_ns(svc->usage, (size_t)b) : 0;
            size_t at = n;
            while (at > first && latency[at - 1] > l) {
                order[at] = order[at - 1];
                latency[at] = latency[at - 1];
                at--;
            }
            order[at] = &o->copies[i];
            latency[at] = l;
            n++;
        }
    }
    return n;
}

int s3_backend_states_load(const struct s3_service *svc)
{
    struct store_backend_state_list l;
    int err = store_backend_states(svc->store, &l);
    if (err < 0)
        return err;
    for (size_t i = 0; i < svc->nbackends; i++) {
        bool draining = false;
        for (size_t j = 0; j < l.n; j++)
            if (strcmp(l.v[j].backend, svc->backends[i]->name) == 0)
                draining = l.v[j].state == STORE_BACKEND_DRAINING;
        placement_set_draining(svc->placement, svc->backends[i]->name, draining);
    }
    store_backend_state_list_free(&l);
    return 0;
}

void s3_respond_over_limits(const struct s3_call *k)
{
    s3_fail(k, 429, "SlowDown", "Every backend that could serve this request has reached a monthly usage limit.");
}

void s3_respond_no_room(const struct s3_call *k, int err)
{
    if (err == -ENOSPC)
        s3_fail(k, 507, "InsufficientStorage", "No backend has room for this object.");
    else if (err == -EDQUOT)
        s3_respond_over_limits(k);
    else
        s3_respond_backend_error(k, err);
}

void s3_respond_empty(const struct s3_call *k, int status)
{
    struct http_resp resp;
    http_resp_init(&resp, status);
    http_respond(k->c, &resp, NULL, 0);
}

void s3_respond_xml(const struct s3_call *k, struct s3_xml *x)
{
    if (x->overflow) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    struct http_resp resp;
    http_resp_init(&resp, 200);
    http_resp_header(&resp, "Content-Type", "application/xml");
    http_respond(k->c, &resp, x->buf, x->len);
}

int s3_body_read_small(const struct s3_call *k, size_t cap, unsigned flags, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    struct s3_put_body *body = malloc(sizeof(*body));
    char *buf = NULL;
    int64_t size = 0;
    if (!body) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return -1;
    }
    if (!s3_put_body_init(body, k->c, k->req, k->oa->auth, k->oa->signing_key, k->oa->seed_sig, flags, &size)) {
        s3_fail(k, body->fail.status, body->fail.code, body->fail.message);
        goto err;
    }
    if (size < 0 || (uint64_t)size > cap) {
        s3_fail(k, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                        "published schema.");
        goto err;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        goto err;
    }
    size_t got = 0;
    for (;;) {
        /* One byte of room past the declared size: a body that runs long must fail in the reader, not here. */
        char spill;
        ssize_t n = got < (size_t)size ? body_source_read(&body->src, buf + got, (size_t)size - got)
                                       : body_source_read(&body->src, &spill, 1);
        if (n == 0)
            break;
        if (n < 0 || got == (size_t)size) {
            if (body->fail.status)
                s3_fail(k, body->fail.status, body->fail.code, body->fail.message);
            else if (n != -ECANCELED)
                s3_fail(k, 400, "IncompleteBody",
                        "You did not provide the number of bytes specified by the Content-Length HTTP header.");
            goto err;
        }
        got += (size_t)n;
    }
    if (got != (size_t)size) {
        s3_fail(k, 400, "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header.");
        goto err;
    }
    buf[got] = 0;
    free(body);
    *out = buf;
    *len = got;
    return 0;
err:
    free(buf);
    free(body);
    return -1;
}
