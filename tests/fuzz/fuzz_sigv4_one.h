/* One fuzz input through SigV4 verification (s3_sigv4.h), shared by tests/fuzz/fuzz_sigv4.c and
 * tests/unit/test_fuzz_sigv4_corpus.c.
 *
 * The input is a tiny request head, any bytes: lines end at "\n" (one "\r" before it is dropped); the first line
 * is "METHOD target", the target split at its first "?" into path and query; every other non-empty line is a
 * header "name: value" (value trimmed of SP/HTAB; a line without ":" is a name with an empty value), up to
 * FUZZ_SIGV4_MAX_HEADERS. It is parsed as s3_auth.c does, at a fixed clock (FUZZ_SIGV4_NOW, 20130524T000000Z);
 * when that succeeds the signing key for the fixed secret (the S3 documentation's example one) comes from a key
 * cache and from s3_sigv4_signing_key(), and s3_sigv4_verify() runs. Seeds signed with that secret at that time
 * (see tests/fuzz/corpus/sigv4, files "ok_*") verify. The whole raw input also goes through
 * s3_sigv4_canonical_query() (both modes) and s3_sigv4_canonical_uri() into buffer sinks.
 *
 * Every slice handed to the code under test ends just below an inaccessible page, so a read past one faults at
 * once: no ASan needed. The checks: statuses are the documented ones; a successful parse is well-formed (scope
 * "date/region/s3/aws4_request" laid out in the credential, dates agree, clock within the skew or expiry, 64 hex
 * digits of signature, host signed, slices inside the request or the auth store); the signature verify computes
 * equals the one from a canonical request built in a buffer sink and signed step by step, and a request carrying
 * it verifies; canonical forms hold only canonical characters, are fixed points, and the URI is the path decoded
 * then encoded. Any violation abort()s, which is what the fuzzer counts as a crash.
 */
#ifndef S3ORCH_FUZZ_SIGV4_ONE_H
#define S3ORCH_FUZZ_SIGV4_ONE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "s3/s3_checksum.h"
#include "s3/s3_sigv4.h"

#define FUZZ_SIGV4_MAX_INPUT (32u << 10) /* the HTTP parser's default max_head */
#define FUZZ_SIGV4_MAX_HEADERS 100       /* and its default max_headers */
#define FUZZ_SIGV4_NOW 1369353600        /* 20130524T000000Z */
#define FUZZ_SIGV4_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
/* Canonical forms of raw input: at most 3 bytes per input byte plus a "=" per parameter. */
#define FUZZ_SIGV4_MAX_CANON (4 * FUZZ_SIGV4_MAX_INPUT + 16)

/* Guarded slots for the pieces of the request, then two for canonical output. */
enum { FUZZ_SV_METHOD, FUZZ_SV_PATH, FUZZ_SV_QUERY, FUZZ_SV_RAW, FUZZ_SV_HEADER0,
       FUZZ_SV_SLOTS = FUZZ_SV_HEADER0 + 2 * FUZZ_SIGV4_MAX_HEADERS };
enum { FUZZ_SV_OUT, FUZZ_SV_OUT2, FUZZ_SV_OUT_SLOTS };

static void fuzz_sv_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_sigv4: invariant broken: %s\n", what);
    abort();
}

/* count slots of size bytes (rounded up to pages), each followed by a PROT_NONE page; the end of slot i. */
struct fuzz_sv_region {
    char *base;
    size_t size, stride;
};

static char *fuzz_sv_slot_end(struct fuzz_sv_region *r, size_t size, int count, int i)
{
    if (!r->base) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        r->size = (size + page - 1) / page * page;
        r->stride = r->size + page;
        char *p = mmap(NULL, r->stride * (size_t)count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_sv_require(p != MAP_FAILED, "mmap of the guarded slots");
        for (int s = 0; s < count; s++)
            fuzz_sv_require(mprotect(p + (size_t)s * r->stride + r->size, page, PROT_NONE) == 0,
                            "mprotect of a guard page");
        r->base = p;
    }
    return r->base + (size_t)i * r->stride + r->size;
}

/* Copies p[0..n) to the end of input slot i. */
static const char *fuzz_sv_place(int i, const void *p, size_t n)
{
    static struct fuzz_sv_region in;
    char *d = fuzz_sv_slot_end(&in, FUZZ_SIGV4_MAX_INPUT, FUZZ_SV_SLOTS, i) - n;
    memcpy(d, p, n);
    return d;
}

/* A cap-byte output buffer ending at output slot i's guard page. */
static char *fuzz_sv_out(int i, size_t cap)
{
    static struct fuzz_sv_region out;
    return fuzz_sv_slot_end(&out, FUZZ_SIGV4_MAX_CANON, FUZZ_SV_OUT_SLOTS, i) - cap;
}

static bool fuzz_sv_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool fuzz_sv_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static bool fuzz_sv_is_hex(char c, bool upper_only)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (!upper_only && c >= 'a' && c <= 'f');
}

static bool fuzz_sv_str_is(struct s3_sigv4_str s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static bool fuzz_sv_inside(struct s3_sigv4_str s, const char *base, size_t n)
{
    return s.p >= base && s.n <= n && (size_t)(s.p - base) <= n - s.n;
}

/* The request built from the input; slices point into the guarded slots. */
struct fuzz_sv_input {
    struct s3_sigv4_request req;
    struct s3_sigv4_header headers[FUZZ_SIGV4_MAX_HEADERS];
};

static void fuzz_sv_build(struct fuzz_sv_input *in, const char *data, size_t len)
{
    memset(in, 0, sizeof(*in));
    size_t nheaders = 0;
    bool first = true;
    for (size_t pos = 0; pos < len;) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        if (n && line[n - 1] == '\r')
            n--;
        if (first) {
            first = false;
            const char *sp = memchr(line, ' ', n);
            size_t mn = sp ? (size_t)(sp - line) : n;
            in->req.method = fuzz_sv_place(FUZZ_SV_METHOD, line, mn);
            in->req.method_len = mn;
            const char *target = sp ? sp + 1 : line + n;
            size_t tn = (size_t)(line + n - target);
            const char *q = memchr(target, '?', tn);
            size_t pn = q ? (size_t)(q - target) : tn;
            in->req.path = fuzz_sv_place(FUZZ_SV_PATH, target, pn);
            in->req.path_len = pn;
            if (q) {
                in->req.query_len = tn - pn - 1;
                in->req.query = fuzz_sv_place(FUZZ_SV_QUERY, q + 1, in->req.query_len);
            }
            continue;
        }
        if (n == 0 || nheaders == FUZZ_SIGV4_MAX_HEADERS)
            continue;
        const char *colon = memchr(line, ':', n);
        size_t nn = colon ? (size_t)(colon - line) : n;
        const char *v = colon ? colon + 1 : line + n;
        size_t vn = (size_t)(line + n - v);
        while (vn && fuzz_sv_is_ows(*v))
            v++, vn--;
        while (vn && fuzz_sv_is_ows(v[vn - 1]))
            vn--;
        struct s3_sigv4_header *h = &in->headers[nheaders];
        h->name = fuzz_sv_place(FUZZ_SV_HEADER0 + 2 * (int)nheaders, line, nn);
        h->name_len = nn;
        h->value = fuzz_sv_place(FUZZ_SV_HEADER0 + 2 * (int)nheaders + 1, v, vn);
        h->value_len = vn;
        nheaders++;
    }
    if (first) {
        in->req.method = fuzz_sv_place(FUZZ_SV_METHOD, "", 0);
        in->req.path = fuzz_sv_place(FUZZ_SV_PATH, "", 0);
    }
    in->req.headers = in->headers;
    in->req.nheaders = nheaders;
}

/* The first header with this name (any case), or NULL. */
static const struct s3_sigv4_header *fuzz_sv_header(const struct fuzz_sv_input *in, const char *name)
{
    for (size_t i = 0; i < in->req.nheaders; i++)
        if (in->headers[i].name_len == strlen(name) && strncasecmp(in->headers[i].name, name, strlen(name)) == 0)
            return &in->headers[i];
    return NULL;
}

static void fuzz_sv_check_error(enum s3_sigv4_err err)
{
    fuzz_sv_require(err > S3_SIGV4_OK && err < S3_SIGV4_ERR_COUNT, "error in range");
    int status = s3_sigv4_err_status(err);
    fuzz_sv_require(status == 400 || status == 403 || status == 501, "error status is 400, 403 or 501");
    const char *code = s3_sigv4_err_code(err), *msg = s3_sigv4_err_message(err);
    fuzz_sv_require(code && *code && msg && *msg, "error code and message");
}

/* What must hold of a successful s3_sigv4_parse(). */
static void fuzz_sv_check_auth(const struct fuzz_sv_input *in, const struct s3_sigv4_auth *a)
{
    fuzz_sv_require(a->reason == NULL, "no reason with success");
    /* Where the slices may point: the Authorization value (header form) or the decoded store (presigned). */
    const char *base;
    size_t base_n;
    if (a->presigned) {
        base = a->store;
        base_n = sizeof(a->store);
    } else {
        const struct s3_sigv4_header *h = fuzz_sv_header(in, "authorization");
        fuzz_sv_require(h != NULL, "header form has an Authorization header");
        base = h->value;
        base_n = h->value_len;
    }
    const struct s3_sigv4_str *in_cred[] = { &a->access_key, &a->scope, &a->date, &a->region, &a->service,
                                            &a->signed_headers, &a->signature };
    for (size_t i = 0; i < sizeof(in_cred) / sizeof(in_cred[0]); i++)
        fuzz_sv_require(fuzz_sv_inside(*in_cred[i], base, base_n), "auth slices inside their source");

    /* Credential "AKID/date/region/service/aws4_request", the scope being everything after the access key. */
    fuzz_sv_require(a->access_key.n > 0 && a->access_key.p + a->access_key.n + 1 == a->scope.p &&
                        a->access_key.p[a->access_key.n] == '/',
                    "access key, then '/', then the scope");
    fuzz_sv_require(a->scope.n <= S3_SIGV4_MAX_SCOPE, "scope within S3_SIGV4_MAX_SCOPE");
    fuzz_sv_require(a->date.p == a->scope.p && a->date.n == 8 && a->date.p[8] == '/', "scope starts with the date");
    fuzz_sv_require(a->region.p == a->date.p + 9 && a->region.p[a->region.n] == '/', "then the region");
    fuzz_sv_require(a->service.p == a->region.p + a->region.n + 1 && fuzz_sv_str_is(a->service, "s3"),
                    "then the service, s3");
    fuzz_sv_require(a->service.p + a->service.n + 13 == a->scope.p + a->scope.n &&
                        memcmp(a->service.p + a->service.n, "/aws4_request", 13) == 0,
                    "then /aws4_request");

    fuzz_sv_require(a->signature.n == 64, "signature 64 digits");
    for (size_t i = 0; i < 64; i++)
        fuzz_sv_require(fuzz_sv_is_hex(a->signature.p[i], false), "signature hex digits");

    fuzz_sv_require(strnlen(a->amz_date, sizeof(a->amz_date)) == 16, "amz_date 16 characters");
    int64_t t;
    char formatted[17];
    fuzz_sv_require(s3_sigv4_parse_amz_date(a->amz_date, 16, &t) == 0 && t == a->time, "amz_date is time");
    s3_sigv4_format_amz_date(a->time, formatted);
    fuzz_sv_require(memcmp(formatted, a->amz_date, 17) == 0, "time formats back to amz_date");
    fuzz_sv_require(memcmp(a->date.p, a->amz_date, 8) == 0, "credential date is amz_date's");
    const int64_t now = FUZZ_SIGV4_NOW;
    if (a->presigned) {
        fuzz_sv_require(a->expires >= 1 && a->expires <= S3_SIGV4_MAX_EXPIRES, "expires in range");
        fuzz_sv_require(a->time - now <= S3_SIGV4_MAX_SKEW && now - a->time <= a->expires, "presigned time window");
    } else {
        fuzz_sv_require(a->time - now <= S3_SIGV4_MAX_SKEW && now - a->time <= S3_SIGV4_MAX_SKEW, "within skew");
    }

    /* Signed headers: non-empty tokens, host among them. */
    bool host = false;
    size_t start = 0;
    for (size_t i = 0; i <= a->signed_headers.n; i++) {
        if (i < a->signed_headers.n && a->signed_headers.p[i] != ';') {
            fuzz_sv_require(a->signed_headers.p[i] > ' ' && a->signed_headers.p[i] < 0x7f &&
                                !strchr("\"(),/:;<=>?@[\\]{}", a->signed_headers.p[i]),
                            "signed header names are tokens");
            continue;
        }
        fuzz_sv_require(i > start, "no empty signed header name");
        host |= i - start == 4 && strncasecmp(a->signed_headers.p + start, "host", 4) == 0;
        start = i + 1;
    }
    fuzz_sv_require(host, "host is signed");

    enum s3_sigv4_payload mode;
    if (a->presigned && a->payload_hash.p && fuzz_sv_str_is(a->payload_hash, "UNSIGNED-PAYLOAD") &&
        !fuzz_sv_inside(a->payload_hash, a->store, sizeof(a->store)))
        fuzz_sv_require(a->payload == S3_SIGV4_PAYLOAD_UNSIGNED, "presigned default is UNSIGNED-PAYLOAD");
    else if (a->presigned)
        fuzz_sv_require(fuzz_sv_inside(a->payload_hash, a->store, sizeof(a->store)), "payload hash in the store");
    else {
        const struct s3_sigv4_header *h = fuzz_sv_header(in, "x-amz-content-sha256");
        fuzz_sv_require(h && a->payload_hash.p == h->value && a->payload_hash.n == h->value_len,
                        "payload hash is the x-amz-content-sha256 header");
    }
    fuzz_sv_require(s3_sigv4_payload_classify(a->payload_hash.p, a->payload_hash.n, &mode) == S3_SIGV4_OK &&
                        mode == a->payload,
                    "payload mode is the payload hash's");

    /* The body hash check accepts the empty body's hash, in either case, exactly when that was signed. */
    static const uint8_t empty_sha[32] = { 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                           0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                           0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55 };
    bool is_empty = a->payload == S3_SIGV4_PAYLOAD_HASH && a->payload_hash.n == 64 &&
                    strncasecmp(a->payload_hash.p, S3_SIGV4_EMPTY_SHA256, 64) == 0;
    fuzz_sv_require(s3_sigv4_payload_hash_matches(a, empty_sha) == is_empty, "payload_hash_matches");

    /* An unsigned x-amz-* header is one of the request's, and really not in the signed list. */
    struct s3_sigv4_str u = s3_sigv4_unsigned_amz_header(&in->req, a);
    if (u.n) {
        bool found = false;
        for (size_t i = 0; i < in->req.nheaders; i++)
            found |= u.p == in->headers[i].name && u.n == in->headers[i].name_len;
        fuzz_sv_require(found && strncasecmp(u.p, "x-amz-", 6) == 0, "unsigned header is an x-amz-* header");
        size_t s = 0;
        for (size_t i = 0; i <= a->signed_headers.n; i++) {
            if (i < a->signed_headers.n && a->signed_headers.p[i] != ';')
                continue;
            fuzz_sv_require(!(i - s == u.n && strncasecmp(a->signed_headers.p + s, u.p, u.n) == 0),
                            "unsigned header is not signed");
            s = i + 1;
        }
    }
}

/* Verifies with the fixed secret and checks the result against the signature worked out step by step. */
static enum s3_sigv4_err fuzz_sv_verify(const struct fuzz_sv_input *in, const struct s3_sigv4_auth *a)
{
    static struct s3_sigv4_key_cache cache;
    static bool cache_ready;
    static char creq[2 * FUZZ_SIGV4_MAX_CANON];
    if (!cache_ready) {
        s3_sigv4_key_cache_init(&cache);
        cache_ready = true;
    }
    const size_t secret_len = sizeof(FUZZ_SIGV4_SECRET) - 1;
    uint8_t key[32], cached[32];
    s3_sigv4_signing_key(FUZZ_SIGV4_SECRET, secret_len, a->date.p, a->region.p, a->region.n, a->service.p,
                         a->service.n, key);
    s3_sigv4_key_cache_get(&cache, a, FUZZ_SIGV4_SECRET, secret_len, cached);
    fuzz_sv_require(memcmp(key, cached, 32) == 0, "cached key is the derived key");

    char sig[65];
    memset(sig, 'x', sizeof(sig));
    enum s3_sigv4_err v = s3_sigv4_verify(&in->req, a, key, sig);
    fuzz_sv_require(v == S3_SIGV4_OK || v == S3_SIGV4_ERR_SIGNATURE_MISMATCH || v == S3_SIGV4_ERR_INVALID_URI ||
                        v == S3_SIGV4_ERR_MISSING_SIGNED_HEADER,
                    "verify status after a successful parse");

    /* The same canonical request into a buffer, then string to sign and signature by hand. */
    struct s3_sigv4_sink sink;
    s3_sigv4_sink_init(&sink, NULL, creq, sizeof(creq));
    enum s3_sigv4_err c = s3_sigv4_canonical_request(&sink, &in->req, a->presigned, a->signed_headers.p,
                                                     a->signed_headers.n, a->payload_hash.p, a->payload_hash.n);
    if (v != S3_SIGV4_OK && v != S3_SIGV4_ERR_SIGNATURE_MISMATCH) {
        fuzz_sv_require(sig[0] == '\0', "no signature with an error");
        fuzz_sv_require(c == v, "canonical request fails as verify did");
        return v;
    }
    fuzz_sv_require(c == S3_SIGV4_OK, "canonical request builds when verify signed");
    fuzz_sv_require(strnlen(sig, sizeof(sig)) == 64, "signature 64 characters");
    for (int i = 0; i < 64; i++)
        fuzz_sv_require((sig[i] >= '0' && sig[i] <= '9') || (sig[i] >= 'a' && sig[i] <= 'f'), "lower-case hex");
    fuzz_sv_require((v == S3_SIGV4_OK) == (memcmp(sig, a->signature.p, 64) == 0), "OK exactly on equal signatures");
    const char *text = s3_sigv4_sink_text(&sink);
    if (text) { /* repeated signed names can make it larger than the buffer */
        fuzz_sv_require(sink.len >= in->req.method_len + 1 && memcmp(text, in->req.method, in->req.method_len) == 0 &&
                            text[in->req.method_len] == '\n',
                        "canonical request starts with the method");
        char creq_hex[65], sts[512], by_hand[65];
        s3_sha256_hex(text, sink.len, creq_hex);
        ssize_t n = s3_sigv4_string_to_sign(sts, sizeof(sts), a->amz_date, a->scope.p, a->scope.n, creq_hex);
        /* "AWS4-HMAC-SHA256\n" date "\n" scope "\n" hash; the region may hold any byte, NUL included. */
        fuzz_sv_require(n > 0 && (size_t)n == 17 + 17 + a->scope.n + 1 + 64 && sts[n] == '\0' &&
                            memcmp(sts + 34, a->scope.p, a->scope.n) == 0,
                        "string to sign");
        s3_sigv4_signature_hex(key, sts, (size_t)n, by_hand);
        fuzz_sv_require(memcmp(by_hand, sig, 65) == 0, "verify's signature is the step-by-step one");
    }
    /* The request with the computed signature verifies. */
    static struct s3_sigv4_auth fixed;
    memcpy(&fixed, a, sizeof(fixed));
    fixed.signature = (struct s3_sigv4_str){ sig, 64 };
    char again[65];
    fuzz_sv_require(s3_sigv4_verify(&in->req, &fixed, key, again) == S3_SIGV4_OK && memcmp(again, sig, 65) == 0,
                    "the computed signature verifies");

    /* It seeds a chunk signature chain: streaming and chunk_sign agree. */
    struct s3_sigv4_stream st;
    fuzz_sv_require(s3_sigv4_stream_init(&st, key, a->amz_date, a->scope.p, a->scope.n, sig) == 0, "stream_init");
    s3_sigv4_stream_chunk_begin(&st);
    s3_sigv4_stream_chunk_data(&st, in->req.path, in->req.path_len);
    fuzz_sv_require(s3_sigv4_stream_chunk_end(&st, NULL) == S3_SIGV4_OK, "signing a chunk");
    uint8_t chunk_sha[32];
    char chunk_sig[65];
    struct s3_sha256 sha;
    s3_sha256_init(&sha);
    s3_sha256_update(&sha, in->req.path, in->req.path_len);
    s3_sha256_final(&sha, chunk_sha);
    s3_sigv4_chunk_sign(key, a->amz_date, a->scope.p, a->scope.n, sig, chunk_sha, chunk_sig);
    fuzz_sv_require(memcmp(st.prev_sig, chunk_sig, 65) == 0, "stream signs the chunk as chunk_sign does");
    return v;
}

/* Reference check for a canonical URI: the path decoded once, then encoded with "/" kept. */
static void fuzz_sv_check_uri(const char *raw, size_t n, const char *text, size_t len)
{
    static char dec[FUZZ_SIGV4_MAX_INPUT + 1], enc[3 * FUZZ_SIGV4_MAX_INPUT + 2];
    ssize_t d = s3_uri_decode(dec, sizeof(dec), raw, n);
    fuzz_sv_require(d >= 0 && (size_t)d <= n, "a canonical URI's path decodes");
    ssize_t e = s3_uri_encode(enc, sizeof(enc), dec, (size_t)d, false);
    fuzz_sv_require(e >= 0, "encode fits 3n + 1");
    if (n == 0)
        fuzz_sv_require(len == 1 && text[0] == '/', "empty path is /");
    else
        fuzz_sv_require((size_t)e == len && memcmp(enc, text, len) == 0, "canonical URI is decode then encode");
}

/* Canonical text holds unreserved bytes, upper-case %XX escapes and the given separators only. */
static void fuzz_sv_check_canon_chars(const char *t, size_t n, const char *seps)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '%') {
            fuzz_sv_require(n - i >= 3 && fuzz_sv_is_hex(t[i + 1], true) && fuzz_sv_is_hex(t[i + 2], true),
                            "escapes are %XX, upper case");
            i += 2;
        } else {
            fuzz_sv_require(fuzz_sv_is_unreserved((unsigned char)t[i]) || (t[i] && strchr(seps, t[i])),
                            "canonical characters only");
        }
    }
}

/* kind 0: URI; 1: query; 2: presigned query. Returns the status; out is the text and its length when OK. */
static enum s3_sigv4_err fuzz_sv_canon(int kind, int slot, const char *p, size_t n, const char **out, size_t *len)
{
    char *buf = fuzz_sv_out(slot, FUZZ_SIGV4_MAX_CANON);
    struct s3_sigv4_sink sink;
    s3_sigv4_sink_init(&sink, NULL, buf, FUZZ_SIGV4_MAX_CANON);
    enum s3_sigv4_err err =
        kind == 0 ? s3_sigv4_canonical_uri(&sink, p, n) : s3_sigv4_canonical_query(&sink, p, n, kind == 2);
    fuzz_sv_require(err == S3_SIGV4_OK || err == S3_SIGV4_ERR_INVALID_URI, "canonical status");
    *out = s3_sigv4_sink_text(&sink);
    *len = sink.len;
    if (err == S3_SIGV4_OK)
        fuzz_sv_require(*out != NULL && strlen(*out) == sink.len, "canonical text fits 4n + 16, no NUL inside");
    return err;
}

static void fuzz_sv_canon_raw(const char *data, size_t len)
{
    const char *raw = fuzz_sv_place(FUZZ_SV_RAW, data, len);
    for (int kind = 0; kind < 3; kind++) {
        const char *text, *again;
        size_t n, n2;
        if (fuzz_sv_canon(kind, FUZZ_SV_OUT, raw, len, &text, &n) != S3_SIGV4_OK)
            continue;
        fuzz_sv_check_canon_chars(text, n, kind == 0 ? "/" : "&=");
        if (kind == 0)
            fuzz_sv_check_uri(raw, len, text, n);
        /* Canonical text is its own canonical form. */
        fuzz_sv_require(fuzz_sv_canon(kind, FUZZ_SV_OUT2, text, n, &again, &n2) == S3_SIGV4_OK && n2 == n &&
                            memcmp(again, text, n) == 0,
                        "canonical form is a fixed point");
        /* A sink feeding SHA-256 and a buffer too small for the text: same hash, buffer holds a prefix. */
        struct s3_sha256 sha;
        struct s3_sigv4_sink sink;
        char small[7], h1[65], h2[65];
        s3_sha256_init(&sha);
        s3_sigv4_sink_init(&sink, &sha, small, sizeof(small));
        enum s3_sigv4_err err = kind == 0 ? s3_sigv4_canonical_uri(&sink, raw, len)
                                          : s3_sigv4_canonical_query(&sink, raw, len, kind == 2);
        s3_sha256_final_hex(&sha, h1);
        s3_sha256_hex(text, n, h2);
        fuzz_sv_require(err == S3_SIGV4_OK && sink.len == n && memcmp(h1, h2, 65) == 0, "hashing sink");
        fuzz_sv_require(memcmp(small, text, n < sizeof(small) ? n : sizeof(small)) == 0, "small buffer prefix");
        fuzz_sv_require((s3_sigv4_sink_text(&sink) != NULL) == (n < sizeof(small)), "small buffer text iff it fits");
    }
}

struct fuzz_sv_result {
    enum s3_sigv4_err parse;
    enum s3_sigv4_err verify; /* S3_SIGV4_ERR_COUNT when the parse failed */
};

static struct fuzz_sv_result fuzz_sv_run(const void *data, size_t len)
{
    static struct fuzz_sv_input in;
    static struct s3_sigv4_auth auth, auth2;
    if (len > FUZZ_SIGV4_MAX_INPUT)
        len = FUZZ_SIGV4_MAX_INPUT;
    fuzz_sv_build(&in, data, len);
    const struct s3_sigv4_check chk = { .now = FUZZ_SIGV4_NOW };
    struct fuzz_sv_result res = { s3_sigv4_parse(&in.req, &chk, &auth), S3_SIGV4_ERR_COUNT };
    fuzz_sv_require(res.parse >= S3_SIGV4_OK && res.parse < S3_SIGV4_ERR_COUNT, "parse status in range");
    enum s3_sigv4_err again = s3_sigv4_parse(&in.req, &chk, &auth2);
    fuzz_sv_require(again == res.parse && auth2.presigned == auth.presigned && auth2.reason == auth.reason,
                    "parse is repeatable");
    if (res.parse != S3_SIGV4_OK) {
        fuzz_sv_check_error(res.parse);
    } else {
        fuzz_sv_check_auth(&in, &auth);
        res.verify = fuzz_sv_verify(&in, &auth);
    }
    fuzz_sv_canon_raw(data, len);
    return res;
}

static void fuzz_sigv4_one(const void *data, size_t len)
{
    (void)fuzz_sv_run(data, len);
}

/* Runs the file at `path` through fuzz_sigv4_one(); res (may be NULL) gets what parse and verify returned.
 * Returns 0 or -errno. */
static int fuzz_sigv4_run_file_result(const char *path, struct fuzz_sv_result *res)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = malloc(FUZZ_SIGV4_MAX_INPUT);
    fuzz_sv_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_SIGV4_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err) {
        struct fuzz_sv_result r = fuzz_sv_run(buf, n);
        if (res)
            *res = r;
    }
    free(buf);
    return err;
}

static inline int fuzz_sigv4_run_file(const char *path)
{
    return fuzz_sigv4_run_file_result(path, NULL);
}

#endif
