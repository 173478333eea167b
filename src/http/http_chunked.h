/* Incremental decoder for a "Transfer-Encoding: chunked" request body (RFC 9112 section 7.1).
 *
 * The decoder is a byte-at-a-time state machine with no buffer of its own, so input may arrive in pieces of any
 * size. Payload bytes are handed back in place; a caller that would rather move the payload itself (splice from
 * the socket to a file) asks http_chunked_data_left() how much payload comes next, moves it, and reports it with
 * http_chunked_skip(). Only the framing bytes need to pass through http_chunked_feed().
 *
 * Errors are negative HTTP statuses, and sticky: -400 malformed framing or a size/extension line longer than
 * max_line, -413 a chunk size that overflows int64, -431 trailer fields longer than max_trailer.
 */
#ifndef S3ORCH_HTTP_CHUNKED_H
#define S3ORCH_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum http_chunked_state {
    HTTP_CHUNKED_SIZE,          /* chunk-size hex digits */
    HTTP_CHUNKED_SIZE_WS,       /* BWS after the size, before ";" */
    HTTP_CHUNKED_EXT,           /* chunk extensions, ignored */
    HTTP_CHUNKED_SIZE_LF,       /* LF ending the size line */
    HTTP_CHUNKED_DATA,          /* payload */
    HTTP_CHUNKED_DATA_CR,       /* CRLF after the payload */
    HTTP_CHUNKED_DATA_LF,
    HTTP_CHUNKED_TRAILER_START, /* start of a trailer field line, or the final CRLF */
    HTTP_CHUNKED_TRAILER_NAME,
    HTTP_CHUNKED_TRAILER_VALUE,
    HTTP_CHUNKED_TRAILER_LF,
    HTTP_CHUNKED_FINAL_LF,
    HTTP_CHUNKED_DONE,
    HTTP_CHUNKED_ERROR,
};

struct http_chunked {
    enum http_chunked_state state;
    int error;       /* negative status in HTTP_CHUNKED_ERROR */
    uint64_t left;   /* the size read so far on a size line; payload bytes left in HTTP_CHUNKED_DATA */
    size_t line;     /* bytes of the current size line, CRLF excluded */
    size_t trailer;  /* bytes of the trailer section so far, CRLFs included */
};

struct http_chunked_limits {
    size_t max_line;    /* chunk size plus extensions */
    size_t max_trailer; /* all trailer field lines and the final CRLF */
};

struct http_chunked_limits http_chunked_limits_default(void); /* 4 KiB line, 16 KiB trailer */
void http_chunked_init(struct http_chunked *c);

/* Decodes in[0..len). Returns the bytes consumed or a negative status; lim NULL means the defaults. *data and
 * *data_len get the payload found, pointing into `in` (NULL/0 when none). A call stops after one payload run, so
 * the caller loops over its input; a call that returns payload never fails. Consumption stops at the end of the
 * body, so bytes past it (the next pipelined request) are left alone. */
ssize_t http_chunked_feed(struct http_chunked *c, const struct http_chunked_limits *lim, const char *in, size_t len,
                          const char **data, size_t *data_len);
/* The final 0-size chunk, the trailers and the closing CRLF have all been consumed. */
bool http_chunked_done(const struct http_chunked *c);
/* Payload bytes left in the current chunk; 0 when the decoder is not inside a chunk's payload. */
uint64_t http_chunked_data_left(const struct http_chunked *c);
/* The caller consumed n payload bytes without feeding them; n above http_chunked_data_left() is clamped. */
void http_chunked_skip(struct http_chunked *c, uint64_t n);

#endif
