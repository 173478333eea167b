/* SigV4 for S3. The canonical request is never built in memory when verifying: each part is written to a sink
 * that feeds SHA-256, and the query string is sorted as an array of slices of the wire form, compared through an
 * iterator that yields their canonical (decoded-then-encoded) bytes. */
#include "s3/s3_sigv4.h"
#include "util/hex.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const struct {
    int status;
    const char *code;
    const char *message;
} sigv4_errors[S3_SIGV4_ERR_COUNT] = {
    [S3_SIGV4_OK] = { 200, "", "" },
    [S3_SIGV4_ERR_NO_AUTH] = { 403, "AccessDenied", "Access Denied" },
    [S3_SIGV4_ERR_AUTH_HEADER_MALFORMED] = { 400, "AuthorizationHeaderMalformed",
                                             "The authorization header is malformed." },
    [S3_SIGV4_ERR_AUTH_QUERY_MALFORMED] = { 400, "AuthorizationQueryParametersError",
                                            "The query-string authentication parameters are malformed." },
    [S3_SIGV4_ERR_UNSUPPORTED_AUTH] = { 400, "InvalidRequest",
                                        "The authorization mechanism you have provided is not supported. Please "
                                        "use AWS4-HMAC-SHA256." },
    [S3_SIGV4_ERR_MULTIPLE_AUTH] = { 400, "InvalidArgument",
                                     "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                                     "Signature query string parameter or the Authorization header should be "
                                     "specified" },
    [S3_SIGV4_ERR_NOT_IMPLEMENTED] = { 501, "NotImplemented",
                                       "A header you provided implies functionality that is not implemented" },
    [S3_SIGV4_ERR_MISSING_DATE] = { 403, "AccessDenied",
                                    "AWS authentication requires a valid Date or x-amz-date header" },
    [S3_SIGV4_ERR_TIME_SKEWED] = { 403, "RequestTimeTooSkewed",
                                   "The difference between the request time and the current time is too large." },
    [S3_SIGV4_ERR_EXPIRED] = { 403, "AccessDenied", "Request has expired" },
    [S3_SIGV4_ERR_NOT_YET_VALID] = { 403, "AccessDenied", "Request is not valid yet" },
    [S3_SIGV4_ERR_MISSING_CONTENT_SHA256] = { 400, "InvalidRequest",
                                              "Missing required header for this request: x-amz-content-sha256" },
    [S3_SIGV4_ERR_BAD_CONTENT_SHA256] = { 400, "InvalidArgument",
                                          "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                                          "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                                          "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value." },
    [S3_SIGV4_ERR_CONTENT_SHA256_MISMATCH] = { 400, "XAmzContentSHA256Mismatch",
                                               "The provided 'x-amz-content-sha256' header does not match what "
                                               "was computed." },
    [S3_SIGV4_ERR_INVALID_URI] = { 400, "InvalidURI", "Couldn't parse the specified URI." },
    [S3_SIGV4_ERR_MISSING_SIGNED_HEADER] = { 403, "SignatureDoesNotMatch",
                                             "The request signature we calculated does not match the signature "
                                             "you provided. Check your key and signing method." },
    [S3_SIGV4_ERR_SIGNATURE_MISMATCH] = { 403, "SignatureDoesNotMatch",
                                          "The request signature we calculated does not match the signature you "
                                          "provided. Check your key and signing method." },
    [S3_SIGV4_ERR_TOO_LONG] = { 400, "InvalidArgument", "A signing parameter is longer than this server accepts." },
};

static bool err_valid(enum s3_sigv4_err err)
{
    return err >= S3_SIGV4_OK && err < S3_SIGV4_ERR_COUNT;
}

const char *s3_sigv4_err_code(enum s3_sigv4_err err)
{
    return err_valid(err) ? sigv4_errors[err].code : "InternalError";
}

int s3_sigv4_err_status(enum s3_sigv4_err err)
{
    return err_valid(err) ? sigv4_errors[err].status : 500;
}

const char *s3_sigv4_err_message(enum s3_sigv4_err err)
{
    return err_valid(err) ? sigv4_errors[err].message : "";
}

/* ---- characters and URI encoding ---- */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static const char upper_hex[] = "0123456789ABCDEF";

ssize_t s3_uri_encode(char *dst, size_t cap, const char *src, size_t n, bool encode_slash)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (is_unreserved(c) || (c == '/' && !encode_slash)) {
            if (o + 1 >= cap)
                return -ENOSPC;
            dst[o++] = (char)c;
        } else {
            if (o + 3 >= cap)
                return -ENOSPC;
            dst[o++] = '%';
            dst[o++] = upper_hex[c >> 4];
            dst[o++] = upper_hex[c & 0xf];
        }
    }
    if (o >= cap)
        return -ENOSPC;
    dst[o] = '\0';
    return (ssize_t)o;
}

/* The byte a "%XX" at src[i] stands for, or -1 when it is not one. */
static int pct_byte(const char *src, size_t n, size_t i)
{
    if (n - i < 3)
        return -1;
    int hi = hex_digit_value((unsigned char)src[i + 1]), lo = hex_digit_value((unsigned char)src[i + 2]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/* Percent-decodes once; a query also turns "+" into a space. */
static ssize_t uri_decode(char *dst, size_t cap, const char *src, size_t n, bool query)
{
    size_t o = 0;
    for (size_t i = 0; i < n; o++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            c = pct_byte(src, n, i);
            if (c < 0)
                return -EINVAL;
            i += 3;
        } else {
            i++;
            if (c == '+' && query)
                c = ' ';
        }
        if (o >= cap)
            return -ENOSPC;
        dst[o] = (char)c;
    }
    if (o < cap)
        dst[o] = '\0';
    return (ssize_t)o;
}

ssize_t s3_uri_decode(char *dst, size_t cap, const char *src, size_t n)
{
    return uri_decode(dst, cap, src, n, false);
}

static bool escapes_valid(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '%') {
            if (pct_byte(p, n, i) < 0)
                return false;
            i += 2;
        }
    return true;
}

/* ---- sinks ---- */

void s3_sigv4_sink_init(struct s3_sigv4_sink *s, struct s3_sha256 *sha, char *buf, size_t cap)
{
    *s = (struct s3_sigv4_sink){ .sha = sha, .buf = buf, .cap = buf ? cap : 0 };
}

void s3_sigv4_sink_write(struct s3_sigv4_sink *s, const void *p, size_t n)
{
    if (s->sha)
        s3_sha256_update(s->sha, p, n);
    if (s->buf && s->len < s->cap) {
        size_t k = s->cap - s->len < n ? s->cap - s->len : n;
        memcpy(s->buf + s->len, p, k);
    }
    s->len += n;
}

static void sink_byte(struct s3_sigv4_sink *s, char c)
{
    s3_sigv4_sink_write(s, &c, 1);
}

const char *s3_sigv4_sink_text(struct s3_sigv4_sink *s)
{
    if (!s->buf || s->len >= s->cap)
        return NULL;
    s->buf[s->len] = '\0';
    return s->buf;
}

/* Small writes (one encoded byte, one lower-cased name character) are gathered here so SHA-256 sees blocks. */
struct sink_buf {
    struct s3_sigv4_sink *sink;
    size_t n;
    char b[256];
};

static void sink_buf_flush(struct sink_buf *sb)
{
    s3_sigv4_sink_write(sb->sink, sb->b, sb->n);
    sb->n = 0;
}

static void sink_buf_put(struct sink_buf *sb, char c)
{
    if (sb->n == sizeof(sb->b))
        sink_buf_flush(sb);
    sb->b[sb->n++] = c;
}

/* ---- canonical encoding of wire components ---- */

/* Yields the canonical bytes of a wire-form component (already checked by escapes_valid): each byte or escape
 * decoded once, then encoded. Query components decode "+" as a space; paths keep "/" as it is. */
struct canon_iter {
    const char *p, *end;
    bool query;
    char pend[2];
    int npend;
};

static void canon_iter_init(struct canon_iter *it, const char *p, size_t n, bool query)
{
    *it = (struct canon_iter){ .p = p, .end = p + n, .query = query };
}

static int canon_next(struct canon_iter *it)
{
    if (it->npend)
        return (unsigned char)it->pend[2 - it->npend--];
    if (it->p == it->end)
        return -1;
    int c = (unsigned char)*it->p;
    if (c == '%') {
        c = pct_byte(it->p, (size_t)(it->end - it->p), 0);
        it->p += 3;
    } else {
        it->p++;
        if (c == '+' && it->query)
            c = ' ';
    }
    if (is_unreserved((unsigned char)c) || (c == '/' && !it->query))
        return c;
    it->pend[0] = upper_hex[c >> 4];
    it->pend[1] = upper_hex[c & 0xf];
    it->npend = 2;
    return '%';
}

static void canon_write(struct sink_buf *sb, const char *p, size_t n, bool query)
{
    struct canon_iter it;
    canon_iter_init(&it, p, n, query);
    for (int c; (c = canon_next(&it)) >= 0;)
        sink_buf_put(sb, (char)c);
}

/* Orders two query components by their canonical bytes; a prefix sorts first. */
static int canon_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    struct canon_iter ia, ib;
    canon_iter_init(&ia, a, an, true);
    canon_iter_init(&ib, b, bn, true);
    for (;;) {
        int ca = canon_next(&ia), cb = canon_next(&ib);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca < 0)
            return 0;
    }
}

/* Whether a query component canonicalises to lit (which needs no encoding). */
static bool canon_eq(const char *p, size_t n, const char *lit)
{
    return canon_cmp(p, n, lit, strlen(lit)) == 0;
}

enum s3_sigv4_err s3_sigv4_canonical_uri(struct s3_sigv4_sink *out, const char *path, size_t n)
{
    if (!escapes_valid(path, n))
        return S3_SIGV4_ERR_INVALID_URI;
    if (n == 0) {
        sink_byte(out, '/');
        return S3_SIGV4_OK;
    }
    struct sink_buf sb = { .sink = out };
    canon_write(&sb, path, n, false);
    sink_buf_flush(&sb);
    return S3_SIGV4_OK;
}

struct query_param {
    const char *name, *value;
    size_t name_len, value_len;
};

/* The next non-empty "name[=value]" of a wire query at *pos; false at the end. */
static bool query_next(const char *q, size_t n, size_t *pos, struct query_param *qp)
{
    while (*pos < n) {
        size_t start = *pos, end = start;
        while (end < n && q[end] != '&')
            end++;
        *pos = end < n ? end + 1 : end;
        if (end == start)
            continue;
        const char *eq = memchr(q + start, '=', end - start);
        qp->name = q + start;
        qp->name_len = eq ? (size_t)(eq - qp->name) : end - start;
        qp->value = eq ? eq + 1 : q + end;
        qp->value_len = eq ? (size_t)(q + end - qp->value) : 0;
        return true;
    }
    return false;
}

static int param_cmp(const struct query_param *a, const struct query_param *b)
{
    int c = canon_cmp(a->name, a->name_len, b->name, b->name_len);
    return c ? c : canon_cmp(a->value, a->value_len, b->value, b->value_len);
}

enum s3_sigv4_err s3_sigv4_canonical_query(struct s3_sigv4_sink *out, const char *query, size_t n, bool presigned)
{
    struct query_param params[S3_SIGV4_MAX_QUERY_PARAMS], qp;
    size_t count = 0, pos = 0;
    while (query_next(query, n, &pos, &qp)) {
        if (!escapes_valid(qp.name, qp.name_len) || !escapes_valid(qp.value, qp.value_len))
            return S3_SIGV4_ERR_INVALID_URI;
        if (presigned && canon_eq(qp.name, qp.name_len, "X-Amz-Signature"))
            continue;
        if (count == S3_SIGV4_MAX_QUERY_PARAMS)
            return S3_SIGV4_ERR_INVALID_URI;
        /* Insertion sort: a query has few parameters, and this keeps equal ones in order. */
        size_t i = count++;
        for (; i > 0 && param_cmp(&params[i - 1], &qp) > 0; i--)
            params[i] = params[i - 1];
        params[i] = qp;
    }
    struct sink_buf sb = { .sink = out };
    for (size_t i = 0; i < count; i++) {
        if (i)
            sink_buf_put(&sb, '&');
        canon_write(&sb, params[i].name, params[i].name_len, true);
        sink_buf_put(&sb, '=');
        canon_write(&sb, params[i].value, params[i].value_len, true);
    }
    sink_buf_flush(&sb);
    return S3_SIGV4_OK;
}

/* ---- canonical headers ---- */

static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && strncasecmp(a, b, an) == 0;
}

/* The value with leading and trailing SP/HTAB dropped and each inner run of them written as one space. */
static void write_trimmed(struct s3_sigv4_sink *out, const char *v, size_t n)
{
    size_t i = 0;
    bool first = true;
    while (i < n) {
        while (i < n && is_ows((unsigned char)v[i]))
            i++;
        size_t start = i;
        while (i < n && !is_ows((unsigned char)v[i]))
            i++;
        if (i == start)
            break;
        if (!first)
            sink_byte(out, ' ');
        s3_sigv4_sink_write(out, v + start, i - start);
        first = false;
    }
}

/* The next name of a ";"-separated signed-headers list at *pos; false at the end. Empty names come back empty. */
static bool signed_next(const char *sh, size_t n, size_t *pos, struct s3_sigv4_str *name)
{
    if (*pos > n)
        return false;
    size_t start = *pos, end = start;
    while (end < n && sh[end] != ';')
        end++;
    *name = (struct s3_sigv4_str){ sh + start, end - start };
    *pos = end + 1;
    return true;
}

enum s3_sigv4_err s3_sigv4_canonical_headers(struct s3_sigv4_sink *out, const char *signed_headers, size_t sh_len,
                                             const struct s3_sigv4_header *headers, size_t nheaders)
{
    struct s3_sigv4_str name;
    size_t pos = 0;
    while (signed_next(signed_headers, sh_len, &pos, &name)) {
        if (name.n == 0)
            return S3_SIGV4_ERR_AUTH_HEADER_MALFORMED;
        struct sink_buf sb = { .sink = out };
        for (size_t i = 0; i < name.n; i++) {
            char c = name.p[i];
            sink_buf_put(&sb, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
        }
        sink_buf_put(&sb, ':');
        sink_buf_flush(&sb);
        bool found = false;
        for (size_t h = 0; h < nheaders; h++) {
            if (!name_eq(headers[h].name, headers[h].name_len, name.p, name.n))
                continue;
            if (found)
                sink_byte(out, ',');
            write_trimmed(out, headers[h].value, headers[h].value_len);
            found = true;
        }
        if (!found)
            return S3_SIGV4_ERR_MISSING_SIGNED_HEADER;
        sink_byte(out, '\n');
    }
    return S3_SIGV4_OK;
}

enum s3_sigv4_err s3_sigv4_canonical_request(struct s3_sigv4_sink *out, const struct s3_sigv4_request *req,
                                             bool presigned, const char *signed_headers, size_t sh_len,
                                             const char *payload_hash, size_t ph_len)
{
    s3_sigv4_sink_write(out, req->method, req->method_len);
    sink_byte(out, '\n');
    enum s3_sigv4_err err = s3_sigv4_canonical_uri(out, req->path, req->path_len);
    if (err)
        return err;
    sink_byte(out, '\n');
    if ((err = s3_sigv4_canonical_query(out, req->query, req->query_len, presigned)))
        return err;
    sink_byte(out, '\n');
    if ((err = s3_sigv4_canonical_headers(out, signed_headers, sh_len, req->headers, req->nheaders)))
        return err;
    sink_byte(out, '\n');
    s3_sigv4_sink_write(out, signed_headers, sh_len);
    sink_byte(out, '\n');
    s3_sigv4_sink_write(out, payload_hash, ph_len);
    return S3_SIGV4_OK;
}

/* ---- signing ---- */

/* HMAC-SHA256 (RFC 2104) in pieces, on the SHA-256 that uses the CPU's SHA instructions where it has them. */
typedef struct {
    struct s3_sha256 inner, outer;
} Hmac;

static void hmac_begin(Hmac *h, const void *key, size_t key_len)
{
    uint8_t k[64] = {0}, pad[64];
    if (key_len > sizeof(k)) {
        struct s3_sha256 sha; /* a key longer than the block is hashed first */
        s3_sha256_init(&sha);
        s3_sha256_update(&sha, key, key_len);
        s3_sha256_final(&sha, k);
    } else {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < sizeof(k); i++)
        pad[i] = k[i] ^ 0x36;
    s3_sha256_init(&h->inner);
    s3_sha256_update(&h->inner, pad, sizeof(pad));
    for (size_t i = 0; i < sizeof(k); i++)
        pad[i] = k[i] ^ 0x5c;
    s3_sha256_init(&h->outer);
    s3_sha256_update(&h->outer, pad, sizeof(pad));
    explicit_bzero(k, sizeof(k));
    explicit_bzero(pad, sizeof(pad));
}

static void hmac_put(Hmac *h, const void *p, size_t n) { s3_sha256_update(&h->inner, p, n); }

static void hmac_end(Hmac *h, uint8_t out[32])
{
    uint8_t inner[32];
    s3_sha256_final(&h->inner, inner);
    s3_sha256_update(&h->outer, inner, sizeof(inner));
    s3_sha256_final(&h->outer, out);
    explicit_bzero(h, sizeof(*h));
}

static void hmac_once(const void *key, size_t key_len, const void *msg, size_t n, uint8_t out[32])
{
    Hmac h;
    hmac_begin(&h, key, key_len);
    hmac_put(&h, msg, n);
    hmac_end(&h, out);
}

void s3_sigv4_signing_key(const char *secret, size_t secret_len, const char date[8], const char *region,
                          size_t region_len, const char *service, size_t service_len, uint8_t key[32])
{
    /* HMAC hashes keys longer than its 64-byte block; doing it here spares a buffer sized for any secret. */
    uint8_t first[64];
    size_t first_len;
    if (4 + secret_len <= sizeof(first)) {
        memcpy(first, "AWS4", 4);
        memcpy(first + 4, secret, secret_len);
        first_len = 4 + secret_len;
    } else {
        struct s3_sha256 sha;
        s3_sha256_init(&sha);
        s3_sha256_update(&sha, "AWS4", 4);
        s3_sha256_update(&sha, secret, secret_len);
        s3_sha256_final(&sha, first);
        first_len = 32;
    }
    uint8_t k[32];
    hmac_once(first, first_len, date, 8, k);
    hmac_once(k, 32, region, region_len, k);
    hmac_once(k, 32, service, service_len, k);
    hmac_once(k, 32, "aws4_request", 12, key);
    explicit_bzero(first, sizeof(first));
    explicit_bzero(k, sizeof(k));
}

void s3_sigv4_signature_hex(const uint8_t key[32], const char *msg, size_t n, char out[65])
{
    uint8_t mac[32];
    hmac_once(key, 32, msg, n, mac);
    s3_hex_encode(mac, sizeof(mac), out);
}

bool s3_sigv4_equal(const char *a, const char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

ssize_t s3_sigv4_string_to_sign(char *dst, size_t cap, const char amz_date[16], const char *scope,
                                size_t scope_len, const char creq_sha256_hex[64])
{
    static const char alg[] = S3_SIGV4_ALGORITHM "\n";
    size_t alg_len = sizeof(alg) - 1, n = alg_len + 17 + scope_len + 1 + 64;
    if (n + 1 > cap)
        return -ENOSPC;
    char *o = dst;
    memcpy(o, alg, alg_len);
    o += alg_len;
    memcpy(o, amz_date, 16);
    o[16] = '\n';
    o += 17;
    memcpy(o, scope, scope_len);
    o[scope_len] = '\n';
    o += scope_len + 1;
    memcpy(o, creq_sha256_hex, 64);
    o[64] = '\0';
    return (ssize_t)n;
}

enum s3_sigv4_err s3_sigv4_sign(const struct s3_sigv4_request *req, bool presigned, const char *signed_headers,
                                size_t sh_len, const char *payload_hash, size_t ph_len, const char amz_date[16],
                                const char *scope, size_t scope_len, const uint8_t key[32], char out[65])
{
    struct s3_sha256 sha;
    struct s3_sigv4_sink sink;
    char creq_hex[65], sts[64 + S3_SIGV4_MAX_SCOPE + 64];
    out[0] = '\0';
    s3_sha256_init(&sha);
    s3_sigv4_sink_init(&sink, &sha, NULL, 0);
    enum s3_sigv4_err err =
        s3_sigv4_canonical_request(&sink, req, presigned, signed_headers, sh_len, payload_hash, ph_len);
    s3_sha256_final_hex(&sha, creq_hex);
    if (err)
        return err;
    ssize_t n = s3_sigv4_string_to_sign(sts, sizeof(sts), amz_date, scope, scope_len, creq_hex);
    if (n < 0)
        return S3_SIGV4_ERR_TOO_LONG;
    s3_sigv4_signature_hex(key, sts, (size_t)n, out);
    return S3_SIGV4_OK;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at s, or -1. */
static int64_t digits(const char *s, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int make_time(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t *t)
{
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (int)mo) || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || s < 0 || s > 59)
        return -EINVAL;
    *t = days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

int s3_sigv4_parse_amz_date(const char *s, size_t n, int64_t *t)
{
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return -EINVAL;
    return make_time(digits(s, 4), digits(s + 4, 2), digits(s + 6, 2), digits(s + 9, 2), digits(s + 11, 2),
                     digits(s + 13, 2), t);
}

void s3_sigv4_format_amz_date(int64_t t, char out[17])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400, sec = t - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int v[6] = { (int)(y % 10000), m, d, (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60) };
    static const int width[6] = { 4, 2, 2, 2, 2, 2 };
    char *o = out;
    for (int f = 0; f < 6; f++) {
        if (f == 3)
            *o++ = 'T';
        for (int k = width[f] - 1; k >= 0; k--, v[f] /= 10)
            o[k] = (char)('0' + v[f] % 10);
        o += width[f];
    }
    *o++ = 'Z';
    *o = '\0';
}

int s3_sigv4_parse_http_date(const char *s, size_t n, int64_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const char wdays[] = "MonTueWedThuFriSatSun";
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
        s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
        return -EINVAL;
    bool wday = false;
    for (int i = 0; i < 7; i++)
        wday |= memcmp(s, wdays + 3 * i, 3) == 0;
    int mon = 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months + 3 * i, 3) == 0)
            mon = i + 1;
    if (!wday || !mon)
        return -EINVAL;
    return make_time(digits(s + 12, 4), mon, digits(s + 5, 2), digits(s + 17, 2), digits(s + 20, 2),
                     digits(s + 23, 2), t);
}

/* ---- payload hash modes ---- */

static bool str_is(const char *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static bool is_hex64(const char *p, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hex_digit_value((unsigned char)p[i]) < 0)
            return false;
    return true;
}

enum s3_sigv4_err s3_sigv4_payload_classify(const char *v, size_t n, enum s3_sigv4_payload *mode)
{
    static const struct {
        const char *word;
        enum s3_sigv4_payload mode;
    } words[] = {
        { "UNSIGNED-PAYLOAD", S3_SIGV4_PAYLOAD_UNSIGNED },
        { "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", S3_SIGV4_PAYLOAD_STREAMING_SIGNED },
        { "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", S3_SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER },
        { "STREAMING-UNSIGNED-PAYLOAD-TRAILER", S3_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER },
    };
    if (is_hex64(v, n)) {
        *mode = S3_SIGV4_PAYLOAD_HASH;
        return S3_SIGV4_OK;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (str_is(v, n, words[i].word)) {
            *mode = words[i].mode;
            return S3_SIGV4_OK;
        }
    if (str_is(v, n, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") ||
        str_is(v, n, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"))
        return S3_SIGV4_ERR_NOT_IMPLEMENTED;
    return S3_SIGV4_ERR_BAD_CONTENT_SHA256;
}

bool s3_sigv4_payload_is_streaming(enum s3_sigv4_payload mode)
{
    return mode == S3_SIGV4_PAYLOAD_STREAMING_SIGNED || mode == S3_SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER ||
           mode == S3_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
}

/* ---- parsing the header and presigned forms ---- */

static enum s3_sigv4_err fail(struct s3_sigv4_auth *a, enum s3_sigv4_err err, const char *reason)
{
    a->reason = reason;
    return err;
}

/* The first header called name, and how many there are. */
static const struct s3_sigv4_header *find_header(const struct s3_sigv4_request *req, const char *name, int *count)
{
    const struct s3_sigv4_header *found = NULL;
    size_t n = strlen(name);
    *count = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        if (name_eq(req->headers[i].name, req->headers[i].name_len, name, n)) {
            if (!found)
                found = &req->headers[i];
            ++*count;
        }
    return found;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "AKID/20130524/us-east-1/s3/aws4_request", split from the right so an access key may hold "/". */
static const char *parse_credential(struct s3_sigv4_auth *a, const char *p, size_t n)
{
    static const char malformed[] = "the Credential is mal-formed; expecting "
                                    "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
    struct s3_sigv4_str part[4];
    size_t end = n;
    for (int i = 3; i >= 0; i--) {
        size_t slash = end;
        while (slash > 0 && p[slash - 1] != '/')
            slash--;
        if (slash == 0 || slash == end)
            return malformed;
        part[i] = (struct s3_sigv4_str){ p + slash, end - slash };
        end = slash - 1;
    }
    if (end == 0)
        return malformed;
    a->access_key = (struct s3_sigv4_str){ p, end };
    a->date = part[0];
    a->region = part[1];
    a->service = part[2];
    a->scope = (struct s3_sigv4_str){ part[0].p, (size_t)(p + n - part[0].p) };
    if (!str_is(part[3].p, part[3].n, "aws4_request"))
        return "Credential should be scoped with a valid terminator: 'aws4_request'";
    return NULL;
}

static const char *check_signed_headers(const char *p, size_t n)
{
    struct s3_sigv4_str name, prev = {NULL, 0};
    size_t pos = 0;
    bool host = false;
    while (signed_next(p, n, &pos, &name)) {
        if (name.n == 0)
            return "SignedHeaders has an empty header name.";
        for (size_t i = 0; i < name.n; i++)
            if (!is_tchar((unsigned char)name.p[i]))
                return "SignedHeaders holds a character that cannot be in a header name.";
        /* Sorted and unique, as every SDK sends it: a repeated name would make each repeat hash every value of
         * that header again, a cost an unauthenticated client could multiply. */
        if (prev.p) {
            size_t k = prev.n < name.n ? prev.n : name.n;
            int cmp = strncasecmp(prev.p, name.p, k);
            if (cmp > 0 || (cmp == 0 && prev.n >= name.n))
                return "SignedHeaders must be sorted, without repeats.";
        }
        prev = name;
        host |= name_eq(name.p, name.n, "host", 4);
    }
    /* Unsigned, the host would let a signature made for one virtual-host bucket be replayed on another. */
    return host ? NULL : "SignedHeaders must include host.";
}

/* What both forms check once they have the credential, signed headers, signature and date. */
static enum s3_sigv4_err check_common(struct s3_sigv4_auth *a, const struct s3_sigv4_check *chk,
                                      enum s3_sigv4_err malformed, struct s3_sigv4_str cred,
                                      struct s3_sigv4_str sh, struct s3_sigv4_str sig)
{
    const char *reason = parse_credential(a, cred.p, cred.n);
    if (reason)
        return fail(a, malformed, reason);
    if ((reason = check_signed_headers(sh.p, sh.n)))
        return fail(a, malformed, reason);
    if (!is_hex64(sig.p, sig.n))
        return fail(a, S3_SIGV4_ERR_SIGNATURE_MISMATCH, "The signature is not 64 hex digits.");
    a->signed_headers = sh;
    a->signature = sig;
    if (a->date.n != 8 || memcmp(a->date.p, a->amz_date, 8) != 0)
        return fail(a, malformed, "Invalid credential date. Date is not the same as X-Amz-Date.");
    const char *service = chk->service ? chk->service : "s3";
    if (!str_is(a->service.p, a->service.n, service))
        return fail(a, malformed, "The credential is scoped to the wrong service.");
    if (chk->region && !str_is(a->region.p, a->region.n, chk->region))
        return fail(a, malformed, "The credential is scoped to the wrong region.");
    if (a->scope.n > S3_SIGV4_MAX_SCOPE)
        return fail(a, S3_SIGV4_ERR_TOO_LONG, "The credential scope is too long.");
    return S3_SIGV4_OK;
}

static bool starts_with(const char *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && memcmp(p, lit, k) == 0;
}

/* Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...
 * SDKs differ in the spaces around the commas (the streaming example in AWS's documentation has none); the three
 * parameters are accepted in any order, each exactly once. */
static enum s3_sigv4_err parse_authorization(struct s3_sigv4_auth *a, const char *v, size_t n,
                                             struct s3_sigv4_str *cred, struct s3_sigv4_str *sh,
                                             struct s3_sigv4_str *sig)
{
    static const char malformed[] = "The authorization header is malformed; expecting "
                                    "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...";
    size_t alg_len = strlen(S3_SIGV4_ALGORITHM);
    if (!starts_with(v, n, S3_SIGV4_ALGORITHM) || n == alg_len || !is_ows((unsigned char)v[alg_len])) {
        if (starts_with(v, n, "AWS4-ECDSA-P256-SHA256"))
            return fail(a, S3_SIGV4_ERR_NOT_IMPLEMENTED, "SigV4a (AWS4-ECDSA-P256-SHA256) is not implemented.");
        return fail(a, S3_SIGV4_ERR_UNSUPPORTED_AUTH, NULL);
    }
    *cred = *sh = *sig = (struct s3_sigv4_str){ NULL, 0 };
    for (size_t i = alg_len;;) {
        while (i < n && (is_ows((unsigned char)v[i]) || v[i] == ','))
            i++;
        if (i == n)
            break;
        size_t ks = i;
        while (i < n && v[i] != '=' && v[i] != ',' && !is_ows((unsigned char)v[i]))
            i++;
        struct s3_sigv4_str key = { v + ks, i - ks };
        while (i < n && is_ows((unsigned char)v[i]))
            i++;
        if (i == n || v[i] != '=')
            return fail(a, S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, malformed);
        i++;
        while (i < n && is_ows((unsigned char)v[i]))
            i++;
        size_t vs = i;
        while (i < n && v[i] != ',')
            i++;
        size_t ve = i;
        while (ve > vs && is_ows((unsigned char)v[ve - 1]))
            ve--;
        struct s3_sigv4_str *slot = str_is(key.p, key.n, "Credential")      ? cred
                                    : str_is(key.p, key.n, "SignedHeaders") ? sh
                                    : str_is(key.p, key.n, "Signature")     ? sig
                                                                            : NULL;
        if (!slot || slot->p || ve == vs)
            return fail(a, S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, malformed);
        *slot = (struct s3_sigv4_str){ v + vs, ve - vs };
    }
    if (!cred->p || !sh->p || !sig->p)
        return fail(a, S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, malformed);
    return S3_SIGV4_OK;
}

static enum s3_sigv4_err parse_header_form(const struct s3_sigv4_request *req, const struct s3_sigv4_check *chk,
                                           struct s3_sigv4_auth *a, const struct s3_sigv4_header *authz)
{
    struct s3_sigv4_str cred, sh, sig;
    enum s3_sigv4_err err = parse_authorization(a, authz->value, authz->value_len, &cred, &sh, &sig);
    if (err)
        return err;

    int count;
    const struct s3_sigv4_header *h = find_header(req, "x-amz-date", &count);
    if (h) {
        if (count > 1 || s3_sigv4_parse_amz_date(h->value, h->value_len, &a->time) < 0)
            return fail(a, S3_SIGV4_ERR_MISSING_DATE, NULL);
    } else {
        h = find_header(req, "date", &count);
        if (!h || count > 1 || s3_sigv4_parse_http_date(h->value, h->value_len, &a->time) < 0)
            return fail(a, S3_SIGV4_ERR_MISSING_DATE, NULL);
    }
    s3_sigv4_format_amz_date(a->time, a->amz_date);

    if ((err = check_common(a, chk, S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, cred, sh, sig)))
        return err;
    if (a->time - chk->now > S3_SIGV4_MAX_SKEW || chk->now - a->time > S3_SIGV4_MAX_SKEW)
        return fail(a, S3_SIGV4_ERR_TIME_SKEWED, NULL);

    h = find_header(req, "x-amz-content-sha256", &count);
    if (!h)
        return fail(a, S3_SIGV4_ERR_MISSING_CONTENT_SHA256, NULL);
    if (count > 1)
        return fail(a, S3_SIGV4_ERR_BAD_CONTENT_SHA256, NULL);
    a->payload_hash = (struct s3_sigv4_str){ h->value, h->value_len };
    return s3_sigv4_payload_classify(h->value, h->value_len, &a->payload);
}

enum { Q_ALGORITHM, Q_CREDENTIAL, Q_DATE, Q_EXPIRES, Q_SIGNED_HEADERS, Q_SIGNATURE, Q_CONTENT_SHA256, Q_COUNT };

static const char *const query_names[Q_COUNT] = {
    [Q_ALGORITHM] = "X-Amz-Algorithm",
    [Q_CREDENTIAL] = "X-Amz-Credential",
    [Q_DATE] = "X-Amz-Date",
    [Q_EXPIRES] = "X-Amz-Expires",
    [Q_SIGNED_HEADERS] = "X-Amz-SignedHeaders",
    [Q_SIGNATURE] = "X-Amz-Signature",
    [Q_CONTENT_SHA256] = "X-Amz-Content-Sha256",
};

static enum s3_sigv4_err parse_query_form(const struct s3_sigv4_request *req, const struct s3_sigv4_check *chk,
                                          struct s3_sigv4_auth *a)
{
    static const char missing[] = "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                                  "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                                  "X-Amz-Expires parameters.";
    const enum s3_sigv4_err malformed = S3_SIGV4_ERR_AUTH_QUERY_MALFORMED;
    struct s3_sigv4_str val[Q_COUNT] = { { NULL, 0 } };
    struct query_param qp;
    size_t pos = 0, used = 0;
    a->presigned = true;
    while (query_next(req->query, req->query_len, &pos, &qp)) {
        if (!escapes_valid(qp.name, qp.name_len))
            return fail(a, S3_SIGV4_ERR_INVALID_URI, NULL);
        for (int q = 0; q < Q_COUNT; q++) {
            if (!canon_eq(qp.name, qp.name_len, query_names[q]))
                continue;
            if (val[q].p)
                return fail(a, malformed, "An X-Amz-* authentication parameter appears more than once.");
            ssize_t k = uri_decode(a->store + used, sizeof(a->store) - used, qp.value, qp.value_len, true);
            if (k == -EINVAL)
                return fail(a, S3_SIGV4_ERR_INVALID_URI, NULL);
            if (k < 0 || used + (size_t)k >= sizeof(a->store))
                return fail(a, S3_SIGV4_ERR_TOO_LONG, "The X-Amz-* parameters are too long.");
            val[q] = (struct s3_sigv4_str){ a->store + used, (size_t)k };
            used += (size_t)k + 1;
        }
    }
    if (val[Q_ALGORITHM].p && !str_is(val[Q_ALGORITHM].p, val[Q_ALGORITHM].n, S3_SIGV4_ALGORITHM)) {
        if (str_is(val[Q_ALGORITHM].p, val[Q_ALGORITHM].n, "AWS4-ECDSA-P256-SHA256"))
            return fail(a, S3_SIGV4_ERR_NOT_IMPLEMENTED, "SigV4a (AWS4-ECDSA-P256-SHA256) is not implemented.");
        return fail(a, malformed, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
    }
    for (int q = 0; q < Q_CONTENT_SHA256; q++)
        if (!val[q].p)
            return fail(a, malformed, missing);

    if (s3_sigv4_parse_amz_date(val[Q_DATE].p, val[Q_DATE].n, &a->time) < 0)
        return fail(a, malformed, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    memcpy(a->amz_date, val[Q_DATE].p, 16);
    a->amz_date[16] = '\0';

    struct s3_sigv4_str e = val[Q_EXPIRES];
    int64_t expires = e.n >= 1 && e.n <= 7 ? digits(e.p, (int)e.n) : -1;
    if (expires < 0)
        return fail(a, malformed, "X-Amz-Expires should be a number");
    if (expires < 1)
        return fail(a, malformed, "X-Amz-Expires must be at least 1");
    if (expires > S3_SIGV4_MAX_EXPIRES)
        return fail(a, malformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800");
    a->expires = expires;

    enum s3_sigv4_err err =
        check_common(a, chk, malformed, val[Q_CREDENTIAL], val[Q_SIGNED_HEADERS], val[Q_SIGNATURE]);
    if (err)
        return err;
    if (a->time - chk->now > S3_SIGV4_MAX_SKEW)
        return fail(a, S3_SIGV4_ERR_NOT_YET_VALID, NULL);
    if (chk->now - a->time > a->expires)
        return fail(a, S3_SIGV4_ERR_EXPIRED, NULL);

    /* Presigned URLs are made before the body exists: the payload is unsigned unless the URL says otherwise. */
    if (!val[Q_CONTENT_SHA256].p) {
        a->payload = S3_SIGV4_PAYLOAD_UNSIGNED;
        a->payload_hash = (struct s3_sigv4_str){ "UNSIGNED-PAYLOAD", 16 };
        return S3_SIGV4_OK;
    }
    a->payload_hash = val[Q_CONTENT_SHA256];
    return s3_sigv4_payload_classify(a->payload_hash.p, a->payload_hash.n, &a->payload);
}

enum s3_sigv4_err s3_sigv4_parse(const struct s3_sigv4_request *req, const struct s3_sigv4_check *chk,
                                 struct s3_sigv4_auth *a)
{
    memset(a, 0, offsetof(struct s3_sigv4_auth, store));
    int nauth;
    const struct s3_sigv4_header *authz = find_header(req, "authorization", &nauth);
    bool v4_query = false, v2_key = false, v2_sig = false;
    struct query_param qp;
    size_t pos = 0;
    while (query_next(req->query, req->query_len, &pos, &qp)) {
        if (!escapes_valid(qp.name, qp.name_len))
            continue; /* the canonical query reports it, if it comes to that */
        v4_query |= canon_eq(qp.name, qp.name_len, "X-Amz-Algorithm") ||
                    canon_eq(qp.name, qp.name_len, "X-Amz-Credential") ||
                    canon_eq(qp.name, qp.name_len, "X-Amz-Signature");
        v2_key |= canon_eq(qp.name, qp.name_len, "AWSAccessKeyId");
        v2_sig |= canon_eq(qp.name, qp.name_len, "Signature");
    }
    if (authz && v4_query)
        return fail(a, S3_SIGV4_ERR_MULTIPLE_AUTH, NULL);
    if (authz) {
        if (nauth > 1)
            return fail(a, S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, "More than one Authorization header.");
        return parse_header_form(req, chk, a, authz);
    }
    if (v4_query)
        return parse_query_form(req, chk, a);
    if (v2_key && v2_sig)
        return fail(a, S3_SIGV4_ERR_UNSUPPORTED_AUTH, NULL);
    return fail(a, S3_SIGV4_ERR_NO_AUTH, NULL);
}

enum s3_sigv4_err s3_sigv4_verify(const struct s3_sigv4_request *req, const struct s3_sigv4_auth *auth,
                                  const uint8_t key[32], char out[65])
{
    char sig[65];
    enum s3_sigv4_err err = s3_sigv4_sign(req, auth->presigned, auth->signed_headers.p, auth->signed_headers.n,
                                          auth->payload_hash.p, auth->payload_hash.n, auth->amz_date,
                                          auth->scope.p, auth->scope.n, key, sig);
    if (out)
        memcpy(out, sig, sizeof(sig));
    if (err)
        return err;
    return auth->signature.n == 64 && s3_sigv4_equal(sig, auth->signature.p, 64) ? S3_SIGV4_OK
                                                                                 : S3_SIGV4_ERR_SIGNATURE_MISMATCH;
}

bool s3_sigv4_payload_hash_matches(const struct s3_sigv4_auth *auth, const uint8_t sha256[32])
{
    if (auth->payload != S3_SIGV4_PAYLOAD_HASH || auth->payload_hash.n != 64)
        return false;
    char hex[65], given[64];
    s3_hex_encode(sha256, 32, hex);
    for (int i = 0; i < 64; i++) {
        char c = auth->payload_hash.p[i];
        given[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
    }
    return s3_sigv4_equal(hex, given, 64);
}

struct s3_sigv4_str s3_sigv4_unsigned_amz_header(const struct s3_sigv4_request *req,
                                                 const struct s3_sigv4_auth *auth)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct s3_sigv4_header *h = &req->headers[i];
        if (h->name_len < 6 || strncasecmp(h->name, "x-amz-", 6) != 0)
            continue;
        struct s3_sigv4_str name;
        size_t pos = 0;
        bool is_signed = false;
        while (!is_signed && signed_next(auth->signed_headers.p, auth->signed_headers.n, &pos, &name))
            is_signed = name_eq(name.p, name.n, h->name, h->name_len);
        if (!is_signed)
            return (struct s3_sigv4_str){ h->name, h->name_len };
    }
    return (struct s3_sigv4_str){ NULL, 0 };
}

/* ---- signing-key cache ---- */

void s3_sigv4_key_cache_init(struct s3_sigv4_key_cache *c)
{
    memset(c, 0, sizeof(*c));
}

void s3_sigv4_key_cache_clear(struct s3_sigv4_key_cache *c)
{
    explicit_bzero(c->slot, sizeof(c->slot));
}

static uint64_t fnv1a(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* a separator, so fields cannot slide into each other */
}

void s3_sigv4_key_cache_get(struct s3_sigv4_key_cache *c, const struct s3_sigv4_auth *auth, const char *secret,
                            size_t secret_len, uint8_t key[32])
{
    const size_t max = S3_SIGV4_KEY_CACHE_MAX_FIELD;
    const struct s3_sigv4_str *ak = &auth->access_key, *region = &auth->region, *service = &auth->service;
    if (ak->n > max || secret_len > max || region->n > max || service->n > sizeof(c->slot[0].service) ||
        auth->date.n != 8) {
        c->misses++;
        s3_sigv4_signing_key(secret, secret_len, auth->date.p, region->p, region->n, service->p, service->n, key);
        return;
    }
    uint64_t h = fnv1a(14695981039346656037ull, ak->p, ak->n);
    h = fnv1a(h, auth->date.p, 8);
    h = fnv1a(h, region->p, region->n);
    h = fnv1a(h, service->p, service->n);
    struct s3_sigv4_key_cache_entry *e = &c->slot[h % S3_SIGV4_KEY_CACHE_SLOTS];
    /* The secret is compared in constant time: how long a lookup takes must not tell how much of it matched. */
    if (e->used && e->access_key_len == ak->n && memcmp(e->access_key, ak->p, ak->n) == 0 &&
        memcmp(e->date, auth->date.p, 8) == 0 && e->region_len == region->n &&
        memcmp(e->region, region->p, region->n) == 0 && e->service_len == service->n &&
        memcmp(e->service, service->p, service->n) == 0 && e->secret_len == secret_len &&
        s3_sigv4_equal(e->secret, secret, secret_len)) {
        c->hits++;
        memcpy(key, e->key, 32);
        return;
    }
    c->misses++;
    s3_sigv4_signing_key(secret, secret_len, auth->date.p, region->p, region->n, service->p, service->n, key);
    e->used = true;
    e->access_key_len = (uint8_t)ak->n;
    memcpy(e->access_key, ak->p, ak->n);
    e->secret_len = (uint8_t)secret_len;
    memcpy(e->secret, secret, secret_len);
    memcpy(e->date, auth->date.p, 8);
    e->region_len = (uint8_t)region->n;
    memcpy(e->region, region->p, region->n);
    e->service_len = (uint8_t)service->n;
    memcpy(e->service, service->p, service->n);
    memcpy(e->key, key, 32);
}

/* ---- aws-chunked signatures ---- */

static void chained_sign(const char *kind, const uint8_t key[32], const char amz_date[16], const char *scope,
                         size_t scope_len, const char prev_sig[64], bool empty_hash, const uint8_t sha[32],
                         char out[65])
{
    char hex[65];
    uint8_t mac[32];
    Hmac h;
    s3_hex_encode(sha, 32, hex);
    hmac_begin(&h, key, 32);
    hmac_put(&h, kind, strlen(kind));
    hmac_put(&h, "\n", 1);
    hmac_put(&h, amz_date, 16);
    hmac_put(&h, "\n", 1);
    hmac_put(&h, scope, scope_len);
    hmac_put(&h, "\n", 1);
    hmac_put(&h, prev_sig, 64);
    hmac_put(&h, "\n", 1);
    if (empty_hash)
        hmac_put(&h, S3_SIGV4_EMPTY_SHA256 "\n", 65);
    hmac_put(&h, hex, 64);
    hmac_end(&h, mac);
    s3_hex_encode(mac, 32, out);
}

void s3_sigv4_chunk_sign(const uint8_t key[32], const char amz_date[16], const char *scope, size_t scope_len,
                         const char prev_sig[64], const uint8_t chunk_sha256[32], char out[65])
{
    chained_sign("AWS4-HMAC-SHA256-PAYLOAD", key, amz_date, scope, scope_len, prev_sig, true, chunk_sha256, out);
}

void s3_sigv4_trailer_sign(const uint8_t key[32], const char amz_date[16], const char *scope, size_t scope_len,
                           const char prev_sig[64], const uint8_t trailer_sha256[32], char out[65])
{
    chained_sign("AWS4-HMAC-SHA256-TRAILER", key, amz_date, scope, scope_len, prev_sig, false, trailer_sha256,
                 out);
}

int s3_sigv4_stream_init(struct s3_sigv4_stream *s, const uint8_t key[32], const char amz_date[16],
                         const char *scope, size_t scope_len, const char seed_sig[64])
{
    if (scope_len > sizeof(s->scope))
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    memcpy(s->key, key, 32);
    memcpy(s->amz_date, amz_date, 16);
    memcpy(s->scope, scope, scope_len);
    s->scope_len = scope_len;
    memcpy(s->prev_sig, seed_sig, 64);
    return 0;
}

static void stream_hash_start(struct s3_sigv4_stream *s)
{
    if (!s->hashing)
        s3_sha256_init(&s->sha);
    s->hashing = true;
}

void s3_sigv4_stream_chunk_begin(struct s3_sigv4_stream *s)
{
    if (s->hashing) { /* a chunk left unfinished is dropped */
        uint8_t dropped[32];
        s3_sha256_final(&s->sha, dropped);
        s->hashing = false;
    }
    stream_hash_start(s);
}

void s3_sigv4_stream_chunk_data(struct s3_sigv4_stream *s, const void *p, size_t n)
{
    stream_hash_start(s);
    s3_sha256_update(&s->sha, p, n);
}

/* Signs what was hashed since the last end and either checks it against sig or, sig NULL, keeps it. */
static enum s3_sigv4_err stream_end(struct s3_sigv4_stream *s, bool chunk, const char *sig)
{
    uint8_t sha[32];
    char computed[65];
    stream_hash_start(s);
    s3_sha256_final(&s->sha, sha);
    s->hashing = false;
    if (s->failed)
        return S3_SIGV4_ERR_SIGNATURE_MISMATCH;
    if (chunk)
        s3_sigv4_chunk_sign(s->key, s->amz_date, s->scope, s->scope_len, s->prev_sig, sha, computed);
    else
        s3_sigv4_trailer_sign(s->key, s->amz_date, s->scope, s->scope_len, s->prev_sig, sha, computed);
    if (sig && !s3_sigv4_equal(computed, sig, 64)) {
        s->failed = true;
        return S3_SIGV4_ERR_SIGNATURE_MISMATCH;
    }
    memcpy(s->prev_sig, computed, sizeof(computed));
    return S3_SIGV4_OK;
}

enum s3_sigv4_err s3_sigv4_stream_chunk_end(struct s3_sigv4_stream *s, const char *sig)
{
    return stream_end(s, true, sig);
}

void s3_sigv4_stream_trailer_add(struct s3_sigv4_stream *s, const char *name, size_t name_len, const char *value,
                                 size_t value_len)
{
    stream_hash_start(s);
    s3_sha256_update(&s->sha, name, name_len);
    s3_sha256_update(&s->sha, ":", 1);
    s3_sha256_update(&s->sha, value, value_len);
    s3_sha256_update(&s->sha, "\n", 1);
}

enum s3_sigv4_err s3_sigv4_stream_trailer_end(struct s3_sigv4_stream *s, const char *sig)
{
    return stream_end(s, false, sig);
}
