/* One fuzz input through both HTTP parsers, shared by tests/fuzz/fuzz_http.c and tests/unit/test_http_parser.c.
 *
 * The input is read two ways: as a stream of pipelined requests (heads and their bodies, chunked or not), and as
 * a bare chunked body. Each way runs under two sets of limits (the defaults, and tiny ones so short inputs reach
 * the limit paths) and three feeding schedules:
 *   whole  - all bytes visible at once;
 *   bytes  - one more byte visible per call, so every split point is tried;
 *   moving - pseudo-random steps, each copied to the other of two buffers and the old copy scribbled over (the
 *            buffer moves, as the parser's contract allows), chunk payload taken through
 *            http_chunked_data_left()/http_chunked_skip() instead of http_chunked_feed().
 * The visible bytes always end just below an inaccessible page, so a read past them faults at once: no ASan
 * needed (AFL++'s libdislocator does the same per malloc, but runs out of mappings in persistent mode).
 * Every result is checked against the parsers' invariants, and the three schedules must produce the same digest
 * of results. Any violation abort()s, which is what the fuzzer counts as a crash.
 */
#ifndef S3ORCH_FUZZ_HTTP_ONE_H
#define S3ORCH_FUZZ_HTTP_ONE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http/http_chunked.h"
#include "http/http_parser.h"

#define FUZZ_HTTP_MAX_INPUT (1u << 20)
#define FUZZ_HTTP_MAX_REQUESTS 64

enum fuzz_split { FUZZ_SPLIT_WHOLE, FUZZ_SPLIT_BYTES, FUZZ_SPLIT_MOVING };

/* The bytes a parser may see so far: data[0..avail) copied into buf, which ends at a guard page. */
struct fuzz_feed {
    const char *data;
    size_t len, avail;
    enum fuzz_split split;
    uint32_t rng;
    int which; /* the guarded buffer in use */
    char *buf;
};

static void fuzz_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_http: invariant broken: %s\n", what);
    abort();
}

static void *fuzz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    fuzz_require(p != NULL, "out of memory");
    return p;
}

/* FNV-1a: byte-sequential, so payload hashed in any pieces gives the same digest as hashed whole. */
static uint64_t fuzz_mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fuzz_mix_u64(uint64_t h, uint64_t v)
{
    return fuzz_mix(h, &v, sizeof(v));
}

/* The end of one of two FUZZ_HTTP_MAX_INPUT-byte buffers, each followed by a PROT_NONE page. Mapped once and
 * kept for the life of the process. */
static char *fuzz_guarded_end(int which)
{
    static char *ends[2];
    if (!ends[which]) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = (FUZZ_HTTP_MAX_INPUT + page - 1) / page * page;
        char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_require(p != MAP_FAILED, "mmap of the guarded buffer");
        fuzz_require(mprotect(p + size, page, PROT_NONE) == 0, "mprotect of the guard page");
        ends[which] = p + size;
    }
    return ends[which];
}

static void fuzz_feed_init(struct fuzz_feed *f, const char *data, size_t len, enum fuzz_split split)
{
    *f = (struct fuzz_feed){ .data = data, .len = len, .split = split, .rng = 2166136261u ^ (uint32_t)len };
    f->rng ^= (uint32_t)fuzz_mix(0, data, len < 64 ? len : 64);
    if (split == FUZZ_SPLIT_MOVING) {
        f->buf = fuzz_guarded_end(0);
        return;
    }
    /* In "bytes", reading past avail but within len goes unnoticed here; "moving" covers that. */
    f->buf = fuzz_guarded_end(0) - len;
    memcpy(f->buf, data, len);
    f->avail = split == FUZZ_SPLIT_WHOLE ? len : 0;
}

/* Makes more input visible; false when it is all visible already. */
static bool fuzz_feed_more(struct fuzz_feed *f)
{
    if (f->avail == f->len)
        return false;
    if (f->split != FUZZ_SPLIT_MOVING) {
        f->avail++;
        return true;
    }
    f->rng = f->rng * 1103515245u + 12345u;
    /* Steps grow with the input so a large one costs O(n log n) copying, not O(n^2). */
    size_t step = 1 + (f->rng >> 8) % (16 + f->avail / 2);
    memset(f->buf, 0xa5, f->avail); /* whatever the parser kept pointing here now reads garbage */
    f->avail = step < f->len - f->avail ? f->avail + step : f->len;
    f->which ^= 1;
    f->buf = fuzz_guarded_end(f->which) - f->avail;
    memcpy(f->buf, f->data, f->avail);
    return true;
}

static bool fuzz_slice_inside(struct http_str s, const char *base, size_t len)
{
    return s.p >= base && s.n <= len && (size_t)(s.p - base) <= len - s.n;
}

static bool fuzz_all_tchar(struct http_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if (!http_is_tchar((unsigned char)s.p[i]))
            return false;
    return s.n > 0;
}

static void fuzz_check_header(const struct http_header *h, const char *base, size_t head_len)
{
    fuzz_require(fuzz_slice_inside(h->name, base, head_len), "header name inside the head");
    fuzz_require(fuzz_slice_inside(h->value, base, head_len), "header value inside the head");
    fuzz_require(fuzz_all_tchar(h->name), "header name is a token");
    for (size_t i = 0; i < h->value.n; i++)
        fuzz_require(http_is_field_char((unsigned char)h->value.p[i]), "header value chars");
    if (h->value.n) {
        char first = h->value.p[0], last = h->value.p[h->value.n - 1];
        fuzz_require(first != ' ' && first != '\t' && last != ' ' && last != '\t', "header value trimmed");
    }
}

static void fuzz_check_request(int rc, const struct http_request *req, const char *base, size_t len,
                               const struct http_limits *lim)
{
    fuzz_require(rc >= 0 || rc == -400 || rc == -414 || rc == -417 || rc == -431 || rc == -501 || rc == -505,
                 "request status is one the parser documents");
    if (rc == 0)
        fuzz_require(len <= lim->max_head, "an incomplete head within max_head");
    if (rc <= 0)
        return;
    size_t n = (size_t)rc;
    fuzz_require(n == req->head_len, "return value is head_len");
    fuzz_require(n <= len && n <= lim->max_head, "head_len within input and limit");
    fuzz_require(n >= 4 && memcmp(base + n - 4, "\r\n\r\n", 4) == 0, "head ends with CRLFCRLF");
    fuzz_require(fuzz_slice_inside(req->method_str, base, n) && fuzz_all_tchar(req->method_str), "method");
    fuzz_require(fuzz_slice_inside(req->target, base, n) && req->target.n > 0, "target");
    /* The request line ends with SP "HTTP/1.x" after the target. */
    size_t line_len = (size_t)(req->target.p + req->target.n + 9 - req->method_str.p);
    fuzz_require(line_len <= lim->max_request_line && req->target.p[req->target.n + 9] == '\r', "request line");
    for (size_t i = 0; i < req->target.n; i++)
        fuzz_require((unsigned char)req->target.p[i] > ' ' && req->target.p[i] != 0x7f, "target chars");
    fuzz_require(req->version_minor == 0 || req->version_minor == 1, "version");
    fuzz_require(req->nheaders <= lim->max_headers && req->nheaders <= HTTP_MAX_HEADERS, "header count");
    for (unsigned i = 0; i < req->nheaders; i++)
        fuzz_check_header(&req->headers[i], base, n);
    fuzz_require(req->content_length >= -1, "content_length");
    fuzz_require(!(req->chunked && req->content_length >= 0), "not both chunked and Content-Length");
    fuzz_require(req->version_minor == 1 || (!req->chunked && !req->expect_continue), "HTTP/1.0 framing");
    fuzz_require(req->version_minor == 0 || http_request_header(req, "host") != NULL, "HTTP/1.1 has Host");
}

static uint64_t fuzz_mix_str(uint64_t h, struct http_str s, const char *base)
{
    h = fuzz_mix_u64(h, (uint64_t)(s.p - base));
    return fuzz_mix_u64(h, s.n);
}

/* Digest of a parse result; slices count by offset, since the buffer differs between schedules. */
static uint64_t fuzz_mix_request(uint64_t h, int rc, const struct http_request *req, const char *base)
{
    h = fuzz_mix_u64(h, (uint64_t)(int64_t)rc);
    if (rc <= 0)
        return h;
    h = fuzz_mix_u64(h, req->method);
    h = fuzz_mix_str(h, req->method_str, base);
    h = fuzz_mix_str(h, req->target, base);
    h = fuzz_mix_u64(h, (uint64_t)req->version_minor);
    h = fuzz_mix_u64(h, req->nheaders);
    for (unsigned i = 0; i < req->nheaders; i++) {
        h = fuzz_mix_str(h, req->headers[i].name, base);
        h = fuzz_mix_str(h, req->headers[i].value, base);
    }
    h = fuzz_mix_u64(h, (uint64_t)req->content_length);
    h = fuzz_mix_u64(h, (uint64_t)req->chunked << 2 | (uint64_t)req->keep_alive << 1 | req->expect_continue);
    return fuzz_mix_u64(h, req->head_len);
}

/* Decodes a chunked body starting at *pos. Returns 1 when it ended, 0 when the input ran out, or the error. */
static int fuzz_run_chunked(struct fuzz_feed *f, size_t *pos, const struct http_chunked_limits *lim, uint64_t *h)
{
    struct http_chunked c;
    size_t start = *pos;
    uint64_t decoded = 0;
    http_chunked_init(&c);
    while (!http_chunked_done(&c)) {
        if (*pos == f->avail && !fuzz_feed_more(f))
            return 0;
        const char *in = f->buf + *pos;
        size_t n = f->avail - *pos;
        uint64_t left = http_chunked_data_left(&c);
        if (f->split == FUZZ_SPLIT_MOVING && left > 0) {
            size_t k = left < n ? (size_t)left : n;
            *h = fuzz_mix(*h, in, k);
            http_chunked_skip(&c, k);
            fuzz_require(http_chunked_data_left(&c) == left - k, "skip lowers data_left");
            *pos += k;
            decoded += k;
            continue;
        }
        const char *data;
        size_t data_len;
        ssize_t r = http_chunked_feed(&c, lim, in, n, &data, &data_len);
        if (r < 0) {
            fuzz_require(r == -400 || r == -413 || r == -431, "chunked status is one the decoder documents");
            fuzz_require(!http_chunked_done(&c) && http_chunked_data_left(&c) == 0, "error state");
            fuzz_require(http_chunked_feed(&c, lim, in, n, &data, &data_len) == r, "errors are sticky");
            *h = fuzz_mix_u64(*h, (uint64_t)r);
            return (int)r;
        }
        fuzz_require(r > 0 && (size_t)r <= n, "feed makes progress within its input");
        fuzz_require(data_len == 0 ? data == NULL : data >= in && data_len <= (size_t)r &&
                                                        (size_t)(data - in) <= (size_t)r - data_len,
                     "payload inside the consumed bytes");
        *h = fuzz_mix(*h, data, data_len);
        *pos += (size_t)r;
        decoded += data_len;
        fuzz_require(decoded <= *pos - start, "decoded payload no larger than the input");
    }
    fuzz_require(http_chunked_data_left(&c) == 0, "no payload left when done");
    fuzz_require(*pos - start >= 5 && memcmp(f->buf + *pos - 2, "\r\n", 2) == 0, "body ends with CRLF");
    *h = fuzz_mix_u64(*h, decoded);
    return 1;
}

/* Skips a Content-Length body. Returns 1 when it was all there, 0 when the input ran out. */
static int fuzz_run_length(struct fuzz_feed *f, size_t *pos, uint64_t length, uint64_t *h)
{
    while (f->avail - *pos < length && fuzz_feed_more(f))
        ;
    size_t n = f->avail - *pos < length ? f->avail - *pos : (size_t)length;
    *h = fuzz_mix(*h, f->buf + *pos, n);
    *pos += n;
    return n == length;
}

/* Parses pipelined requests until the input ends or one fails; returns the digest of everything seen. */
static uint64_t fuzz_run_requests(struct fuzz_feed *f, const struct http_limits *lim,
                                  const struct http_chunked_limits *clim)
{
    struct http_request req, again;
    uint64_t h = 14695981039346656037ull;
    size_t pos = 0;
    for (int i = 0; i < FUZZ_HTTP_MAX_REQUESTS; i++) {
        struct http_parser p;
        int rc;
        http_parser_init(&p);
        for (;;) {
            rc = http_parse_request(&p, f->buf + pos, f->avail - pos, lim, &req);
            if (rc != 0)
                break;
            fuzz_require(p.scanned == f->avail - pos, "an unfinished scan looked at every byte");
            if (!fuzz_feed_more(f))
                break;
        }
        fuzz_check_request(rc, &req, f->buf + pos, f->avail - pos, lim);
        h = fuzz_mix_request(h, rc, &req, f->buf + pos);
        if (rc != 0) {
            int rc2 = http_parse_request(&p, f->buf + pos, f->avail - pos, lim, &again);
            fuzz_require(rc2 == rc && fuzz_mix_request(0, rc2, &again, f->buf + pos) ==
                                          fuzz_mix_request(0, rc, &req, f->buf + pos),
                         "a finished parse is repeatable");
        }
        if (rc <= 0)
            break;
        pos += (size_t)rc;
        if (req.chunked)
            rc = fuzz_run_chunked(f, &pos, clim, &h);
        else
            rc = fuzz_run_length(f, &pos, req.content_length > 0 ? (uint64_t)req.content_length : 0, &h);
        if (rc < 0)
            return h; /* how far a failed decode got depends on the split: only the status counts */
        if (rc == 0)
            break;
    }
    return fuzz_mix_u64(h, pos);
}

static uint64_t fuzz_run_chunked_body(struct fuzz_feed *f, const struct http_chunked_limits *clim)
{
    uint64_t h = 14695981039346656037ull;
    size_t pos = 0;
    int rc = fuzz_run_chunked(f, &pos, clim, &h);
    h = fuzz_mix_u64(h, (uint64_t)rc);
    return rc < 0 ? h : fuzz_mix_u64(h, pos);
}

static uint64_t fuzz_run_split(const char *data, size_t len, enum fuzz_split split, const struct http_limits *lim,
                               const struct http_chunked_limits *clim)
{
    struct fuzz_feed f;
    fuzz_feed_init(&f, data, len, split);
    uint64_t h = fuzz_run_requests(&f, lim, clim);
    fuzz_feed_init(&f, data, len, split);
    return fuzz_mix_u64(h, fuzz_run_chunked_body(&f, clim));
}

/* Runs one input; returns only when every check passed. */
static void fuzz_http_one(const void *data, size_t len)
{
    static const struct http_limits tiny = { .max_request_line = 40, .max_head = 200, .max_headers = 4 };
    static const struct http_chunked_limits tiny_chunked = { .max_line = 12, .max_trailer = 40 };
    struct http_limits dflt = http_limits_default();
    struct http_chunked_limits dflt_chunked = http_chunked_limits_default();
    const struct http_limits *lims[] = { &dflt, &tiny };
    const struct http_chunked_limits *clims[] = { &dflt_chunked, &tiny_chunked };

    if (len > FUZZ_HTTP_MAX_INPUT)
        len = FUZZ_HTTP_MAX_INPUT;
    for (int i = 0; i < 2; i++) {
        uint64_t whole = fuzz_run_split(data, len, FUZZ_SPLIT_WHOLE, lims[i], clims[i]);
        fuzz_require(fuzz_run_split(data, len, FUZZ_SPLIT_BYTES, lims[i], clims[i]) == whole,
                     "byte-at-a-time feeding gives the whole-input result");
        fuzz_require(fuzz_run_split(data, len, FUZZ_SPLIT_MOVING, lims[i], clims[i]) == whole,
                     "moving-buffer feeding gives the whole-input result");
    }
}

/* Runs the file at `path` through fuzz_http_one(). Returns 0 or -errno. */
static int fuzz_http_run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = fuzz_xmalloc(FUZZ_HTTP_MAX_INPUT);
    size_t n = fread(buf, 1, FUZZ_HTTP_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err)
        fuzz_http_one(buf, n);
    free(buf);
    return err;
}

#endif
