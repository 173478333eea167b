/* HTTP request-head parser and chunked body decoder. Runs with cwd = repo root (for the fuzz corpus). */
#include <dirent.h>

#include "../fuzz/fuzz_http_one.h"
#include "http/http_chunked.h"
#include "http/http_parser.h"
#include "unit.h"

static struct http_request req, req2;

/* A string literal and its length, embedded NULs included. */
#define LIT(s) s, sizeof(s) - 1

/* Parses s whole with the given limits (NULL: defaults). */
static int parse_lim(const char *s, size_t len, const struct http_limits *lim, struct http_request *r)
{
    struct http_parser p;
    http_parser_init(&p);
    return http_parse_request(&p, s, len, lim, r);
}

static int parse(const char *s)
{
    return parse_lim(s, strlen(s), NULL, &req);
}

static bool str_is(struct http_str s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static bool same_slice(struct http_str a, const char *abase, struct http_str b, const char *bbase)
{
    return a.n == b.n && a.p - abase == b.p - bbase;
}

/* Whether two parses of the same bytes, held at abase and bbase, agree on everything. */
static bool requests_equal(const struct http_request *a, const char *abase, const struct http_request *b,
                           const char *bbase)
{
    if (a->method != b->method || a->version_minor != b->version_minor || a->nheaders != b->nheaders ||
        a->content_length != b->content_length || a->chunked != b->chunked || a->keep_alive != b->keep_alive ||
        a->expect_continue != b->expect_continue || a->head_len != b->head_len ||
        !same_slice(a->method_str, abase, b->method_str, bbase) || !same_slice(a->target, abase, b->target, bbase))
        return false;
    for (unsigned i = 0; i < a->nheaders; i++)
        if (!same_slice(a->headers[i].name, abase, b->headers[i].name, bbase) ||
            !same_slice(a->headers[i].value, abase, b->headers[i].value, bbase))
            return false;
    return true;
}

/* Feeds s one more byte per call, each time in a fresh exact-size copy (the buffer moves), and checks the result
 * and the parsed request match parsing s whole. Returns the status. */
static int parse_split_matches_whole(const char *s, size_t len, const struct http_limits *lim, bool *same)
{
    int whole = parse_lim(s, len, lim, &req);
    struct http_parser p;
    char *copy = NULL;
    int rc = 0;
    http_parser_init(&p);
    for (size_t k = 0; k <= len && rc == 0; k++) {
        free(copy);
        copy = fuzz_xmalloc(k);
        memcpy(copy, s, k);
        rc = http_parse_request(&p, copy, k, lim, &req2);
        if (rc == 0 && p.scanned != k)
            rc = -9999; /* the scan must have looked at every byte so far, and only once */
    }
    *same = rc == whole && (rc <= 0 || requests_equal(&req, s, &req2, copy));
    free(copy);
    return rc;
}

static void test_get_simple(void)
{
    const char *s = "GET /bucket/key?list-type=2 HTTP/1.1\r\nHost: s3.local\r\nUser-Agent: x\r\n\r\n";
    CHECK_EQ(parse(s), strlen(s));
    CHECK_EQ(req.method, HTTP_GET);
    CHECK(str_is(req.method_str, "GET"));
    CHECK(str_is(req.target, "/bucket/key?list-type=2"));
    CHECK_EQ(req.version_minor, 1);
    CHECK_EQ(req.nheaders, 2);
    CHECK(str_is(req.headers[0].name, "Host") && str_is(req.headers[0].value, "s3.local"));
    CHECK(str_is(req.headers[1].name, "User-Agent") && str_is(req.headers[1].value, "x"));
    CHECK_EQ(req.content_length, -1);
    CHECK(!req.chunked && req.keep_alive && !req.expect_continue);
    CHECK_EQ(req.head_len, strlen(s));
}

static void test_put_content_length(void)
{
    const char *head = "PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
    char s[256];
    snprintf(s, sizeof(s), "%shello world", head);
    CHECK_EQ(parse(s), strlen(head));
    CHECK_EQ(req.method, HTTP_PUT);
    CHECK_EQ(req.content_length, 11);
    CHECK(!req.chunked);
    CHECK_EQ(parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 46);
    CHECK_EQ(req.content_length, 0);
    CHECK(parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n") > 0);
    CHECK_EQ(req.content_length, INT64_MAX);
    CHECK(parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length:5\r\n\r\n") > 0);
    CHECK_EQ(req.content_length, 5);
}

static void test_chunked_request(void)
{
    CHECK(parse("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
    CHECK(req.chunked);
    CHECK_EQ(req.content_length, -1);
    CHECK_EQ(req.method, HTTP_POST);
    CHECK(parse("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ChUnKeD\r\n\r\n") > 0);
    CHECK(req.chunked);
}

static void test_methods(void)
{
    static const struct {
        const char *s;
        enum http_method m;
    } cases[] = {
        { "GET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_GET },
        { "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_HEAD },
        { "PUT / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_PUT },
        { "POST / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_POST },
        { "DELETE / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_DELETE },
        { "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_OPTIONS },
        { "PATCH / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_OTHER },
        { "M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_OTHER },
        { "get / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_OTHER }, /* methods are case-sensitive */
        { "GETS / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_OTHER },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(parse(cases[i].s), strlen(cases[i].s));
        CHECK_EQ(req.method, cases[i].m);
    }
}

static void test_keep_alive(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n") > 0 && req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") > 0 && !req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive , CLOSE\r\n\r\n") > 0 && !req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nConnection: close\r\n\r\n") > 0 &&
          !req.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n") > 0 && req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0 && !req.keep_alive);
    CHECK_EQ(req.version_minor, 0);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") > 0 && req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: foo,KEEP-ALIVE\r\n\r\n") > 0 && req.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") > 0 && !req.keep_alive);
}

static void test_expect(void)
{
    CHECK(parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n") > 0);
    CHECK(req.expect_continue);
    CHECK(parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n") > 0 && !req.expect_continue);
    /* RFC 9110: an HTTP/1.0 client cannot be waiting for the 100 */
    CHECK(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n") > 0);
    CHECK(!req.expect_continue);
    CHECK_EQ(parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"), -417);
}

static void test_odd_whitespace(void)
{
    const char *s = "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t in  side \t\r\nX-Empty:\r\nX-Blank:  \t \r\nX-B:\tv\r\n\r\n";
    CHECK_EQ(parse(s), strlen(s));
    CHECK_EQ(req.nheaders, 5);
    CHECK(str_is(req.headers[0].value, "h"));
    CHECK(str_is(req.headers[1].value, "in  side"));
    CHECK(str_is(req.headers[2].value, "") && req.headers[2].value.p != NULL);
    CHECK(str_is(req.headers[3].value, ""));
    CHECK(str_is(req.headers[4].value, "v"));
    /* obs-text (bytes >= 0x80) is allowed in values */
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX-U: caf\xc3\xa9\r\n\r\n") > 0);
}

static void test_leading_empty_lines(void)
{
    const char *s = "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK_EQ(parse(s), strlen(s));
    CHECK(str_is(req.target, "/x"));
    CHECK(req.method_str.p == s + 4);
    CHECK_EQ(parse("\r\n"), 0);
}

static void test_long_legal_values(void)
{
    static char s[40000];
    struct http_limits lim = http_limits_default();
    /* A 30000-byte value within the 32 KiB head. */
    int n = snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\nX-Long: ");
    memset(s + n, 'v', 30000);
    strcpy(s + n + 30000, "\r\n\r\n");
    CHECK_EQ(parse(s), strlen(s));
    CHECK_EQ(req.headers[1].value.n, 30000);
    /* A request line of exactly max_request_line bytes. */
    n = snprintf(s, sizeof(s), "GET /");
    memset(s + n, 'a', lim.max_request_line - (size_t)n - 9);
    strcpy(s + lim.max_request_line - 9, " HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK_EQ(parse(s), strlen(s));
    CHECK_EQ(req.target.n, lim.max_request_line - 13);
    /* A head of exactly max_head bytes. */
    lim.max_head = 100;
    n = snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(s + n, 'x', 100 - (size_t)n - 4);
    strcpy(s + 96, "\r\n\r\n");
    CHECK_EQ(parse_lim(s, 100, &lim, &req), 100);
}

struct bad_case {
    const char *s;
    size_t len;
    int status;
};

static void check_bad_cases(const struct bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = parse_lim(cases[i].s, cases[i].len, NULL, &req);
        if (rc != cases[i].status)
            fprintf(stderr, "    case %zu: got %d, want %d\n", i, rc, cases[i].status);
        CHECK_EQ(rc, cases[i].status);
    }
}

static void test_bad_request_line(void)
{
    static const struct bad_case cases[] = {
        { LIT("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), -400 },
        { LIT(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT(" / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET  HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / http/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTX/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), -505 },
        { LIT("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), -505 },
        { LIT("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), -505 },
        { LIT("GET / HTTP/1.1\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
    };
    check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_bad_headers(void)
{
    static const struct bad_case cases[] = {
        { LIT("GET / HTTP/1.1\r\nHost: h\nX: b\r\n\r\n"), -400 },        /* bare LF */
        { LIT("GET / HTTP/1.1\r\nHost: h\r\n\n"), -400 },                /* bare LF ending the head */
        { LIT("GET / HTTP/1.1\r\nHost: h\rX: b\r\n\r\n"), -400 },        /* bare CR */
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), -400 }, /* obs-fold */
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), -400 }, /* space before colon */
        { LIT("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHo st: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHo(st: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\n: h\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nX: a\0z\r\n\r\n"), -400 }, /* NUL */
        { LIT("GET / HTTP/1.1\r\n\r\n"), -400 },                        /* HTTP/1.1 without Host */
        { LIT("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), -400 },  /* two Hosts */
    };
    check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* NUL, bare CR and bare LF are refused when they arrive, not when the head is complete. */
static void test_malformed_detected_early(void)
{
    CHECK_EQ(parse_lim(LIT("GET / HTTP/1.1\r\nHost: h\rX"), NULL, &req), -400);
    CHECK_EQ(parse_lim(LIT("GET / HTTP/1.1\r\nHost: h\nX"), NULL, &req), -400);
    CHECK_EQ(parse_lim(LIT("GET / HTTP/1.1\nHost: h"), NULL, &req), -400);
    CHECK_EQ(parse_lim(LIT("GET / HTTP/1.1\r\nX: \0"), NULL, &req), -400);
    CHECK_EQ(parse_lim(LIT("GE\0"), NULL, &req), -400);
    CHECK_EQ(parse_lim(LIT("GET / HTTP/1.1\r\nHost: h\r"), NULL, &req), 0); /* a CR may end the line */
}

static void test_bad_framing(void)
{
    static const struct bad_case cases[] = {
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), -400 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"), -501 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), -501 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), -501 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), -501 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"), -501 },
    };
    check_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* A head that never ends: "GET /aaaa..." or "GET / HTTP/1.1\r\nHost: h\r\nX: vvvv..." of `len` bytes. */
static void fill_unfinished(char *s, size_t len, bool in_header)
{
    const char *start = in_header ? "GET / HTTP/1.1\r\nHost: h\r\nX: " : "GET /";
    size_t n = strlen(start);
    memcpy(s, start, n);
    memset(s + n, 'a', len - n);
}

static void test_limit_request_line(void)
{
    struct http_limits lim = { .max_request_line = 32, .max_head = 1024, .max_headers = 10 };
    static char s[64];
    /* Exactly 32 bytes of request line is fine, 33 is not. */
    CHECK(parse_lim(LIT("GET /aaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, &req) > 0);
    CHECK_EQ(parse_lim(LIT("GET /aaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n"), &lim, &req), -414);
    /* Without any line end yet: 33 bytes (plus one more, which could have been the CR) are enough to know. */
    fill_unfinished(s, 34, false);
    CHECK_EQ(parse_lim(s, 33, &lim, &req), 0);
    CHECK_EQ(parse_lim(s, 34, &lim, &req), -414);
    /* The default limit, reached byte by byte. */
    static char big[9000];
    struct http_parser p;
    int rc = 0;
    size_t k;
    fill_unfinished(big, sizeof(big), false);
    http_parser_init(&p);
    for (k = 1; k <= sizeof(big) && rc == 0; k++)
        rc = http_parse_request(&p, big, k, NULL, &req);
    CHECK_EQ(rc, -414);
    CHECK_EQ(k - 1, 8 * 1024 + 2);
}

static void test_limit_head(void)
{
    struct http_limits lim = { .max_request_line = 64, .max_head = 100, .max_headers = 10 };
    static char s[200];
    fill_unfinished(s, sizeof(s), true);
    CHECK_EQ(parse_lim(s, 100, &lim, &req), 0);
    CHECK_EQ(parse_lim(s, 101, &lim, &req), -431);
    /* A complete head one byte too long. */
    int n = snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(s + n, 'x', 101 - (size_t)n - 4);
    memcpy(s + 97, LIT("\r\n\r\n"));
    CHECK_EQ(parse_lim(s, 101, &lim, &req), -431);
    /* Default limit: 32 KiB of an unfinished header, the bytes arriving in 1000-byte reads. */
    static char big[40000];
    struct http_parser p;
    int rc = 0;
    size_t k;
    fill_unfinished(big, sizeof(big), true);
    http_parser_init(&p);
    for (k = 1000; k <= sizeof(big) && rc == 0; k += 1000)
        rc = http_parse_request(&p, big, k, NULL, &req);
    CHECK_EQ(rc, -431);
    CHECK_EQ(k - 1000, 33000);
}

static void test_limit_header_count(void)
{
    struct http_limits lim = { .max_request_line = 64, .max_head = 4096, .max_headers = 3 };
    const char *three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
    const char *four = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
    CHECK_EQ(parse_lim(three, strlen(three), &lim, &req), strlen(three));
    CHECK_EQ(req.nheaders, 3);
    /* The fourth header line is refused as soon as it ends, before the head does. */
    CHECK_EQ(parse_lim(four, strlen(four) - 1, &lim, &req), 0);
    CHECK_EQ(parse_lim(four, strlen(four), &lim, &req), -431);

    /* A limit above the array size acts as HTTP_MAX_HEADERS. */
    static char s[8192];
    lim = (struct http_limits){ .max_request_line = 64, .max_head = sizeof(s), .max_headers = 1000 };
    size_t n = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < HTTP_MAX_HEADERS; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "X%d: v\r\n", i);
    memcpy(s + n, LIT("\r\n"));
    CHECK_EQ(parse_lim(s, n + 2, &lim, &req), n + 2);
    CHECK_EQ(req.nheaders, HTTP_MAX_HEADERS);
    n += (size_t)snprintf(s + n, sizeof(s) - n, "Y: v\r\n\r\n");
    CHECK_EQ(parse_lim(s, n, &lim, &req), -431);
    /* 100 by default */
    CHECK_EQ(parse_lim(s, n, NULL, &req), -431);
}

static void test_split_every_byte(void)
{
    static const struct bad_case cases[] = {
        { LIT("GET /a?b=c HTTP/1.1\r\nHost: h\r\nX:  y  \r\nConnection: close\r\n\r\n"), 60 },
        { LIT("PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"), 69 },
        { LIT("\r\nPOST / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 45 },
        { LIT("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 55 },
        { LIT("GET / HTTP/1.1\r\nHost: h\nX: b\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost: h\rX: b\r\n\r\n"), -400 },
        { LIT("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), -400 },
        { LIT("GET / HTTP/3.0\r\nHost: h\r\n\r\n"), -505 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: br\r\n\r\n"), -501 },
        { LIT("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
        { LIT("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n"), -414 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"), -431 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\nX: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
              "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"),
          -431 },
        { LIT("GET / HTTP/1.1\r\nHost: h\r\n"), 0 },
    };
    struct http_limits lim = { .max_request_line = 48, .max_head = 150, .max_headers = 4 };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool same = false;
        int rc = parse_split_matches_whole(cases[i].s, cases[i].len, &lim, &same);
        if (rc != cases[i].status || !same)
            fprintf(stderr, "    case %zu: got %d, want %d, same as whole: %d\n", i, rc, cases[i].status, same);
        CHECK_EQ(rc, cases[i].status);
        CHECK(same);
    }
}

static void test_pipelining(void)
{
    const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                    "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                    "DELETE /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    size_t len = strlen(s), off = 0;
    int rc = parse_lim(s, len, NULL, &req);
    CHECK_EQ(rc, 28);
    CHECK(str_is(req.target, "/a"));
    off += (size_t)rc;
    rc = parse_lim(s + off, len - off, NULL, &req);
    CHECK_EQ(rc, 47);
    CHECK(str_is(req.target, "/b") && req.content_length == 3);
    off += (size_t)rc + (size_t)req.content_length;
    rc = parse_lim(s + off, len - off, NULL, &req);
    CHECK_EQ(rc, len - off);
    CHECK(req.method == HTTP_DELETE && !req.keep_alive);
}

static void test_result_is_repeatable(void)
{
    const char *s = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    char moved[64];
    struct http_parser p;
    http_parser_init(&p);
    CHECK_EQ(http_parse_request(&p, s, 20, NULL, &req), 0);
    CHECK_EQ(p.scanned, 20);
    CHECK_EQ(http_parse_request(&p, s, strlen(s), NULL, &req), strlen(s));
    /* Called again with the buffer moved and more bytes behind it: the same head, sliced from the new place. */
    snprintf(moved, sizeof(moved), "%sGET /y", s);
    CHECK_EQ(http_parse_request(&p, moved, strlen(moved), NULL, &req), strlen(s));
    CHECK(req.target.p == moved + 4 && str_is(req.target, "/x"));
    /* Errors stick too. */
    http_parser_init(&p);
    CHECK_EQ(http_parse_request(&p, LIT("GET /\x01"), NULL, &req), 0);
    CHECK_EQ(http_parse_request(&p, LIT("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), NULL, &req), -400);
    CHECK_EQ(http_parse_request(&p, LIT("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), NULL, &req), -400);
}

static void test_header_lookup(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX-Amz-Date: 1\r\nx-amz-date: 2\r\nRange: bytes=0-9\r\n\r\n") > 0);
    const struct http_str *v = http_request_header(&req, "x-AMZ-date");
    CHECK(v != NULL && str_is(*v, "1"));
    v = http_request_header(&req, "range");
    CHECK(v != NULL && str_is(*v, "bytes=0-9"));
    CHECK(http_request_header(&req, "x-amz") == NULL);
    CHECK(http_request_header(&req, "Authorization") == NULL);
    CHECK(http_str_eq_nocase((struct http_str){ "Chunked", 7 }, "chunked"));
    CHECK(!http_str_eq_nocase((struct http_str){ "chunke", 6 }, "chunked"));
    CHECK(!http_str_eq_nocase((struct http_str){ "chunkee", 7 }, "chunked"));
    CHECK(http_str_eq_nocase((struct http_str){ "", 0 }, ""));
}

static void test_status_reason(void)
{
    static const int used[] = { 100, 200, 204, 206, 304, 400, 403, 404, 405, 408, 411,
                                412, 413, 414, 416, 417, 431, 500, 501, 503, 505, 507 };
    for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
        CHECK(strcmp(http_status_reason(used[i]), "Unknown") != 0);
    CHECK_STR(http_status_reason(200), "OK");
    CHECK_STR(http_status_reason(404), "Not Found");
    CHECK_STR(http_status_reason(431), "Request Header Fields Too Large");
    CHECK_STR(http_status_reason(999), "Unknown");
}

/* Decodes in[0..len), making `step` more bytes visible whenever the decoder has used up what it could see
 * (0: all at once), payload appended to out. Returns the bytes consumed, a negative status, or -1 when the
 * decoder stopped making progress. */
static ssize_t chunked_decode(const char *in, size_t len, size_t step, const struct http_chunked_limits *lim,
                              struct http_chunked *c, char *out, size_t *out_len)
{
    size_t pos = 0, visible = step ? 0 : len;
    *out_len = 0;
    while (!http_chunked_done(c)) {
        if (pos == visible) {
            if (visible == len)
                break;
            visible = visible + step < len ? visible + step : len;
        }
        const char *data;
        size_t data_len;
        ssize_t r = http_chunked_feed(c, lim, in + pos, visible - pos, &data, &data_len);
        if (r <= 0)
            return r < 0 ? r : -1;
        if (data_len)
            memcpy(out + *out_len, data, data_len);
        *out_len += data_len;
        pos += (size_t)r;
    }
    return (ssize_t)pos;
}

/* Decodes s whole; returns the consumed count or status, *done, and the payload in out. */
static ssize_t chunked_whole(const char *s, size_t len, const struct http_chunked_limits *lim, bool *done,
                             char *out, size_t *out_len)
{
    struct http_chunked c;
    http_chunked_init(&c);
    ssize_t r = chunked_decode(s, len, 0, lim, &c, out, out_len);
    *done = http_chunked_done(&c);
    return r;
}

static void test_chunked_single(void)
{
    const char *s = "5\r\nhello\r\n0\r\n\r\n";
    char out[64];
    size_t n;
    bool done;
    CHECK_EQ(chunked_whole(s, strlen(s), NULL, &done, out, &n), strlen(s));
    CHECK(done);
    CHECK_MEM(out, n, "hello");
    CHECK_EQ(chunked_whole(LIT("0\r\n\r\n"), NULL, &done, out, &n), 5);
    CHECK(done && n == 0);
    /* Without the final CRLF the body is not over. */
    CHECK_EQ(chunked_whole(LIT("0\r\n"), NULL, &done, out, &n), 3);
    CHECK(!done);
}

static void test_chunked_many(void)
{
    static char s[8192], out[8192], want[8192];
    size_t len = 0, wlen = 0, n;
    bool done;
    for (int i = 1; i <= 40; i++) {
        len += (size_t)snprintf(s + len, sizeof(s) - len, "%X\r\n", i * 3);
        for (int j = 0; j < i * 3; j++)
            s[len++] = want[wlen++] = (char)('a' + (i + j) % 26);
        memcpy(s + len, LIT("\r\n"));
        len += 2;
    }
    len += (size_t)snprintf(s + len, sizeof(s) - len, "0\r\n\r\nGET / HTTP/1.1\r\n");
    /* Consumption stops at the end of the body: the next request is left alone. */
    CHECK_EQ(chunked_whole(s, len, NULL, &done, out, &n), len - strlen("GET / HTTP/1.1\r\n"));
    CHECK(done);
    CHECK(n == wlen && memcmp(out, want, n) == 0);
}

static void test_chunked_extensions(void)
{
    const char *s = "5;name=value;q=\"a b;c\"\r\nhello\r\n6 ; x\r\n world\r\n0;last\r\n\r\n";
    char out[64];
    size_t n;
    bool done;
    CHECK_EQ(chunked_whole(s, strlen(s), NULL, &done, out, &n), strlen(s));
    CHECK(done);
    CHECK_MEM(out, n, "hello world");
    CHECK_EQ(chunked_whole(LIT("5 \r\nhello\r\n"), NULL, &done, out, &n), -400);  /* BWS must lead to ";" */
    CHECK_EQ(chunked_whole(LIT("5;a\x01\r\nhello\r\n"), NULL, &done, out, &n), -400); /* control char */
    CHECK_EQ(chunked_whole(LIT("5;a\nhello\r\n"), NULL, &done, out, &n), -400);     /* bare LF */
}

static void test_chunked_trailers(void)
{
    const char *s = "3\r\nabc\r\n0\r\nX-Checksum: abc=\r\nY:\r\nZ: \tv\r\n\r\nnext";
    char out[64];
    size_t n;
    bool done;
    CHECK_EQ(chunked_whole(s, strlen(s), NULL, &done, out, &n), strlen(s) - 4);
    CHECK(done);
    CHECK_MEM(out, n, "abc");
    CHECK_EQ(chunked_whole(LIT("0\r\nX: a\r\n b\r\n\r\n"), NULL, &done, out, &n), -400); /* obs-fold */
    CHECK_EQ(chunked_whole(LIT("0\r\nNoColon\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("0\r\nX : a\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("0\r\nX: a\x01\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("0\r\nX: a\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("0\r\n\rX"), NULL, &done, out, &n), -400);
    /* Trailer bytes, CRLFs included, are limited: "X: 1234\r\n\r\n" is 11. */
    struct http_chunked_limits lim = { .max_line = 64, .max_trailer = 11 };
    CHECK_EQ(chunked_whole(LIT("0\r\nX: 1234\r\n\r\n"), &lim, &done, out, &n), 14);
    CHECK(done);
    lim.max_trailer = 10;
    CHECK_EQ(chunked_whole(LIT("0\r\nX: 1234\r\n\r\n"), &lim, &done, out, &n), -431);
}

static void test_chunked_split_every_byte(void)
{
    static const char *bodies[] = {
        "5\r\nhello\r\n0\r\n\r\n",
        "1;a=b\r\nx\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\nGET",
        "5\r\nhello\r\n0\r\nT: v\r\nbad line\r\n\r\n",
        "5\r\nhelloX\r\n",
        "fffffffffffffffff\r\n",
    };
    static char out1[256], out2[256];
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        size_t len = strlen(bodies[i]), n1, n2;
        struct http_chunked c1, c2;
        http_chunked_init(&c1);
        http_chunked_init(&c2);
        ssize_t whole = chunked_decode(bodies[i], len, 0, NULL, &c1, out1, &n1);
        ssize_t split = chunked_decode(bodies[i], len, 1, NULL, &c2, out2, &n2);
        CHECK_EQ(split, whole);
        CHECK_EQ(http_chunked_done(&c1), http_chunked_done(&c2));
        CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
    }
}

static void test_chunked_bad_size(void)
{
    char out[64];
    size_t n;
    bool done;
    CHECK_EQ(chunked_whole(LIT("g\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT(";a\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT(" 5\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("-5\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("0x5\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5\rhello"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5\nhello"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5x\r\n"), NULL, &done, out, &n), -400);
    /* Upper and lower case hex, and leading zeros. */
    CHECK_EQ(chunked_whole(LIT("0000000000000000000000A\r\n0123456789\r\n0\r\n\r\n"), NULL, &done, out, &n), 42);
    CHECK(done && n == 10);
    CHECK_EQ(chunked_whole(LIT("a\r\n0123456789\r\n0\r\n\r\n"), NULL, &done, out, &n), 20);
    CHECK(done && n == 10);
}

static void test_chunked_missing_crlf_after_data(void)
{
    char out[64];
    size_t n;
    bool done;
    CHECK_EQ(chunked_whole(LIT("5\r\nhelloX\r\n0\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5\r\nhello\n0\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5\r\nhello\rX0\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5\r\nhello0\r\n\r\n"), NULL, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("5\r\nhelloX\n0\r\n\r\n"), NULL, &done, out, &n), -400);
    /* The payload that came before the error was still delivered. */
    CHECK_MEM(out, n, "hello");
}

static void test_chunked_overflow(void)
{
    struct http_chunked c;
    const char *data;
    size_t data_len;
    http_chunked_init(&c);
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("7fffffffffffffff\r\n"), &data, &data_len), 18);
    CHECK_EQ(http_chunked_data_left(&c), INT64_MAX);
    http_chunked_init(&c);
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("8000000000000000\r\n"), &data, &data_len), -413);
    http_chunked_init(&c);
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("ffffffffffffffffffff"), &data, &data_len), -413);
    /* Sticky. */
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("0\r\n\r\n"), &data, &data_len), -413);
    CHECK(!http_chunked_done(&c));
}

static void test_chunked_line_too_long(void)
{
    struct http_chunked_limits lim = { .max_line = 8, .max_trailer = 64 };
    char out[64];
    size_t n;
    bool done;
    /* 8 bytes of size and extensions are fine, 9 are not, with or without the CRLF in sight. */
    CHECK_EQ(chunked_whole(LIT("1;abcdef\r\nx\r\n0\r\n\r\n"), &lim, &done, out, &n), 18);
    CHECK(done);
    CHECK_EQ(chunked_whole(LIT("1;abcdefg\r\nx\r\n0\r\n\r\n"), &lim, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("1;abcdefg"), &lim, &done, out, &n), -400);
    CHECK_EQ(chunked_whole(LIT("000000001\r\nx\r\n"), &lim, &done, out, &n), -400);
    /* The default is 4 KiB. */
    static char s[5000];
    s[0] = '1';
    s[1] = ';';
    memset(s + 2, 'a', sizeof(s) - 2);
    CHECK_EQ(chunked_whole(s, 4096, NULL, &done, out, &n), 4096);
    CHECK_EQ(chunked_whole(s, 4097, NULL, &done, out, &n), -400);
}

static void test_chunked_data_left_skip(void)
{
    const char *s = "a\r\n0123456789\r\n3\r\nxyz\r\n0\r\n\r\n";
    struct http_chunked c;
    const char *data;
    size_t data_len;
    http_chunked_init(&c);
    CHECK_EQ(http_chunked_data_left(&c), 0);
    /* The caller feeds only the size line, then moves the payload itself. */
    CHECK_EQ(http_chunked_feed(&c, NULL, s, 3, &data, &data_len), 3);
    CHECK(data == NULL && data_len == 0);
    CHECK_EQ(http_chunked_data_left(&c), 10);
    http_chunked_skip(&c, 4);
    CHECK_EQ(http_chunked_data_left(&c), 6);
    /* Feeding the rest of the payload works as well, and a call stops after one payload run. */
    CHECK_EQ(http_chunked_feed(&c, NULL, s + 7, strlen(s) - 7, &data, &data_len), 6);
    CHECK(data == s + 7 && data_len == 6);
    CHECK_EQ(http_chunked_data_left(&c), 0);
    CHECK_EQ(http_chunked_feed(&c, NULL, s + 13, strlen(s) - 13, &data, &data_len), 8);
    CHECK(data == s + 18 && data_len == 3);
    /* Skipping more than is left is clamped, and skipping outside payload does nothing. */
    http_chunked_init(&c);
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("3\r\n"), &data, &data_len), 3);
    http_chunked_skip(&c, 100);
    CHECK_EQ(http_chunked_data_left(&c), 0);
    http_chunked_skip(&c, 5);
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("\r\n0\r\n\r\n"), &data, &data_len), 7);
    CHECK(http_chunked_done(&c));
    CHECK_EQ(http_chunked_feed(&c, NULL, LIT("GET"), &data, &data_len), 0);
}

static void test_fuzz_corpus(void)
{
    const char *dir = "tests/fuzz/corpus/http";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        CHECK_EQ(fuzz_http_run_file(path), 0); /* aborts on a broken invariant */
        files++;
    }
    closedir(d);
    CHECK(files >= 12);
}

int main(void)
{
    RUN(test_get_simple);
    RUN(test_put_content_length);
    RUN(test_chunked_request);
    RUN(test_methods);
    RUN(test_keep_alive);
    RUN(test_expect);
    RUN(test_odd_whitespace);
    RUN(test_leading_empty_lines);
    RUN(test_long_legal_values);
    RUN(test_bad_request_line);
    RUN(test_bad_headers);
    RUN(test_malformed_detected_early);
    RUN(test_bad_framing);
    RUN(test_limit_request_line);
    RUN(test_limit_head);
    RUN(test_limit_header_count);
    RUN(test_split_every_byte);
    RUN(test_pipelining);
    RUN(test_result_is_repeatable);
    RUN(test_header_lookup);
    RUN(test_status_reason);
    RUN(test_chunked_single);
    RUN(test_chunked_many);
    RUN(test_chunked_extensions);
    RUN(test_chunked_trailers);
    RUN(test_chunked_split_every_byte);
    RUN(test_chunked_bad_size);
    RUN(test_chunked_missing_crlf_after_data);
    RUN(test_chunked_overflow);
    RUN(test_chunked_line_too_long);
    RUN(test_chunked_data_left_skip);
    RUN(test_fuzz_corpus);
    return unit_finish("http_parser");
}
