/* CopyObject (S7): server-side on the backend when the source and destination share it, else streamed through
 * s3orch. The new version gets its own backend key, as a PUT's does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_access.h"
#include "s3/s3_copy.h"
#include "s3/s3_object.h"
#include "s3/s3_object_meta.h"
#include "s3/s3_xml.h"
#include "util/body_relay.h"
#include "util/log.h"

static void bad_source(const struct s3_call *k)
{
    s3_fail(k, 400, "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.");
}

/* "[/]bucket/key[?versionId=null]", the key percent-encoded. */
static bool parse_source(const struct http_str *h, struct s3_copy_source *src)
{
    const char *p = h->p, *end = h->p + h->n;
    if (p < end && *p == '/')
        p++;
    const char *q = memchr(p, '?', (size_t)(end - p));
    if (q) {
        if ((size_t)(end - q) != sizeof("?versionId=null") - 1 || memcmp(q, "?versionId=null", (size_t)(end - q)))
            return false;
        end = q;
    }
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (!slash || slash == p || (size_t)(slash - p) > S3_BUCKET_MAX)
        return false;
    ssize_t bn = s3_percent_decode(src->bucket, sizeof(src->bucket), p, (size_t)(slash - p), false);
    ssize_t kn = s3_percent_decode(src->key, sizeof(src->key), slash + 1, (size_t)(end - slash - 1), false);
    return bn > 0 && kn > 0 && s3_bucket_name_valid(src->bucket, (size_t)bn) && !memchr(src->key, 0, (size_t)kn);
}

bool s3_copy_source_open(const struct s3_call *k, struct s3_copy_source *src)
{
    *src = (struct s3_copy_source){0};
    const struct http_str *h = http_request_header(k->req, "x-amz-copy-source");
    if (!h || !parse_source(h, src)) {
        bad_source(k);
        return false;
    }
    int err = s3_bucket_access(k->svc, k->id, src->bucket, false);
    if (err < 0) {
        s3_access_fail(k, err);
        return false;
    }
    err = store_object_get(k->svc->store, src->bucket, src->key, &src->obj);
    if (err < 0) {
        s3_respond_object_error(k, err);
        return false;
    }
    if (s3_preconditions_check(k->req, &src->obj, "x-amz-copy-source-") != 0) {
        s3_fail(k, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
        store_object_free(&src->obj);
        return false;
    }
    return true;
}

/* --- streaming through s3orch ---------------------------------------------------------------------------- */

struct copy_get {
    struct backend *be;
    const char *bkey;
    int64_t off, len;
};

static int copy_get_run(struct body_sink *sink, void *arg)
{
    struct copy_get *g = arg;
    return backend_get(g->be, g->bkey, g->off, g->len, sink);
}

/* A source that hashes what passes through it. */
struct hashing_source {
    struct body_source src;
    struct body_source *inner;
    struct s3_md5 md5;
    struct s3_checksum ck;
    bool want_ck;
};

static ssize_t hashing_read(struct body_source *src, void *buf, size_t len)
{
    struct hashing_source *h = (struct hashing_source *)src;
    ssize_t n = body_source_read(h->inner, buf, len);
    if (n > 0) {
        s3_md5_update(&h->md5, buf, (size_t)n);
        if (h->want_ck)
            s3_checksum_update(&h->ck, buf, (size_t)n);
    }
    return n;
}

int s3_copy_stream(const struct s3_service *svc, const struct store_object *o, int64_t off, int64_t len,
                   s3_copy_put_fn put, void *arg, struct s3_copy_hashes *hashes)
{
    const struct store_copy *order[STORE_COPIES_MAX];
    size_t over;
    const struct store_copy *from = s3_copies_in_order(svc, o, len, order, &over) ? order[0] : NULL;
    struct backend *be = from ? s3_backend_named(svc, from->backend) : NULL;
    if (!be)
        return -EIO;
    struct copy_get get = {be, from->backend_key, off, len};
    struct body_relay relay;
    int err = body_relay_start(&relay, copy_get_run, &get, len);
    if (err < 0)
        return err;
    struct hashing_source h = {.src = {.read = hashing_read, .length = len}, .inner = &relay.src};
    s3_md5_init(&h.md5);
    h.want_ck = hashes->ck_alg != S3_CK_NONE && s3_checksum_init(&h.ck, hashes->ck_alg) == 0;
    err = put(&h.src, len, arg);
    int gerr = body_relay_finish(&relay);
    if (err == 0 && gerr < 0)
        err = gerr;
    if (err < 0) {
        log_error("copy of %s from %s: %s", from->backend_key, be->name, strerror(-err));
        return err;
    }
    s3_md5_final_hex(&h.md5, hashes->etag_hex);
    hashes->ck_b64[0] = 0;
    if (h.want_ck) {
        uint8_t raw[S3_CHECKSUM_MAX_SIZE];
        size_t n = s3_checksum_final(&h.ck, raw);
        s3_checksum_to_base64(raw, n, hashes->ck_b64, sizeof(hashes->ck_b64));
    }
    return 0;
}

/* --- CopyObject ------------------------------------------------------------------------------------------ */

struct copy_put {
    struct backend *be;
    const char *bkey;
};

static int copy_put_run(struct body_source *src, int64_t size, void *arg)
{
    struct copy_put *p = arg;
    return backend_put(p->be, p->bkey, src, size);
}

/* COPY (the default) or REPLACE; -1 for anything else. */
static int directive(const struct http_request *req, const char *name)
{
    const struct http_str *h = http_request_header(req, name);
    if (!h || http_str_eq_nocase(*h, "COPY"))
        return 0;
    return http_str_eq_nocase(*h, "REPLACE") ? 1 : -1;
}

static void copy_result(const struct s3_call *k, const struct store_object *o)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "CopyObjectResult", S3_XML_NS);
    s3_xml_element_time(&x, "LastModified", o->modified_ms);
    s3_xml_element(&x, "ETag", o->etag);
    if (o->checksum_algorithm && o->checksum_value) {
        char name[32];
        snprintf(name, sizeof(name), "Checksum%s", o->checksum_algorithm);
        s3_xml_element(&x, name, o->checksum_value);
        if (o->checksum_type)
            s3_xml_element(&x, "ChecksumType", o->checksum_type);
    }
    s3_xml_close(&x, "CopyObjectResult");
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}

void s3_op_copy_object(const struct s3_call *k)
{
    struct s3_copy_source src;
    struct s3_object_meta meta = {0};
    struct s3_meta_error merr;
    int64_t intent = 0;
    struct placement_slot slot = {0};
    char bkey[S3_BKEY_MAX];
    int meta_dir = directive(k->req, "x-amz-metadata-directive");
    int tag_dir = directive(k->req, "x-amz-tagging-directive");
    if (meta_dir < 0 || tag_dir < 0) {
        s3_fail(k, 400, "InvalidArgument", "Unknown metadata or tagging directive.");
        return;
    }
    if (!s3_copy_source_open(k, &src))
        return;
    const struct store_object *so = &src.obj;
    if (!s3_object_meta_from_headers(&meta, k->req, &merr)) {
        s3_fail(k, merr.status, merr.code, merr.message);
        goto out;
    }
    if (strcmp(src.bucket, k->r->bucket) == 0 && strcmp(src.key, k->r->key) == 0 && !meta_dir &&
        !meta.storage_class) {
        s3_fail(k, 400, "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes.");
        goto out;
    }
    if (so->size > k->svc->cfg->server.max_object_size) {
        s3_fail(k, 400, "InvalidRequest", "The specified copy source is larger than the maximum allowable size "
                                          "for a copy source.");
        goto out;
    }

    struct store_object obj = *so;
    obj.part_sizes = NULL; /* a copy is written whole: it has no parts of its own */
    obj.n_parts = 0;
    obj.bucket = k->r->bucket;
    obj.key = k->r->key;
    obj.modified_ms = 0;
    obj.mem = NULL;
    if (meta_dir) {
        const char *tagging = obj.tagging;
        s3_object_meta_apply(&meta, &obj);
        obj.tagging = tagging;
    } else if (meta.storage_class) {
        obj.storage_class = meta.storage_class;
    }
    if (tag_dir)
        obj.tagging = meta.tagging;

    /* The source's own backend when it has room (a server-side copy: the bytes never move), else by the routing
     * strategy. */
    int err = so->n_copies && !placement_is_draining(k->svc->placement, so->copies[0].backend)
                  ? placement_reserve_on(k->svc->placement, so->copies[0].backend, so->size, &slot)
                  : -ENOSPC;
    if (err < 0)
        err = placement_reserve(k->svc->placement, so->size, 0, &slot);
    if (err < 0) {
        s3_respond_no_room(k, err);
        goto out;
    }
    struct backend *be = slot.backend;
    s3_backend_key_new(bkey, k->r->bucket, k->r->key);
    err = store_intent_create(k->svc->store,
                                  &(struct store_intent){.bucket = k->r->bucket, .key = k->r->key,
                                                         .backend = be->name, .backend_key = bkey, .size = so->size},
                                  &intent);
    if (err < 0) {
        s3_respond_store_error(k, err);
        goto out;
    }
    err = -ENOTSUP;
    if (so->n_copies && strcmp(so->copies[0].backend, be->name) == 0)
        err = backend_copy(be, so->copies[0].backend_key, bkey);
    if (err == -ENOTSUP) {
        struct s3_copy_hashes h = {.ck_alg = S3_CK_NONE};
        err = s3_copy_stream(k->svc, so, 0, so->size, copy_put_run, &(struct copy_put){be, bkey}, &h);
    }
    if (err < 0) {
        store_intent_drop(k->svc->store, intent, NULL, NULL);
        if (err == -ENOENT)
            s3_fail(k, 404, "NoSuchKey", "The specified key does not exist.");
        else
            s3_respond_backend_error(k, err);
        goto out;
    }
    obj.copies = &(struct store_copy){.backend = be->name, .backend_key = bkey, .size = so->size};
    obj.n_copies = 1;
    struct store_cleanup_list displaced = {0};
    if (s3_object_commit(k, intent, &obj, NULL, &displaced) < 0) {
        backend_del(be, bkey);
        store_intent_drop(k->svc->store, intent, NULL, NULL);
        goto out;
    }
    placement_commit(k->svc->placement, &slot, so->size);
    struct store_object now;
    if (store_object_get(k->svc->store, k->r->bucket, k->r->key, &now) == 0) {
        copy_result(k, &now);
        store_object_free(&now);
    } else {
        copy_result(k, &obj);
    }
    s3_delete_displaced(k->svc, &displaced);
out:
    placement_release(k->svc->placement, &slot);
    s3_object_meta_free(&meta);
    store_object_free(&src.obj);
}
