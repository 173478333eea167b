/* Native multipart uploads on an S3 backend: CreateMultipartUpload, UploadPart, CompleteMultipartUpload (its
 * body built here), AbortMultipartUpload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_s3_internal.h"
#include "backend/s3_resp_xml.h"
#include "s3/s3_sigv4.h"

/* "uploadId=<encoded id>" plus an optional prefix such as "partNumber=3&". */
static int upload_query(char *out, size_t cap, const char *prefix, const char *upload_id)
{
    int n = snprintf(out, cap, "%suploadId=", prefix);
    if (n < 0 || (size_t)n >= cap || s3_uri_encode(out + n, cap - (size_t)n, upload_id, strlen(upload_id), true) < 0)
        return -ENAMETOOLONG;
    return 0;
}

/* A body the backend answers with: an error in a 200 counts as a failure. */
static int read_result(struct s3b *b, struct s3b_exchange *ex, char **body, size_t *len)
{
    if (!s3b_ok_status(ex->status))
        return s3b_fail(b, ex);
    int err = s3b_read_body(ex, body, len);
    if (err == 0 && s3_resp_is_error(*body, *len)) {
        struct s3_resp_error e = {0};
        s3_resp_parse_error(*body, *len, &e);
        free(*body);
        *body = NULL;
        return strcmp(e.code, "NoSuchUpload") == 0 ? -ENOENT : (strcmp(e.code, "InvalidPart") == 0 ? -EINVAL : -EIO);
    }
    return err;
}

int s3b_mpu_create(struct backend *be, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX])
{
    struct s3b *b = (struct s3b *)be;
    struct s3b_call call = {.method = "POST", .key = bkey, .query = "uploads=", .content_length = 0};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    char *body = NULL, id[S3_RESP_ID_MAX];
    size_t len;
    err = read_result(b, &ex, &body, &len);
    if (err == 0)
        err = s3_resp_parse_initiate(body, len, id);
    free(body);
    if (err == 0 && strlen(id) >= BACKEND_UPLOAD_ID_MAX)
        err = -ENAMETOOLONG;
    if (err == 0)
        memcpy(upload_id, id, strlen(id) + 1);
    return err;
}

int s3b_mpu_put_part(struct backend *be, const char *bkey, const char *upload_id, int number,
                     struct body_source *src, int64_t size, char etag[BACKEND_ETAG_MAX])
{
    struct s3b *b = (struct s3b *)be;
    char query[BACKEND_UPLOAD_ID_MAX * 3 + 64], prefix[32];
    snprintf(prefix, sizeof(prefix), "partNumber=%d&", number);
    if (upload_query(query, sizeof(query), prefix, upload_id) < 0)
        return -ENAMETOOLONG;
    int err = size == 0 ? s3b_empty_body_end(src) : 0;
    if (err < 0)
        return err;
    struct s3b_call call = {.method = "PUT", .key = bkey, .query = query, .content_length = size,
                            .body = size ? src : NULL};
    struct s3b_exchange ex;
    err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status))
        return s3b_fail(b, &ex);
    const char *e = s3b_header(&ex, "etag");
    err = e && strlen(e) < BACKEND_ETAG_MAX ? 0 : -EPROTO;
    if (err == 0)
        memcpy(etag, e, strlen(e) + 1);
    s3b_body_discard(&ex, 64 * 1024);
    s3b_done(&ex);
    return err;
}

int s3b_mpu_complete(struct backend *be, const char *bkey, const char *upload_id, const struct backend_part *parts,
                     size_t n)
{
    struct s3b *b = (struct s3b *)be;
    char query[BACKEND_UPLOAD_ID_MAX * 3 + 32];
    if (upload_query(query, sizeof(query), "", upload_id) < 0)
        return -ENAMETOOLONG;
    size_t cap = 128 + n * (64 + BACKEND_ETAG_MAX * 6);
    char *xml = malloc(cap);
    if (!xml)
        return -ENOMEM;
    size_t len = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < n; i++) {
        /* ETags hold quotes and hex: only the quotes need escaping. */
        len += (size_t)snprintf(xml + len, cap - len, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].number);
        for (const char *p = parts[i].etag; *p && len + 8 < cap; p++)
            len += (size_t)snprintf(xml + len, cap - len, "%s", *p == '"' ? "&quot;" : (char[]){*p, 0});
        len += (size_t)snprintf(xml + len, cap - len, "</ETag></Part>");
    }
    len += (size_t)snprintf(xml + len, cap - len, "</CompleteMultipartUpload>");
    struct s3b_buf_source body;
    s3b_buf_source_init(&body, xml, len);
    struct s3b_call call = {.method = "POST", .key = bkey, .query = query, .content_length = (int64_t)len,
                            .body = &body.src};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    free(xml);
    if (err < 0)
        return err;
    char *resp = NULL, etag[S3_RESP_ETAG_MAX];
    size_t rlen;
    err = read_result(b, &ex, &resp, &rlen);
    if (err == 0)
        err = s3_resp_parse_etag(resp, rlen, "CompleteMultipartUploadResult", etag);
    free(resp);
    return err == -ENOENT ? -ENOENT : err;
}

struct abort_args {
    const char *bkey, *upload_id;
};

static int abort_once(struct s3b *b, void *arg)
{
    struct abort_args *a = arg;
    char query[BACKEND_UPLOAD_ID_MAX * 3 + 32];
    if (upload_query(query, sizeof(query), "", a->upload_id) < 0)
        return -ENAMETOOLONG;
    struct s3b_call call = {.method = "DELETE", .key = a->bkey, .query = query, .content_length = -1,
                            .idempotent = true};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status) && ex.status != 404)
        return s3b_fail(b, &ex);
    s3b_body_discard(&ex, 64 * 1024);
    s3b_done(&ex);
    return 0;
}

int s3b_mpu_abort(struct backend *be, const char *bkey, const char *upload_id)
{
    struct abort_args a = {bkey, upload_id};
    return s3b_retry((struct s3b *)be, abort_once, &a);
}
