/* The response head, line by line from libcurl's header callback, into the exchange's status, headers and
 * content_length, with http_client's limits. Interim 1xx heads are dropped; the final one wakes the coroutine. */
#include <errno.h>
#include <stdint.h>
#include <strings.h>

#include "http/http_curl_internal.h"

/* Stops the transfer from inside the callback: returning less than given makes libcurl fail it. */
static size_t fail(struct http_curl_xfer *x, int err)
{
    x->err = err;
    http_curl_wake(x);
    return 0;
}

/* "HTTP/1.1 200 Reason": the three digits after the first space. */
static int parse_status(const char *p, size_t len, int *status)
{
    const char *sp = memchr(p, ' ', len);
    if (len < 5 || memcmp(p, "HTTP/", 5) != 0 || !sp || (size_t)(p + len - sp) < 4)
        return -EPROTO;
    int s = 0;
    for (int i = 1; i <= 3; i++) {
        if (sp[i] < '0' || sp[i] > '9')
            return -EPROTO;
        s = s * 10 + (sp[i] - '0');
    }
    if ((size_t)(p + len - sp) > 4 && sp[4] != ' ')
        return -EPROTO;
    *status = s;
    return 0;
}

static bool ows(char c) { return c == ' ' || c == '\t'; }

/* "name: value" into ex->head as two NUL-terminated strings, the value without surrounding whitespace. */
static int add_field(struct http_curl_xfer *x, const char *p, size_t len)
{
    struct http_curl_exchange *ex = x->ex;
    const char *colon = memchr(p, ':', len);
    if (!colon || colon == p || ows(p[0]) || ows(colon[-1]))
        return -EPROTO; /* also an obs-fold continuation line, which nothing we talk to sends */
    if (ex->nheaders == HTTP_CLIENT_HEADERS_MAX)
        return -E2BIG;
    const char *v = colon + 1, *end = p + len;
    while (v < end && ows(*v))
        v++;
    while (end > v && ows(end[-1]))
        end--;
    size_t nlen = (size_t)(colon - p), vlen = (size_t)(end - v);
    size_t at = ex->nheaders ? (size_t)(ex->headers[ex->nheaders - 1].value - ex->head) +
                                   strlen(ex->headers[ex->nheaders - 1].value) + 1
                             : 0;
    if (at + nlen + vlen + 2 > sizeof(ex->head))
        return -E2BIG;
    char *name = ex->head + at;
    memcpy(name, p, nlen);
    name[nlen] = 0;
    char *value = name + nlen + 1;
    memcpy(value, v, vlen);
    value[vlen] = 0;
    ex->headers[ex->nheaders++] = (struct http_client_header){name, value};
    return 0;
}

/* Content-Length = 1*DIGIT; -1 when absent, not a number, or the body is framed by Transfer-Encoding. */
static int64_t body_length(const struct http_curl_exchange *ex)
{
    if (http_curl_header(ex, "transfer-encoding"))
        return -1;
    const char *v = http_curl_header(ex, "content-length");
    if (!v || !*v)
        return -1;
    int64_t n = 0;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (INT64_MAX - (*v - '0')) / 10)
            return -1;
        n = n * 10 + (*v - '0');
    }
    return n;
}

size_t http_curl_on_header(char *p, size_t size, size_t n, void *arg)
{
    struct http_curl_xfer *x = arg;
    struct http_curl_exchange *ex = x->ex;
    size_t len = size * n, l = len;
    if (x->head_done)
        return len; /* a chunked body's trailer fields */
    x->head_bytes += len;
    if (x->head_bytes > HTTP_CLIENT_HEAD_MAX)
        return fail(x, -E2BIG);
    while (l && (p[l - 1] == '\n' || p[l - 1] == '\r'))
        l--;
    if (!x->got_status) {
        int err = parse_status(p, l, &ex->status);
        if (err < 0)
            return fail(x, err);
        x->got_status = true;
        return len;
    }
    if (l) {
        int err = add_field(x, p, l);
        return err < 0 ? fail(x, err) : len;
    }
    /* The empty line: a head is complete. An interim one (100 Continue, 103 Early Hints) is forgotten. */
    if (ex->status == 101)
        return fail(x, -EPROTO); /* nothing here asks to switch protocols */
    if (ex->status < 200) {
        x->got_status = false;
        x->head_bytes = 0;
        ex->nheaders = 0;
        return len;
    }
    ex->content_length = body_length(ex);
    x->head_done = true;
    http_curl_wake(x);
    return len;
}
