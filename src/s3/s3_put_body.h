/* A PutObject body on its way to a backend: the client's bytes decoded (aws-chunked framing removed, chunk and
 * trailer signatures verified), hashed (MD5 for the ETag, the client's checksum, the signed SHA-256), and checked
 * at the end. The check's failure comes out of the read that would have returned 0, so the backend abandons the
 * write and nothing becomes visible; `fail` then says which S3 error to answer. */
#ifndef S3ORCH_S3_PUT_BODY_H
#define S3ORCH_S3_PUT_BODY_H

#include "http/http_server.h"
#include "s3/s3_awschunked.h"
#include "s3/s3_checksum.h"
#include "s3/s3_sigv4.h"
#include "util/body.h"

struct s3_put_fail {
    int status;
    const char *code, *message;
};

struct s3_put_body {
    struct body_source src;
    struct http_conn *conn;
    const struct s3_sigv4_auth *auth;

    bool aws_chunked;
    struct s3_awschunked dec;
    bool signed_chunks, signed_trailer;
    struct s3_sigv4_stream sig;
    char chunk_sig[65];
    size_t raw_pos, raw_len;

    struct s3_md5 md5;
    bool want_md5;
    uint8_t md5_expected[16];
    bool verify_sha256;
    struct s3_sha256 sha;
    enum s3_checksum_alg ck_alg;
    struct s3_checksum ck;
    bool ck_expected_set;
    bool ck_compute_only; /* no checksum came with the body: compute one for the caller */
    uint8_t ck_expected[S3_CHECKSUM_MAX_SIZE];

    bool finished;
    struct s3_put_fail fail;

    /* Results once the body was read whole and checked. */
    char etag_hex[33];
    char ck_b64[64]; /* "" when the client sent no checksum */

    char raw[64 * 1024]; /* aws-chunked framing as received; last, so set-up need not clear it */
};

/* x-amz-checksum-* headers describe the object being assembled, not this body (CompleteMultipartUpload): leave
 * them to the caller. */
#define S3_PUT_BODY_OBJECT_CHECKSUMS 1u

/* Reads the request's payload headers and sets up decoding and checks. Returns false with `fail` set when the
 * headers themselves are wrong (answer before reading the body). decoded_length receives the object size. */
bool s3_put_body_init(struct s3_put_body *b, struct http_conn *c, const struct http_request *req,
                      const struct s3_sigv4_auth *auth, const uint8_t signing_key[32], const char seed_sig[65],
                      unsigned flags, int64_t *decoded_length);

/* A multipart upload declared a checksum algorithm: the part's checksum must be of that kind. When the client
 * sent none, the body computes it (into ck_b64) without checking it. false: the client sent another kind. */
bool s3_put_body_checksum_as(struct s3_put_body *b, enum s3_checksum_alg alg);

/* The body as the client sent it, aws-chunked framing and checksum trailer included, for a backend that decodes and
 * checks it itself (claims.aws_chunked_trailer). The framing is still parsed on the way — it must be well formed,
 * and the trailer's value lands in ck_expected, with `finished` set once the framing ended — but the payload is
 * spliced when the sink can take it, never looked at. The framing is read in small pieces, so little payload
 * passes through user space. */
struct s3_put_forward {
    struct body_source src;
    struct s3_put_body *body;
    int64_t step_ns;     /* the stall bound for sending framing on */
    size_t pend, npend;  /* framing (and the payload read with it) in body->raw, still to go out */
};

/* false when the body cannot be passed on as it came: not the unsigned trailer mode, or its length is unknown (HTTP
 * chunked transfer: the backend request needs a Content-Length). Call after s3_put_body_init succeeded. */
bool s3_put_forward_init(struct s3_put_forward *f, struct s3_put_body *b, int64_t step_ns);

#endif
