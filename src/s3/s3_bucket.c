/* Bucket operations: ListBuckets, HeadBucket, GetBucketLocation, GetBucketVersioning (a stub: our buckets are
 * unversioned), and CreateBucket / DeleteBucket for credentials with create_buckets (S13). Buckets declared in the
 * config always exist and cannot be deleted through the API; created ones live in the store, owned by the access
 * key that created them. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3/s3_access.h"
#include "s3/s3_ops.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"

/* Config buckets have no creation time of their own: they show the time this process first listed them. */
static int64_t config_bucket_created_ms(void)
{
    static _Atomic int64_t first;
    int64_t v = atomic_load(&first);
    if (!v) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000;
        atomic_compare_exchange_strong(&first, &v, now);
        v = atomic_load(&first);
    }
    return v;
}

static void xml_bucket(struct s3_xml *x, const char *name, int64_t created_ms)
{
    s3_xml_open(x, "Bucket");
    s3_xml_element(x, "Name", name);
    s3_xml_element_time(x, "CreationDate", created_ms);
    s3_xml_element(x, "BucketRegion", "us-east-1");
    s3_xml_close(x, "Bucket");
}

void s3_op_list_buckets(const struct s3_call *k)
{
    struct store_bucket_list owned = {0};
    int err = store_bucket_list(k->svc->store, &owned);
    if (err < 0) {
        s3_respond_store_error(k, err);
        return;
    }
    /* The credential's config bucket, then the ones it created, all in name order. */
    const char *own = k->id->bucket->name;
    bool own_listed = false;
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "ListAllMyBucketsResult", S3_XML_NS);
    s3_xml_person(&x, "Owner", k->id->cred->access_key_id);
    s3_xml_open(&x, "Buckets");
    for (size_t i = 0; i <= owned.n; i++) {
        const struct store_bucket *b = i < owned.n ? &owned.v[i] : NULL;
        if (!own_listed && (!b || strcmp(own, b->name) < 0)) {
            xml_bucket(&x, own, config_bucket_created_ms());
            own_listed = true;
        }
        if (b && strcmp(b->owner, k->id->cred->access_key_id) == 0)
            xml_bucket(&x, b->name, b->created_ms);
    }
    s3_xml_close(&x, "Buckets");
    s3_xml_close(&x, "ListAllMyBucketsResult");
    store_bucket_list_free(&owned);
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}

void s3_op_head_bucket(const struct s3_call *k)
{
    struct http_resp resp;
    http_resp_init(&resp, 200);
    http_resp_header(&resp, "x-amz-bucket-region", "us-east-1");
    http_respond(k->c, &resp, NULL, 0);
}

void s3_op_bucket_location(const struct s3_call *k)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "LocationConstraint", S3_XML_NS); /* empty: us-east-1 */
    s3_xml_close(&x, "LocationConstraint");
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}

void s3_op_bucket_versioning(const struct s3_call *k)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "VersioningConfiguration", S3_XML_NS);
    s3_xml_close(&x, "VersioningConfiguration");
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}

static bool may_manage_buckets(const struct s3_call *k)
{
    if (k->id->cred->create_buckets && k->id->cred->permission == CONFIG_PERM_READ_WRITE)
        return true;
    s3_fail(k, 403, "AccessDenied", "This credential may not create or delete buckets.");
    return false;
}

static void bucket_exists(const struct s3_call *k, bool ours)
{
    if (ours)
        s3_fail(k, 409, "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.");
    else
        s3_fail(k, 409, "BucketAlreadyExists",
                "The requested bucket name is not available. Please select a different name and try again.");
}

void s3_op_create_bucket(const struct s3_call *k)
{
    const char *name = k->r->bucket;
    if (!may_manage_buckets(k))
        return;
    char *body = NULL;
    size_t len = 0;
    char location[64];
    if (s3_body_read_small(k, S3_BUCKET_CONFIG_BODY_MAX, 0, &body, &len) < 0)
        return;
    enum s3_xml_parse_err perr = s3_xml_parse_create_bucket(body, len, location, sizeof(location));
    free(body);
    if (perr != S3_XML_OK) {
        s3_fail(k, s3_xml_parse_status(perr), s3_xml_parse_code(perr), s3_xml_parse_message(perr));
        return;
    }
    if (s3_config_bucket_find(k->svc->cfg, name)) {
        bucket_exists(k, strcmp(k->id->bucket->name, name) == 0);
        return;
    }
    int err = store_bucket_create(k->svc->store, name, k->id->cred->access_key_id);
    if (err == -EEXIST) {
        struct store_bucket b;
        err = store_bucket_get(k->svc->store, name, &b);
        if (err == 0) {
            bucket_exists(k, strcmp(b.owner, k->id->cred->access_key_id) == 0);
            return;
        }
    }
    if (err < 0) {
        s3_respond_store_error(k, err);
        return;
    }
    struct http_resp resp;
    http_resp_init(&resp, 200);
    http_resp_headerf(&resp, "Location", "/%s", name);
    http_respond(k->c, &resp, NULL, 0);
}

void s3_op_delete_bucket(const struct s3_call *k)
{
    const char *name = k->r->bucket;
    int err = s3_bucket_access(k->svc, k->id, name, true);
    if (err < 0) {
        s3_access_fail(k, err);
        return;
    }
    if (s3_config_bucket_find(k->svc->cfg, name)) {
        s3_fail(k, 403, "AccessDenied", "A bucket declared in the configuration cannot be deleted.");
        return;
    }
    if (!may_manage_buckets(k))
        return;
    err = store_bucket_delete(k->svc->store, name);
    if (err == -ENOTEMPTY) {
        s3_fail(k, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
        return;
    }
    if (err == -ENOENT) {
        s3_fail(k, 404, "NoSuchBucket", "The specified bucket does not exist");
        return;
    }
    if (err < 0) {
        s3_respond_store_error(k, err);
        return;
    }
    s3_respond_empty(k, 204);
}
