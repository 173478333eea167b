/* One walk per body (util/xml_walk.h), steered by a table per request type: each element it knows names its
 * parent, whether it holds text (and how many bytes), whether it must appear and whether it may repeat. An element
 * the table does not know is skipped with all it holds, as S3 skips it. The hooks here return enum
 * s3_xml_parse_err values, which the walk hands back as they are. */
#include "s3/s3_xml_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3/s3_request.h"
#include "s3/s3_sigv4.h"
#include "util/xml_walk.h"

enum {
    XP_TEXT_MAX = 1024, /* the most text any element here holds: a key, an ETag, a tag value of 4-byte characters */
    XP_SMALL_MAX = 64,  /* numbers, booleans and checksums, with room for a pretty-printer's indentation */
    XP_PART_MAX = 10000,
};

_Static_assert(S3_KEY_MAX <= XP_TEXT_MAX && 4 * S3_TAG_VALUE_MAX <= XP_TEXT_MAX, "a key and a tag value fit");
_Static_assert(S3_XML_PARSE_DEPTH == XML_WALK_DEPTH, "the depth the header promises is the walk's");
_Static_assert(S3_XML_OK == 0, "the walk goes on at 0");

static enum s3_xml_parse_err xp_parse(const struct xml_walk_type *type, void *out, const char *body, size_t len)
{
    return (enum s3_xml_parse_err)xml_walk(type, out, body, len);
}

static char *xp_strdup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Room for one more of `size` bytes after n in arr, which has room for *alloc; NULL when out of memory (arr is
 * then untouched). */
static void *xp_grow(void *arr, size_t *alloc, size_t n, size_t size)
{
    if (n < *alloc)
        return arr;
    size_t want = *alloc ? 2 * *alloc : 16;
    void *p = realloc(arr, want * size);
    if (p)
        *alloc = want;
    return p;
}

/* ---- errors ---- */

static const struct {
    int status;
    const char *code;
    const char *message;
} xml_errors[] = {
    [S3_XML_OK] = { 200, "", "" },
    [S3_XML_MALFORMED] = { 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against our published "
                           "schema" },
    [S3_XML_TOO_LARGE] = { 400, "MalformedXML", "The XML you provided was larger than this request accepts" },
    [S3_XML_INVALID_TAG] = { 400, "InvalidTag",
                             "The tag provided was not a valid tag. This error can occur if the tag did not pass "
                             "input validation." },
    [S3_XML_TOO_MANY_TAGS] = { 400, "BadRequest", "Object tags cannot be greater than 10" },
    [S3_XML_INVALID_PART] = { 400, "InvalidPart", "Part number must be an integer between 1 and 10000, inclusive" },
    [S3_XML_INVALID_ORDER] = { 400, "InvalidPartOrder",
                               "The list of parts was not in ascending order. Parts must be ordered by part "
                               "number." },
    [S3_XML_NOMEM] = { 500, "InternalError", "We encountered an internal error. Please try again." },
};

static bool err_known(enum s3_xml_parse_err err)
{
    return (unsigned)err < sizeof(xml_errors) / sizeof(xml_errors[0]);
}

int s3_xml_parse_status(enum s3_xml_parse_err err)
{
    return err_known(err) ? xml_errors[err].status : 500;
}

const char *s3_xml_parse_code(enum s3_xml_parse_err err)
{
    return err_known(err) ? xml_errors[err].code : "InternalError";
}

const char *s3_xml_parse_message(enum s3_xml_parse_err err)
{
    return err_known(err) ? xml_errors[err].message : xml_errors[S3_XML_NOMEM].message;
}

/* ---- DeleteObjects ---- */

enum { DEL_ROOT, DEL_QUIET, DEL_OBJECT, DEL_KEY, DEL_VERSION_ID, DEL_NODES };

static const struct xml_walk_node delete_nodes[DEL_NODES] = {
    [DEL_ROOT] = { "Delete", -1, 0, 0, S3_XML_MALFORMED },
    [DEL_QUIET] = { "Quiet", DEL_ROOT, XW_ONCE | XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
    [DEL_OBJECT] = { "Object", DEL_ROOT, XW_REQUIRED, 0, S3_XML_MALFORMED },
    [DEL_KEY] = { "Key", DEL_OBJECT, XW_REQUIRED | XW_ONCE, S3_KEY_MAX, S3_XML_MALFORMED },
    [DEL_VERSION_ID] = { "VersionId", DEL_OBJECT, XW_ONCE, XP_TEXT_MAX, S3_XML_MALFORMED },
};

struct delete_state {
    struct s3_delete_request *r;
    size_t alloc;
};

static int delete_start(void *out, int node)
{
    struct delete_state *st = out;
    struct s3_delete_request *r = st->r;
    if (node != DEL_OBJECT)
        return S3_XML_OK;
    if (r->n == S3_DELETE_MAX_KEYS)
        return S3_XML_MALFORMED;
    struct s3_delete_object *objects = xp_grow(r->objects, &st->alloc, r->n, sizeof(*objects));
    if (!objects)
        return S3_XML_NOMEM;
    r->objects = objects;
    r->objects[r->n++] = (struct s3_delete_object){ 0 };
    return S3_XML_OK;
}

/* S3 takes "true" in any case; anything but true or false is not a boolean. */
static enum s3_xml_parse_err parse_bool(const char *text, size_t len, bool *out)
{
    if (len == 4 && strncasecmp(text, "true", 4) == 0)
        *out = true;
    else if (len == 5 && strncasecmp(text, "false", 5) == 0)
        *out = false;
    else
        return S3_XML_MALFORMED;
    return S3_XML_OK;
}

static int delete_end(void *out, int node, const char *text, size_t len)
{
    struct s3_delete_request *r = ((struct delete_state *)out)->r;
    struct s3_delete_object *o = r->n ? &r->objects[r->n - 1] : NULL;
    switch (node) {
    case DEL_QUIET:
        return parse_bool(text, len, &r->quiet);
    case DEL_KEY:
        o->key = xp_strdup(text, len);
        o->key_len = len;
        return o->key ? S3_XML_OK : S3_XML_NOMEM;
    case DEL_VERSION_ID:
        o->version_id = xp_strdup(text, len);
        return o->version_id ? S3_XML_OK : S3_XML_NOMEM;
    default:
        return S3_XML_OK;
    }
}

static const struct xml_walk_type delete_type = {
    .nodes = delete_nodes, .nnodes = DEL_NODES, .body_max = S3_DELETE_BODY_MAX,
    .malformed = S3_XML_MALFORMED, .too_large = S3_XML_TOO_LARGE, .nomem = S3_XML_NOMEM,
    .start = delete_start, .end = delete_end,
};

enum s3_xml_parse_err s3_xml_parse_delete(const char *body, size_t len, struct s3_delete_request *out)
{
    memset(out, 0, sizeof(*out));
    struct delete_state st = { .r = out };
    enum s3_xml_parse_err err = xp_parse(&delete_type, &st, body, len);
    if (err != S3_XML_OK)
        s3_delete_request_free(out);
    return err;
}

void s3_delete_request_free(struct s3_delete_request *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->objects[i].key);
        free(r->objects[i].version_id);
    }
    free(r->objects);
    memset(r, 0, sizeof(*r));
}

/* ---- CompleteMultipartUpload ---- */

enum { CMP_ROOT, CMP_PART, CMP_NUMBER, CMP_ETAG, CMP_CRC32, CMP_CRC32C, CMP_CRC64NVME, CMP_SHA1, CMP_SHA256,
       CMP_NODES };

static const struct xml_walk_node complete_nodes[CMP_NODES] = {
    [CMP_ROOT] = { "CompleteMultipartUpload", -1, 0, 0, S3_XML_MALFORMED },
    [CMP_PART] = { "Part", CMP_ROOT, XW_REQUIRED, 0, S3_XML_MALFORMED },
    [CMP_NUMBER] = { "PartNumber", CMP_PART, XW_REQUIRED | XW_ONCE | XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
    [CMP_ETAG] = { "ETag", CMP_PART, XW_REQUIRED | XW_ONCE | XW_TRIM, XP_TEXT_MAX, S3_XML_MALFORMED },
    [CMP_CRC32] = { "ChecksumCRC32", CMP_PART, XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
    [CMP_CRC32C] = { "ChecksumCRC32C", CMP_PART, XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
    [CMP_CRC64NVME] = { "ChecksumCRC64NVME", CMP_PART, XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
    [CMP_SHA1] = { "ChecksumSHA1", CMP_PART, XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
    [CMP_SHA256] = { "ChecksumSHA256", CMP_PART, XW_TRIM, XP_SMALL_MAX, S3_XML_MALFORMED },
};

static const enum s3_checksum_alg complete_alg[CMP_NODES] = {
    [CMP_CRC32] = S3_CK_CRC32, [CMP_CRC32C] = S3_CK_CRC32C, [CMP_CRC64NVME] = S3_CK_CRC64NVME,
    [CMP_SHA1] = S3_CK_SHA1,   [CMP_SHA256] = S3_CK_SHA256,
};

struct complete_state {
    struct s3_complete_request *r;
    size_t alloc;
};

static int complete_start(void *out, int node)
{
    struct complete_state *st = out;
    struct s3_complete_request *r = st->r;
    if (node != CMP_PART)
        return S3_XML_OK;
    if (r->n == XP_PART_MAX)
        return S3_XML_MALFORMED;
    struct s3_complete_part *parts = xp_grow(r->parts, &st->alloc, r->n, sizeof(*parts));
    if (!parts)
        return S3_XML_NOMEM;
    r->parts = parts;
    r->parts[r->n++] = (struct s3_complete_part){ .checksum_alg = S3_CK_NONE };
    return S3_XML_OK;
}

/* A decimal number, sign allowed, is a part number or out of range; anything else is not a number. */
static enum s3_xml_parse_err parse_part_number(const char *text, size_t len, int *out)
{
    bool negative = len && text[0] == '-';
    size_t i = len && (text[0] == '-' || text[0] == '+');
    if (i == len)
        return S3_XML_MALFORMED;
    long v = 0;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return S3_XML_MALFORMED;
        if (v <= XP_PART_MAX) /* saturates: more digits only matter as "too big" */
            v = v * 10 + (text[i] - '0');
    }
    if (negative || v < 1 || v > XP_PART_MAX)
        return S3_XML_INVALID_PART;
    *out = (int)v;
    return S3_XML_OK;
}

static int complete_end(void *out, int node, const char *text, size_t len)
{
    struct s3_complete_request *r = ((struct complete_state *)out)->r;
    struct s3_complete_part *p = r->n ? &r->parts[r->n - 1] : NULL;
    if (complete_alg[node] != S3_CK_NONE) {
        if (p->checksum)
            return S3_XML_MALFORMED;
        p->checksum_alg = complete_alg[node];
        p->checksum = xp_strdup(text, len);
        return p->checksum ? S3_XML_OK : S3_XML_NOMEM;
    }
    switch (node) {
    case CMP_NUMBER:
        return parse_part_number(text, len, &p->number);
    case CMP_ETAG:
        p->etag = xp_strdup(text, len);
        return p->etag ? S3_XML_OK : S3_XML_NOMEM;
    case CMP_PART:
        return r->n > 1 && p[-1].number >= p->number ? S3_XML_INVALID_ORDER : S3_XML_OK;
    default:
        return S3_XML_OK;
    }
}

static const struct xml_walk_type complete_type = {
    .nodes = complete_nodes, .nnodes = CMP_NODES, .body_max = S3_COMPLETE_BODY_MAX,
    .malformed = S3_XML_MALFORMED, .too_large = S3_XML_TOO_LARGE, .nomem = S3_XML_NOMEM,
    .start = complete_start, .end = complete_end,
};

enum s3_xml_parse_err s3_xml_parse_complete(const char *body, size_t len, struct s3_complete_request *out)
{
    memset(out, 0, sizeof(*out));
    struct complete_state st = { .r = out };
    enum s3_xml_parse_err err = xp_parse(&complete_type, &st, body, len);
    if (err != S3_XML_OK)
        s3_complete_request_free(out);
    return err;
}

void s3_complete_request_free(struct s3_complete_request *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->parts[i].etag);
        free(r->parts[i].checksum);
    }
    free(r->parts);
    memset(r, 0, sizeof(*r));
}

/* ---- tagging ---- */

/* Code points in s[0..n) when it is UTF-8 of characters XML can carry, else -1. Tags parsed from XML pass by
 * construction; the header form must too, since tags go back out in GetObjectTagging's XML. */
static long xml_chars(const char *s, size_t n)
{
    static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 }; /* by length: shorter forms are overlong */
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    for (size_t i = 0; i < n; count++) {
        uint32_t c = p[i];
        size_t len = c < 0x80                  ? 1
                     : c >= 0xc2 && c <= 0xdf ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 0 || len > n - i)
            return -1;
        if (len > 1)
            c &= 0x3fu >> (len - 1);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return -1;
            c = c << 6 | (p[i + k] & 0x3fu);
        }
        if (c < least[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return -1;
        if (c < 0x20 ? c != '\t' && c != '\n' && c != '\r' : c == 0xfffe || c == 0xffff)
            return -1;
        i += len;
    }
    return count;
}

/* The rules for tag i of t, the ones before it already checked. */
static enum s3_xml_parse_err tag_check(const struct s3_tagging *t, size_t i)
{
    const struct s3_tag *tag = &t->tags[i];
    long kc = xml_chars(tag->key, strlen(tag->key));
    long vc = xml_chars(tag->value, strlen(tag->value));
    if (kc < 1 || kc > S3_TAG_KEY_MAX || vc < 0 || vc > S3_TAG_VALUE_MAX)
        return S3_XML_INVALID_TAG;
    for (size_t j = 0; j < i; j++)
        if (strcmp(t->tags[j].key, tag->key) == 0)
            return S3_XML_INVALID_TAG;
    return S3_XML_OK;
}

enum { TAG_ROOT, TAG_SET, TAG_TAG, TAG_KEY, TAG_VALUE, TAG_NODES };

/* A key or value beyond 4 bytes a character is too long whatever it holds. */
static const struct xml_walk_node tagging_nodes[TAG_NODES] = {
    [TAG_ROOT] = { "Tagging", -1, 0, 0, S3_XML_MALFORMED },
    [TAG_SET] = { "TagSet", TAG_ROOT, XW_REQUIRED | XW_ONCE, 0, S3_XML_MALFORMED },
    [TAG_TAG] = { "Tag", TAG_SET, 0, 0, S3_XML_MALFORMED },
    [TAG_KEY] = { "Key", TAG_TAG, XW_REQUIRED | XW_ONCE, 4 * S3_TAG_KEY_MAX, S3_XML_INVALID_TAG },
    [TAG_VALUE] = { "Value", TAG_TAG, XW_REQUIRED | XW_ONCE, 4 * S3_TAG_VALUE_MAX, S3_XML_INVALID_TAG },
};

static int tagging_start(void *out, int node)
{
    struct s3_tagging *t = out;
    if (node != TAG_TAG)
        return S3_XML_OK;
    if (t->n == S3_TAGS_MAX)
        return S3_XML_TOO_MANY_TAGS;
    t->n++;
    return S3_XML_OK;
}

static int tagging_end(void *out, int node, const char *text, size_t len)
{
    struct s3_tagging *t = out;
    struct s3_tag *tag = t->n ? &t->tags[t->n - 1] : NULL;
    switch (node) {
    case TAG_KEY:
        tag->key = xp_strdup(text, len);
        return tag->key ? S3_XML_OK : S3_XML_NOMEM;
    case TAG_VALUE:
        tag->value = xp_strdup(text, len);
        return tag->value ? S3_XML_OK : S3_XML_NOMEM;
    case TAG_TAG:
        return tag_check(t, t->n - 1);
    default:
        return S3_XML_OK;
    }
}

static const struct xml_walk_type tagging_type = {
    .nodes = tagging_nodes, .nnodes = TAG_NODES, .body_max = S3_TAGGING_BODY_MAX,
    .malformed = S3_XML_MALFORMED, .too_large = S3_XML_TOO_LARGE, .nomem = S3_XML_NOMEM,
    .start = tagging_start, .end = tagging_end,
};

enum s3_xml_parse_err s3_xml_parse_tagging(const char *body, size_t len, struct s3_tagging *out)
{
    memset(out, 0, sizeof(*out));
    enum s3_xml_parse_err err = xp_parse(&tagging_type, out, body, len);
    if (err != S3_XML_OK)
        s3_tagging_free(out);
    return err;
}

/* One "key[=value]", form-encoded, added to t. */
static enum s3_xml_parse_err tag_from_pair(struct s3_tagging *t, const char *p, size_t n)
{
    if (t->n == S3_TAGS_MAX)
        return S3_XML_TOO_MANY_TAGS;
    const char *eq = memchr(p, '=', n);
    size_t kn = eq ? (size_t)(eq - p) : n;
    const char *v = eq ? eq + 1 : p + n;
    size_t vn = (size_t)(p + n - v);
    struct s3_tag *tag = &t->tags[t->n++];
    tag->key = malloc(kn + 1);
    tag->value = malloc(vn + 1);
    if (!tag->key || !tag->value)
        return S3_XML_NOMEM;
    /* Decoding never lengthens, so only a bad escape fails; a NUL would cut the string short. */
    ssize_t kd = s3_percent_decode(tag->key, kn + 1, p, kn, true);
    ssize_t vd = s3_percent_decode(tag->value, vn + 1, v, vn, true);
    if (kd < 0 || vd < 0 || strlen(tag->key) != (size_t)kd || strlen(tag->value) != (size_t)vd)
        return S3_XML_INVALID_TAG;
    return tag_check(t, t->n - 1);
}

enum s3_xml_parse_err s3_tagging_from_query(const char *q, size_t len, struct s3_tagging *out)
{
    memset(out, 0, sizeof(*out));
    enum s3_xml_parse_err err = S3_XML_OK;
    for (size_t i = 0; i < len && err == S3_XML_OK;) {
        const char *amp = memchr(q + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - q) : len;
        if (end > i) /* "a=1&&b=2" holds an empty pair, which says nothing */
            err = tag_from_pair(out, q + i, end - i);
        i = end + 1;
    }
    if (err != S3_XML_OK)
        s3_tagging_free(out);
    return err;
}

char *s3_tagging_to_query(const struct s3_tagging *t, bool *nomem)
{
    if (nomem)
        *nomem = false;
    if (t->n == 0)
        return NULL;
    size_t cap = 1;
    for (size_t i = 0; i < t->n; i++)
        cap += 3 * (strlen(t->tags[i].key) + strlen(t->tags[i].value)) + 2; /* "&" or the NUL, and "=" */
    char *q = malloc(cap);
    if (!q) {
        if (nomem)
            *nomem = true;
        return NULL;
    }
    /* With 3 bytes a byte reserved, s3_uri_encode cannot run out of room. */
    size_t o = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            q[o++] = '&';
        o += (size_t)s3_uri_encode(q + o, cap - o, t->tags[i].key, strlen(t->tags[i].key), true);
        q[o++] = '=';
        o += (size_t)s3_uri_encode(q + o, cap - o, t->tags[i].value, strlen(t->tags[i].value), true);
    }
    return q;
}

void s3_tagging_free(struct s3_tagging *t)
{
    for (size_t i = 0; i < S3_TAGS_MAX; i++) {
        free(t->tags[i].key);
        free(t->tags[i].value);
    }
    memset(t, 0, sizeof(*t));
}

/* ---- CreateBucket ---- */

enum { CB_ROOT, CB_LOCATION, CB_NODES };

static const struct xml_walk_node create_bucket_nodes[CB_NODES] = {
    [CB_ROOT] = { "CreateBucketConfiguration", -1, 0, 0, S3_XML_MALFORMED },
    [CB_LOCATION] = { "LocationConstraint", CB_ROOT, XW_ONCE | XW_TRIM, XP_TEXT_MAX, S3_XML_MALFORMED },
};

struct create_bucket_state {
    char *location;
    size_t cap;
};

static int create_bucket_end(void *out, int node, const char *text, size_t len)
{
    struct create_bucket_state *st = out;
    if (node != CB_LOCATION)
        return S3_XML_OK;
    if (len >= st->cap)
        return S3_XML_MALFORMED;
    memcpy(st->location, text, len + 1);
    return S3_XML_OK;
}

static const struct xml_walk_type create_bucket_type = {
    .nodes = create_bucket_nodes, .nnodes = CB_NODES, .body_max = S3_BUCKET_CONFIG_BODY_MAX,
    .malformed = S3_XML_MALFORMED, .too_large = S3_XML_TOO_LARGE, .nomem = S3_XML_NOMEM,
    .start = NULL, .end = create_bucket_end,
};

enum s3_xml_parse_err s3_xml_parse_create_bucket(const char *body, size_t len, char *location, size_t cap)
{
    if (cap == 0)
        return S3_XML_MALFORMED; /* not even room for "" */
    location[0] = '\0';
    if (len == 0)
        return S3_XML_OK;
    struct create_bucket_state st = { location, cap };
    enum s3_xml_parse_err err = xp_parse(&create_bucket_type, &st, body, len);
    if (err != S3_XML_OK)
        memset(location, 0, cap);
    return err;
}
