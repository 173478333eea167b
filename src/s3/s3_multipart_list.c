/* ListParts and ListMultipartUploads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_multipart.h"
#include "s3/s3_xml.h"

enum { LIST_MAX = 1000 };

/* A non-negative integer query parameter, capped at `cap`; `def` when absent. false after answering. */
static bool query_count(const struct s3_call *k, const char *name, long def, long cap, long *out)
{
    char v[24];
    int err = s3_query_get(k->r->query, name, v, sizeof(v));
    *out = def;
    if (err == -ENOENT)
        return true;
    char *end;
    errno = 0;
    long n = err == 0 ? strtol(v, &end, 10) : -1;
    if (err < 0 || !v[0] || *end || errno || n < 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Provided %s not an integer or within integer range", name);
        s3_fail(k, 400, "InvalidArgument", msg);
        return false;
    }
    *out = n > cap ? cap : n;
    return true;
}

void s3_op_mpu_list_parts(const struct s3_call *k)
{
    struct store_upload up;
    struct store_part_list l = {0};
    long marker, max;
    if (!query_count(k, "part-number-marker", 0, STORE_PART_NUMBER_MAX, &marker) ||
        !query_count(k, "max-parts", LIST_MAX, LIST_MAX, &max) || !s3_mpu_open(k, &up))
        return;
    struct s3_xml x;
    s3_xml_init(&x);
    int err = max ? store_parts_list(k->svc->store, up.id, (int)marker, (size_t)max, &l) : 0;
    if (err < 0) {
        s3_mpu_store_fail(k, err);
        goto out;
    }
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "ListPartsResult", S3_XML_NS);
    s3_xml_element(&x, "Bucket", up.obj.bucket);
    s3_xml_element(&x, "Key", up.obj.key);
    s3_xml_element(&x, "UploadId", up.id);
    s3_xml_person(&x, "Initiator", up.owner);
    s3_xml_person(&x, "Owner", up.owner);
    s3_xml_element(&x, "StorageClass", up.obj.storage_class ? up.obj.storage_class : "STANDARD");
    s3_xml_element_int(&x, "PartNumberMarker", marker);
    if (l.n)
        s3_xml_element_int(&x, "NextPartNumberMarker", l.v[l.n - 1].number);
    s3_xml_element_int(&x, "MaxParts", max);
    s3_xml_element_bool(&x, "IsTruncated", l.truncated);
    if (up.obj.checksum_algorithm) {
        s3_xml_element(&x, "ChecksumAlgorithm", up.obj.checksum_algorithm);
        s3_xml_element(&x, "ChecksumType", up.obj.checksum_type);
    }
    for (size_t i = 0; i < l.n; i++) {
        const struct store_part *p = &l.v[i];
        s3_xml_open(&x, "Part");
        s3_xml_element_int(&x, "PartNumber", p->number);
        s3_xml_element_time(&x, "LastModified", p->modified_ms);
        s3_xml_element(&x, "ETag", p->etag);
        s3_xml_element_int(&x, "Size", p->size);
        if (p->checksum_value && up.obj.checksum_algorithm) {
            char name[32];
            snprintf(name, sizeof(name), "Checksum%s", up.obj.checksum_algorithm);
            s3_xml_element(&x, name, p->checksum_value);
        }
        s3_xml_close(&x, "Part");
    }
    s3_xml_close(&x, "ListPartsResult");
    s3_respond_xml(k, &x);
out:
    s3_xml_free(&x);
    store_part_list_free(&l);
    store_upload_free(&up);
}

struct uploads_params {
    char prefix[S3_KEY_MAX + 1], delimiter[S3_KEY_MAX + 1], key_marker[S3_KEY_MAX + 1];
    char id_marker[STORE_UPLOAD_ID_MAX + 1], encoding[16];
    long max;
};

static bool query_text(const struct s3_call *k, const char *name, char *dst, size_t cap)
{
    int err = s3_query_get(k->r->query, name, dst, cap);
    if (err == -ENOENT) {
        dst[0] = 0;
        return true;
    }
    if (err == 0)
        return true;
    char msg[96];
    snprintf(msg, sizeof(msg), "Invalid value for %s.", name);
    s3_fail(k, 400, "InvalidArgument", msg);
    return false;
}

void s3_op_mpu_list_uploads(const struct s3_call *k)
{
    struct uploads_params *p = calloc(1, sizeof(*p));
    struct store_upload_list l = {0};
    struct s3_xml x;
    s3_xml_init(&x);
    if (!p) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    if (!query_text(k, "prefix", p->prefix, sizeof(p->prefix)) ||
        !query_text(k, "delimiter", p->delimiter, sizeof(p->delimiter)) ||
        !query_text(k, "key-marker", p->key_marker, sizeof(p->key_marker)) ||
        !query_text(k, "upload-id-marker", p->id_marker, sizeof(p->id_marker)) ||
        !query_text(k, "encoding-type", p->encoding, sizeof(p->encoding)) ||
        !query_count(k, "max-uploads", LIST_MAX, LIST_MAX, &p->max))
        goto out;
    if (p->encoding[0] && strcmp(p->encoding, "url") != 0) {
        s3_fail(k, 400, "InvalidArgument", "Invalid Encoding Method specified in Request");
        goto out;
    }
    bool url = p->encoding[0] != 0;
    int err = store_uploads_list(k->svc->store,
                                 &(struct store_upload_query){.bucket = k->r->bucket,
                                                              .prefix = p->prefix,
                                                              .delimiter = p->delimiter,
                                                              .key_marker = p->key_marker,
                                                              .upload_id_marker = p->key_marker[0] ? p->id_marker
                                                                                                   : NULL,
                                                              .max_uploads = (size_t)p->max},
                                 &l);
    if (err < 0) {
        s3_respond_store_error(k, err);
        goto out;
    }
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "ListMultipartUploadsResult", S3_XML_NS);
    s3_xml_element(&x, "Bucket", k->r->bucket);
    s3_xml_element_key(&x, "KeyMarker", p->key_marker, url);
    s3_xml_element(&x, "UploadIdMarker", p->id_marker);
    if (l.truncated) {
        s3_xml_element_key(&x, "NextKeyMarker", l.next_key_marker ? l.next_key_marker : "", url);
        s3_xml_element(&x, "NextUploadIdMarker", l.next_upload_id_marker ? l.next_upload_id_marker : "");
    }
    if (p->delimiter[0])
        s3_xml_element_key(&x, "Delimiter", p->delimiter, url);
    s3_xml_element_key(&x, "Prefix", p->prefix, url);
    if (url)
        s3_xml_element(&x, "EncodingType", "url");
    s3_xml_element_int(&x, "MaxUploads", p->max);
    s3_xml_element_bool(&x, "IsTruncated", l.truncated);
    for (size_t i = 0; i < l.n; i++) {
        const struct store_upload *u = &l.v[i];
        s3_xml_open(&x, "Upload");
        s3_xml_element_key(&x, "Key", u->obj.key, url);
        s3_xml_element(&x, "UploadId", u->id);
        s3_xml_person(&x, "Initiator", u->owner);
        s3_xml_person(&x, "Owner", u->owner);
        s3_xml_element(&x, "StorageClass", u->obj.storage_class ? u->obj.storage_class : "STANDARD");
        s3_xml_element_time(&x, "Initiated", u->created_ms);
        if (u->obj.checksum_algorithm) {
            s3_xml_element(&x, "ChecksumAlgorithm", u->obj.checksum_algorithm);
            s3_xml_element(&x, "ChecksumType", u->obj.checksum_type);
        }
        s3_xml_close(&x, "Upload");
    }
    for (size_t i = 0; i < l.n_prefixes; i++) {
        s3_xml_open(&x, "CommonPrefixes");
        s3_xml_element_key(&x, "Prefix", l.prefixes[i], url);
        s3_xml_close(&x, "CommonPrefixes");
    }
    s3_xml_close(&x, "ListMultipartUploadsResult");
    s3_respond_xml(k, &x);
out:
    s3_xml_free(&x);
    store_upload_list_free(&l);
    free(p);
}
