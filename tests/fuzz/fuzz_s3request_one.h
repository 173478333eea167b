/* One fuzz input through S3 addressing (s3_request.h), shared by tests/fuzz/fuzz_s3request.c and
 * tests/unit/test_fuzz_s3request_corpus.c.
 *
 * The input up to its first NUL or newline is the request-target; what follows that byte, if anything, is the
 * value of a Host header (no separator: no Host header). The request is addressed twice, with the virtual-host
 * domains "s3.example.com", "localhost" and "s3.local" and with none; then a few query parameters are looked up
 * in the parsed query with roomy and tight buffers, and the whole raw input is percent-decoded both ways ("+" kept
 * and "+" as a space) at several capacities.
 *
 * Every slice handed to the code under test, and every output buffer, ends just below an inaccessible page, so a
 * read or write past one faults at once: no ASan needed. Every result is checked against the contract in
 * s3_request.h and against what the raw bytes say it must be (the bucket rules are re-implemented here, the key
 * must be the path's remainder decoded once, ...). Any violation abort()s, which is what the fuzzer counts as a
 * crash.
 */
#ifndef S3ORCH_FUZZ_S3REQUEST_ONE_H
#define S3ORCH_FUZZ_S3REQUEST_ONE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/http_parser.h"
#include "s3/s3_request.h"

#define FUZZ_S3REQUEST_MAX_INPUT (64u << 10)

/* Guarded slots: each FUZZ_S3REQUEST_MAX_INPUT + 1 bytes (an input, or a decoded one and its NUL), rounded up to
 * pages, followed by a PROT_NONE page. */
enum { FUZZ_SR_TARGET, FUZZ_SR_HOST, FUZZ_SR_RAW, FUZZ_SR_OUT, FUZZ_SR_OUT2, FUZZ_SR_SLOTS };

static void fuzz_sr_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_s3request: invariant broken: %s\n", what);
    abort();
}

/* The end of guarded slot i: the byte just before its guard page. Mapped once, kept for the process's life. */
static char *fuzz_sr_slot_end(int i)
{
    static char *base;
    static size_t stride, size;
    if (!base) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size = (FUZZ_S3REQUEST_MAX_INPUT + 1 + page - 1) / page * page;
        stride = size + page;
        char *p = mmap(NULL, stride * FUZZ_SR_SLOTS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_sr_require(p != MAP_FAILED, "mmap of the guarded slots");
        for (int s = 0; s < FUZZ_SR_SLOTS; s++)
            fuzz_sr_require(mprotect(p + (size_t)s * stride + size, page, PROT_NONE) == 0, "mprotect of a guard");
        base = p;
    }
    return base + (size_t)i * stride + size;
}

/* Copies p[0..n) to the end of slot i. */
static const char *fuzz_sr_place(int i, const void *p, size_t n)
{
    char *d = fuzz_sr_slot_end(i) - n;
    memcpy(d, p, n);
    return d;
}

/* A cap-byte output buffer ending at slot i's guard page, scribbled over so stale bytes never pass a check. */
static char *fuzz_sr_out(int i, size_t cap)
{
    char *d = fuzz_sr_slot_end(i) - cap;
    memset(d, 0xa5, cap);
    return d;
}

static int fuzz_sr_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Reference percent-decoder, written independently of s3_request.c: the decoded length, or -1 on a bad escape.
 * out (n + 1 bytes) may be NULL. */
static ssize_t fuzz_sr_ref_decode(const char *s, size_t n, bool plus_is_space, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3 || fuzz_sr_hex(s[i + 1]) < 0 || fuzz_sr_hex(s[i + 2]) < 0)
                return -1;
            c = (char)(fuzz_sr_hex(s[i + 1]) << 4 | fuzz_sr_hex(s[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (out)
            out[o] = c;
    }
    return (ssize_t)o;
}

/* The S3 bucket naming rules, restated: 3-63 of a-z 0-9 . -, alphanumeric at both ends, no "..", not four
 * dot-separated runs of digits. */
static bool fuzz_sr_ref_bucket_ok(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool alnum = (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9');
        if (!alnum && b[i] != '.' && b[i] != '-')
            return false;
        if (!alnum && (i == 0 || i == n - 1))
            return false;
        if (i && b[i] == '.' && b[i - 1] == '.')
            return false;
    }
    size_t dots = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        dots += b[i] == '.';
        digits += b[i] >= '0' && b[i] <= '9';
    }
    return !(dots == 3 && digits + dots == n);
}

/* One s3_request_parse() and the checks that hold whatever it returned. */
static enum s3_request_err fuzz_sr_parse(struct s3_request *r, const struct http_request *req,
                                         const char *const *domains, size_t ndomains)
{
    const char *t = req->target.p;
    size_t tn = req->target.n;
    enum s3_request_err rc = s3_request_parse(r, req, domains, ndomains);
    fuzz_sr_require(rc == S3_REQ_OK || rc == S3_REQ_INVALID_URI || rc == S3_REQ_BAD_BUCKET ||
                        rc == S3_REQ_KEY_TOO_LONG,
                    "status is one s3_request.h documents");
    /* path and query are set whatever the result: error responses quote the path. */
    const char *q = memchr(t, '?', tn);
    size_t pn = q ? (size_t)(q - t) : tn;
    fuzz_sr_require(r->path.p == t && r->path.n == pn, "path is the target up to the first '?'");
    if (q)
        fuzz_sr_require(r->query.p == q + 1 && r->query.n == tn - pn - 1, "query is what follows the '?'");
    else
        fuzz_sr_require(r->query.n == 0 && r->query.p != NULL, "no '?': an empty query");
    return rc;
}

static void fuzz_sr_check_ok(const struct s3_request *r, const char *host, size_t host_n, const char *const *domains,
                             size_t ndomains)
{
    size_t bn = strnlen(r->bucket, sizeof(r->bucket));
    fuzz_sr_require(bn < sizeof(r->bucket), "bucket NUL-terminated");
    fuzz_sr_require(bn == 0 || (fuzz_sr_ref_bucket_ok(r->bucket, bn) && s3_bucket_name_valid(r->bucket, bn)),
                    "bucket empty or a valid name");
    fuzz_sr_require(r->key_len <= S3_KEY_MAX, "key_len within S3_KEY_MAX");
    fuzz_sr_require(strnlen(r->key, sizeof(r->key)) == r->key_len, "key_len is strlen(key): no NUL inside");
    fuzz_sr_require(r->path.n >= 1 && r->path.p[0] == '/', "an accepted path starts with '/'");
    const char *rest = r->path.p + 1;
    size_t rest_n = r->path.n - 1;
    if (r->virtual_host) {
        fuzz_sr_require(ndomains > 0 && host && bn > 0, "virtual-host addressing needs a domain and a Host");
        /* The bucket is the Host's first labels, lower-cased; one of the domains follows after a dot. */
        const char *colon = memchr(host, ':', host_n);
        size_t hn = colon ? (size_t)(colon - host) : host_n;
        fuzz_sr_require(hn > bn && host[bn] == '.', "virtual-host bucket is a prefix of the Host");
        for (size_t i = 0; i < bn; i++) {
            char c = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] + 32) : host[i];
            fuzz_sr_require(c == r->bucket[i], "virtual-host bucket is the Host's, lower-cased");
        }
        bool matched = false;
        for (size_t d = 0; d < ndomains; d++)
            matched |= strlen(domains[d]) == hn - bn - 1 && strncasecmp(host + bn + 1, domains[d], hn - bn - 1) == 0;
        fuzz_sr_require(matched, "virtual-host domain is a configured one");
    } else {
        const char *slash = memchr(rest, '/', rest_n);
        size_t seg = slash ? (size_t)(slash - rest) : rest_n;
        fuzz_sr_require(seg == bn && memcmp(rest, r->bucket, bn) == 0, "path-style bucket is the first segment");
        rest = slash ? slash + 1 : rest + rest_n;
        rest_n = slash ? rest_n - seg - 1 : 0;
    }
    /* The key is the rest of the path decoded once, "+" kept. */
    static char ref[FUZZ_S3REQUEST_MAX_INPUT + 1];
    ssize_t k = fuzz_sr_ref_decode(rest, rest_n, false, ref);
    fuzz_sr_require(k >= 0 && (size_t)k == r->key_len && memcmp(ref, r->key, r->key_len) == 0,
                    "key is the path's remainder decoded once");
}

/* What s3_query_get(query, name, dst, cap) must do, worked out independently: the first name[=value] pair whose
 * name decodes ("+" as a space) to exactly `name` gives its decoded value ("" for a bare name), -EINVAL when that
 * value has a bad escape or needs cap bytes or more; -ENOENT when no pair matches. */
static int fuzz_sr_ref_query(struct http_str query, const char *name, size_t cap, char *value, size_t *value_len)
{
    static char dec[FUZZ_S3REQUEST_MAX_INPUT + 1];
    for (const char *p = query.p, *end = query.p + query.n; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        ssize_t nn = fuzz_sr_ref_decode(p, (size_t)((eq ? eq : stop) - p), true, dec);
        if (nn >= 0 && (size_t)nn == strlen(name) && memcmp(dec, name, (size_t)nn) == 0) {
            ssize_t vn = eq ? fuzz_sr_ref_decode(eq + 1, (size_t)(stop - eq - 1), true, value) : 0;
            if (vn < 0 || (size_t)vn >= cap)
                return -EINVAL;
            *value_len = (size_t)vn;
            return 0;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return -ENOENT;
}

/* s3_query_get with a roomy and a tight buffer, against the reference, and s3_query_has. */
static void fuzz_sr_query(struct http_str query, const char *name)
{
    static char ref[FUZZ_S3REQUEST_MAX_INPUT + 1];
    static const size_t caps[] = { 4096, 8, 1 };
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        size_t cap = caps[c], ref_len = 0;
        char *dst = fuzz_sr_out(FUZZ_SR_OUT, cap);
        int rc = s3_query_get(query, name, dst, cap);
        fuzz_sr_require(rc == 0 || rc == -ENOENT || rc == -EINVAL, "query_get status");
        int want = fuzz_sr_ref_query(query, name, cap, ref, &ref_len);
        fuzz_sr_require(rc == want, "query_get status agrees with the reference");
        if (rc == 0)
            fuzz_sr_require(memcmp(dst, ref, ref_len) == 0 && dst[ref_len] == 0, "query_get value and NUL");
        if (cap == 4096)
            fuzz_sr_require(s3_query_has(query, name) == (rc != -ENOENT), "query_has agrees with query_get");
    }
}

/* s3_percent_decode of the raw input, both "+" modes, at a roomy, the exact and a one-short capacity. */
static void fuzz_sr_decode(const char *raw, size_t n)
{
    static char ref[FUZZ_S3REQUEST_MAX_INPUT + 1];
    const char *src = fuzz_sr_place(FUZZ_SR_RAW, raw, n);
    for (int plus = 0; plus < 2; plus++) {
        ssize_t want = fuzz_sr_ref_decode(src, n, plus, ref);
        char *dst = fuzz_sr_out(FUZZ_SR_OUT, n + 1);
        ssize_t got = s3_percent_decode(dst, n + 1, src, n, plus);
        fuzz_sr_require(got == -1 || (got >= 0 && (size_t)got <= n), "decode is -1 or no longer than its input");
        fuzz_sr_require(got == want, "decode agrees with the reference on success and failure");
        if (got < 0)
            continue;
        fuzz_sr_require(memcmp(dst, ref, (size_t)got) == 0 && dst[got] == 0, "decoded bytes and NUL");
        dst = fuzz_sr_out(FUZZ_SR_OUT, (size_t)got + 1);
        fuzz_sr_require(s3_percent_decode(dst, (size_t)got + 1, src, n, plus) == got &&
                            memcmp(dst, ref, (size_t)got) == 0 && dst[got] == 0,
                        "decode fits exactly in length + 1");
        if (got > 0) {
            dst = fuzz_sr_out(FUZZ_SR_OUT, (size_t)got);
            fuzz_sr_require(s3_percent_decode(dst, (size_t)got, src, n, plus) == -1,
                            "decode one byte short of room fails");
        }
    }
}

static void fuzz_s3request_one(const void *data, size_t len)
{
    static const char *const domains[] = { "s3.example.com", "localhost", "s3.local" };
    static const char *const names[] = { "uploadId", "partNumber", "prefix", "list-type", "versionId",
                                         "X-Amz-Signature", "a b", "" };
    const char *in = data;
    if (len > FUZZ_S3REQUEST_MAX_INPUT)
        len = FUZZ_S3REQUEST_MAX_INPUT;
    size_t tn = 0;
    while (tn < len && in[tn] != 0 && in[tn] != '\n')
        tn++;
    bool has_host = tn < len;
    size_t hn = has_host ? len - tn - 1 : 0;

    struct http_request req = { .method = HTTP_GET, .method_str = { "GET", 3 }, .version_minor = 1,
                                .content_length = -1 };
    req.target = (struct http_str){ fuzz_sr_place(FUZZ_SR_TARGET, in, tn), tn };
    const char *host = NULL;
    if (has_host) {
        host = fuzz_sr_place(FUZZ_SR_HOST, in + tn + 1, hn);
        req.headers[0] = (struct http_header){ { "Host", 4 }, { host, hn } };
        req.nheaders = 1;
    }

    static struct s3_request r, r0;
    enum s3_request_err rc = fuzz_sr_parse(&r, &req, domains, 3);
    if (rc == S3_REQ_OK)
        fuzz_sr_check_ok(&r, host, hn, domains, 3);
    enum s3_request_err rc0 = fuzz_sr_parse(&r0, &req, domains, 0);
    fuzz_sr_require(!r0.virtual_host, "no domains: never virtual-host");
    if (rc0 == S3_REQ_OK)
        fuzz_sr_check_ok(&r0, host, hn, domains, 0);
    if (rc == S3_REQ_OK && !r.virtual_host)
        fuzz_sr_require(rc0 == S3_REQ_OK && strcmp(r.bucket, r0.bucket) == 0 && r.key_len == r0.key_len &&
                            memcmp(r.key, r0.key, r.key_len) == 0,
                        "path-style addressing does not depend on the domains");

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        fuzz_sr_query(r.query, names[i]);
    fuzz_sr_decode(in, len);
}

/* Runs the file at `path` through fuzz_s3request_one(). Returns 0 or -errno. */
static int fuzz_s3request_run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = malloc(FUZZ_S3REQUEST_MAX_INPUT);
    fuzz_sr_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_S3REQUEST_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err)
        fuzz_s3request_one(buf, n);
    free(buf);
    return err;
}

#endif
