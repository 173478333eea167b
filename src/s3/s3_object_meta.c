#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3/s3_object_meta.h"
#include "s3/s3_xml_parse.h"

static char *str_dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static char *header_dup(const struct http_request *req, const char *name)
{
    const struct http_str *h = http_request_header(req, name);
    return h ? str_dup_n(h->p, h->n) : NULL;
}

/* Content-Encoding without the aws-chunked token, which describes the transfer, not the object (S14). */
static char *content_encoding_dup(const struct http_request *req)
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

static bool collect_user_meta(struct s3_object_meta *m, const struct http_request *req)
{
    size_t bytes = 0;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name.n <= 11 || strncasecmp(h->name.p, "x-amz-meta-", 11) != 0)
            continue;
        bytes += h->name.n - 11 + h->value.n;
        if (m->n_meta == S3_META_MAX_PAIRS || bytes > S3_META_MAX_BYTES)
            return false;
        char *name = str_dup_n(h->name.p + 11, h->name.n - 11);
        for (char *p = name; p && *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        m->meta[m->n_meta++] = (struct store_meta){name, str_dup_n(h->value.p, h->value.n)};
    }
    return true;
}

static bool tagging_from_header(struct s3_object_meta *m, const struct http_request *req, struct s3_meta_error *err)
{
    const struct http_str *h = http_request_header(req, "x-amz-tagging");
    if (!h)
        return true;
    struct s3_tagging t = {0};
    enum s3_xml_parse_err perr = s3_tagging_from_query(h->p, h->n, &t);
    if (perr != S3_XML_OK) {
        *err = (struct s3_meta_error){s3_xml_parse_status(perr), s3_xml_parse_code(perr),
                                      s3_xml_parse_message(perr)};
        return false;
    }
    bool nomem = false;
    m->tagging = s3_tagging_to_query(&t, &nomem);
    s3_tagging_free(&t);
    if (nomem)
        *err = (struct s3_meta_error){500, "InternalError", "We encountered an internal error. Please try again."};
    return !nomem;
}

static bool storage_class_valid(const char *s)
{
    static const char *const classes[] = {"STANDARD",     "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                                          "INTELLIGENT_TIERING", "GLACIER",    "DEEP_ARCHIVE", "GLACIER_IR",
                                          "OUTPOSTS",     "SNOW",               "EXPRESS_ONEZONE"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (strcmp(s, classes[i]) == 0)
            return true;
    return false;
}

bool s3_object_meta_from_headers(struct s3_object_meta *m, const struct http_request *req,
                                 struct s3_meta_error *err)
{
    *m = (struct s3_object_meta){0};
    *err = (struct s3_meta_error){0};
    m->content_type = header_dup(req, "content-type");
    m->content_encoding = content_encoding_dup(req);
    m->content_disposition = header_dup(req, "content-disposition");
    m->content_language = header_dup(req, "content-language");
    m->cache_control = header_dup(req, "cache-control");
    m->expires = header_dup(req, "expires");
    m->storage_class = header_dup(req, "x-amz-storage-class");
    if (!collect_user_meta(m, req)) {
        *err = (struct s3_meta_error){400, "MetadataTooLarge",
                                      "Your metadata headers exceed the maximum allowed metadata size."};
        goto err;
    }
    if (m->storage_class && !storage_class_valid(m->storage_class)) {
        *err = (struct s3_meta_error){400, "InvalidStorageClass", "The storage class you specified is not valid."};
        goto err;
    }
    if (!tagging_from_header(m, req, err))
        goto err;
    return true;
err:
    s3_object_meta_free(m);
    return false;
}

void s3_object_meta_apply(const struct s3_object_meta *m, struct store_object *obj)
{
    obj->content_type = m->content_type;
    obj->content_encoding = m->content_encoding;
    obj->content_disposition = m->content_disposition;
    obj->content_language = m->content_language;
    obj->cache_control = m->cache_control;
    obj->expires = m->expires;
    obj->meta = m->meta;
    obj->n_meta = m->n_meta;
    obj->tagging = m->tagging;
    obj->storage_class = m->storage_class;
}

void s3_object_meta_free(struct s3_object_meta *m)
{
    free(m->content_type);
    free(m->content_encoding);
    free(m->content_disposition);
    free(m->content_language);
    free(m->cache_control);
    free(m->expires);
    free(m->tagging);
    free(m->storage_class);
    for (size_t i = 0; i < m->n_meta; i++) {
        free((char *)m->meta[i].name);
        free((char *)m->meta[i].value);
    }
    *m = (struct s3_object_meta){0};
}

int s3_tagging_count(const char *tagging)
{
    if (!tagging || !*tagging)
        return 0;
    int n = 1;
    for (const char *p = tagging; *p; p++)
        n += *p == '&';
    return n;
}
