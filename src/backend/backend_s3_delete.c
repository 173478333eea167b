/* DeleteObjects: up to 1000 keys in one POST ?delete, quiet (the answer lists only the keys that failed). Keys go
 * in the XML document escaped; a key with a control character cannot be written in XML 1.0 at all, so it is
 * deleted on its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_s3_internal.h"
#include "backend/s3_resp_xml.h"
#include "s3/s3_checksum.h"

static bool xml_writable(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20)
            return false;
    return true;
}

/* Appends key to xml (which has room for 6 bytes per key byte) escaped; returns the new length. */
static size_t xml_escape_append(char *xml, size_t len, const char *key)
{
    for (const char *p = key; *p; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : NULL;
        if (e) {
            memcpy(xml + len, e, strlen(e));
            len += strlen(e);
        } else {
            xml[len++] = *p;
        }
    }
    return len;
}

struct del_batch {
    const char *const *bkeys;
    size_t n;
    int *errs;
    char *xml;
    size_t len;
    char md5_b64[S3_CHECKSUM_MAX_BASE64];
    char sha_hex[65];
};

/* The answer's <Error> entries: each names a key of the batch (the first not yet failed, should a key repeat). */
static void del_batch_error(void *arg, const char *key, const char *code)
{
    struct del_batch *d = arg;
    for (size_t i = 0; i < d->n; i++)
        if (d->errs[i] == 0 && strcmp(d->bkeys[i], key) == 0) {
            d->errs[i] = strcmp(code, "NoSuchKey") == 0 ? 0 : strcmp(code, "AccessDenied") == 0 ? -EACCES : -EIO;
            return;
        }
}

static int del_batch_once(struct s3b *b, void *arg)
{
    struct del_batch *d = arg;
    struct s3b_buf_source body;
    s3b_buf_source_init(&body, d->xml, d->len);
    struct s3b_call call = {.method = "POST", .query = "delete=", .content_length = (int64_t)d->len,
                            .body = &body.src, .payload_hash = d->sha_hex, .idempotent = true};
    call.extra[call.nextra++] = (struct http_client_header){"content-md5", d->md5_b64};
    struct s3b_exchange ex;
    int err = s3b_send(b, &call, &ex, s3b_deadline(b));
    if (err < 0)
        return err;
    if (!s3b_ok_status(ex.status))
        return s3b_fail(b, &ex);
    char *resp = NULL;
    size_t rlen;
    if ((err = s3b_read_body(&ex, &resp, &rlen)) < 0)
        return err;
    for (size_t i = 0; i < d->n; i++)
        d->errs[i] = 0;
    err = s3_resp_is_error(resp, rlen) ? -EIO : s3_resp_parse_delete(resp, rlen, del_batch_error, d);
    free(resp);
    return err;
}

int s3b_del_many(struct backend *be, const char *const *bkeys, size_t n, int *errs)
{
    struct s3b *b = (struct s3b *)be;
    size_t cap = 64, batch = 0;
    for (size_t i = 0; i < n; i++)
        cap += 24 + 6 * strlen(bkeys[i]);
    struct del_batch d = {.bkeys = bkeys, .n = n, .errs = errs, .xml = malloc(cap)};
    if (!d.xml) {
        for (size_t i = 0; i < n; i++)
            errs[i] = -ENOMEM;
        return -ENOMEM;
    }
    d.len = (size_t)snprintf(d.xml, cap, "<Delete><Quiet>true</Quiet>");
    for (size_t i = 0; i < n; i++) {
        if (!xml_writable(bkeys[i]))
            continue;
        batch++;
        memcpy(d.xml + d.len, "<Object><Key>", 13);
        d.len = xml_escape_append(d.xml, d.len + 13, bkeys[i]);
        memcpy(d.xml + d.len, "</Key></Object>", 15);
        d.len += 15;
    }
    memcpy(d.xml + d.len, "</Delete>", 9);
    d.len += 9;

    int err = 0;
    if (batch) {
        struct s3_md5 m;
        uint8_t digest[32];
        s3_md5_init(&m);
        s3_md5_update(&m, d.xml, d.len);
        s3_md5_final(&m, digest);
        s3_checksum_to_base64(digest, 16, d.md5_b64, sizeof(d.md5_b64));
        s3_sha256_hex(d.xml, d.len, d.sha_hex);
        err = s3b_retry(b, del_batch_once, &d);
    }
    for (size_t i = 0; i < n; i++) {
        if (!xml_writable(bkeys[i]))
            errs[i] = backend_del(be, bkeys[i]);
        else if (err < 0)
            errs[i] = err;
    }
    free(d.xml);
    return err;
}
