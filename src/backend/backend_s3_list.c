/* Listing an S3 backend's bucket: ListObjectsV2, one request per page. Keys travel URL-encoded (encoding-type=url)
 * because XML 1.0 cannot carry every byte a key may hold. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_s3_internal.h"
#include "backend/s3_resp_xml.h"
#include "s3/s3_sigv4.h"

struct list_args {
    const char *prefix, *after;
    size_t max;
    struct backend_list_page *out;
};

/* name=value (the value URI-encoded) appended to the query at *n. Parameters go in sorted order: the canonical
 * query of the signature wants them so, and the signer takes the query as written. */
static int query_add(char *q, size_t cap, size_t *n, const char *name, const char *value)
{
    int w = snprintf(q + *n, cap - *n, "&%s=", name);
    if (w < 0 || (size_t)w >= cap - *n)
        return -ENAMETOOLONG;
    *n += (size_t)w;
    ssize_t e = s3_uri_encode(q + *n, cap - *n, value, strlen(value), true);
    if (e < 0)
        return -ENAMETOOLONG;
    *n += (size_t)e;
    return 0;
}

/* Takes the parsed page's entries over, checking what the contract promises the caller: at most max keys, each
 * after the one before and after start_after, within prefix. */
static int page_take(struct s3_resp_list *l, const struct list_args *a)
{
    struct backend_list_page *out = a->out;
    if (l->n > a->max || (l->truncated && l->n == 0))
        return -EPROTO;
    out->v = calloc(l->n ? l->n : 1, sizeof(*out->v));
    if (!out->v)
        return -ENOMEM;
    const char *before = a->after;
    for (size_t i = 0; i < l->n; i++) {
        const char *key = l->v[i].key;
        if ((before && strcmp(key, before) <= 0) || strncmp(key, a->prefix, strlen(a->prefix)) != 0)
            return -EPROTO;
        out->v[out->n++] = (struct backend_list_entry){.bkey = l->v[i].key, .size = l->v[i].size,
                                                       .mtime_ms = l->v[i].modified_ms};
        l->v[i].key = NULL;
        memcpy(out->v[i].etag, l->v[i].etag, sizeof(out->v[i].etag));
        before = key;
    }
    out->truncated = l->truncated;
    out->next_start_after = out->n ? out->v[out->n - 1].bkey : NULL;
    return 0;
}

static int list_once(struct s3b *b, void *arg)
{
    struct list_args *a = arg;
    backend_list_page_free(a->out);
    char query[2 * 3 * 1024 + 128];
    size_t n = (size_t)snprintf(query, sizeof(query), "encoding-type=url&list-type=2&max-keys=%zu", a->max);
    int err = 0;
    if (a->prefix[0])
        err = query_add(query, sizeof(query), &n, "prefix", a->prefix);
    if (err == 0 && a->after)
        err = query_add(query, sizeof(query), &n, "start-after", a->after);
    if (err < 0)
        return err;
    struct s3b_call call = {.method = "GET", .query = query, .content_length = -1, .idempotent = true};
    struct s3b_exchange ex;
    err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status))
        return s3b_fail(b, &ex);
    char *body = NULL;
    size_t len;
    err = s3b_read_body(&ex, &body, &len);
    struct s3_resp_list l = {0};
    if (err == 0)
        err = s3_resp_parse_list(body, len, &l);
    free(body);
    if (err == 0)
        err = page_take(&l, a);
    s3_resp_list_free(&l);
    if (err < 0)
        backend_list_page_free(a->out);
    return err;
}

int s3b_list(struct backend *be, const char *prefix, const char *start_after, size_t max,
             struct backend_list_page *out)
{
    *out = (struct backend_list_page){0};
    if (max < 1 || max > BACKEND_LIST_MAX)
        return -EINVAL;
    struct list_args a = {prefix ? prefix : "", start_after && *start_after ? start_after : NULL, max, out};
    return s3b_retry((struct s3b *)be, list_once, &a);
}
