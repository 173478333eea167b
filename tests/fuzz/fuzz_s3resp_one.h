/* One fuzz input through the parsers of S3 backends' XML answers (backend/s3_resp_xml.h), shared by
 * tests/fuzz/fuzz_s3resp.c and tests/unit/test_fuzz_s3resp_corpus.c.
 *
 * The first byte of the input picks the parser, the rest is its body: 'E' Error, 'I' InitiateMultipartUpload,
 * 'C' CompleteMultipartUpload's ETag, 'O' CopyObject's, 'P' CopyPart's, 'L' ListObjectsV2, 'T' a LastModified
 * text alone (wrapped into a listing here), 'D' DeleteObjects' DeleteResult; any other byte: its value mod 8, in
 * that order. The body ends just
 * below an inaccessible page, and so does every output the parsers write into (the error, the id, the ETag, the
 * listing), so a read or write past either faults at once: no ASan needed.
 *
 * The checks: the status is 0, -EPROTO or -E2BIG (never out of memory), -E2BIG exactly over S3_RESP_BODY_MAX,
 * an empty body -EPROTO; a failed parse leaves its output zeroed; s3_resp_is_error() agrees with the parsers (an
 * Error document is no other document, a parsed error is one, nothing over the cap is one). What parses holds what
 * the header promises: fields non-empty where required and shorter than their buffers, trimmed where trimmed,
 * keys of 1..S3_KEY_MAX bytes, sizes >= 0, times between years 0 and 9999, at most S3_RESP_LIST_MAX entries. Then
 * it is written back as XML with s3_xml.h (as responses are written; listing keys url-encoded, and also plain when
 * XML can carry them; times formatted by gmtime_r, not by the parser's arithmetic) and parsed again, which must
 * give the same result byte for byte. A time the parser accepts must read back as its own canonical form. Any
 * violation abort()s, which is what the fuzzer counts as a crash.
 */
#ifndef S3ORCH_FUZZ_S3RESP_ONE_H
#define S3ORCH_FUZZ_S3RESP_ONE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backend/s3_resp_xml.h"
#include "s3/s3_request.h"
#include "s3/s3_xml.h"

/* the selector, then one byte over the cap */
#define FUZZ_S3RESP_MAX_INPUT ((size_t)S3_RESP_BODY_MAX + 2u)
#define FUZZ_RX_TIME_MIN INT64_C(-62167219200000) /* 0000-01-01T00:00:00.000Z */
#define FUZZ_RX_TIME_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

enum { FUZZ_RX_BODY, FUZZ_RX_OUT, FUZZ_RX_SLOTS };

static void fuzz_rx_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_s3resp: invariant broken: %s\n", what);
    abort();
}

/* The end of guarded slot i: FUZZ_S3RESP_MAX_INPUT bytes rounded up to pages, then a PROT_NONE page. Mapped
 * once. */
static char *fuzz_rx_slot_end(int i)
{
    static char *base;
    static size_t stride, size;
    if (!base) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size = (FUZZ_S3RESP_MAX_INPUT + page - 1) / page * page;
        stride = size + page;
        char *p = mmap(NULL, stride * FUZZ_RX_SLOTS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_rx_require(p != MAP_FAILED, "mmap of the guarded slots");
        for (int s = 0; s < FUZZ_RX_SLOTS; s++)
            fuzz_rx_require(mprotect(p + (size_t)s * stride + size, page, PROT_NONE) == 0, "mprotect of a guard");
        base = p;
    }
    return base + (size_t)i * stride + size;
}

/* n bytes that end at the output slot's guard, filled with a pattern the parser must overwrite or zero. */
static void *fuzz_rx_out(size_t n)
{
    char *p = fuzz_rx_slot_end(FUZZ_RX_OUT) - n;
    memset(p, 0xa5, n);
    return p;
}

static bool fuzz_rx_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool fuzz_rx_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool fuzz_rx_trimmed(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || (!fuzz_rx_space(s[0]) && !fuzz_rx_space(s[n - 1]));
}

/* A C string within a buffer of cap bytes: a NUL before its end. */
static bool fuzz_rx_fits(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* Whether s[0..n) is UTF-8 of characters XML 1.0 text can carry, so it can be written plain: a check of the
 * harness's own, by the Unicode table of well-formed byte sequences. */
static bool fuzz_rx_xml_text(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char b = p[i];
        if (b < 0x80) {
            if (b < 0x20 && b != '\t' && b != '\n' && b != '\r')
                return false;
            i++;
            continue;
        }
        size_t more;
        unsigned char lo = 0x80, hi = 0xbf;
        uint32_t c;
        if (b >= 0xc2 && b <= 0xdf) {
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
            return false;
        }
        if (n - i - 1 < more || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if (k > 1 && (p[i + k] < 0x80 || p[i + k] > 0xbf))
                return false;
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        if (c == 0xfffe || c == 0xffff)
            return false;
        i += more + 1;
    }
    return true;
}

/* ms as S3 writes it, by gmtime_r (UTC whatever TZ says): the parser's arithmetic is not used to check itself. */
static void fuzz_rx_format_time(int64_t ms, char out[40])
{
    int64_t s = ms / 1000, r = ms % 1000;
    if (r < 0) {
        r += 1000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    fuzz_rx_require(gmtime_r(&t, &tm) != NULL, "gmtime_r of a time in range");
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)r);
}

static void fuzz_rx_check_status(int err, size_t len)
{
    fuzz_rx_require(err == 0 || err == -EPROTO || err == -E2BIG, "0, -EPROTO or -E2BIG");
    if (len > S3_RESP_BODY_MAX)
        fuzz_rx_require(err == -E2BIG, "over the cap is -E2BIG");
    else if (len == 0)
        fuzz_rx_require(err == -EPROTO, "an empty body is -EPROTO");
    else
        fuzz_rx_require(err != -E2BIG, "-E2BIG only over the cap");
}

/* The XML rebuilt in x, which must not have overflowed, if it is within the cap (escaping may take it over). */
static bool fuzz_rx_reparse_fits(const struct s3_xml *x)
{
    fuzz_rx_require(!x->overflow, "rebuilding fits S3_XML_MAX");
    return x->len <= S3_RESP_BODY_MAX;
}

/* ---- Error ---- */

static int fuzz_rx_error(const char *body, size_t len, bool is_error)
{
    struct s3_resp_error *e = fuzz_rx_out(sizeof(*e));
    int err = s3_resp_parse_error(body, len, e);
    fuzz_rx_check_status(err, len);
    if (err) {
        fuzz_rx_require(fuzz_rx_zero(e, sizeof(*e)), "a failed parse leaves the error zeroed");
        return err;
    }
    fuzz_rx_require(is_error, "a parsed error is an error document");
    fuzz_rx_require(fuzz_rx_fits(e->code, sizeof(e->code)) && fuzz_rx_fits(e->message, sizeof(e->message)),
                    "code and message fit their buffers");
    fuzz_rx_require(e->code[0] && fuzz_rx_trimmed(e->code) && fuzz_rx_trimmed(e->message),
                    "a code, trimmed, and a message, trimmed");
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open(&x, "Error");
    s3_xml_element(&x, "Code", e->code);
    s3_xml_element(&x, "Message", e->message);
    s3_xml_close(&x, "Error");
    struct s3_resp_error again;
    fuzz_rx_require(fuzz_rx_reparse_fits(&x), "a rebuilt error fits");
    fuzz_rx_require(s3_resp_is_error(x.buf, x.len), "a rebuilt error is one");
    fuzz_rx_require(s3_resp_parse_error(x.buf, x.len, &again) == 0, "a rebuilt error parses");
    fuzz_rx_require(strcmp(again.code, e->code) == 0 && strcmp(again.message, e->message) == 0,
                    "a rebuilt error gives the same code and message");
    s3_xml_free(&x);
    return err;
}

/* ---- one field: UploadId, ETag ---- */

static int fuzz_rx_initiate(const char *body, size_t len, bool is_error)
{
    char *id = fuzz_rx_out(S3_RESP_ID_MAX);
    int err = s3_resp_parse_initiate(body, len, id);
    fuzz_rx_check_status(err, len);
    if (is_error)
        fuzz_rx_require(err == -EPROTO, "an error document is no Initiate");
    if (err) {
        fuzz_rx_require(fuzz_rx_zero(id, S3_RESP_ID_MAX), "a failed parse leaves the id zeroed");
        return err;
    }
    fuzz_rx_require(fuzz_rx_fits(id, S3_RESP_ID_MAX) && id[0], "an id, not empty, that fits");
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open_ns(&x, "InitiateMultipartUploadResult", S3_XML_NS);
    s3_xml_element(&x, "UploadId", id);
    s3_xml_close(&x, "InitiateMultipartUploadResult");
    static char again[S3_RESP_ID_MAX];
    fuzz_rx_require(fuzz_rx_reparse_fits(&x), "a rebuilt Initiate fits");
    fuzz_rx_require(s3_resp_parse_initiate(x.buf, x.len, again) == 0 && strcmp(again, id) == 0,
                    "a rebuilt Initiate gives the same id, byte for byte");
    s3_xml_free(&x);
    return err;
}

static int fuzz_rx_etag(const char *body, size_t len, const char *root, bool is_error)
{
    char *tag = fuzz_rx_out(S3_RESP_ETAG_MAX);
    int err = s3_resp_parse_etag(body, len, root, tag);
    fuzz_rx_check_status(err, len);
    if (is_error)
        fuzz_rx_require(err == -EPROTO, "an error document is no result");
    if (err) {
        fuzz_rx_require(fuzz_rx_zero(tag, S3_RESP_ETAG_MAX), "a failed parse leaves the ETag zeroed");
        return err;
    }
    fuzz_rx_require(fuzz_rx_fits(tag, S3_RESP_ETAG_MAX) && tag[0] && fuzz_rx_trimmed(tag),
                    "an ETag, not empty, trimmed, that fits");
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open_ns(&x, root, S3_XML_NS);
    s3_xml_element(&x, "ETag", tag);
    s3_xml_close(&x, root);
    static char again[S3_RESP_ETAG_MAX];
    fuzz_rx_require(fuzz_rx_reparse_fits(&x), "a rebuilt result fits");
    fuzz_rx_require(s3_resp_parse_etag(x.buf, x.len, root, again) == 0 && strcmp(again, tag) == 0,
                    "a rebuilt result gives the same ETag");
    s3_xml_free(&x);
    return err;
}

/* ---- ListBucketResult ---- */

static void fuzz_rx_check_list(const struct s3_resp_list *l)
{
    fuzz_rx_require(l->n <= S3_RESP_LIST_MAX, "at most S3_RESP_LIST_MAX entries");
    fuzz_rx_require((l->v == NULL) == (l->n == 0), "entries iff n");
    fuzz_rx_require(fuzz_rx_fits(l->next_token, sizeof(l->next_token)), "a token that fits");
    for (size_t i = 0; i < l->n; i++) {
        const struct s3_resp_entry *e = &l->v[i];
        fuzz_rx_require(e->key && e->key[0] && strlen(e->key) <= S3_KEY_MAX, "a key of 1..S3_KEY_MAX bytes");
        fuzz_rx_require(e->size >= 0, "a size >= 0");
        fuzz_rx_require(fuzz_rx_fits(e->etag, sizeof(e->etag)) && fuzz_rx_trimmed(e->etag),
                        "an ETag, trimmed, that fits");
        fuzz_rx_require(e->modified_ms >= FUZZ_RX_TIME_MIN && e->modified_ms <= FUZZ_RX_TIME_MAX,
                        "a time between years 0 and 9999");
    }
}

static bool fuzz_rx_same_list(const struct s3_resp_list *a, const struct s3_resp_list *b)
{
    if (a->n != b->n || a->truncated != b->truncated || strcmp(a->next_token, b->next_token) != 0)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct s3_resp_entry *x = &a->v[i], *y = &b->v[i];
        if (strcmp(x->key, y->key) != 0 || x->size != y->size || strcmp(x->etag, y->etag) != 0 ||
            x->modified_ms != y->modified_ms)
            return false;
    }
    return true;
}

/* l written back as ListObjectsV2 writes it, keys url-encoded or plain; parsed again it must be l. */
static void fuzz_rx_round_trip_list(const struct s3_resp_list *l, bool url)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "ListBucketResult", S3_XML_NS);
    s3_xml_element(&x, "Name", "bucket");
    s3_xml_element_bool(&x, "IsTruncated", l->truncated);
    for (size_t i = 0; i < l->n; i++) {
        char when[40];
        fuzz_rx_format_time(l->v[i].modified_ms, when);
        s3_xml_open(&x, "Contents");
        s3_xml_element_key(&x, "Key", l->v[i].key, url);
        s3_xml_element(&x, "LastModified", when);
        s3_xml_element(&x, "ETag", l->v[i].etag);
        s3_xml_element_int(&x, "Size", l->v[i].size);
        s3_xml_element(&x, "StorageClass", "STANDARD");
        s3_xml_close(&x, "Contents");
    }
    if (url)
        s3_xml_element(&x, "EncodingType", "url");
    if (l->next_token[0])
        s3_xml_element(&x, "NextContinuationToken", l->next_token);
    s3_xml_close(&x, "ListBucketResult");
    if (fuzz_rx_reparse_fits(&x)) {
        struct s3_resp_list again;
        fuzz_rx_require(s3_resp_parse_list(x.buf, x.len, &again) == 0, "a rebuilt listing parses");
        fuzz_rx_require(fuzz_rx_same_list(l, &again), "a rebuilt listing gives the same entries");
        s3_resp_list_free(&again);
    }
    s3_xml_free(&x);
}

static int fuzz_rx_list(const char *body, size_t len, bool is_error)
{
    struct s3_resp_list *l = fuzz_rx_out(sizeof(*l));
    int err = s3_resp_parse_list(body, len, l);
    fuzz_rx_check_status(err, len);
    if (is_error)
        fuzz_rx_require(err == -EPROTO, "an error document is no listing");
    if (err) {
        fuzz_rx_require(fuzz_rx_zero(l, sizeof(*l)), "a failed parse leaves the listing zeroed");
        return err;
    }
    fuzz_rx_check_list(l);
    fuzz_rx_round_trip_list(l, true);
    bool plain = true;
    for (size_t i = 0; i < l->n && plain; i++)
        plain = fuzz_rx_xml_text(l->v[i].key, strlen(l->v[i].key));
    if (plain)
        fuzz_rx_round_trip_list(l, false);
    s3_resp_list_free(l);
    s3_resp_list_free(l);
    fuzz_rx_require(fuzz_rx_zero(l, sizeof(*l)), "free zeroes");
    return err;
}

/* ---- DeleteResult ---- */

struct fuzz_rx_deleted {
    size_t n;
    char keys[4][S3_KEY_MAX + 1]; /* the first few, to compare after the round trip */
    char codes[4][S3_RESP_CODE_MAX];
};

static void fuzz_rx_delete_error(void *arg, const char *key, const char *code)
{
    struct fuzz_rx_deleted *d = arg;
    fuzz_rx_require(strlen(key) <= S3_KEY_MAX, "a key of at most S3_KEY_MAX bytes");
    fuzz_rx_require(code[0] && strlen(code) < S3_RESP_CODE_MAX && fuzz_rx_trimmed(code),
                    "a code, not empty, trimmed, that fits");
    if (d->n < 4) {
        strcpy(d->keys[d->n], key);
        strcpy(d->codes[d->n], code);
    }
    d->n++;
}

static int fuzz_rx_delete(const char *body, size_t len, bool is_error)
{
    static struct fuzz_rx_deleted got, again;
    memset(&got, 0, sizeof(got));
    int err = s3_resp_parse_delete(body, len, fuzz_rx_delete_error, &got);
    fuzz_rx_check_status(err, len);
    if (is_error)
        fuzz_rx_require(err == -EPROTO, "an error document is no DeleteResult");
    if (err || got.n > 4)
        return err;
    for (size_t i = 0; i < got.n; i++)
        if (!fuzz_rx_xml_text(got.keys[i], strlen(got.keys[i])))
            return err;
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open_ns(&x, "DeleteResult", S3_XML_NS);
    for (size_t i = 0; i < got.n; i++) {
        s3_xml_open(&x, "Error");
        s3_xml_element(&x, "Key", got.keys[i]);
        s3_xml_element(&x, "Code", got.codes[i]);
        s3_xml_close(&x, "Error");
    }
    s3_xml_close(&x, "DeleteResult");
    memset(&again, 0, sizeof(again));
    fuzz_rx_require(fuzz_rx_reparse_fits(&x), "a rebuilt DeleteResult fits");
    fuzz_rx_require(s3_resp_parse_delete(x.buf, x.len, fuzz_rx_delete_error, &again) == 0,
                    "a rebuilt DeleteResult parses");
    fuzz_rx_require(again.n == got.n, "a rebuilt DeleteResult has as many errors");
    for (size_t i = 0; i < got.n; i++)
        fuzz_rx_require(strcmp(again.keys[i], got.keys[i]) == 0 && strcmp(again.codes[i], got.codes[i]) == 0,
                        "a rebuilt DeleteResult gives the same keys and codes");
    s3_xml_free(&x);
    return err;
}

/* ---- a LastModified text ---- */

/* text in a listing of one entry; accepted, it must be the canonical form of the time it gives (whitespace
 * around it and fraction digits past the milliseconds aside). */
static int fuzz_rx_time(const char *text, size_t len)
{
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_open(&x, "ListBucketResult");
    s3_xml_element(&x, "IsTruncated", "false");
    s3_xml_open(&x, "Contents");
    s3_xml_element(&x, "Key", "k");
    s3_xml_element_n(&x, "LastModified", text, len);
    s3_xml_close(&x, "Contents");
    s3_xml_close(&x, "ListBucketResult");
    fuzz_rx_require(!x.overflow, "a one-entry listing fits S3_XML_MAX");
    struct s3_resp_list l;
    int err = x.len <= S3_RESP_BODY_MAX ? s3_resp_parse_list(x.buf, x.len, &l) : -E2BIG;
    s3_xml_free(&x);
    if (err)
        return err;
    fuzz_rx_check_list(&l);
    fuzz_rx_require(l.n == 1, "one entry");
    int64_t ms = l.v[0].modified_ms;
    s3_resp_list_free(&l);
    while (len && fuzz_rx_space(text[len - 1]))
        len--;
    while (len && fuzz_rx_space(*text)) {
        text++;
        len--;
    }
    char want[40];
    fuzz_rx_format_time(ms, want); /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    fuzz_rx_require(len >= 20 && memcmp(text, want, 19) == 0 && text[len - 1] == 'Z',
                    "an accepted time reads back as its date and time of day");
    if (len == 20) {
        fuzz_rx_require(ms % 1000 == 0, "no fraction, no milliseconds");
        return 0;
    }
    /* ".d" to ".ddddddddd": the first three digits, padded with zeros, are the milliseconds. */
    fuzz_rx_require(text[19] == '.' && len >= 22 && len <= 30, "a fraction of 1..9 digits");
    char frac[4] = "000";
    for (size_t i = 20; i < len - 1; i++) {
        fuzz_rx_require(text[i] >= '0' && text[i] <= '9', "fraction digits");
        if (i < 23)
            frac[i - 20] = text[i];
    }
    fuzz_rx_require(memcmp(frac, want + 20, 3) == 0, "the milliseconds are the fraction's first digits");
    return 0;
}

/* ---- one input ---- */

static int fuzz_rx_run(const void *data, size_t len)
{
    if (len > FUZZ_S3RESP_MAX_INPUT)
        len = FUZZ_S3RESP_MAX_INPUT;
    unsigned char sel = len ? *(const unsigned char *)data : 'E';
    size_t n = len ? len - 1 : 0;
    char *body = fuzz_rx_slot_end(FUZZ_RX_BODY) - n;
    memcpy(body, (const char *)data + (len ? 1 : 0), n);
    static const char order[] = "EICOPLTD";
    const char *pick = memchr(order, sel, 8);
    char mode = pick ? *pick : order[sel % 8];
    if (mode == 'T')
        return fuzz_rx_time(body, n);
    bool is_error = s3_resp_is_error(body, n);
    if (n > S3_RESP_BODY_MAX || n == 0)
        fuzz_rx_require(!is_error, "nothing over the cap, nor empty, is an error");
    switch (mode) {
    case 'E':
        return fuzz_rx_error(body, n, is_error);
    case 'I':
        return fuzz_rx_initiate(body, n, is_error);
    case 'C':
        return fuzz_rx_etag(body, n, "CompleteMultipartUploadResult", is_error);
    case 'O':
        return fuzz_rx_etag(body, n, "CopyObjectResult", is_error);
    case 'P':
        return fuzz_rx_etag(body, n, "CopyPartResult", is_error);
    case 'D':
        return fuzz_rx_delete(body, n, is_error);
    default:
        return fuzz_rx_list(body, n, is_error);
    }
}

static void fuzz_s3resp_one(const void *data, size_t len)
{
    (void)fuzz_rx_run(data, len);
}

/* Runs the file at `path` through fuzz_s3resp_one(); res (may be NULL) gets the parser's status. 0 or -errno. */
static int fuzz_s3resp_run_file_result(const char *path, int *res)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = malloc(FUZZ_S3RESP_MAX_INPUT);
    fuzz_rx_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_S3RESP_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err) {
        int r = fuzz_rx_run(buf, n);
        if (res)
            *res = r;
    }
    free(buf);
    return err;
}

static inline int fuzz_s3resp_run_file(const char *path)
{
    return fuzz_s3resp_run_file_result(path, NULL);
}

#endif
