/* One fuzz input through the XML request-body parsers (s3_xml_parse.h), shared by tests/fuzz/fuzz_xml.c and
 * tests/unit/test_fuzz_xml_corpus.c.
 *
 * The first byte of the input picks the parser, the rest is its body: 'D' DeleteObjects, 'C'
 * CompleteMultipartUpload, 'T' PutObjectTagging, 'Q' the x-amz-tagging header form, 'B' CreateBucket (any other
 * byte: its value mod 5, in that order). The body ends just below an inaccessible page, and so does the location
 * buffer CreateBucket writes, so a read or write past either faults at once: no ASan needed.
 *
 * The checks: the status is one of the documented ones (never out of memory), a body over its cap is TOO_LARGE and
 * an empty one MALFORMED (CreateBucket: fine), a failed parse leaves its result zeroed, and its status, code and
 * message make an S3 error. A successful one holds what the header promises: counts within limits, keys without
 * NUL and at most 1024 bytes, part numbers in 1..10000 strictly ascending, a checksum with its algorithm, tags
 * within the rules (counted here by a decoder of the harness's own), a location that fits. Then it is written back
 * as XML with s3_xml.h (as responses are written) and parsed again, which must give the same result byte for byte;
 * a tag set also goes through s3_tagging_to_query() and back. The header form is checked against a reference
 * decoder here: it parses exactly when every pair decodes to tags within the rules, and to those tags. Any
 * violation abort()s, which is what the fuzzer counts as a crash.
 */
#ifndef S3ORCH_FUZZ_XML_ONE_H
#define S3ORCH_FUZZ_XML_ONE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "s3/s3_checksum.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"

/* the selector, then one byte over the largest cap */
#define FUZZ_XML_MAX_INPUT                                                                                      \
    ((S3_DELETE_BODY_MAX > S3_COMPLETE_BODY_MAX ? S3_DELETE_BODY_MAX : S3_COMPLETE_BODY_MAX) + 2u)
#define FUZZ_XML_LOCATION_MAX 1100                     /* roomier than any LocationConstraint the parser takes */
#define FUZZ_XML_NS "http://s3.amazonaws.com/doc/2006-03-01/"

enum { FUZZ_XM_BODY, FUZZ_XM_LOCATION, FUZZ_XM_LOCATION2, FUZZ_XM_SLOTS };

static void fuzz_xm_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_xml: invariant broken: %s\n", what);
    abort();
}

/* The end of guarded slot i: FUZZ_XML_MAX_INPUT bytes rounded up to pages, then a PROT_NONE page. Mapped once. */
static char *fuzz_xm_slot_end(int i)
{
    static char *base;
    static size_t stride, size;
    if (!base) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size = (FUZZ_XML_MAX_INPUT + page - 1) / page * page;
        stride = size + page;
        char *p = mmap(NULL, stride * FUZZ_XM_SLOTS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_xm_require(p != MAP_FAILED, "mmap of the guarded slots");
        for (int s = 0; s < FUZZ_XM_SLOTS; s++)
            fuzz_xm_require(mprotect(p + (size_t)s * stride + size, page, PROT_NONE) == 0, "mprotect of a guard");
        base = p;
    }
    return base + (size_t)i * stride + size;
}

static bool fuzz_xm_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool fuzz_xm_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool fuzz_xm_trimmed(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || (!fuzz_xm_space(s[0]) && !fuzz_xm_space(s[n - 1]));
}

/* Characters in s[0..n) when it is UTF-8 of XML 1.0 Chars, else -1: a decoder of the harness's own, by the
 * Unicode table of well-formed byte sequences. */
static long fuzz_xm_chars(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        unsigned char lo = 0x80, hi = 0xbf;
        size_t more;
        uint32_t c;
        if (b < 0x80) {
            if (b < 0x20 && b != 0x09 && b != 0x0a && b != 0x0d)
                return -1;
            i++;
            count++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            more = 1, c = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            more = 2, c = b & 0x0f;
            lo = b == 0xe0 ? 0xa0 : 0x80;
            hi = b == 0xed ? 0x9f : 0xbf;
        } else if (b >= 0xf0 && b <= 0xf4) {
            more = 3, c = b & 0x07;
            lo = b == 0xf0 ? 0x90 : 0x80;
            hi = b == 0xf4 ? 0x8f : 0xbf;
        } else {
            return -1;
        }
        if (n - i - 1 < more || p[i + 1] < lo || p[i + 1] > hi)
            return -1;
        for (size_t k = 1; k <= more; k++) {
            if (k > 1 && (p[i + k] < 0x80 || p[i + k] > 0xbf))
                return -1;
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        if (c == 0xfffe || c == 0xffff)
            return -1;
        i += more + 1;
        count++;
    }
    return count;
}

static void fuzz_xm_check_error(enum s3_xml_parse_err err)
{
    fuzz_xm_require((unsigned)err <= S3_XML_NOMEM, "a documented status");
    fuzz_xm_require(err != S3_XML_NOMEM, "no allocation large enough to fail");
    if (err == S3_XML_OK)
        return;
    const char *code = s3_xml_parse_code(err), *msg = s3_xml_parse_message(err);
    fuzz_xm_require(s3_xml_parse_status(err) == 400 && code && code[0] && msg && msg[0], "an S3 error");
}

/* The status a body of len bytes must have when its size alone decides. */
static void fuzz_xm_check_size(enum s3_xml_parse_err err, size_t len, size_t cap, bool empty_ok)
{
    if (len > cap)
        fuzz_xm_require(err == S3_XML_TOO_LARGE, "over the cap is TOO_LARGE");
    else if (len == 0)
        fuzz_xm_require(err == (empty_ok ? S3_XML_OK : S3_XML_MALFORMED), "an empty body");
    else
        fuzz_xm_require(err != S3_XML_TOO_LARGE, "TOO_LARGE only over the cap");
}

/* Whether XML rebuilt in x can be parsed again: it must not have overflowed, and escaping may take it over cap. */
static bool fuzz_xm_reparse_fits(const struct s3_xml *x, size_t cap)
{
    fuzz_xm_require(!x->overflow, "rebuilding fits S3_XML_MAX");
    return x->len <= cap;
}

/* ---- DeleteObjects ---- */

static void fuzz_xm_check_delete(const struct s3_delete_request *r)
{
    fuzz_xm_require(r->n >= 1 && r->n <= S3_DELETE_MAX_KEYS && r->objects, "1..1000 objects");
    for (size_t i = 0; i < r->n; i++) {
        const struct s3_delete_object *o = &r->objects[i];
        fuzz_xm_require(o->key && strlen(o->key) == o->key_len && o->key_len <= 1024, "a key of at most 1024 bytes");
        fuzz_xm_require(fuzz_xm_chars(o->key, o->key_len) >= 0, "a key is UTF-8");
        fuzz_xm_require(!o->version_id || strlen(o->version_id) <= 1024, "a version id of at most 1024 bytes");
    }
}

static bool fuzz_xm_same_delete(const struct s3_delete_request *a, const struct s3_delete_request *b)
{
    if (a->n != b->n || a->quiet != b->quiet)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct s3_delete_object *x = &a->objects[i], *y = &b->objects[i];
        if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0)
            return false;
        if ((x->version_id == NULL) != (y->version_id == NULL) ||
            (x->version_id && strcmp(x->version_id, y->version_id) != 0))
            return false;
    }
    return true;
}

static enum s3_xml_parse_err fuzz_xm_delete(const char *body, size_t len)
{
    struct s3_delete_request r, again;
    enum s3_xml_parse_err err = s3_xml_parse_delete(body, len, &r);
    fuzz_xm_check_error(err);
    fuzz_xm_check_size(err, len, S3_DELETE_BODY_MAX, false);
    if (err != S3_XML_OK) {
        fuzz_xm_require(fuzz_xm_zero(&r, sizeof(r)), "a failed parse leaves the result zeroed");
        return err;
    }
    fuzz_xm_check_delete(&r);
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open_ns(&x, "Delete", FUZZ_XML_NS);
    for (size_t i = 0; i < r.n; i++) {
        s3_xml_open(&x, "Object");
        s3_xml_element_n(&x, "Key", r.objects[i].key, r.objects[i].key_len);
        if (r.objects[i].version_id)
            s3_xml_element(&x, "VersionId", r.objects[i].version_id);
        s3_xml_close(&x, "Object");
    }
    s3_xml_element(&x, "Quiet", r.quiet ? "true" : "false");
    s3_xml_close(&x, "Delete");
    if (fuzz_xm_reparse_fits(&x, S3_DELETE_BODY_MAX)) {
        fuzz_xm_require(s3_xml_parse_delete(x.buf, x.len, &again) == S3_XML_OK, "rebuilt Delete parses");
        fuzz_xm_require(fuzz_xm_same_delete(&r, &again), "rebuilt Delete gives the same objects");
        s3_delete_request_free(&again);
    }
    s3_xml_free(&x);
    s3_delete_request_free(&r);
    s3_delete_request_free(&r);
    fuzz_xm_require(fuzz_xm_zero(&r, sizeof(r)), "free zeroes");
    return err;
}

/* ---- CompleteMultipartUpload ---- */

static void fuzz_xm_check_complete(const struct s3_complete_request *r)
{
    fuzz_xm_require(r->n >= 1 && r->n <= 10000 && r->parts, "1..10000 parts");
    for (size_t i = 0; i < r->n; i++) {
        const struct s3_complete_part *p = &r->parts[i];
        fuzz_xm_require(p->number >= 1 && p->number <= 10000, "part number in 1..10000");
        fuzz_xm_require(i == 0 || p[-1].number < p->number, "part numbers strictly ascending");
        fuzz_xm_require(p->etag && strlen(p->etag) <= 1024 && fuzz_xm_trimmed(p->etag), "an ETag, trimmed");
        fuzz_xm_require(p->checksum_alg >= S3_CK_NONE && p->checksum_alg < S3_CK_COUNT, "a checksum algorithm");
        fuzz_xm_require((p->checksum == NULL) == (p->checksum_alg == S3_CK_NONE), "a checksum iff an algorithm");
        fuzz_xm_require(!p->checksum || (strlen(p->checksum) <= 64 && fuzz_xm_trimmed(p->checksum)),
                        "a checksum of at most 64 bytes, trimmed");
    }
}

static bool fuzz_xm_same_complete(const struct s3_complete_request *a, const struct s3_complete_request *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct s3_complete_part *x = &a->parts[i], *y = &b->parts[i];
        if (x->number != y->number || strcmp(x->etag, y->etag) != 0 || x->checksum_alg != y->checksum_alg)
            return false;
        if (x->checksum && strcmp(x->checksum, y->checksum) != 0)
            return false;
    }
    return true;
}

static enum s3_xml_parse_err fuzz_xm_complete(const char *body, size_t len)
{
    struct s3_complete_request r, again;
    enum s3_xml_parse_err err = s3_xml_parse_complete(body, len, &r);
    fuzz_xm_check_error(err);
    fuzz_xm_check_size(err, len, S3_COMPLETE_BODY_MAX, false);
    if (err != S3_XML_OK) {
        fuzz_xm_require(fuzz_xm_zero(&r, sizeof(r)), "a failed parse leaves the result zeroed");
        return err;
    }
    fuzz_xm_check_complete(&r);
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open_ns(&x, "CompleteMultipartUpload", FUZZ_XML_NS);
    for (size_t i = 0; i < r.n; i++) {
        char num[16];
        char name[32];
        snprintf(num, sizeof(num), "%d", r.parts[i].number);
        s3_xml_open(&x, "Part");
        if (r.parts[i].checksum) {
            snprintf(name, sizeof(name), "Checksum%s", s3_checksum_alg_name(r.parts[i].checksum_alg));
            s3_xml_element(&x, name, r.parts[i].checksum);
        }
        s3_xml_element(&x, "ETag", r.parts[i].etag);
        s3_xml_element(&x, "PartNumber", num);
        s3_xml_close(&x, "Part");
    }
    s3_xml_close(&x, "CompleteMultipartUpload");
    if (fuzz_xm_reparse_fits(&x, S3_COMPLETE_BODY_MAX)) {
        fuzz_xm_require(s3_xml_parse_complete(x.buf, x.len, &again) == S3_XML_OK, "rebuilt Complete parses");
        fuzz_xm_require(fuzz_xm_same_complete(&r, &again), "rebuilt Complete gives the same parts");
        s3_complete_request_free(&again);
    }
    s3_xml_free(&x);
    s3_complete_request_free(&r);
    s3_complete_request_free(&r);
    fuzz_xm_require(fuzz_xm_zero(&r, sizeof(r)), "free zeroes");
    return err;
}

/* ---- tagging ---- */

static void fuzz_xm_check_tags(const struct s3_tagging *t)
{
    fuzz_xm_require(t->n <= S3_TAGS_MAX, "at most 10 tags");
    for (size_t i = 0; i < S3_TAGS_MAX; i++) {
        const struct s3_tag *g = &t->tags[i];
        if (i >= t->n) {
            fuzz_xm_require(!g->key && !g->value, "no tags past n");
            continue;
        }
        fuzz_xm_require(g->key && g->value, "a tag has a key and a value");
        long kc = fuzz_xm_chars(g->key, strlen(g->key)), vc = fuzz_xm_chars(g->value, strlen(g->value));
        fuzz_xm_require(kc >= 1 && kc <= S3_TAG_KEY_MAX, "a key of 1..128 characters");
        fuzz_xm_require(vc >= 0 && vc <= S3_TAG_VALUE_MAX, "a value of 0..256 characters");
        for (size_t j = 0; j < i; j++)
            fuzz_xm_require(strcmp(t->tags[j].key, g->key) != 0, "keys unique");
    }
}

static bool fuzz_xm_same_tags(const struct s3_tagging *a, const struct s3_tagging *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->tags[i].key, b->tags[i].key) != 0 || strcmp(a->tags[i].value, b->tags[i].value) != 0)
            return false;
    return true;
}

static bool fuzz_xm_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static bool fuzz_xm_is_upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* A valid tag set survives the header form and XML as GetObjectTagging writes it. */
static void fuzz_xm_round_trip_tags(const struct s3_tagging *t)
{
    struct s3_tagging again;
    bool nomem = true;
    char *q = s3_tagging_to_query(t, &nomem);
    fuzz_xm_require(!nomem && (q == NULL) == (t->n == 0), "to_query: NULL only for an empty set");
    size_t pairs = q ? 1 : 0;
    for (size_t i = 0; q && q[i]; i++) {
        if (q[i] == '%') {
            fuzz_xm_require(fuzz_xm_is_upper_hex(q[i + 1]) && fuzz_xm_is_upper_hex(q[i + 2]),
                            "to_query escapes are %XX, upper case");
            i += 2;
        } else if (q[i] == '&') {
            pairs++;
        } else {
            fuzz_xm_require(fuzz_xm_is_unreserved((unsigned char)q[i]) || q[i] == '=', "to_query characters");
        }
    }
    fuzz_xm_require(pairs == t->n, "to_query: one pair a tag");
    fuzz_xm_require(s3_tagging_from_query(q ? q : "", q ? strlen(q) : 0, &again) == S3_XML_OK,
                    "to_query output parses");
    fuzz_xm_require(fuzz_xm_same_tags(t, &again), "to_query then from_query gives the same tags");
    s3_tagging_free(&again);
    free(q);

    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open_ns(&x, "Tagging", FUZZ_XML_NS);
    s3_xml_open(&x, "TagSet");
    for (size_t i = 0; i < t->n; i++) {
        s3_xml_open(&x, "Tag");
        s3_xml_element(&x, "Key", t->tags[i].key);
        s3_xml_element(&x, "Value", t->tags[i].value);
        s3_xml_close(&x, "Tag");
    }
    s3_xml_close(&x, "TagSet");
    s3_xml_close(&x, "Tagging");
    if (fuzz_xm_reparse_fits(&x, S3_TAGGING_BODY_MAX)) {
        fuzz_xm_require(s3_xml_parse_tagging(x.buf, x.len, &again) == S3_XML_OK, "rebuilt Tagging parses");
        fuzz_xm_require(fuzz_xm_same_tags(t, &again), "rebuilt Tagging gives the same tags");
        s3_tagging_free(&again);
    }
    s3_xml_free(&x);
}

static enum s3_xml_parse_err fuzz_xm_tagging(const char *body, size_t len)
{
    struct s3_tagging t;
    enum s3_xml_parse_err err = s3_xml_parse_tagging(body, len, &t);
    fuzz_xm_check_error(err);
    fuzz_xm_check_size(err, len, S3_TAGGING_BODY_MAX, false);
    fuzz_xm_require(err != S3_XML_INVALID_PART && err != S3_XML_INVALID_ORDER, "tagging has no parts");
    if (err != S3_XML_OK) {
        fuzz_xm_require(fuzz_xm_zero(&t, sizeof(t)), "a failed parse leaves the result zeroed");
        return err;
    }
    fuzz_xm_check_tags(&t);
    fuzz_xm_round_trip_tags(&t);
    s3_tagging_free(&t);
    s3_tagging_free(&t);
    fuzz_xm_require(fuzz_xm_zero(&t, sizeof(t)), "free zeroes");
    return err;
}

static int fuzz_xm_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Form-decodes s[0..n) into out ('+' is a space); its length, or -1 for a bad escape or a NUL. */
static long fuzz_xm_form_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3 || fuzz_xm_hex(s[i + 1]) < 0 || fuzz_xm_hex(s[i + 2]) < 0)
                return -1;
            c = (char)(fuzz_xm_hex(s[i + 1]) * 16 + fuzz_xm_hex(s[i + 2]));
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

/* What the header form q[0..n) must give: true with the tags in *ref when valid by the rules, false otherwise. */
static bool fuzz_xm_ref_query(const char *q, size_t n, struct s3_tagging *ref)
{
    static char buf[FUZZ_XML_MAX_INPUT + 2 * S3_TAGS_MAX]; /* decoding never lengthens; a NUL after each */
    char *dst = buf;
    memset(ref, 0, sizeof(*ref));
    for (size_t i = 0; i < n;) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - q) : n;
        if (end > i) {
            if (ref->n == S3_TAGS_MAX)
                return false;
            const char *eq = memchr(q + i, '=', end - i);
            size_t kn = eq ? (size_t)(eq - (q + i)) : end - i;
            struct s3_tag *g = &ref->tags[ref->n++];
            g->key = dst;
            long kd = fuzz_xm_form_decode(q + i, kn, dst);
            if (kd < 0)
                return false;
            dst += kd + 1;
            g->value = dst;
            long vd = fuzz_xm_form_decode(eq ? eq + 1 : q + end, eq ? (size_t)(q + end - eq - 1) : 0, dst);
            if (vd < 0)
                return false;
            dst += vd + 1;
            long kc = fuzz_xm_chars(g->key, (size_t)kd), vc = fuzz_xm_chars(g->value, (size_t)vd);
            if (kc < 1 || kc > S3_TAG_KEY_MAX || vc < 0 || vc > S3_TAG_VALUE_MAX)
                return false;
            for (size_t j = 0; j + 1 < ref->n; j++)
                if (strcmp(ref->tags[j].key, g->key) == 0)
                    return false;
        }
        i = end + 1;
    }
    return true;
}

static enum s3_xml_parse_err fuzz_xm_query(const char *q, size_t len)
{
    struct s3_tagging t, ref;
    enum s3_xml_parse_err err = s3_tagging_from_query(q, len, &t);
    fuzz_xm_check_error(err);
    fuzz_xm_require(err == S3_XML_OK || err == S3_XML_INVALID_TAG || err == S3_XML_TOO_MANY_TAGS,
                    "the header form is OK, InvalidTag or too many tags");
    bool valid = fuzz_xm_ref_query(q, len, &ref);
    fuzz_xm_require(valid == (err == S3_XML_OK), "from_query agrees with the reference on validity");
    if (err != S3_XML_OK) {
        fuzz_xm_require(fuzz_xm_zero(&t, sizeof(t)), "a failed parse leaves the result zeroed");
        return err;
    }
    fuzz_xm_require(fuzz_xm_same_tags(&t, &ref), "from_query gives the reference's tags");
    fuzz_xm_check_tags(&t);
    fuzz_xm_round_trip_tags(&t);
    s3_tagging_free(&t);
    return err;
}

/* ---- CreateBucket ---- */

static enum s3_xml_parse_err fuzz_xm_bucket(const char *body, size_t len)
{
    char *loc = fuzz_xm_slot_end(FUZZ_XM_LOCATION) - FUZZ_XML_LOCATION_MAX;
    memset(loc, 0xa5, FUZZ_XML_LOCATION_MAX);
    enum s3_xml_parse_err err = s3_xml_parse_create_bucket(body, len, loc, FUZZ_XML_LOCATION_MAX);
    fuzz_xm_check_error(err);
    fuzz_xm_check_size(err, len, S3_BUCKET_CONFIG_BODY_MAX, true);
    fuzz_xm_require(err == S3_XML_OK || err == S3_XML_MALFORMED || err == S3_XML_TOO_LARGE,
                    "CreateBucket is OK or MalformedXML");
    if (err != S3_XML_OK)
        fuzz_xm_require(fuzz_xm_zero(loc, FUZZ_XML_LOCATION_MAX), "a failed parse leaves the location zeroed");
    size_t n = err == S3_XML_OK ? strnlen(loc, FUZZ_XML_LOCATION_MAX) : 0;
    fuzz_xm_require(n < FUZZ_XML_LOCATION_MAX && n <= 1024, "the location is a string of at most 1024 bytes");
    fuzz_xm_require(err != S3_XML_OK || (fuzz_xm_trimmed(loc) && fuzz_xm_chars(loc, n) >= 0),
                    "the location is trimmed UTF-8");

    /* A tight buffer: the same answer while the location fits, MalformedXML once it does not. */
    size_t cap = 1 + len % 24;
    char *tight = fuzz_xm_slot_end(FUZZ_XM_LOCATION2) - cap;
    memset(tight, 0xa5, cap);
    enum s3_xml_parse_err err2 = s3_xml_parse_create_bucket(body, len, tight, cap);
    if (err == S3_XML_OK && n >= cap)
        fuzz_xm_require(err2 == S3_XML_MALFORMED && fuzz_xm_zero(tight, cap), "a location too long for cap");
    else
        fuzz_xm_require(err2 == err && (err != S3_XML_OK || strcmp(tight, loc) == 0), "a location that fits cap");

    if (err == S3_XML_OK) {
        static char again[FUZZ_XML_LOCATION_MAX];
        struct s3_xml x;
        s3_xml_init(&x);
        s3_xml_open_ns(&x, "CreateBucketConfiguration", FUZZ_XML_NS);
        s3_xml_element(&x, "LocationConstraint", loc);
        s3_xml_close(&x, "CreateBucketConfiguration");
        fuzz_xm_require(fuzz_xm_reparse_fits(&x, S3_BUCKET_CONFIG_BODY_MAX), "a rebuilt CreateBucket fits");
        fuzz_xm_require(s3_xml_parse_create_bucket(x.buf, x.len, again, sizeof(again)) == S3_XML_OK &&
                            strcmp(again, loc) == 0,
                        "rebuilt CreateBucket gives the same location");
        s3_xml_free(&x);
    }
    return err;
}

/* ---- one input ---- */

static enum s3_xml_parse_err fuzz_xm_run(const void *data, size_t len)
{
    if (len > FUZZ_XML_MAX_INPUT)
        len = FUZZ_XML_MAX_INPUT;
    unsigned char sel = len ? *(const unsigned char *)data : 'D';
    size_t n = len ? len - 1 : 0;
    char *body = fuzz_xm_slot_end(FUZZ_XM_BODY) - n;
    memcpy(body, (const char *)data + (len ? 1 : 0), n);
    static const char order[] = "DCTQB";
    const char *pick = memchr(order, sel, 5);
    switch (pick ? *pick : order[sel % 5]) {
    case 'D':
        return fuzz_xm_delete(body, n);
    case 'C':
        return fuzz_xm_complete(body, n);
    case 'T':
        return fuzz_xm_tagging(body, n);
    case 'Q':
        return fuzz_xm_query(body, n);
    default:
        return fuzz_xm_bucket(body, n);
    }
}

static void fuzz_xml_one(const void *data, size_t len)
{
    (void)fuzz_xm_run(data, len);
}

/* Runs the file at `path` through fuzz_xml_one(); err (may be NULL) gets the parser's status. 0 or -errno. */
static int fuzz_xml_run_file_result(const char *path, enum s3_xml_parse_err *res)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = malloc(FUZZ_XML_MAX_INPUT);
    fuzz_xm_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_XML_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err) {
        enum s3_xml_parse_err r = fuzz_xm_run(buf, n);
        if (res)
            *res = r;
    }
    free(buf);
    return err;
}

static inline int fuzz_xml_run_file(const char *path)
{
    return fuzz_xml_run_file_result(path, NULL);
}

#endif
