/* CompleteMultipartUpload: the client's part list checked against the parts the store recorded (ETags, sizes,
 * checksums, order), the object's ETag ("md5 of the part md5s"-N) and checksum (COMPOSITE "-N" or FULL_OBJECT,
 * combined from the parts' CRCs) computed from the records, then the backend joins the parts and the store makes
 * the object current. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3/s3_multipart.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"
#include "util/log.h"

#define PART_MIN_SIZE (5 * 1024 * 1024LL)
#define OBJECT_MAX_SIZE (5LL * 1024 * 1024 * 1024 * 1024)

static void invalid_part(const struct s3_call *k)
{
    s3_fail(k, 400, "InvalidPart", "One or more of the specified parts could not be found. The part may not have "
                                   "been uploaded, or the specified entity tag may not match the part's entity "
                                   "tag.");
}

/* ETags compared without their quotes: clients send them either way. */
static bool etag_equal(const char *a, const char *b)
{
    size_t an = strlen(a), bn = strlen(b);
    if (an >= 2 && a[0] == '"' && a[an - 1] == '"') {
        a++;
        an -= 2;
    }
    if (bn >= 2 && b[0] == '"' && b[bn - 1] == '"') {
        b++;
        bn -= 2;
    }
    return an == bn && strncasecmp(a, b, an) == 0;
}

/* The parts the client listed, matched to the store's records in `out` (same order). false after answering. */
static bool match_parts(const struct s3_call *k, const struct s3_complete_request *req,
                        const struct store_part_list *have, enum s3_checksum_alg alg, bool full,
                        const struct store_part **out)
{
    size_t j = 0;
    for (size_t i = 0; i < req->n; i++) {
        const struct s3_complete_part *want = &req->parts[i];
        while (j < have->n && have->v[j].number < want->number)
            j++;
        if (j == have->n || have->v[j].number != want->number || !etag_equal(have->v[j].etag, want->etag)) {
            invalid_part(k);
            return false;
        }
        const struct store_part *p = &have->v[j];
        if (!want->checksum && alg != S3_CK_NONE && !full) {
            char msg[160];
            snprintf(msg, sizeof(msg), "The upload was created using a %s checksum. The complete request must "
                     "include the checksum for each part. It was missing for part %d in the request.",
                     s3_checksum_alg_name(alg), want->number);
            s3_fail(k, 400, "InvalidRequest", msg);
            return false;
        }
        if (want->checksum && (want->checksum_alg != alg || !p->checksum_value ||
                               strcmp(want->checksum, p->checksum_value) != 0)) {
            s3_fail(k, 400, "BadDigest", "The checksum of a part does not match the checksum uploaded with it.");
            return false;
        }
        if (alg != S3_CK_NONE && !p->checksum_value) {
            invalid_part(k);
            return false;
        }
        if (i + 1 < req->n && p->size < PART_MIN_SIZE) {
            s3_fail(k, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
            return false;
        }
        out[i] = p;
    }
    return true;
}

/* The object's checksum from the parts': COMPOSITE is the checksum of the concatenated part checksums with "-N";
 * FULL_OBJECT (CRCs only) is the CRC of the whole object, combined from the parts' CRCs and sizes. */
static bool object_checksum(enum s3_checksum_alg alg, bool full, const struct store_part **parts, size_t n,
                            char *out, size_t cap)
{
    uint8_t acc[S3_CHECKSUM_MAX_SIZE], raw[S3_CHECKSUM_MAX_SIZE];
    size_t size = s3_checksum_size(alg);
    struct s3_checksum ck;
    if (!full && s3_checksum_init(&ck, alg) < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *v = parts[i]->checksum_value;
        if (s3_checksum_from_base64(alg, v, strlen(v), raw) < 0)
            return false;
        if (!full)
            s3_checksum_update(&ck, raw, size);
        else if (i == 0)
            memcpy(acc, raw, size);
        else if (s3_checksum_combine(alg, acc, raw, (uint64_t)parts[i]->size, acc) < 0)
            return false;
    }
    if (!full)
        s3_checksum_final(&ck, acc);
    int len = s3_checksum_to_base64(acc, size, out, cap);
    if (len < 0)
        return false;
    if (!full)
        snprintf(out + len, cap - (size_t)len, "-%zu", n);
    return true;
}

/* What the client may claim of the whole object at Complete: its checksum (x-amz-checksum-<alg>, "-N" optional
 * for COMPOSITE) and its size (x-amz-mp-object-size). false after answering. */
static bool object_claims_hold(const struct s3_call *k, enum s3_checksum_alg alg, const char *ck, int64_t size)
{
    for (unsigned i = 0; i < k->req->nheaders; i++) {
        const struct http_header *h = &k->req->headers[i];
        enum s3_checksum_alg claimed = s3_checksum_alg_from_header(h->name.p, h->name.n);
        if (claimed == S3_CK_NONE)
            continue;
        const char *dash = strchr(ck, '-');
        size_t n = dash ? (size_t)(dash - ck) : strlen(ck);
        size_t hn = h->value.n;
        const char *hdash = memchr(h->value.p, '-', hn);
        if (hdash)
            hn = (size_t)(hdash - h->value.p);
        if (claimed != alg || hn != n || memcmp(h->value.p, ck, n) != 0) {
            s3_fail(k, 400, "BadDigest", "The checksum you specified did not match the calculated checksum.");
            return false;
        }
    }
    const struct http_str *sz = http_request_header(k->req, "x-amz-mp-object-size");
    if (sz) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", (long long)size);
        if (sz->n != strlen(buf) || memcmp(sz->p, buf, sz->n) != 0) {
            s3_fail(k, 400, "InvalidRequest", "The x-amz-mp-object-size header does not match the parts' total size.");
            return false;
        }
    }
    return true;
}

static void complete_result(const struct s3_call *k, const struct store_object *obj)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "CompleteMultipartUploadResult", S3_XML_NS);
    s3_xml_element_n(&x, "Location", k->r->path.p, k->r->path.n);
    s3_xml_element(&x, "Bucket", obj->bucket);
    s3_xml_element(&x, "Key", obj->key);
    s3_xml_element(&x, "ETag", obj->etag);
    if (obj->checksum_value) {
        char name[32];
        snprintf(name, sizeof(name), "Checksum%s", obj->checksum_algorithm);
        s3_xml_element(&x, name, obj->checksum_value);
        s3_xml_element(&x, "ChecksumType", obj->checksum_type);
    }
    s3_xml_close(&x, "CompleteMultipartUploadResult");
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}

void s3_op_mpu_complete(const struct s3_call *k)
{
    struct store_upload up = {0};
    struct store_part_list have = {0};
    struct s3_complete_request req = {0};
    const struct store_part **parts = NULL;
    struct backend_part *bparts = NULL;
    int64_t *sizes = NULL;
    char *body = NULL;
    size_t len;
    if (!s3_mpu_open(k, &up))
        return;
    if (s3_body_read_small(k, S3_COMPLETE_BODY_MAX, S3_PUT_BODY_OBJECT_CHECKSUMS, &body, &len) < 0)
        goto out;
    enum s3_xml_parse_err perr = s3_xml_parse_complete(body, len, &req);
    if (perr != S3_XML_OK) {
        s3_fail(k, s3_xml_parse_status(perr), s3_xml_parse_code(perr), s3_xml_parse_message(perr));
        goto out;
    }
    int err = store_parts_list(k->svc->store, up.id, 0, STORE_PART_NUMBER_MAX, &have);
    if (err < 0) {
        s3_mpu_store_fail(k, err);
        goto out;
    }
    const char *alg_name = up.obj.checksum_algorithm;
    enum s3_checksum_alg alg = alg_name ? s3_checksum_alg_from_name(alg_name, strlen(alg_name)) : S3_CK_NONE;
    parts = calloc(req.n, sizeof(*parts));
    bparts = calloc(req.n, sizeof(*bparts));
    sizes = calloc(req.n, sizeof(*sizes));
    if (!parts || !bparts || !sizes) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        goto out;
    }
    bool full = up.obj.checksum_type && strcmp(up.obj.checksum_type, "FULL_OBJECT") == 0;
    if (!match_parts(k, &req, &have, alg, full, parts))
        goto out;

    /* ETag and checksum from the records alone: the parts' bytes are never read again. */
    struct s3_md5 md5;
    s3_md5_init(&md5);
    int64_t size = 0;
    for (size_t i = 0; i < req.n; i++) {
        uint8_t raw[16];
        const char *e = parts[i]->etag + (parts[i]->etag[0] == '"');
        for (size_t b = 0; b < 16; b++) {
            unsigned v;
            sscanf(e + 2 * b, "%2x", &v);
            raw[b] = (uint8_t)v;
        }
        s3_md5_update(&md5, raw, 16);
        size += parts[i]->size;
        sizes[i] = parts[i]->size;
        bparts[i] = (struct backend_part){parts[i]->number, parts[i]->size, parts[i]->backend_etag};
    }
    if (size > OBJECT_MAX_SIZE) {
        s3_fail(k, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
        goto out;
    }
    char hex[33], etag[48], ck[S3_CHECKSUM_MAX_BASE64 + 8] = "";
    s3_md5_final_hex(&md5, hex);
    snprintf(etag, sizeof(etag), "\"%s-%zu\"", hex, req.n);
    if (alg != S3_CK_NONE && !object_checksum(alg, full, parts, req.n, ck, sizeof(ck))) {
        s3_fail(k, 400, "InvalidPart", "A part's checksum could not be read.");
        goto out;
    }

    if (!object_claims_hold(k, alg, ck, size))
        goto out;

    struct backend *be = s3_backend_named(k->svc, up.backend);
    err = be ? backend_mpu_complete(be, up.backend_key, up.backend_upload_id, bparts, req.n) : -EIO;
    if (err < 0) {
        log_error("multipart complete on %s: %s", up.backend, strerror(-err));
        if (err == -EINVAL || err == -ENOENT)
            invalid_part(k);
        else
            s3_respond_backend_error(k, err);
        goto out;
    }
    struct store_object obj = up.obj;
    obj.size = size;
    obj.etag = etag;
    obj.checksum_value = ck[0] ? ck : NULL;
    obj.checksum_type = ck[0] ? up.obj.checksum_type : NULL;
    obj.checksum_algorithm = ck[0] ? up.obj.checksum_algorithm : NULL;
    obj.copies = &(struct store_copy){.backend = up.backend, .backend_key = up.backend_key, .size = size};
    obj.n_copies = 1;
    obj.part_sizes = sizes;
    obj.n_parts = req.n;
    struct store_cleanup_list displaced = {0};
    err = store_upload_complete(k->svc->store, up.id, &obj, &displaced);
    if (err < 0) {
        /* -ENOENT: another Complete of this upload won; the bytes it committed are the same ones, keep them. */
        s3_mpu_store_fail(k, err);
        goto out;
    }
    complete_result(k, &obj);
    s3_delete_displaced(k->svc, &displaced);
out:
    free(parts);
    free(bparts);
    free(sizes);
    free(body);
    s3_complete_request_free(&req);
    store_part_list_free(&have);
    store_upload_free(&up);
}
