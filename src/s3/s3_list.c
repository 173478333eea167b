/* ListObjectsV2, ListObjects (V1) and ListObjectVersions (every object one version, "null"), served from the
 * store's index: a delimiter listing seeks past each common prefix instead of reading the keys under it (S8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "s3/s3_checksum.h"
#include "s3/s3_ops.h"
#include "s3/s3_xml.h"

enum list_kind { LIST_V1, LIST_V2, LIST_VERSIONS };

enum { LIST_MAX_KEYS = 1000, TOKEN_MAX = 4 * (S3_KEY_MAX + 2) / 3 + 8 };

struct list_params {
    enum list_kind kind;
    char prefix[S3_KEY_MAX + 1];
    char delimiter[S3_KEY_MAX + 1];
    char marker[S3_KEY_MAX + 1];       /* V1 marker, V2 start-after, versions key-marker */
    char token[TOKEN_MAX + 1];         /* V2 continuation-token as sent */
    char version_marker[64];           /* versions: version-id-marker as sent */
    char start[S3_KEY_MAX + 1];        /* where the listing starts: the marker or the decoded token */
    bool has_token, url, fetch_owner;
    long max_keys;
};

static void invalid_argument(const struct s3_call *k, const char *message)
{
    s3_fail(k, 400, "InvalidArgument", message);
}

/* A continuation token is opaque to clients: base64 of a version byte and the key to continue after. */
static void token_encode(const char *start_after, char out[TOKEN_MAX + 1])
{
    uint8_t raw[S3_KEY_MAX + 2];
    size_t n = strlen(start_after);
    raw[0] = '1';
    memcpy(raw + 1, start_after, n);
    word32 len = TOKEN_MAX;
    if (Base64_Encode_NoNl(raw, (word32)n + 1, (byte *)out, &len) != 0)
        len = 0;
    out[len] = 0;
}

static bool token_decode(const char *token, char out[S3_KEY_MAX + 1])
{
    uint8_t raw[S3_KEY_MAX + 2];
    word32 len = sizeof(raw);
    size_t n = strlen(token);
    if (n == 0 || n > TOKEN_MAX || Base64_Decode((const byte *)token, (word32)n, raw, &len) != 0 || len < 1 ||
        raw[0] != '1' || memchr(raw + 1, 0, len - 1))
        return false;
    memcpy(out, raw + 1, len - 1);
    out[len - 1] = 0;
    return true;
}

static bool query_string(const struct s3_call *k, const char *name, char *dst, size_t cap)
{
    int err = s3_query_get(k->r->query, name, dst, cap);
    if (err == -ENOENT)
        dst[0] = 0;
    else if (err < 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Invalid value for %s.", name);
        invalid_argument(k, msg);
        return false;
    }
    return true;
}

static bool parse_params(const struct s3_call *k, enum list_kind kind, struct list_params *p)
{
    char max[24], enc[16], owner[16];
    p->kind = kind;
    p->max_keys = LIST_MAX_KEYS;
    if (!query_string(k, "prefix", p->prefix, sizeof(p->prefix)) ||
        !query_string(k, "delimiter", p->delimiter, sizeof(p->delimiter)) ||
        !query_string(k, "max-keys", max, sizeof(max)) || !query_string(k, "encoding-type", enc, sizeof(enc)))
        return false;
    if (kind == LIST_V1 && !query_string(k, "marker", p->marker, sizeof(p->marker)))
        return false;
    if (kind == LIST_VERSIONS && (!query_string(k, "key-marker", p->marker, sizeof(p->marker)) ||
                                  !query_string(k, "version-id-marker", p->version_marker,
                                                sizeof(p->version_marker))))
        return false;
    if (kind == LIST_V2) {
        if (!query_string(k, "start-after", p->marker, sizeof(p->marker)) ||
            !query_string(k, "continuation-token", p->token, sizeof(p->token)) ||
            !query_string(k, "fetch-owner", owner, sizeof(owner)))
            return false;
        p->has_token = s3_query_has(k->r->query, "continuation-token");
        p->fetch_owner = strcmp(owner, "true") == 0;
    }
    if (max[0] || s3_query_has(k->r->query, "max-keys")) {
        char *end;
        errno = 0;
        long v = strtol(max, &end, 10);
        if (!max[0] || *end || errno || v < 0) {
            invalid_argument(k, "Provided max-keys not an integer or within integer range");
            return false;
        }
        p->max_keys = v > LIST_MAX_KEYS ? LIST_MAX_KEYS : v;
    }
    if (enc[0] && strcmp(enc, "url") != 0) {
        invalid_argument(k, "Invalid Encoding Method specified in Request");
        return false;
    }
    p->url = enc[0] != 0;
    if (p->has_token) {
        if (!token_decode(p->token, p->start)) {
            invalid_argument(k, "The continuation token provided is incorrect");
            return false;
        }
    } else {
        strcpy(p->start, p->marker);
    }
    return true;
}

static void xml_entry(struct s3_xml *x, const struct list_params *p, const struct store_list_entry *e,
                      const char *owner)
{
    s3_xml_open(x, p->kind == LIST_VERSIONS ? "Version" : "Contents");
    s3_xml_element_key(x, "Key", e->key, p->url);
    if (p->kind == LIST_VERSIONS) {
        s3_xml_element(x, "VersionId", "null");
        s3_xml_element(x, "IsLatest", "true");
    }
    s3_xml_element_time(x, "LastModified", e->modified_ms);
    s3_xml_element(x, "ETag", e->etag);
    if (e->checksum_algorithm) {
        s3_xml_element(x, "ChecksumAlgorithm", e->checksum_algorithm);
        if (e->checksum_type)
            s3_xml_element(x, "ChecksumType", e->checksum_type);
    }
    s3_xml_element_int(x, "Size", e->size);
    if (owner)
        s3_xml_person(x, "Owner", owner);
    s3_xml_element(x, "StorageClass", e->storage_class ? e->storage_class : "STANDARD");
    s3_xml_close(x, p->kind == LIST_VERSIONS ? "Version" : "Contents");
}

static void list(const struct s3_call *k, enum list_kind kind)
{
    struct list_params *p = calloc(1, sizeof(*p));
    struct store_list l = {0};
    struct s3_xml x;
    s3_xml_init(&x);
    if (!p) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    if (!parse_params(k, kind, p))
        goto out;
    int err = store_list_objects(k->svc->store,
                                 &(struct store_list_query){.bucket = k->r->bucket, .prefix = p->prefix,
                                                            .delimiter = p->delimiter, .start_after = p->start,
                                                            .max_keys = (size_t)p->max_keys},
                                 &l);
    if (err < 0) {
        s3_respond_store_error(k, err);
        goto out;
    }

    static const char *const roots[] = {"ListBucketResult", "ListBucketResult", "ListVersionsResult"};
    const char *owner = kind != LIST_V2 || p->fetch_owner ? k->id->cred->access_key_id : NULL;
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, roots[kind], S3_XML_NS);
    s3_xml_element(&x, "Name", k->r->bucket);
    s3_xml_element_key(&x, "Prefix", p->prefix, p->url);
    if (kind == LIST_V1)
        s3_xml_element_key(&x, "Marker", p->marker, p->url);
    if (kind == LIST_VERSIONS) {
        s3_xml_element_key(&x, "KeyMarker", p->marker, p->url);
        s3_xml_element(&x, "VersionIdMarker", p->version_marker);
    }
    if (kind == LIST_V2)
        s3_xml_element_int(&x, "KeyCount", (int64_t)(l.n_entries + l.n_prefixes));
    s3_xml_element_int(&x, "MaxKeys", p->max_keys);
    if (p->delimiter[0])
        s3_xml_element_key(&x, "Delimiter", p->delimiter, p->url);
    if (p->url)
        s3_xml_element(&x, "EncodingType", "url");
    s3_xml_element_bool(&x, "IsTruncated", l.truncated);
    if (l.truncated && l.next_marker) {
        if (kind == LIST_V1)
            s3_xml_element_key(&x, "NextMarker", l.next_marker, p->url);
        if (kind == LIST_VERSIONS) {
            s3_xml_element_key(&x, "NextKeyMarker", l.next_marker, p->url);
            s3_xml_element(&x, "NextVersionIdMarker", "null");
        }
    }
    if (kind == LIST_V2) {
        if (p->has_token)
            s3_xml_element(&x, "ContinuationToken", p->token);
        if (l.truncated && l.next_marker) {
            char next[TOKEN_MAX + 1];
            token_encode(l.next_marker, next);
            s3_xml_element(&x, "NextContinuationToken", next);
        }
        if (p->marker[0])
            s3_xml_element_key(&x, "StartAfter", p->marker, p->url);
    }
    for (size_t i = 0; i < l.n_entries; i++)
        xml_entry(&x, p, &l.entries[i], owner);
    for (size_t i = 0; i < l.n_prefixes; i++) {
        s3_xml_open(&x, "CommonPrefixes");
        s3_xml_element_key(&x, "Prefix", l.prefixes[i], p->url);
        s3_xml_close(&x, "CommonPrefixes");
    }
    s3_xml_close(&x, roots[kind]);
    s3_respond_xml(k, &x);
out:
    s3_xml_free(&x);
    store_list_free(&l);
    free(p);
}

void s3_op_list_objects(const struct s3_call *k)
{
    char v[8];
    if (s3_query_get(k->r->query, "list-type", v, sizeof(v)) == 0) {
        if (strcmp(v, "2") != 0) {
            invalid_argument(k, "Invalid list-type.");
            return;
        }
        list(k, LIST_V2);
        return;
    }
    list(k, LIST_V1);
}

void s3_op_list_object_versions(const struct s3_call *k) { list(k, LIST_VERSIONS); }
