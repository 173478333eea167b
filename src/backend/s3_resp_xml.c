/* The XML bodies S3 backends answer with, read by the walk of util/xml_walk.h, one table per document. Fields
 * the caller keeps in fixed buffers have their element's text cap set to the buffer less its NUL, so a longer one
 * stops the walk (-EPROTO) instead of being cut. Elements the tables do not name are skipped: providers add their
 * own (ChecksumAlgorithm, StorageClass, Owner, RequestId, ...), and S3 adds more over the years. */
#include "backend/s3_resp_xml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "s3/s3_request.h"
#include "util/xml_walk.h"

enum {
    RX_SMALL_MAX = 64,                /* numbers, booleans, dates, names: with room for indentation around them */
    RX_KEY_TEXT_MAX = 3 * S3_KEY_MAX, /* a key as sent: url-encoded, every byte may take three */
    RX_STOP = 1,                      /* s3_resp_is_error's early stop: not an error, and never returned */
};

#define RX_TYPE(table, n, start_fn, end_fn)                                                                    \
    {                                                                                                         \
        .nodes = (table), .nnodes = (n), .body_max = S3_RESP_BODY_MAX, .malformed = -EPROTO,                  \
        .too_large = -E2BIG, .nomem = -ENOMEM, .start = (start_fn), .end = (end_fn),                          \
    }

/* ---- the root alone ---- */

static int root_seen(void *out, int node)
{
    (void)out, (void)node;
    return RX_STOP;
}

/* Whether the root element is named `name`: the walk stops as soon as it opens, so the rest is never read. */
static bool root_is(const char *body, size_t len, const char *name)
{
    const struct xml_walk_node nodes[] = { { name, -1, 0, 0, -EPROTO } };
    const struct xml_walk_type type = RX_TYPE(nodes, 1, root_seen, NULL);
    return xml_walk(&type, NULL, body, len) == RX_STOP;
}

bool s3_resp_is_error(const char *body, size_t len)
{
    return root_is(body, len, "Error");
}

/* ---- Error ---- */

enum { ERR_ROOT, ERR_CODE, ERR_MESSAGE, ERR_NODES };

static const struct xml_walk_node error_nodes[ERR_NODES] = {
    [ERR_ROOT] = { "Error", -1, 0, 0, -EPROTO },
    [ERR_CODE] = { "Code", ERR_ROOT, XW_REQUIRED | XW_ONCE | XW_TRIM, S3_RESP_CODE_MAX - 1, -EPROTO },
    [ERR_MESSAGE] = { "Message", ERR_ROOT, XW_ONCE | XW_TRIM, S3_RESP_MESSAGE_MAX - 1, -EPROTO },
};

static int error_end(void *out, int node, const char *text, size_t len)
{
    struct s3_resp_error *e = out;
    switch (node) {
    case ERR_CODE:
        if (len == 0)
            return -EPROTO; /* an error without a code says nothing the caller can act on */
        memcpy(e->code, text, len + 1);
        return 0;
    case ERR_MESSAGE:
        memcpy(e->message, text, len + 1);
        return 0;
    default:
        return 0;
    }
}

static const struct xml_walk_type error_type = RX_TYPE(error_nodes, ERR_NODES, NULL, error_end);

int s3_resp_parse_error(const char *body, size_t len, struct s3_resp_error *out)
{
    memset(out, 0, sizeof(*out));
    int err = xml_walk(&error_type, out, body, len);
    if (err)
        memset(out, 0, sizeof(*out));
    return err;
}

/* ---- one required field under a root: UploadId, ETag ---- */

struct one_field {
    char *dst; /* room for the node's max and a NUL */
};

static int one_field_end(void *out, int node, const char *text, size_t len)
{
    struct one_field *f = out;
    if (node != 1) /* the root is 0, the field 1 */
        return 0;
    if (len == 0)
        return -EPROTO; /* an empty id or ETag is as good as none */
    memcpy(f->dst, text, len + 1);
    return 0;
}

/* <root>…<field>text</field>…</root> into dst, which holds cap bytes. Ids and tokens are opaque and kept as sent;
 * an ETag is a quoted string, so whitespace around it is not part of it (trim). */
static int parse_one(const char *body, size_t len, const char *root, const char *field, unsigned trim, char *dst,
                     size_t cap)
{
    const struct xml_walk_node nodes[] = {
        { root, -1, 0, 0, -EPROTO },
        { field, 0, XW_REQUIRED | XW_ONCE | trim, cap - 1, -EPROTO },
    };
    const struct xml_walk_type type = RX_TYPE(nodes, 2, NULL, one_field_end);
    struct one_field f = { dst };
    memset(dst, 0, cap);
    int err = xml_walk(&type, &f, body, len);
    if (err)
        memset(dst, 0, cap);
    return err;
}

int s3_resp_parse_initiate(const char *body, size_t len, char upload_id[S3_RESP_ID_MAX])
{
    return parse_one(body, len, "InitiateMultipartUploadResult", "UploadId", 0, upload_id, S3_RESP_ID_MAX);
}

int s3_resp_parse_etag(const char *body, size_t len, const char *root, char etag[S3_RESP_ETAG_MAX])
{
    /* moto (5.x) names Complete's answer CompleteMultipartUploadResponse; S3 and the others name it ...Result.
     * Telling them apart costs a walk to the root element only. */
    if (strcmp(root, "CompleteMultipartUploadResult") == 0 &&
        root_is(body, len, "CompleteMultipartUploadResponse"))
        root = "CompleteMultipartUploadResponse";
    return parse_one(body, len, root, "ETag", XW_TRIM, etag, S3_RESP_ETAG_MAX);
}

/* ---- ListBucketResult ---- */

enum { LST_ROOT, LST_TRUNCATED, LST_TOKEN, LST_ENCODING, LST_CONTENTS, LST_KEY, LST_SIZE, LST_ETAG, LST_MODIFIED,
       LST_NODES };

/* IsTruncated is required: a page read as the last one when it is not would hide every key after it. */
static const struct xml_walk_node list_nodes[LST_NODES] = {
    [LST_ROOT] = { "ListBucketResult", -1, 0, 0, -EPROTO },
    [LST_TRUNCATED] = { "IsTruncated", LST_ROOT, XW_REQUIRED | XW_ONCE | XW_TRIM, RX_SMALL_MAX, -EPROTO },
    [LST_TOKEN] = { "NextContinuationToken", LST_ROOT, XW_ONCE, S3_RESP_TOKEN_MAX - 1, -EPROTO },
    [LST_ENCODING] = { "EncodingType", LST_ROOT, XW_ONCE | XW_TRIM, RX_SMALL_MAX, -EPROTO },
    [LST_CONTENTS] = { "Contents", LST_ROOT, 0, 0, -EPROTO },
    [LST_KEY] = { "Key", LST_CONTENTS, XW_REQUIRED | XW_ONCE, RX_KEY_TEXT_MAX, -EPROTO },
    [LST_SIZE] = { "Size", LST_CONTENTS, XW_ONCE | XW_TRIM, RX_SMALL_MAX, -EPROTO },
    [LST_ETAG] = { "ETag", LST_CONTENTS, XW_ONCE | XW_TRIM, S3_RESP_ETAG_MAX - 1, -EPROTO },
    [LST_MODIFIED] = { "LastModified", LST_CONTENTS, XW_ONCE | XW_TRIM, RX_SMALL_MAX, -EPROTO },
};

struct list_state {
    struct s3_resp_list *l;
    size_t alloc;
    bool url; /* EncodingType=url: known only once the document is read: S3 and moto send it after the keys */
};

static int list_start(void *out, int node)
{
    struct list_state *st = out;
    struct s3_resp_list *l = st->l;
    if (node != LST_CONTENTS)
        return 0;
    if (l->n == S3_RESP_LIST_MAX)
        return -EPROTO;
    if (l->n == st->alloc) {
        size_t want = st->alloc ? 2 * st->alloc : 64;
        if (want > S3_RESP_LIST_MAX)
            want = S3_RESP_LIST_MAX;
        struct s3_resp_entry *v = realloc(l->v, want * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        st->alloc = want;
    }
    l->v[l->n++] = (struct s3_resp_entry){ 0 };
    return 0;
}

/* S3 takes booleans in any case; anything but true or false is not one. */
static int parse_bool(const char *text, size_t len, bool *out)
{
    if (len == 4 && strncasecmp(text, "true", 4) == 0)
        *out = true;
    else if (len == 5 && strncasecmp(text, "false", 5) == 0)
        *out = false;
    else
        return -EPROTO;
    return 0;
}

/* Decimal digits only (a sign is no size), within int64_t. */
static int parse_size(const char *text, size_t len, int64_t *out)
{
    if (len == 0)
        return -EPROTO;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -EPROTO;
        int d = text[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return -EPROTO;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* n decimal digits at s as a number, or -1. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool is_leap(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, by arithmetic alone (timegm would do, but
 * mktime's kin are where TZ creeps in). Years are counted from March, so that the leap day ends a year and the
 * days before a month follow one formula; 400 years are 146097 days, and 0000-03-01 is day -719468. */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t year_of_era = yy - era * 400;                     /* 0..399 */
    int64_t month_from_march = m > 2 ? m - 3 : m + 9;          /* 0..11 */
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1; /* 0..365 */
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* "2009-10-12T17:50:30.000Z" or "2009-10-12T17:50:30Z" (any number of fraction digits, milliseconds kept) as
 * milliseconds since the epoch; UTC only, as S3 writes it. */
static int parse_time(const char *s, size_t len, int64_t *out)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[len - 1] != 'Z')
        return -EPROTO;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return -EPROTO;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return -EPROTO;
    int ms = 0;
    size_t frac = len - 20; /* what lies between the seconds and the Z */
    if (frac) {
        if (s[19] != '.' || frac < 2 || frac > 10)
            return -EPROTO;
        for (size_t i = 0; i < frac - 1; i++) {
            int v = digits(s + 20 + i, 1);
            if (v < 0)
                return -EPROTO;
            if (i < 3)
                ms = ms * 10 + v;
        }
        for (size_t i = frac - 1; i < 3; i++)
            ms *= 10; /* ".5" is 500 ms */
    }
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000 + ms;
    return 0;
}

static int list_end(void *out, int node, const char *text, size_t len)
{
    struct list_state *st = out;
    struct s3_resp_list *l = st->l;
    struct s3_resp_entry *e = l->n ? &l->v[l->n - 1] : NULL;
    switch (node) {
    case LST_TRUNCATED:
        return parse_bool(text, len, &l->truncated);
    case LST_TOKEN:
        memcpy(l->next_token, text, len + 1);
        return 0;
    case LST_ENCODING:
        /* Only url has a meaning; keys in an encoding this does not know cannot be read. */
        if (len == 3 && strncasecmp(text, "url", 3) == 0)
            st->url = true;
        else if (len != 0)
            return -EPROTO;
        return 0;
    case LST_KEY:
        if (len == 0)
            return -EPROTO; /* S3 has no empty keys */
        e->key = malloc(len + 1);
        if (!e->key)
            return -ENOMEM;
        memcpy(e->key, text, len + 1);
        return 0;
    case LST_SIZE:
        return parse_size(text, len, &e->size);
    case LST_ETAG:
        memcpy(e->etag, text, len + 1);
        return 0;
    case LST_MODIFIED:
        return parse_time(text, len, &e->modified_ms);
    default:
        return 0;
    }
}

static const struct xml_walk_type list_type = RX_TYPE(list_nodes, LST_NODES, list_start, list_end);

/* Each key as the caller gets it: decoded when url (in place: decoding never lengthens, and it reads each byte
 * before it writes over it), then at most S3_KEY_MAX bytes and, since keys are C strings, without a NUL. XML text
 * cannot hold a NUL, so only a decoded "%00" brings one. "+" is a space, as botocore's unquote_plus reads it. */
static int list_keys(struct s3_resp_list *l, bool url)
{
    for (size_t i = 0; i < l->n; i++) {
        char *key = l->v[i].key;
        size_t n = strlen(key);
        if (url) {
            ssize_t d = s3_percent_decode(key, n + 1, key, n, true);
            if (d < 0 || memchr(key, '\0', (size_t)d))
                return -EPROTO;
            n = (size_t)d;
        }
        if (n > S3_KEY_MAX)
            return -EPROTO;
    }
    return 0;
}

int s3_resp_parse_list(const char *body, size_t len, struct s3_resp_list *out)
{
    memset(out, 0, sizeof(*out));
    struct list_state st = { .l = out };
    int err = xml_walk(&list_type, &st, body, len);
    if (!err)
        err = list_keys(out, st.url);
    if (err)
        s3_resp_list_free(out);
    return err;
}

void s3_resp_list_free(struct s3_resp_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* ---- DeleteResult ---- */

enum { DEL_ROOT, DEL_ERROR, DEL_KEY, DEL_CODE, DEL_NODES };

/* Keys come back as they were sent (no EncodingType was asked for), so at most S3_KEY_MAX bytes each; the
 * Deleted entries a non-quiet answer holds are skipped. */
static const struct xml_walk_node delete_nodes[DEL_NODES] = {
    [DEL_ROOT] = { "DeleteResult", -1, 0, 0, -EPROTO },
    [DEL_ERROR] = { "Error", DEL_ROOT, 0, 0, -EPROTO },
    [DEL_KEY] = { "Key", DEL_ERROR, XW_REQUIRED | XW_ONCE, S3_KEY_MAX, -EPROTO },
    [DEL_CODE] = { "Code", DEL_ERROR, XW_REQUIRED | XW_ONCE | XW_TRIM, S3_RESP_CODE_MAX - 1, -EPROTO },
};

struct delete_state {
    s3_resp_delete_error_fn fn;
    void *arg;
    char key[S3_KEY_MAX + 1];
    char code[S3_RESP_CODE_MAX];
};

static int delete_end(void *out, int node, const char *text, size_t len)
{
    struct delete_state *st = out;
    switch (node) {
    case DEL_KEY:
        memcpy(st->key, text, len + 1);
        return 0;
    case DEL_CODE:
        memcpy(st->code, text, len + 1);
        return 0;
    case DEL_ERROR:
        st->fn(st->arg, st->key, st->code);
        st->key[0] = st->code[0] = 0;
        return 0;
    default:
        return 0;
    }
}

static const struct xml_walk_type delete_type = RX_TYPE(delete_nodes, DEL_NODES, NULL, delete_end);

int s3_resp_parse_delete(const char *body, size_t len, s3_resp_delete_error_fn fn, void *arg)
{
    struct delete_state *st = malloc(sizeof(*st));
    if (!st)
        return -ENOMEM;
    *st = (struct delete_state){ .fn = fn, .arg = arg };
    int err = xml_walk(&delete_type, st, body, len);
    free(st);
    return err;
}
