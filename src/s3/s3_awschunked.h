/* Incremental decoder for an aws-chunked body (Content-Encoding: aws-chunked): the request body once any HTTP
 * chunking is removed, whose framing is
 *     hex-size [";chunk-signature=" 64-hex] CRLF  data  CRLF        one per chunk
 *     "0" [";chunk-signature=" 64-hex] CRLF                         the final chunk
 *     [name OWS ":" OWS value OWS CRLF]                              the declared trailer (x-amz-trailer)
 *     ["x-amz-trailer-signature:" 64-hex CRLF]                       signed-trailer mode
 *     CRLF
 * Signed chunks appear under x-amz-content-sha256 STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]; the unsigned
 * trailer mode (STREAMING-UNSIGNED-PAYLOAD-TRAILER) has bare sizes and a checksum trailer.
 *
 * Like http_chunked, the decoder runs byte at a time over the framing and has no buffer for payload: data is
 * handed back in place, and a caller that moves payload itself asks s3_awschunked_data_left() and reports with
 * s3_awschunked_skip(). It reports one event per call, in this grammar:
 *     (CHUNK DATA* CHUNK_END)*  CHUNK(last) CHUNK_END(last)  [TRAILER]  [TRAILER_SIGNATURE]  DONE
 * which is what verification needs: begin hashing at CHUNK, hash each DATA, check the CHUNK's signature at
 * CHUNK_END (s3_sigv4_stream maps onto it one to one), compare the TRAILER's checksum with the one computed over
 * the data. The caller loops until a call returns no event:
 *     for (;;) {
 *         ssize_t r = s3_awschunked_feed(&d, in, len, &ev);
 *         if (r < 0) fail(r);
 *         in += r, len -= r;
 *         if (ev.type == S3_AWSCHUNKED_NONE) break;      // all input consumed (or the body is done)
 *         handle(&ev);
 *     }
 * An event may consume no input (the final CHUNK_END), so a call with len 0 is valid and must be made.
 *
 * The decoder enforces the framing, line and chunk-size limits, x-amz-decoded-content-length, the presence and
 * name of the declared trailer, and the place of the trailer signature. Errors are negative and sticky.
 */
#ifndef S3ORCH_S3_AWSCHUNKED_H
#define S3ORCH_S3_AWSCHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define S3_AWSCHUNKED_LINE_MAX 256                    /* the longest size or trailer line, CRLF excluded */
#define S3_AWSCHUNKED_MAX_CHUNK_DEFAULT (64u << 20)   /* SDKs send 64 KiB to 16 MiB chunks */

enum s3_awschunked_err {
    S3_AWSCHUNKED_ERR_FRAMING = -1,       /* malformed size line, extension or CRLF */
    S3_AWSCHUNKED_ERR_LINE_TOO_LONG = -2, /* a size or trailer line beyond max_line */
    S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG = -3, /* a chunk beyond max_chunk */
    S3_AWSCHUNKED_ERR_SIGNATURE = -4,     /* signed mode without chunk-signature, or unsigned mode with one */
    S3_AWSCHUNKED_ERR_TRAILER = -5,       /* trailer missing, undeclared, repeated or malformed */
    S3_AWSCHUNKED_ERR_LENGTH = -6,        /* decoded bytes differ from x-amz-decoded-content-length */
};

/* The S3 error for each: InvalidRequest, SignatureDoesNotMatch, MalformedTrailerError, IncompleteBody... */
const char *s3_awschunked_err_code(int err);
int s3_awschunked_err_status(int err);
const char *s3_awschunked_err_message(int err);

struct s3_awschunked_config {
    bool signed_chunks;  /* ";chunk-signature=" on every size line */
    bool signed_trailer; /* "x-amz-trailer-signature:" closes the trailers */
    const char *trailer; /* x-amz-trailer: the trailer that must come (kept by pointer); NULL: none may */
    size_t trailer_len;
    int64_t decoded_length; /* x-amz-decoded-content-length; -1 when absent */
    uint64_t max_chunk;     /* 0: S3_AWSCHUNKED_MAX_CHUNK_DEFAULT */
    size_t max_line;        /* 0 or above S3_AWSCHUNKED_LINE_MAX: S3_AWSCHUNKED_LINE_MAX */
};

enum s3_awschunked_event_type {
    S3_AWSCHUNKED_NONE,              /* nothing: the input is used up, or the body is done */
    S3_AWSCHUNKED_CHUNK,             /* a size line: size, last, signature (signed mode) */
    S3_AWSCHUNKED_DATA,              /* payload: data, data_len, pointing into the input */
    S3_AWSCHUNKED_CHUNK_END,         /* the chunk is complete: last */
    S3_AWSCHUNKED_TRAILER,           /* the declared trailer: name, value (value trimmed) */
    S3_AWSCHUNKED_TRAILER_SIGNATURE, /* signature */
    S3_AWSCHUNKED_DONE,              /* the closing CRLF */
};

/* Strings other than data live in the decoder and stay valid until the next call. */
struct s3_awschunked_event {
    enum s3_awschunked_event_type type;
    uint64_t size;
    bool last;
    const char *signature; /* 64 hex digits, no NUL needed (one follows) */
    const char *data;
    size_t data_len;
    const char *name, *value;
    size_t name_len, value_len;
};

enum s3_awschunked_state {
    S3_AWSCHUNKED_SIZE_LINE,
    S3_AWSCHUNKED_DATA_RUN,
    S3_AWSCHUNKED_DATA_CR,
    S3_AWSCHUNKED_DATA_LF,
    S3_AWSCHUNKED_LAST_END, /* the final CHUNK_END is owed */
    S3_AWSCHUNKED_TRAILER_LINE,
    S3_AWSCHUNKED_DONE_STATE,
    S3_AWSCHUNKED_ERROR,
};

struct s3_awschunked {
    struct s3_awschunked_config cfg;
    enum s3_awschunked_state state;
    int error;
    uint64_t left;    /* payload bytes left in the current chunk */
    uint64_t decoded; /* payload bytes announced by the size lines so far */
    bool cr;          /* the current line's CR has been read */
    bool trailer_seen, trailer_sig_seen;
    size_t line_len;
    char line[S3_AWSCHUNKED_LINE_MAX];
    char sig[65];
};

void s3_awschunked_init(struct s3_awschunked *d, const struct s3_awschunked_config *cfg);
/* Decodes in[0..len): returns the bytes consumed or a negative s3_awschunked_err, and the event found. Stops after
 * one event; bytes past the end of the body are left alone. A call that returns DATA never fails. */
ssize_t s3_awschunked_feed(struct s3_awschunked *d, const char *in, size_t len, struct s3_awschunked_event *ev);
bool s3_awschunked_done(const struct s3_awschunked *d);
/* Payload bytes left in the current chunk; 0 outside a chunk's data. */
uint64_t s3_awschunked_data_left(const struct s3_awschunked *d);
/* The caller consumed n payload bytes itself; n above data_left is clamped. */
void s3_awschunked_skip(struct s3_awschunked *d, uint64_t n);

#endif
