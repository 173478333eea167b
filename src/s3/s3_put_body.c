#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "coro/coro.h"
#include "s3/s3_put_body.h"

ssize_t s3_put_body_read(struct body_source *src, void *buf, size_t len);

static bool fail(struct s3_put_body *b, int status, const char *code, const char *message)
{
    if (!b->fail.status)
        b->fail = (struct s3_put_fail){status, code, message};
    return false;
}


static bool parse_length(const struct http_str *h, int64_t *out)
{
    if (!h || h->n == 0 || h->n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->p[i] < '0' || h->p[i] > '9')
            return false;
        v = v * 10 + (h->p[i] - '0');
    }
    *out = v;
    return true;
}

/* The one x-amz-checksum-<alg> header, if any; several are an error. */
static bool find_checksum_header(struct s3_put_body *b, const struct http_request *req,
                                 const struct http_header **found)
{
    *found = NULL;
    for (unsigned i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name.n <= 15 || strncasecmp(h->name.p, "x-amz-checksum-", 15) != 0)
            continue;
        if (h->name.n == 20 && strncasecmp(h->name.p, "x-amz-checksum-mode", 19) == 0)
            continue;
        if (s3_checksum_alg_from_header(h->name.p, h->name.n) == S3_CK_NONE)
            continue; /* x-amz-checksum-type and friends */
        if (*found)
            return fail(b, 400, "InvalidRequest", "Expecting a single x-amz-checksum- header.");
        *found = h;
    }
    return true;
}

static bool setup_checksums(struct s3_put_body *b, const struct http_request *req)
{
    const struct http_header *ckh;
    if (!find_checksum_header(b, req, &ckh))
        return false;
    const struct http_str *trailer = http_request_header(req, "x-amz-trailer");
    const struct http_str *sdk = http_request_header(req, "x-amz-sdk-checksum-algorithm");
    if (ckh && trailer)
        return fail(b, 400, "InvalidRequest", "Expecting a single x-amz-checksum- header.");

    if (ckh) {
        b->ck_alg = s3_checksum_alg_from_header(ckh->name.p, ckh->name.n);
        if (s3_checksum_from_base64(b->ck_alg, ckh->value.p, ckh->value.n, b->ck_expected) < 0)
            return fail(b, 400, "InvalidRequest", "Value for x-amz-checksum- header is invalid.");
        b->ck_expected_set = true;
    } else if (trailer) {
        b->ck_alg = s3_checksum_alg_from_header(trailer->p, trailer->n);
        if (b->ck_alg == S3_CK_NONE)
            return fail(b, 400, "InvalidRequest", "The value specified in the x-amz-trailer header is not supported");
    } else if (sdk) {
        return fail(b, 400, "InvalidRequest",
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer "
                    "headers were found.");
    }
    if (sdk && b->ck_alg != s3_checksum_alg_from_name(sdk->p, sdk->n))
        return fail(b, 400, "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.");
    if (b->ck_alg != S3_CK_NONE)
        s3_checksum_init(&b->ck, b->ck_alg);
    return true;
}

static bool setup_md5(struct s3_put_body *b, const struct http_request *req)
{
    const struct http_str *md5 = http_request_header(req, "content-md5");
    if (md5) {
        byte raw[32];
        word32 n = sizeof(raw);
        if (md5->n != 24 || Base64_Decode((const byte *)md5->p, (word32)md5->n, raw, &n) != 0 || n != 16)
            return fail(b, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
        memcpy(b->md5_expected, raw, 16);
        b->want_md5 = true;
    }
    return true;
}

bool s3_put_body_init(struct s3_put_body *b, struct http_conn *c, const struct http_request *req,
                      const struct s3_sigv4_auth *auth, const uint8_t signing_key[32], const char seed_sig[65],
                      unsigned flags, int64_t *decoded_length)
{
    memset(b, 0, offsetof(struct s3_put_body, raw));
    b->src.read = s3_put_body_read;
    b->conn = c;
    b->auth = auth;
    s3_md5_init(&b->md5);

    if (!(flags & S3_PUT_BODY_OBJECT_CHECKSUMS) && !setup_checksums(b, req))
        return false;
    if (!setup_md5(b, req))
        return false;

    const struct http_str *enc = http_request_header(req, "content-encoding");
    bool streaming = s3_sigv4_payload_is_streaming(auth->payload);
    b->aws_chunked = streaming;
    if (enc && !streaming && http_str_eq_nocase(*enc, "aws-chunked"))
        return fail(b, 400, "InvalidArgument", "aws-chunked encoding needs a STREAMING x-amz-content-sha256 value.");

    if (streaming) {
        if (!parse_length(http_request_header(req, "x-amz-decoded-content-length"), decoded_length))
            return fail(b, 411, "MissingContentLength", "You must provide the x-amz-decoded-content-length header.");
        b->signed_chunks = auth->payload == S3_SIGV4_PAYLOAD_STREAMING_SIGNED ||
                           auth->payload == S3_SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER;
        b->signed_trailer = auth->payload == S3_SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER;
        const struct http_str *trailer = http_request_header(req, "x-amz-trailer");
        bool trailer_mode = b->signed_trailer || auth->payload == S3_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
        if (trailer_mode && !trailer)
            return fail(b, 400, "InvalidRequest", "x-amz-trailer is required for this x-amz-content-sha256 value.");
        struct s3_awschunked_config cfg = {
            .signed_chunks = b->signed_chunks,
            .signed_trailer = b->signed_trailer,
            .trailer = trailer ? trailer->p : NULL,
            .trailer_len = trailer ? trailer->n : 0,
            .decoded_length = *decoded_length,
        };
        s3_awschunked_init(&b->dec, &cfg);
        b->src.length = *decoded_length;
        if (b->signed_chunks &&
            s3_sigv4_stream_init(&b->sig, signing_key, auth->amz_date, auth->scope.p, auth->scope.n, seed_sig) < 0)
            return fail(b, 400, "AuthorizationHeaderMalformed", "The credential scope is too long.");
    } else {
        int64_t len = http_body_length(c);
        if (len < 0)
            return fail(b, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
        *decoded_length = len;
        b->src.length = len;
        if (auth->payload == S3_SIGV4_PAYLOAD_HASH) {
            b->verify_sha256 = true;
            s3_sha256_init(&b->sha);
        }
    }
    return true;
}

static void hash_bytes(struct s3_put_body *b, const void *p, size_t n)
{
    s3_md5_update(&b->md5, p, n);
    if (b->verify_sha256)
        s3_sha256_update(&b->sha, p, n);
    if (b->ck_alg != S3_CK_NONE)
        s3_checksum_update(&b->ck, p, n);
}

/* The checks that need the whole body. */
static bool finish(struct s3_put_body *b)
{
    uint8_t md5[16];
    s3_md5_final(&b->md5, md5);
    s3_hex_encode(md5, 16, b->etag_hex);
    if (b->want_md5 && memcmp(md5, b->md5_expected, 16) != 0)
        return fail(b, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    if (b->verify_sha256) {
        uint8_t sha[32];
        s3_sha256_final(&b->sha, sha);
        if (!s3_sigv4_payload_hash_matches(b->auth, sha))
            return fail(b, 400, "XAmzContentSHA256Mismatch",
                        "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    if (b->ck_alg != S3_CK_NONE) {
        uint8_t ck[S3_CHECKSUM_MAX_SIZE];
        size_t n = s3_checksum_final(&b->ck, ck);
        if (!b->ck_expected_set && !b->ck_compute_only)
            return fail(b, 400, "MalformedTrailerError", "The request contained trailing data that was not well-formed "
                                                         "or did not conform to our published schema.");
        if (b->ck_expected_set && memcmp(ck, b->ck_expected, n) != 0)
            return fail(b, 400, "BadDigest", "The checksum you specified did not match the calculated checksum.");
        s3_checksum_to_base64(ck, n, b->ck_b64, sizeof(b->ck_b64));
    }
    b->finished = true;
    return true;
}

static ssize_t read_error(struct s3_put_body *b, ssize_t err)
{
    switch (err) {
    case -ETIMEDOUT:
        fail(b, 400, "RequestTimeout",
             "Your socket connection to the server was not read from or written to within the timeout period.");
        break;
    case -ECONNRESET:
        fail(b, 400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length "
                                       "HTTP header.");
        break;
    case -EPROTO:
        fail(b, 400, "BadRequest", "The chunked transfer encoding of the body is malformed.");
        break;
    default:
        fail(b, 500, "InternalError", "We encountered an internal error. Please try again.");
    }
    return err;
}

static ssize_t read_plain(struct s3_put_body *b, char *buf, size_t len)
{
    ssize_t n = http_body_read(b->conn, buf, len);
    if (n < 0)
        return read_error(b, n);
    if (n > 0) {
        hash_bytes(b, buf, (size_t)n);
        return n;
    }
    return finish(b) ? 0 : -EBADMSG;
}

static bool on_event(struct s3_put_body *b, const struct s3_awschunked_event *ev)
{
    switch (ev->type) {
    case S3_AWSCHUNKED_CHUNK:
        if (b->signed_chunks) {
            memcpy(b->chunk_sig, ev->signature, 64);
            b->chunk_sig[64] = 0;
            s3_sigv4_stream_chunk_begin(&b->sig);
        }
        return true;
    case S3_AWSCHUNKED_CHUNK_END:
        if (b->signed_chunks && s3_sigv4_stream_chunk_end(&b->sig, b->chunk_sig) != S3_SIGV4_OK)
            return fail(b, 403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided.");
        return true;
    case S3_AWSCHUNKED_TRAILER:
        if (s3_checksum_from_base64(b->ck_alg, ev->value, ev->value_len, b->ck_expected) < 0)
            return fail(b, 400, "InvalidRequest", "Value for x-amz-checksum- trailer is invalid.");
        b->ck_expected_set = true;
        if (b->signed_trailer)
            s3_sigv4_stream_trailer_add(&b->sig, ev->name, ev->name_len, ev->value, ev->value_len);
        return true;
    case S3_AWSCHUNKED_TRAILER_SIGNATURE:
        if (s3_sigv4_stream_trailer_end(&b->sig, ev->signature) != S3_SIGV4_OK)
            return fail(b, 403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided.");
        return true;
    default:
        return true;
    }
}

static ssize_t read_chunked(struct s3_put_body *b, char *buf, size_t len)
{
    for (;;) {
        size_t avail = b->raw_len - b->raw_pos;
        uint64_t left = s3_awschunked_data_left(&b->dec);
        if (left && avail) {
            size_t n = avail < len ? avail : len;
            n = n < left ? n : (size_t)left;
            memcpy(buf, b->raw + b->raw_pos, n);
            s3_awschunked_skip(&b->dec, n);
            b->raw_pos += n;
            hash_bytes(b, buf, n);
            if (b->signed_chunks)
                s3_sigv4_stream_chunk_data(&b->sig, buf, n);
            return (ssize_t)n;
        }
        if (!left) {
            struct s3_awschunked_event ev;
            ssize_t r = s3_awschunked_feed(&b->dec, b->raw + b->raw_pos, avail, &ev);
            if (r < 0) {
                fail(b, s3_awschunked_err_status((int)r), s3_awschunked_err_code((int)r),
                     s3_awschunked_err_message((int)r));
                return -EBADMSG;
            }
            b->raw_pos += (size_t)r;
            if (ev.type == S3_AWSCHUNKED_DONE)
                return finish(b) ? 0 : -EBADMSG;
            if (ev.type != S3_AWSCHUNKED_NONE) {
                if (!on_event(b, &ev))
                    return -EBADMSG;
                continue;
            }
        }
        /* Need more framing or payload from the client. */
        if (b->raw_pos == b->raw_len)
            b->raw_pos = b->raw_len = 0;
        else if (b->raw_len == sizeof(b->raw)) {
            memmove(b->raw, b->raw + b->raw_pos, b->raw_len - b->raw_pos);
            b->raw_len -= b->raw_pos;
            b->raw_pos = 0;
        }
        ssize_t n = http_body_read(b->conn, b->raw + b->raw_len, sizeof(b->raw) - b->raw_len);
        if (n < 0)
            return read_error(b, n);
        if (n == 0) {
            fail(b, 400, "IncompleteBody", "The request body ended before the aws-chunked framing did.");
            return -EBADMSG;
        }
        b->raw_len += (size_t)n;
    }
}

ssize_t s3_put_body_read(struct body_source *src, void *buf, size_t len)
{
    struct s3_put_body *b = (struct s3_put_body *)src;
    if (b->finished)
        return 0;
    if (b->fail.status)
        return -EBADMSG;
    return b->aws_chunked ? read_chunked(b, buf, len) : read_plain(b, buf, len);
}

bool s3_put_body_checksum_as(struct s3_put_body *b, enum s3_checksum_alg alg)
{
    if (b->ck_alg != S3_CK_NONE)
        return b->ck_alg == alg;
    b->ck_alg = alg;
    b->ck_compute_only = true;
    s3_checksum_init(&b->ck, alg);
    return true;
}

/* --- passing the framing on ---------------------------------------------------------------------------------- */

enum { FORWARD_READ = 256 }; /* framing bytes read per step: a size line, or the last chunk and its trailer */

/* Runs the decoder over bytes going out unchanged: it checks the framing and picks up the trailer's checksum. */
static bool forward_watch(struct s3_put_body *b, const char *p, size_t n)
{
    while (!b->finished) {
        struct s3_awschunked_event ev;
        ssize_t r = s3_awschunked_feed(&b->dec, p, n, &ev);
        if (r < 0)
            return fail(b, s3_awschunked_err_status((int)r), s3_awschunked_err_code((int)r),
                        s3_awschunked_err_message((int)r));
        p += r;
        n -= (size_t)r;
        if (ev.type == S3_AWSCHUNKED_NONE)
            return true;
        if (ev.type == S3_AWSCHUNKED_TRAILER && !on_event(b, &ev))
            return false;
        b->finished = ev.type == S3_AWSCHUNKED_DONE;
    }
    if (n)
        return fail(b, 400, "InvalidRequest", "The request body goes on after the aws-chunked framing ended.");
    return true;
}

/* Reads framing from the client and checks it; returns the bytes read into buf. */
static ssize_t forward_read_framing(struct s3_put_body *b, char *buf, size_t len)
{
    ssize_t n = http_body_read(b->conn, buf, len);
    if (n < 0)
        return read_error(b, n);
    if (n == 0) {
        if (b->finished)
            return 0;
        fail(b, 400, "IncompleteBody", "The request body ended before the aws-chunked framing did.");
        return -EBADMSG;
    }
    return forward_watch(b, buf, (size_t)n) ? n : -EBADMSG;
}

static ssize_t forward_read(struct body_source *src, void *buf, size_t len)
{
    struct s3_put_body *b = ((struct s3_put_forward *)src)->body;
    if (b->fail.status)
        return -EBADMSG;
    return forward_read_framing(b, buf, len);
}

static ssize_t forward_splice(struct body_source *src, int fd, size_t len)
{
    struct s3_put_forward *f = (struct s3_put_forward *)src;
    struct s3_put_body *b = f->body;
    if (b->fail.status)
        return -EBADMSG;
    if (f->pend == f->npend) {
        uint64_t left = s3_awschunked_data_left(&b->dec);
        if (left) {
            ssize_t n = http_body_splice(b->conn, fd, len < left ? len : (size_t)left);
            if (n < 0)
                return read_error(b, n);
            s3_awschunked_skip(&b->dec, (uint64_t)n);
            return n;
        }
        ssize_t n = forward_read_framing(b, b->raw, FORWARD_READ);
        if (n <= 0)
            return n;
        f->pend = 0;
        f->npend = (size_t)n;
    }
    size_t want = f->npend - f->pend < len ? f->npend - f->pend : len;
    ssize_t n = coro_send(fd, b->raw + f->pend, want, MSG_NOSIGNAL, coro_deadline_in(f->step_ns));
    if (n <= 0)
        return n < 0 ? n : -EPIPE;
    f->pend += (size_t)n; /* counted as copied when it was read */
    return n;
}

bool s3_put_forward_init(struct s3_put_forward *f, struct s3_put_body *b, int64_t step_ns)
{
    struct http_body_source raw;
    http_body_source_init(&raw, b->conn);
    *f = (struct s3_put_forward){.body = b, .step_ns = step_ns};
    if (!b->aws_chunked || b->auth->payload != S3_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER ||
        http_body_length(b->conn) <= 0)
        return false;
    f->src = (struct body_source){.read = forward_read,
                                  .splice = raw.src.splice ? forward_splice : NULL,
                                  .length = http_body_length(b->conn)};
    return true;
}
