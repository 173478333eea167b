/* Reading a response head: finding its end, parsing the status line and the header fields strictly (RFC 9112),
 * and working out from them how the body is framed and whether the connection may carry another request. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "coro/coro.h"
#include "http/http_client_internal.h"
#include "http/http_parser.h"

/* What the framing headers of one head add up to. */
struct framing {
    int64_t content_length; /* -1 when absent */
    bool te, te_chunked;    /* Transfer-Encoding present; chunked its final coding */
    bool http10, close;
};

/* Looks for the CRLFCRLF ending the head in buf[*scanned..len); *end is set past it once found. Bare LFs fail
 * here, so a server speaking LF-only lines is refused at once rather than after HTTP_CLIENT_HEAD_MAX bytes. */
static int head_scan(const char *buf, size_t len, size_t *scanned, size_t *end)
{
    for (size_t i = *scanned; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i == 0 || buf[i - 1] != '\r')
            return -EPROTO;
        if (i >= 3 && buf[i - 2] == '\n') {
            *end = i + 1;
            return 0;
        }
    }
    *scanned = len;
    return 0;
}

/* status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; the SP before an empty reason is often left out. */
static int parse_status_line(const char *s, const char *e, int *status, bool *http10)
{
    if (e - s < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return -EPROTO;
    if (s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9')
        return -EPROTO;
    if (e - s > 12 && s[12] != ' ')
        return -EPROTO;
    for (const char *p = s + 13; p < e; p++)
        if (!http_is_field_char((unsigned char)*p))
            return -EPROTO;
    *status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    *http10 = s[7] == '0';
    return 0;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

/* field-line = field-name ":" OWS field-value OWS, cut in place into NUL-terminated name and value. A line that
 * starts with SP or HTAB (obs-fold) or has SP before the colon fails the name check: RFC 9112 lets a client
 * replace obs-fold, but a backend that sends one is not one we want to guess about. */
static int parse_field(char *s, char *e, struct http_client_header *h)
{
    char *name = s;
    while (s < e && http_is_tchar((unsigned char)*s))
        s++;
    if (s == name || s == e || *s != ':')
        return -EPROTO;
    *s++ = '\0';
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    for (const char *p = s; p < e; p++)
        if (!http_is_field_char((unsigned char)*p))
            return -EPROTO;
    *e = '\0';
    h->name = name;
    h->value = s;
    return 0;
}

/* Whether s..e, without surrounding OWS, is tok (case-insensitive). */
static bool token_is(const char *s, const char *e, const char *tok)
{
    while (s < e && is_ows(*s))
        s++;
    while (e > s && is_ows(e[-1]))
        e--;
    size_t n = strlen(tok);
    return (size_t)(e - s) == n && strncasecmp(s, tok, n) == 0;
}

static bool list_has(const char *v, const char *tok)
{
    for (;;) {
        const char *comma = strchr(v, ',');
        if (token_is(v, comma ? comma : v + strlen(v), tok))
            return true;
        if (!comma)
            return false;
        v = comma + 1;
    }
}

/* Content-Length = 1*DIGIT: no sign, no list, no overflow. */
static int parse_length(const char *v, int64_t *out)
{
    int64_t n = 0;
    if (!*v)
        return -EPROTO;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return -EPROTO;
        if (n > (INT64_MAX - (*v - '0')) / 10)
            return -EPROTO;
        n = n * 10 + (*v - '0');
    }
    *out = n;
    return 0;
}

static int note_field(const struct http_client_header *h, struct framing *f)
{
    if (strcasecmp(h->name, "content-length") == 0) {
        int64_t n;
        if (parse_length(h->value, &n) < 0 || (f->content_length >= 0 && f->content_length != n))
            return -EPROTO;
        f->content_length = n;
    } else if (strcasecmp(h->name, "transfer-encoding") == 0) {
        /* Only the final coding of the last line matters for framing. */
        const char *last = strrchr(h->value, ',');
        f->te = true;
        f->te_chunked = token_is(last ? last + 1 : h->value, h->value + strlen(h->value), "chunked");
    } else if (strcasecmp(h->name, "connection") == 0) {
        f->close |= list_has(h->value, "close");
    }
    return 0;
}

/* Parses the complete head ex->head[0..end), which head_scan found to be CRLF-terminated lines. */
static int head_parse(struct http_client_exchange *ex, size_t end, struct framing *f)
{
    char *s = ex->head, *stop = ex->head + end - 2; /* stop: the final empty line */
    char *lf = memchr(s, '\n', (size_t)(stop - s));
    *f = (struct framing){.content_length = -1};
    int err = parse_status_line(s, lf - 1, &ex->status, &f->http10);
    ex->nheaders = 0;
    for (s = lf + 1; err == 0 && s < stop; s = lf + 1) {
        lf = memchr(s, '\n', (size_t)(stop - s));
        if (ex->nheaders == HTTP_CLIENT_HEADERS_MAX)
            return -E2BIG;
        struct http_client_header *h = &ex->headers[ex->nheaders++];
        err = parse_field(s, lf - 1, h);
        if (err == 0)
            err = note_field(h, f);
    }
    return err;
}

/* RFC 9112 section 6.3, for a response to a request we sent. */
static void body_framing(struct http_client_exchange *ex, const struct framing *f, bool head_request)
{
    ex->reusable = !f->http10 && !f->close;
    ex->chunked = false;
    ex->content_length = f->te ? -1 : f->content_length;
    ex->body_left = -1;
    ex->body_done = false;
    if (head_request || ex->status == 204 || ex->status == 304) {
        ex->body_left = 0;
        ex->body_done = true;
    } else if (f->te) {
        /* Transfer-Encoding wins over Content-Length, but a head with both may have been made to be read two
         * ways, so the connection ends with this response. */
        if (f->content_length >= 0)
            ex->reusable = false;
        if (f->te_chunked) {
            ex->chunked = true;
            http_chunked_init(&ex->dechunk);
        } else {
            ex->reusable = false; /* another final coding: the body runs to the close */
        }
    } else if (f->content_length >= 0) {
        ex->body_left = f->content_length;
        ex->body_done = f->content_length == 0;
    } else {
        ex->reusable = false;
    }
}

int http_client_head_read(struct http_client_exchange *ex, bool head_request, bool *answered)
{
    size_t len = 0, scanned = 0, end = 0;
    struct framing f;
    *answered = false;
    for (;;) {
        int err = head_scan(ex->head, len, &scanned, &end);
        if (err < 0)
            return err;
        if (!end) {
            if (len == sizeof(ex->head))
                return -E2BIG;
            ssize_t n = coro_recv(ex->conn->fd, ex->head + len, sizeof(ex->head) - len, 0, ex->deadline);
            if (n == 0)
                return *answered ? -EPROTO : -ECONNRESET;
            if (n < 0)
                return (int)n;
            *answered = true;
            len += (size_t)n;
            continue;
        }
        err = head_parse(ex, end, &f);
        if (err < 0)
            return err;
        if (ex->status >= 200)
            break;
        if (ex->status == 101)
            return -EPROTO; /* nothing here asks to switch protocols */
        /* An interim response (100 Continue, 103 Early Hints): the final one follows. */
        memmove(ex->head, ex->head + end, len - end);
        len -= end;
        scanned = end = 0;
    }
    ex->rpos = end;
    ex->rlen = len;
    body_framing(ex, &f, head_request);
    return 0;
}
