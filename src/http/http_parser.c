/* Request-head parsing happens in two passes.
 *
 * The scan (parser_scan) runs on every call over the bytes that arrived since the previous call. It looks at one
 * byte at a time and only decides what a byte can decide on its own: line ends, NUL, bare CR or LF, and the size
 * limits. Because every check depends only on the bytes up to the one being looked at, feeding the head in any
 * pieces gives exactly the result of feeding it whole, and a limit error comes the moment the limit is crossed.
 *
 * Once the scan has found the empty line, the second pass (parse_head) slices the complete head into the request
 * line and header fields and applies the message-framing rules. It runs once per request.
 */
#include "http/http_parser.h"

#include <limits.h>
#include <string.h>

struct http_limits http_limits_default(void)
{
    return (struct http_limits){ .max_request_line = 8 * 1024, .max_head = 32 * 1024, .max_headers = 100 };
}

void http_parser_init(struct http_parser *p)
{
    *p = (struct http_parser){ 0 };
}

/* RFC 9110 section 5.6.2. */
bool http_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool http_is_field_char(unsigned char c)
{
    return c == '\t' || (c >= ' ' && c != 0x7f);
}

static bool http_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

bool http_str_eq_nocase(struct http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s.p[i]) != ascii_lower((unsigned char)lit[i]))
            return false;
    return true;
}

static bool http_str_eq(struct http_str s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static struct http_str http_str_trim(const char *s, const char *e)
{
    while (s < e && http_is_ows(*s))
        s++;
    while (e > s && http_is_ows(e[-1]))
        e--;
    return (struct http_str){ s, (size_t)(e - s) };
}

/* Whether a comma-separated list (Connection: keep-alive, Upgrade) names `tok`, case-insensitively. */
static bool http_list_has_token(struct http_str list, const char *tok)
{
    const char *s = list.p, *end = list.p + list.n;
    while (s < end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma ? comma : end;
        if (http_str_eq_nocase(http_str_trim(s, e), tok))
            return true;
        s = comma ? comma + 1 : end;
    }
    return false;
}

static enum http_method http_method_lookup(struct http_str m)
{
    static const struct {
        const char *name;
        enum http_method method;
    } methods[] = {
        { "GET", HTTP_GET },       { "HEAD", HTTP_HEAD },       { "PUT", HTTP_PUT },
        { "POST", HTTP_POST },     { "DELETE", HTTP_DELETE },   { "OPTIONS", HTTP_OPTIONS },
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (http_str_eq(m, methods[i].name))
            return methods[i].method;
    return HTTP_OTHER;
}

/* Looks at buf[p->scanned..len) until the head ends. Returns 1 when p->head_end is set, 0 when the head goes on
 * past len, or a negative status. */
static int parser_scan(struct http_parser *p, const char *buf, size_t len, const struct http_limits *lim)
{
    size_t max_head = lim->max_head < INT_MAX ? lim->max_head : INT_MAX;
    unsigned max_headers = lim->max_headers < HTTP_MAX_HEADERS ? lim->max_headers : HTTP_MAX_HEADERS;

    for (size_t i = p->scanned; i < len; i++) {
        char c = buf[i];
        if (i >= max_head)
            return -431;
        if (c == '\0')
            return -400;
        if (i > 0 && buf[i - 1] == '\r' && c != '\n')
            return -400; /* bare CR */
        if (c != '\n') {
            /* Bytes before this one are request-line content, whatever comes next. */
            if (p->nlines == 0 && i - p->line_start > lim->max_request_line)
                return -414;
            continue;
        }
        if (i == p->line_start || buf[i - 1] != '\r')
            return -400; /* bare LF */
        if (i - 1 == p->line_start) {
            if (p->nlines > 0) {
                p->head_end = i + 1;
                p->scanned = i + 1;
                return 1;
            }
            p->req_start = i + 1; /* an empty line before the request line is tolerated */
        } else if (++p->nlines > max_headers + 1u) {
            return -431;
        }
        p->line_start = i + 1;
    }
    p->scanned = len;
    return 0;
}

/* "HTTP/1.1": a malformed version is a bad request, a well-formed one we do not speak is 505. */
static int parse_version(const char *s, const char *e, int *minor)
{
    if (e - s != 8 || memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9' || s[6] != '.' || s[7] < '0' ||
        s[7] > '9')
        return -400;
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return -505;
    *minor = s[7] - '0';
    return 0;
}

/* request-line = method SP request-target SP HTTP-version, with exactly one SP between the parts. */
static int parse_request_line(const char *s, const char *e, struct http_request *req)
{
    const char *m = s;
    while (s < e && http_is_tchar((unsigned char)*s))
        s++;
    if (s == m || s == e || *s != ' ')
        return -400;
    req->method_str = (struct http_str){ m, (size_t)(s - m) };
    req->method = http_method_lookup(req->method_str);

    const char *t = ++s;
    while (s < e && (unsigned char)*s > ' ' && *s != 0x7f)
        s++;
    if (s == t || s == e || *s != ' ')
        return -400;
    req->target = (struct http_str){ t, (size_t)(s - t) };
    return parse_version(s + 1, e, &req->version_minor);
}

/* field-line = field-name ":" OWS field-value OWS. A line starting with SP/HTAB (obs-fold) or with SP before the
 * colon fails the field-name check, which is what RFC 9112 asks for: both are request-smuggling vectors. */
static int parse_header_line(const char *s, const char *e, struct http_header *h)
{
    const char *n = s;
    while (s < e && http_is_tchar((unsigned char)*s))
        s++;
    if (s == n || s == e || *s != ':')
        return -400;
    h->name = (struct http_str){ n, (size_t)(s - n) };
    h->value = http_str_trim(s + 1, e);
    for (size_t i = 0; i < h->value.n; i++)
        if (!http_is_field_char((unsigned char)h->value.p[i]))
            return -400;
    return 0;
}

/* Content-Length = 1*DIGIT, no sign, no list, no overflow. */
static int parse_content_length(struct http_str v, int64_t *out)
{
    int64_t n = 0;
    if (v.n == 0)
        return -400;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -400;
        int d = v.p[i] - '0';
        if (n > (INT64_MAX - d) / 10)
            return -400;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* What the framing headers add up to, gathered over all header lines before judging them together. */
struct head_fields {
    unsigned hosts, transfer_encodings;
    bool te_chunked, conn_close, conn_keep_alive, expect_other;
};

static int request_note_header(struct http_request *req, const struct http_header *h, struct head_fields *f)
{
    if (http_str_eq_nocase(h->name, "content-length")) {
        int64_t n;
        if (parse_content_length(h->value, &n) < 0)
            return -400;
        if (req->content_length >= 0 && req->content_length != n)
            return -400;
        req->content_length = n;
    } else if (http_str_eq_nocase(h->name, "transfer-encoding")) {
        /* A second line makes the coding "chunked, chunked" or worse: never just "chunked". */
        f->transfer_encodings++;
        f->te_chunked = f->transfer_encodings == 1 && http_str_eq_nocase(h->value, "chunked");
    } else if (http_str_eq_nocase(h->name, "host")) {
        f->hosts++;
    } else if (http_str_eq_nocase(h->name, "connection")) {
        f->conn_close |= http_list_has_token(h->value, "close");
        f->conn_keep_alive |= http_list_has_token(h->value, "keep-alive");
    } else if (http_str_eq_nocase(h->name, "expect")) {
        if (http_str_eq_nocase(h->value, "100-continue"))
            req->expect_continue = true;
        else
            f->expect_other = true;
    }
    return 0;
}

/* Message framing per RFC 9112 sections 3.2 and 6. The order decides which status wins when several apply. */
static int request_check_framing(struct http_request *req, const struct head_fields *f)
{
    bool http11 = req->version_minor == 1;
    if ((http11 && f->hosts == 0) || f->hosts > 1)
        return -400;
    if (f->transfer_encodings > 0) {
        if (req->content_length >= 0)
            return -400;
        if (!http11) /* HTTP/1.0 has no chunked coding: the framing is faulty */
            return -400;
        if (!f->te_chunked)
            return -501;
        req->chunked = true;
    }
    if (!http11) {
        req->expect_continue = false; /* RFC 9110 section 10.1.1: a 1.0 client cannot wait for 100 */
    } else if (f->expect_other) {
        return -417;
    }
    req->keep_alive = http11 ? !f->conn_close : f->conn_keep_alive && !f->conn_close;
    return 0;
}

static void request_reset(struct http_request *req)
{
    req->method = HTTP_OTHER;
    req->method_str = req->target = (struct http_str){ NULL, 0 };
    req->version_minor = 0;
    req->nheaders = 0;
    req->content_length = -1;
    req->chunked = req->keep_alive = req->expect_continue = false;
    req->head_len = 0;
}

/* Parses the complete head buf[start..end), which the scan guarantees is made of CRLF-terminated lines with no NUL,
 * no bare CR or LF and at most HTTP_MAX_HEADERS header lines, the last one empty. */
static int parse_head(const char *buf, size_t start, size_t end, struct http_request *req)
{
    struct head_fields f = { 0 };
    const char *s = buf + start, *stop = buf + end - 2; /* stop: the final empty line */
    request_reset(req);

    const char *lf = memchr(s, '\n', (size_t)(stop - s));
    int rc = parse_request_line(s, lf - 1, req);
    if (rc < 0)
        return rc;
    for (s = lf + 1; s < stop; s = lf + 1) {
        lf = memchr(s, '\n', (size_t)(stop - s));
        if (req->nheaders == HTTP_MAX_HEADERS) /* the scan's count already stops this; the array must not rely on it */
            return -431;
        struct http_header *h = &req->headers[req->nheaders++];
        if ((rc = parse_header_line(s, lf - 1, h)) < 0 || (rc = request_note_header(req, h, &f)) < 0)
            return rc;
    }
    if ((rc = request_check_framing(req, &f)) < 0)
        return rc;
    req->head_len = end;
    return (int)end;
}

int http_parse_request(struct http_parser *p, const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req)
{
    struct http_limits dflt;
    if (!lim) {
        dflt = http_limits_default();
        lim = &dflt;
    }
    if (p->error)
        return p->error;
    if (!p->head_end) {
        int rc = parser_scan(p, buf, len, lim);
        if (rc <= 0) {
            p->error = rc;
            return rc;
        }
    }
    int rc = parse_head(buf, p->req_start, p->head_end, req);
    if (rc < 0)
        p->error = rc;
    return rc;
}

const struct http_str *http_request_header(const struct http_request *req, const char *name)
{
    for (unsigned i = 0; i < req->nheaders; i++)
        if (http_str_eq_nocase(req->headers[i].name, name))
            return &req->headers[i].value;
    return NULL;
}

const char *http_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}
