/* The body is framing bytes (size lines, the CRLF after each payload, trailers) interleaved with payload runs. The
 * framing goes through a byte-at-a-time state machine; payload runs are skipped over in one step, since their
 * length is known from the size line. */
#include "http/http_chunked.h"

#include "http/http_parser.h"
#include "util/hex.h"

struct http_chunked_limits http_chunked_limits_default(void)
{
    return (struct http_chunked_limits){ .max_line = 4 * 1024, .max_trailer = 16 * 1024 };
}

void http_chunked_init(struct http_chunked *c)
{
    *c = (struct http_chunked){ .state = HTTP_CHUNKED_SIZE };
}

static bool is_ows(unsigned char b)
{
    return b == ' ' || b == '\t';
}

/* chunk-size [ chunk-ext ] CRLF, where chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ). The
 * extensions are only checked for stray control characters: nothing here uses them. */
static int chunked_size_byte(struct http_chunked *c, const struct http_chunked_limits *lim, unsigned char b)
{
    if (b == '\r') {
        /* line == 0: no digit yet. Whitespace may only lead to ";", never end the line. */
        if (c->line == 0 || c->state == HTTP_CHUNKED_SIZE_WS)
            return -400;
        c->state = HTTP_CHUNKED_SIZE_LF;
        return 0;
    }
    if (++c->line > lim->max_line)
        return -400;
    switch (c->state) {
    case HTTP_CHUNKED_SIZE: {
        int d = hex_digit_value(b);
        if (d >= 0) {
            if (c->left > ((uint64_t)INT64_MAX - (uint64_t)d) / 16)
                return -413;
            c->left = c->left * 16 + (uint64_t)d;
            return 0;
        }
        if (c->line == 1)
            return -400; /* the size needs at least one digit */
        if (b == ';')
            c->state = HTTP_CHUNKED_EXT;
        else if (is_ows(b))
            c->state = HTTP_CHUNKED_SIZE_WS;
        else
            return -400;
        return 0;
    }
    case HTTP_CHUNKED_SIZE_WS:
        if (b == ';')
            c->state = HTTP_CHUNKED_EXT;
        else if (!is_ows(b))
            return -400;
        return 0;
    default: /* HTTP_CHUNKED_EXT */
        return http_is_field_char(b) ? 0 : -400;
    }
}

static int chunked_size_lf(struct http_chunked *c, unsigned char b)
{
    if (b != '\n')
        return -400;
    c->state = c->left ? HTTP_CHUNKED_DATA : HTTP_CHUNKED_TRAILER_START;
    return 0;
}

/* trailer-section = *( field-line CRLF ) CRLF. Fields are checked like header lines and dropped. */
static int chunked_trailer_byte(struct http_chunked *c, const struct http_chunked_limits *lim, unsigned char b)
{
    if (++c->trailer > lim->max_trailer)
        return -431;
    switch (c->state) {
    case HTTP_CHUNKED_TRAILER_START:
        if (b == '\r')
            c->state = HTTP_CHUNKED_FINAL_LF;
        else if (http_is_tchar(b))
            c->state = HTTP_CHUNKED_TRAILER_NAME;
        else
            return -400; /* includes obs-fold */
        return 0;
    case HTTP_CHUNKED_TRAILER_NAME:
        if (b == ':')
            c->state = HTTP_CHUNKED_TRAILER_VALUE;
        else if (!http_is_tchar(b))
            return -400;
        return 0;
    case HTTP_CHUNKED_TRAILER_VALUE:
        if (b == '\r')
            c->state = HTTP_CHUNKED_TRAILER_LF;
        else if (!http_is_field_char(b))
            return -400;
        return 0;
    case HTTP_CHUNKED_TRAILER_LF:
        if (b != '\n')
            return -400;
        c->state = HTTP_CHUNKED_TRAILER_START;
        return 0;
    default: /* HTTP_CHUNKED_FINAL_LF */
        if (b != '\n')
            return -400;
        c->state = HTTP_CHUNKED_DONE;
        return 0;
    }
}

/* One byte of framing, anywhere but inside a payload run. */
static int chunked_framing_byte(struct http_chunked *c, const struct http_chunked_limits *lim, unsigned char b)
{
    switch (c->state) {
    case HTTP_CHUNKED_SIZE:
    case HTTP_CHUNKED_SIZE_WS:
    case HTTP_CHUNKED_EXT:
        return chunked_size_byte(c, lim, b);
    case HTTP_CHUNKED_SIZE_LF:
        return chunked_size_lf(c, b);
    case HTTP_CHUNKED_DATA_CR:
        if (b != '\r')
            return -400;
        c->state = HTTP_CHUNKED_DATA_LF;
        return 0;
    case HTTP_CHUNKED_DATA_LF:
        if (b != '\n')
            return -400;
        c->state = HTTP_CHUNKED_SIZE;
        c->line = 0;
        return 0;
    default:
        return chunked_trailer_byte(c, lim, b);
    }
}

ssize_t http_chunked_feed(struct http_chunked *c, const struct http_chunked_limits *lim, const char *in, size_t len,
                          const char **data, size_t *data_len)
{
    struct http_chunked_limits dflt;
    if (!lim) {
        dflt = http_chunked_limits_default();
        lim = &dflt;
    }
    *data = NULL;
    *data_len = 0;

    size_t i = 0;
    while (i < len && c->state != HTTP_CHUNKED_DONE && c->state != HTTP_CHUNKED_ERROR) {
        if (c->state == HTTP_CHUNKED_DATA) {
            /* Stopping after the payload means a call that returns payload never also fails: the caller gets
             * every payload byte that came before an error in the framing, however the input was split. */
            size_t n = c->left < len - i ? (size_t)c->left : len - i;
            *data = in + i;
            *data_len = n;
            http_chunked_skip(c, n);
            return (ssize_t)(i + n);
        }
        int rc = chunked_framing_byte(c, lim, (unsigned char)in[i]);
        if (rc < 0) {
            c->state = HTTP_CHUNKED_ERROR;
            c->error = rc;
            break;
        }
        i++;
    }
    return c->state == HTTP_CHUNKED_ERROR ? c->error : (ssize_t)i;
}

bool http_chunked_done(const struct http_chunked *c)
{
    return c->state == HTTP_CHUNKED_DONE;
}

uint64_t http_chunked_data_left(const struct http_chunked *c)
{
    return c->state == HTTP_CHUNKED_DATA ? c->left : 0;
}

void http_chunked_skip(struct http_chunked *c, uint64_t n)
{
    if (c->state != HTTP_CHUNKED_DATA)
        return;
    c->left -= n < c->left ? n : c->left;
    if (c->left == 0)
        c->state = HTTP_CHUNKED_DATA_CR;
}
