/* Multipart uploads (S9), native on the backend: each part goes to the backend's own multipart upload as it
 * arrives, and Complete asks the backend to join them, so no byte is read twice and no size is capped by
 * s3orch's memory. The store keeps the upload (metadata the object gets at Complete) and its parts (ETag,
 * checksum, the backend's part ETag). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_copy.h"
#include "s3/s3_multipart.h"
#include "s3/s3_object_meta.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"
#include "util/log.h"
#include "util/wall_clock.h"

#define MIB (1024 * 1024)
#define PART_MIN_SIZE (5 * (int64_t)MIB)
#define PART_MAX_SIZE (5 * 1024 * (int64_t)MIB)
#define OBJECT_MAX_SIZE (5 * 1024 * 1024 * (int64_t)MIB)

static void internal_error(const struct s3_call *k)
{
    s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
}

static void no_such_upload(const struct s3_call *k)
{
    s3_fail(k, 404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the "
                                    "upload may have been aborted or completed.");
}

void s3_mpu_store_fail(const struct s3_call *k, int err)
{
    if (err == -ENOENT)
        no_such_upload(k);
    else
        s3_respond_store_error(k, err);
}

bool s3_mpu_open(const struct s3_call *k, struct store_upload *up)
{
    char id[STORE_UPLOAD_ID_MAX + 1];
    if (s3_query_get(k->r->query, "uploadId", id, sizeof(id)) < 0 || !id[0]) {
        no_such_upload(k);
        return false;
    }
    int err = store_upload_get(k->svc->store, id, up);
    if (err == 0 && strcmp(up->obj.bucket, k->r->bucket) == 0 && strcmp(up->obj.key, k->r->key) == 0)
        return true;
    if (err == 0)
        store_upload_free(up);
    s3_mpu_store_fail(k, err == 0 ? -ENOENT : err);
    return false;
}

/* --- CreateMultipartUpload ------------------------------------------------------------------------------- */

/* x-amz-checksum-algorithm and x-amz-checksum-type at Create (S14). false after answering. */
static bool checksum_choice(const struct s3_call *k, enum s3_checksum_alg *alg, const char **type)
{
    const struct http_str *a = http_request_header(k->req, "x-amz-checksum-algorithm");
    const struct http_str *t = http_request_header(k->req, "x-amz-checksum-type");
    *alg = S3_CK_NONE;
    *type = NULL;
    if (a) {
        *alg = s3_checksum_alg_from_name(a->p, a->n);
        if (*alg == S3_CK_NONE) {
            s3_fail(k, 400, "InvalidRequest", "Checksum algorithm provided is unsupported.");
            return false;
        }
    }
    if (t) {
        bool full = http_str_eq_nocase(*t, "FULL_OBJECT"), composite = http_str_eq_nocase(*t, "COMPOSITE");
        if ((!full && !composite) || *alg == S3_CK_NONE) {
            s3_fail(k, 400, "InvalidRequest", "The x-amz-checksum-type header needs a valid type and algorithm.");
            return false;
        }
        *type = full ? "FULL_OBJECT" : "COMPOSITE";
    } else if (*alg != S3_CK_NONE) {
        *type = *alg == S3_CK_CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
    }
    if (*type && ((strcmp(*type, "FULL_OBJECT") == 0 && !s3_checksum_is_crc(*alg)) ||
                  (strcmp(*type, "COMPOSITE") == 0 && *alg == S3_CK_CRC64NVME))) {
        s3_fail(k, 400, "InvalidRequest", "The checksum type is not supported with this checksum algorithm.");
        return false;
    }
    return true;
}

void s3_op_mpu_create(const struct s3_call *k)
{
    struct s3_object_meta meta;
    struct s3_meta_error merr;
    enum s3_checksum_alg alg;
    const char *type;
    char id[33], bkey[S3_BKEY_MAX], bupload[BACKEND_UPLOAD_ID_MAX];
    if (!checksum_choice(k, &alg, &type))
        return;
    if (!s3_object_meta_from_headers(&meta, k->req, &merr)) {
        s3_fail(k, merr.status, merr.code, merr.message);
        return;
    }
    /* The backend is chosen now, by the routing strategy; each part reserves its space there as it comes. */
    struct placement_slot slot;
    int err = placement_reserve(k->svc->placement, 1, 0, &slot); /* a backend with any room at all */
    if (err < 0) {
        s3_respond_no_room(k, err);
        goto out;
    }
    struct backend *be = slot.backend;
    placement_release(k->svc->placement, &slot);
    s3_backend_key_new(bkey, k->r->bucket, k->r->key);
    err = backend_mpu_create(be, bkey, bupload);
    if (err < 0) {
        log_error("multipart create on %s: %s", be->name, strerror(-err));
        s3_respond_backend_error(k, err);
        goto out;
    }
    s3_upload_id_new(id);
    struct store_upload up = {
        .id = id,
        .owner = k->id->cred->access_key_id,
        .backend = be->name,
        .backend_key = bkey,
        .backend_upload_id = bupload,
        .obj = {.bucket = k->r->bucket,
                .key = k->r->key,
                .checksum_algorithm = alg != S3_CK_NONE ? s3_checksum_alg_name(alg) : NULL,
                .checksum_type = type},
    };
    s3_object_meta_apply(&meta, &up.obj);
    err = store_upload_create(k->svc->store, &up);
    if (err < 0) {
        backend_mpu_abort(be, bkey, bupload);
        s3_respond_store_error(k, err);
        goto out;
    }

    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "InitiateMultipartUploadResult", S3_XML_NS);
    s3_xml_element(&x, "Bucket", k->r->bucket);
    s3_xml_element_n(&x, "Key", k->r->key, k->r->key_len);
    s3_xml_element(&x, "UploadId", id);
    s3_xml_close(&x, "InitiateMultipartUploadResult");
    if (x.overflow) {
        internal_error(k);
    } else {
        struct http_resp resp;
        http_resp_init(&resp, 200);
        http_resp_header(&resp, "Content-Type", "application/xml");
        if (alg != S3_CK_NONE) {
            http_resp_header(&resp, "x-amz-checksum-algorithm", s3_checksum_alg_name(alg));
            http_resp_header(&resp, "x-amz-checksum-type", type);
        }
        http_respond(k->c, &resp, x.buf, x.len);
    }
    s3_xml_free(&x);
out:
    s3_object_meta_free(&meta);
}

/* --- UploadPart, UploadPartCopy ------------------------------------------------------------------------ */

/* partNumber as S3 wants it: 1..10000. false after answering. */
static bool part_number(const struct s3_call *k, int *out)
{
    char v[16];
    char *end;
    long n = s3_query_get(k->r->query, "partNumber", v, sizeof(v)) == 0 ? strtol(v, &end, 10) : 0;
    if (n < 1 || n > STORE_PART_NUMBER_MAX || !v[0] || *end) {
        s3_fail(k, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
        return false;
    }
    *out = (int)n;
    return true;
}

static enum s3_checksum_alg upload_alg(const struct store_upload *up)
{
    const char *a = up->obj.checksum_algorithm;
    return a ? s3_checksum_alg_from_name(a, strlen(a)) : S3_CK_NONE;
}

/* Records a part the backend holds and answers the client; its reserved space becomes held once recorded. */
static void part_recorded(const struct s3_call *k, const struct store_upload *up, const struct store_part *p,
                          struct placement_slot *slot, bool copy)
{
    int err = store_part_put(k->svc->store, up->id, p);
    if (err < 0) {
        s3_mpu_store_fail(k, err);
        return;
    }
    placement_commit(k->svc->placement, slot, p->size);
    enum s3_checksum_alg alg = upload_alg(up);
    if (copy) {
        struct s3_xml x;
        s3_xml_init(&x);
        s3_xml_declaration(&x);
        s3_xml_open_ns(&x, "CopyPartResult", S3_XML_NS);
        s3_xml_element_time(&x, "LastModified", wall_clock_ms());
        s3_xml_element(&x, "ETag", p->etag);
        if (p->checksum_value) {
            char name[32];
            snprintf(name, sizeof(name), "Checksum%s", s3_checksum_alg_name(alg));
            s3_xml_element(&x, name, p->checksum_value);
        }
        s3_xml_close(&x, "CopyPartResult");
        s3_respond_xml(k, &x);
        s3_xml_free(&x);
        return;
    }
    struct http_resp resp;
    http_resp_init(&resp, 200);
    http_resp_header(&resp, "ETag", p->etag);
    if (p->checksum_value)
        http_resp_header(&resp, s3_checksum_header_name(alg), p->checksum_value);
    http_respond(k->c, &resp, NULL, 0);
}

void s3_op_mpu_upload_part(const struct s3_call *k)
{
    struct store_upload up = {0};
    struct placement_slot slot = {0};
    struct s3_put_body *body = NULL;
    int number;
    int64_t size = 0;
    char betag[BACKEND_ETAG_MAX], etag[40];
    if (!part_number(k, &number) || !s3_mpu_open(k, &up))
        return;
    body = malloc(sizeof(*body));
    if (!body) {
        internal_error(k);
        goto out;
    }
    if (!s3_put_body_init(body, k->c, k->req, k->oa->auth, k->oa->signing_key, k->oa->seed_sig, 0, &size)) {
        s3_fail(k, body->fail.status, body->fail.code, body->fail.message);
        goto out;
    }
    if (size > PART_MAX_SIZE) {
        s3_fail(k, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
        goto out;
    }
    enum s3_checksum_alg alg = upload_alg(&up);
    if (alg != S3_CK_NONE && !s3_put_body_checksum_as(body, alg)) {
        s3_fail(k, 400, "InvalidRequest", "The part's checksum algorithm differs from the upload's.");
        goto out;
    }
    struct backend *be = s3_backend_named(k->svc, up.backend);
    int err = placement_reserve_on(k->svc->placement, up.backend, size, &slot);
    if (err < 0) {
        s3_respond_no_room(k, err == -EINVAL ? -EIO : err);
        goto out;
    }
    err = be ? backend_mpu_put_part(be, up.backend_key, up.backend_upload_id, number, &body->src, size, betag)
             : -EIO;
    if (err < 0) {
        if (body->fail.status)
            s3_fail(k, body->fail.status, body->fail.code, body->fail.message);
        else if (err == -ENOENT)
            no_such_upload(k);
        else if (err == -EPIPE || err == -EMSGSIZE)
            s3_fail(k, 400, "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length HTTP header.");
        else
            s3_respond_backend_error(k, err);
        goto out;
    }
    snprintf(etag, sizeof(etag), "\"%s\"", body->etag_hex);
    struct store_part p = {.number = number,
                           .size = size,
                           .etag = etag,
                           .checksum_value = alg != S3_CK_NONE && body->ck_b64[0] ? body->ck_b64 : NULL,
                           .backend_etag = betag};
    part_recorded(k, &up, &p, &slot, false);
out:
    placement_release(k->svc->placement, &slot);
    free(body);
    store_upload_free(&up);
}

/* "bytes=a-b" within size; false for anything else. */
static bool copy_range(const struct http_str *h, int64_t size, int64_t *off, int64_t *len)
{
    char buf[64];
    if (h->n >= sizeof(buf) || h->n < 8 || memcmp(h->p, "bytes=", 6) != 0)
        return false;
    memcpy(buf, h->p + 6, h->n - 6);
    buf[h->n - 6] = 0;
    char *dash, *end;
    int64_t a = strtoll(buf, &dash, 10);
    if (dash == buf || *dash != '-' || buf[0] == '-')
        return false;
    int64_t b = strtoll(dash + 1, &end, 10);
    if (end == dash + 1 || *end || dash[1] == '-' || a > b || b >= size)
        return false;
    *off = a;
    *len = b - a + 1;
    return true;
}

struct part_put {
    struct backend *be;
    const struct store_upload *up;
    int number;
    char *betag;
};

static int part_put_run(struct body_source *src, int64_t size, void *arg)
{
    struct part_put *p = arg;
    return backend_mpu_put_part(p->be, p->up->backend_key, p->up->backend_upload_id, p->number, src, size,
                                p->betag);
}

void s3_op_mpu_upload_part_copy(const struct s3_call *k)
{
    struct store_upload up = {0};
    struct placement_slot slot = {0};
    struct s3_copy_source src = {0};
    int number;
    char betag[BACKEND_ETAG_MAX], etag[40];
    if (!part_number(k, &number) || !s3_mpu_open(k, &up))
        return;
    if (!s3_copy_source_open(k, &src))
        goto out;
    int64_t off = 0, len = src.obj.size;
    const struct http_str *range = http_request_header(k->req, "x-amz-copy-source-range");
    if (range && !copy_range(range, src.obj.size, &off, &len)) {
        s3_fail(k, 400, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last "
                                           "where first and last are the zero-based offsets of the first and last "
                                           "bytes to copy");
        goto out;
    }
    if (len > PART_MAX_SIZE) {
        s3_fail(k, 400, "InvalidRequest", "The specified copy source is larger than the maximum allowable size for "
                                          "a copy source.");
        goto out;
    }
    struct backend *be = s3_backend_named(k->svc, up.backend);
    struct s3_copy_hashes h = {.ck_alg = upload_alg(&up)};
    int err = placement_reserve_on(k->svc->placement, up.backend, len, &slot);
    if (err < 0) {
        s3_respond_no_room(k, err == -EINVAL ? -EIO : err);
        goto out;
    }
    err = be ? s3_copy_stream(k->svc, &src.obj, off, len, part_put_run,
                                  &(struct part_put){be, &up, number, betag}, &h)
                 : -EIO;
    if (err == -ENOENT) {
        no_such_upload(k);
        goto out;
    }
    if (err < 0) {
        s3_respond_backend_error(k, err);
        goto out;
    }
    snprintf(etag, sizeof(etag), "\"%s\"", h.etag_hex);
    struct store_part p = {.number = number,
                           .size = len,
                           .etag = etag,
                           .checksum_value = h.ck_b64[0] ? h.ck_b64 : NULL,
                           .backend_etag = betag};
    part_recorded(k, &up, &p, &slot, true);
out:
    placement_release(k->svc->placement, &slot);
    store_object_free(&src.obj);
    store_upload_free(&up);
}

/* --- AbortMultipartUpload ------------------------------------------------------------------------------ */

/* The bytes of an upload's recorded parts (what the backend frees when it aborts); 0 when they cannot be read. */
static int64_t upload_parts_bytes(const struct s3_call *k, const char *upload_id)
{
    struct store_part_list pl;
    int64_t sum = 0;
    if (store_parts_list(k->svc->store, upload_id, 0, STORE_PART_NUMBER_MAX, &pl) < 0)
        return 0;
    for (size_t i = 0; i < pl.n; i++)
        sum += pl.v[i].size;
    store_part_list_free(&pl);
    return sum;
}

void s3_op_mpu_abort(const struct s3_call *k)
{
    struct store_upload up;
    if (!s3_mpu_open(k, &up))
        return;
    int64_t held = upload_parts_bytes(k, up.id);
    int err = store_upload_abort(k->svc->store, up.id);
    if (err < 0) {
        s3_mpu_store_fail(k, err);
        goto out;
    }
    struct backend *be = s3_backend_named(k->svc, up.backend);
    if (be && (err = backend_mpu_abort(be, up.backend_key, up.backend_upload_id)) < 0)
        log_error("multipart abort on %s left parts behind: %s", be->name, strerror(-err));
    else
        placement_freed(k->svc->placement, up.backend, held);
    s3_respond_empty(k, 204);
out:
    store_upload_free(&up);
}
