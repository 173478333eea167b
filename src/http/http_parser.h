/* Incremental HTTP/1.1 request-head parser (RFC 9112), strict by design.
 *
 * The caller keeps appending received bytes to one buffer and calls http_parse_request() after every read. The
 * parser remembers how far it has looked, so a head that arrives a byte at a time costs O(head) in total, and it
 * checks the size limits on every call, so a client can never make the caller buffer more than the limits allow.
 *
 * Nothing is copied or allocated: every http_str in a parsed request points into the caller's buffer and is valid
 * as long as that buffer is.
 *
 * Conventions: functions that can fail return a negative HTTP status (-400, -414, ...) that the caller sends back
 * before closing the connection.
 */
#ifndef S3ORCH_HTTP_PARSER_H
#define S3ORCH_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_str {
    const char *p;
    size_t n;
};

struct http_header {
    struct http_str name;
    struct http_str value; /* without surrounding SP/HTAB */
};

enum http_method { HTTP_OTHER = 0, HTTP_GET, HTTP_HEAD, HTTP_PUT, HTTP_POST, HTTP_DELETE, HTTP_OPTIONS };

#define HTTP_MAX_HEADERS 128 /* size of http_request.headers; the limit in force is http_limits.max_headers */

struct http_limits {
    size_t max_request_line; /* bytes, without the CRLF */
    size_t max_head;         /* bytes, including the final CRLFCRLF; values above INT_MAX act as INT_MAX */
    unsigned max_headers;    /* header lines; values above HTTP_MAX_HEADERS act as HTTP_MAX_HEADERS */
};

struct http_request {
    enum http_method method;
    struct http_str method_str;
    struct http_str target; /* the request-target exactly as sent */
    int version_minor;      /* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
    struct http_header headers[HTTP_MAX_HEADERS];
    unsigned nheaders;
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked */
    bool keep_alive;        /* the connection may carry another request after this one */
    bool expect_continue;   /* HTTP/1.1 with Expect: 100-continue */
    size_t head_len;        /* bytes of the head including the final CRLFCRLF (and any leading empty lines) */
};

/* Where the end-of-head search stands between calls. Initialise with http_parser_init() for every request. */
struct http_parser {
    size_t scanned;    /* bytes of the buffer already searched */
    size_t line_start; /* offset of the line being scanned */
    size_t req_start;  /* offset of the request line: leading empty lines are skipped (RFC 9112 section 2.2) */
    size_t head_end;   /* offset just past the final CRLFCRLF; 0 until found */
    unsigned nlines;   /* complete non-empty lines so far: the request line and header lines */
    int error;         /* sticky negative status once the scan failed */
};

struct http_limits http_limits_default(void);
void http_parser_init(struct http_parser *p);

/* buf holds every byte received since the request began; the caller only appends, but buf may move between calls.
 * Returns the head length (> 0) once the head is complete and parsed into *req, 0 when more input is needed, or a
 * negative status: -400 malformed, -414 request line too long, -431 head too long or too many headers, -417 Expect
 * other than 100-continue, -501 Transfer-Encoding other than "chunked", -505 HTTP version other than 1.0 or 1.1.
 * Limit errors come as soon as a limit is crossed, complete head or not. After a non-zero result, later calls
 * with the same parser return the same result (re-slicing *req into the possibly moved buf). */
int http_parse_request(struct http_parser *p, const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req);

/* The first header named `name` (case-insensitive), or NULL. */
const struct http_str *http_request_header(const struct http_request *req, const char *name);
bool http_str_eq_nocase(struct http_str s, const char *lit);
/* RFC 9110 character classes: tchar (methods, field names) and what a field value may hold (VCHAR, SP, HTAB,
 * obs-text). */
bool http_is_tchar(unsigned char c);
bool http_is_field_char(unsigned char c);
/* The reason phrase for a status code; "Unknown" for codes the server never sends. */
const char *http_status_reason(int status);

#endif
