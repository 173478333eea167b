/* AWS Signature Version 4 as S3 uses it: verifying client requests (header and presigned-query forms, signed
 * aws-chunked streams) and signing requests to backends.
 *
 * A verification runs in three steps, so the caller can look the access key up in between:
 *   1. s3_sigv4_parse()     reads the Authorization header or the X-Amz-* query parameters, checks their form,
 *                           the credential scope and the clock, and classifies x-amz-content-sha256;
 *   2. the caller finds the secret for auth.access_key (InvalidAccessKeyId is its call) and gets the signing key
 *      from a s3_sigv4_key_cache. For an unknown key it should go on with a fixed dummy secret through the same
 *      cache and fail after step 3, so unknown keys cost what known ones do;
 *   3. s3_sigv4_verify()    rebuilds the canonical request, signs it and compares in constant time. The
 *                           signature it computed seeds s3_sigv4_stream for aws-chunked bodies.
 * The pieces (URI encoding, canonical request, string to sign, key derivation, chunk signatures) are exposed one
 * by one: signing a backend request uses the same functions, and each is tested alone.
 *
 * S3 differs from the other AWS services: the path is percent-decoded once then encoded (never twice), dot
 * segments are never resolved and "//" never collapsed. Query values are decoded with "+" as a space, as S3 does.
 * The canonical request is streamed into SHA-256 (or a buffer, for tests and debugging): nothing here allocates,
 * and request size is bounded only by S3_SIGV4_MAX_QUERY_PARAMS.
 */
#ifndef S3ORCH_S3_SIGV4_H
#define S3ORCH_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "s3/s3_checksum.h"

#define S3_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define S3_SIGV4_MAX_QUERY_PARAMS 128 /* more is InvalidURI */
#define S3_SIGV4_MAX_SKEW 900         /* seconds between x-amz-date and our clock (header form) */
#define S3_SIGV4_MAX_EXPIRES 604800   /* seven days, X-Amz-Expires */
#define S3_SIGV4_AUTH_STORE 2048      /* decoded presigned parameters */
#define S3_SIGV4_MAX_SCOPE 128        /* "20130524/us-east-1/s3/aws4_request" and longer regions */
#define S3_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Each value maps to one S3 error (s3_sigv4_err_code/_status/_message). */
enum s3_sigv4_err {
    S3_SIGV4_OK = 0,
    S3_SIGV4_ERR_NO_AUTH,                 /* AccessDenied 403: neither form present (anonymous request) */
    S3_SIGV4_ERR_AUTH_HEADER_MALFORMED,   /* AuthorizationHeaderMalformed 400 */
    S3_SIGV4_ERR_AUTH_QUERY_MALFORMED,    /* AuthorizationQueryParametersError 400 */
    S3_SIGV4_ERR_UNSUPPORTED_AUTH,        /* InvalidRequest 400: SigV2 or an unknown algorithm */
    S3_SIGV4_ERR_MULTIPLE_AUTH,           /* InvalidArgument 400: header and query forms together */
    S3_SIGV4_ERR_NOT_IMPLEMENTED,         /* NotImplemented 501: SigV4a (ECDSA) */
    S3_SIGV4_ERR_MISSING_DATE,            /* AccessDenied 403: no valid x-amz-date or Date */
    S3_SIGV4_ERR_TIME_SKEWED,             /* RequestTimeTooSkewed 403 */
    S3_SIGV4_ERR_EXPIRED,                 /* AccessDenied 403 "Request has expired" */
    S3_SIGV4_ERR_NOT_YET_VALID,           /* AccessDenied 403: presigned X-Amz-Date in the future */
    S3_SIGV4_ERR_MISSING_CONTENT_SHA256,  /* InvalidRequest 400: header form without x-amz-content-sha256 */
    S3_SIGV4_ERR_BAD_CONTENT_SHA256,      /* InvalidArgument 400: not a hash nor a known word */
    S3_SIGV4_ERR_CONTENT_SHA256_MISMATCH, /* XAmzContentSHA256Mismatch 400: the body's hash differs */
    S3_SIGV4_ERR_INVALID_URI,             /* InvalidURI 400: bad percent escape, too many query parameters */
    S3_SIGV4_ERR_MISSING_SIGNED_HEADER,   /* SignatureDoesNotMatch 403: a signed header is not in the request */
    S3_SIGV4_ERR_SIGNATURE_MISMATCH,      /* SignatureDoesNotMatch 403 */
    S3_SIGV4_ERR_TOO_LONG,                /* InvalidArgument 400: a value beyond the fixed buffers here */
    S3_SIGV4_ERR_COUNT
};

const char *s3_sigv4_err_code(enum s3_sigv4_err err);    /* "SignatureDoesNotMatch"... */
int s3_sigv4_err_status(enum s3_sigv4_err err);          /* 400, 403, 501 */
const char *s3_sigv4_err_message(enum s3_sigv4_err err); /* S3's wording */

struct s3_sigv4_str {
    const char *p;
    size_t n;
};

/* One request header as received; names in any case. The same name may appear more than once. */
struct s3_sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* The request as it came off the wire. */
struct s3_sigv4_request {
    const char *method;
    size_t method_len;
    const char *path; /* the request-target's path, still percent-encoded, without "?" */
    size_t path_len;
    const char *query; /* what follows "?", still encoded; NULL/0 when none */
    size_t query_len;
    const struct s3_sigv4_header *headers;
    size_t nheaders;
};

/* URI-encodes src[0..n) per AWS: A-Za-z0-9 - . _ ~ kept, "/" kept unless encode_slash, every other byte %XX with
 * upper-case hex. Writes a NUL; returns the length without it, or -ENOSPC (3n + 1 bytes always suffice). */
ssize_t s3_uri_encode(char *dst, size_t cap, const char *src, size_t n, bool encode_slash);
/* Percent-decodes once; "+" stays "+" (a path). dst may be src. Returns the length (NUL written when it fits),
 * -EINVAL for "%" not followed by two hex digits, -ENOSPC when dst is too small (n + 1 always suffices). */
ssize_t s3_uri_decode(char *dst, size_t cap, const char *src, size_t n);

/* Where canonical text goes: a SHA-256 (verifying and signing), a buffer (tests, debugging), or both. */
struct s3_sigv4_sink {
    struct s3_sha256 *sha;
    char *buf;
    size_t cap, len; /* len counts every byte written, so len >= cap means the buffer overflowed */
};

void s3_sigv4_sink_init(struct s3_sigv4_sink *s, struct s3_sha256 *sha, char *buf, size_t cap);
void s3_sigv4_sink_write(struct s3_sigv4_sink *s, const void *p, size_t n);
/* The buffer with a NUL, or NULL when there is none or it overflowed. */
const char *s3_sigv4_sink_text(struct s3_sigv4_sink *s);

/* The canonical URI of a wire path: decoded once, encoded with "/" kept; "" becomes "/". */
enum s3_sigv4_err s3_sigv4_canonical_uri(struct s3_sigv4_sink *out, const char *path, size_t n);
/* The canonical query string of a wire query: "&"-separated name[=value] pairs, each decoded once ("+" is a
 * space) and encoded, sorted by encoded name then value; a bare name gets "=". Empty pairs are dropped.
 * presigned drops X-Amz-Signature. */
enum s3_sigv4_err s3_sigv4_canonical_query(struct s3_sigv4_sink *out, const char *query, size_t n, bool presigned);
/* "name:value\n" for each name of the ";"-separated signed-headers list, in its order: names lower-cased,
 * values trimmed with inner runs of SP/HTAB as one space, repeated headers joined with ",". */
enum s3_sigv4_err s3_sigv4_canonical_headers(struct s3_sigv4_sink *out, const char *signed_headers, size_t sh_len,
                                             const struct s3_sigv4_header *headers, size_t nheaders);
/* The whole canonical request; payload_hash is the literal that ends it. */
enum s3_sigv4_err s3_sigv4_canonical_request(struct s3_sigv4_sink *out, const struct s3_sigv4_request *req,
                                             bool presigned, const char *signed_headers, size_t sh_len,
                                             const char *payload_hash, size_t ph_len);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<creq_sha256_hex>" into dst with a NUL; the length or -ENOSPC. */
ssize_t s3_sigv4_string_to_sign(char *dst, size_t cap, const char amz_date[16], const char *scope,
                                size_t scope_len, const char creq_sha256_hex[64]);
/* HMAC chain "AWS4" + secret → date (YYYYMMDD) → region → service → "aws4_request". */
void s3_sigv4_signing_key(const char *secret, size_t secret_len, const char date[8], const char *region,
                          size_t region_len, const char *service, size_t service_len, uint8_t key[32]);
/* Lower-case hex of HMAC-SHA256(key, msg) with a NUL. */
void s3_sigv4_signature_hex(const uint8_t key[32], const char *msg, size_t n, char out[65]);
/* Compares in time that depends on n only. */
bool s3_sigv4_equal(const char *a, const char *b, size_t n);

/* Signs a request: canonical request → string to sign → signature (out, hex with NUL). scope is
 * "date/region/service/aws4_request". For a presigned URL the query must already hold the X-Amz-* parameters. */
enum s3_sigv4_err s3_sigv4_sign(const struct s3_sigv4_request *req, bool presigned, const char *signed_headers,
                                size_t sh_len, const char *payload_hash, size_t ph_len, const char amz_date[16],
                                const char *scope, size_t scope_len, const uint8_t key[32], char out[65]);

/* "20130524T000000Z" <-> seconds since the epoch (UTC). -EINVAL for anything but that exact form. */
int s3_sigv4_parse_amz_date(const char *s, size_t n, int64_t *t);
void s3_sigv4_format_amz_date(int64_t t, char out[17]);
/* An IMF-fixdate Date header, "Fri, 24 May 2013 00:00:00 GMT". 0 or -EINVAL. */
int s3_sigv4_parse_http_date(const char *s, size_t n, int64_t *t);

/* The literal x-amz-content-sha256 value, classified. */
enum s3_sigv4_payload {
    S3_SIGV4_PAYLOAD_HASH,                     /* 64 hex digits: the body's SHA-256, to be verified */
    S3_SIGV4_PAYLOAD_UNSIGNED,                 /* UNSIGNED-PAYLOAD (and every presigned request) */
    S3_SIGV4_PAYLOAD_STREAMING_SIGNED,         /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    S3_SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER, /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    S3_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
};
/* S3_SIGV4_ERR_NOT_IMPLEMENTED for STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER] (SigV4a),
 * S3_SIGV4_ERR_BAD_CONTENT_SHA256 for anything else unknown. */
enum s3_sigv4_err s3_sigv4_payload_classify(const char *v, size_t n, enum s3_sigv4_payload *mode);
/* Streaming modes frame the body as aws-chunked. */
bool s3_sigv4_payload_is_streaming(enum s3_sigv4_payload mode);

/* What s3_sigv4_parse found. Slices point into the request (header form) or into store (presigned form, whose
 * values arrive percent-encoded), so the struct must outlive neither. */
struct s3_sigv4_auth {
    bool presigned;
    struct s3_sigv4_str access_key;
    struct s3_sigv4_str scope;   /* "20130524/us-east-1/s3/aws4_request" */
    struct s3_sigv4_str date;    /* "20130524" */
    struct s3_sigv4_str region;  /* "us-east-1" */
    struct s3_sigv4_str service; /* "s3" */
    struct s3_sigv4_str signed_headers;
    struct s3_sigv4_str signature; /* 64 hex digits */
    char amz_date[17];             /* from x-amz-date, the Date header or X-Amz-Date */
    int64_t time;                  /* amz_date in seconds since the epoch */
    int64_t expires;               /* presigned: X-Amz-Expires */
    enum s3_sigv4_payload payload;
    struct s3_sigv4_str payload_hash; /* the literal the canonical request ends with */
    const char *reason; /* a specific message for the error s3_sigv4_parse returned, or NULL */
    char store[S3_SIGV4_AUTH_STORE];
};

struct s3_sigv4_check {
    int64_t now;         /* seconds since the epoch */
    const char *service; /* the credential scope's service; NULL means "s3" */
    const char *region;  /* the only region accepted; NULL accepts any */
};

enum s3_sigv4_err s3_sigv4_parse(const struct s3_sigv4_request *req, const struct s3_sigv4_check *chk,
                                 struct s3_sigv4_auth *auth);
/* Recomputes the signature with the signing key and compares it with auth's. The computed signature goes to out
 * (hex with NUL) when out is not NULL, whatever the result. */
enum s3_sigv4_err s3_sigv4_verify(const struct s3_sigv4_request *req, const struct s3_sigv4_auth *auth,
                                  const uint8_t key[32], char out[65]);
/* For S3_SIGV4_PAYLOAD_HASH: the body's SHA-256 against the signed hex (either case). */
bool s3_sigv4_payload_hash_matches(const struct s3_sigv4_auth *auth, const uint8_t sha256[32]);
/* Headers x-amz-* that the request carries but did not sign (AWS refuses them with AccessDenied "There were
 * headers present in the request which were not signed"); the first such name, or NULL/0. */
struct s3_sigv4_str s3_sigv4_unsigned_amz_header(const struct s3_sigv4_request *req,
                                                 const struct s3_sigv4_auth *auth);

/* Signing keys by (access key, secret, date, region, service), so a request costs one HMAC for its string to
 * sign instead of five. Fixed size, no allocation, not thread-safe: one cache per thread. Entries are compared on
 * the secret too, so a rotated secret never meets a stale key. */
#define S3_SIGV4_KEY_CACHE_SLOTS 64
#define S3_SIGV4_KEY_CACHE_MAX_FIELD 128 /* longer access keys, secrets or regions are derived every time */

struct s3_sigv4_key_cache_entry {
    bool used;
    uint8_t access_key_len, secret_len, region_len, service_len;
    char date[8];
    char access_key[S3_SIGV4_KEY_CACHE_MAX_FIELD];
    char secret[S3_SIGV4_KEY_CACHE_MAX_FIELD];
    char region[S3_SIGV4_KEY_CACHE_MAX_FIELD];
    char service[16];
    uint8_t key[32];
};

struct s3_sigv4_key_cache {
    struct s3_sigv4_key_cache_entry slot[S3_SIGV4_KEY_CACHE_SLOTS];
    uint64_t hits, misses;
};

void s3_sigv4_key_cache_init(struct s3_sigv4_key_cache *c);
/* The signing key for auth's scope and the given secret, from the cache or derived and cached. */
void s3_sigv4_key_cache_get(struct s3_sigv4_key_cache *c, const struct s3_sigv4_auth *auth, const char *secret,
                            size_t secret_len, uint8_t key[32]);
/* Removes every entry (a secret was revoked: old keys must go even before their date does). */
void s3_sigv4_key_cache_clear(struct s3_sigv4_key_cache *c);

/* aws-chunked signatures. Chunk: HMAC of "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<previous signature>\n
 * <sha256 of "">\n<sha256 of the chunk data>"; trailer: HMAC of "AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n
 * <previous signature>\n<sha256 of the trailer lines, each "name:value\n">". The first previous signature is the
 * request's own (the seed). Outputs are hex with a NUL. */
void s3_sigv4_chunk_sign(const uint8_t key[32], const char amz_date[16], const char *scope, size_t scope_len,
                         const char prev_sig[64], const uint8_t chunk_sha256[32], char out[65]);
void s3_sigv4_trailer_sign(const uint8_t key[32], const char amz_date[16], const char *scope, size_t scope_len,
                           const char prev_sig[64], const uint8_t trailer_sha256[32], char out[65]);

/* Verifying a signed aws-chunked body as it streams (the s3_awschunked events map onto these one to one):
 * CHUNK → chunk_begin, DATA → chunk_data, CHUNK_END → chunk_end(the CHUNK's signature), TRAILER → trailer_add,
 * TRAILER_SIGNATURE → trailer_end. A mismatch is S3_SIGV4_ERR_SIGNATURE_MISMATCH and sticks. Also signs: after
 * chunk_end(NULL) or trailer_end(NULL), prev_sig holds the signature to send. */
struct s3_sigv4_stream {
    uint8_t key[32];
    char amz_date[17];
    char scope[S3_SIGV4_MAX_SCOPE];
    size_t scope_len;
    char prev_sig[65];
    struct s3_sha256 sha; /* of the current chunk, or of the trailer lines */
    bool hashing;         /* sha has been initialised and not finalised */
    bool failed;
};

/* -EINVAL when the scope is longer than S3_SIGV4_MAX_SCOPE. */
int s3_sigv4_stream_init(struct s3_sigv4_stream *s, const uint8_t key[32], const char amz_date[16],
                         const char *scope, size_t scope_len, const char seed_sig[64]);
void s3_sigv4_stream_chunk_begin(struct s3_sigv4_stream *s);
void s3_sigv4_stream_chunk_data(struct s3_sigv4_stream *s, const void *p, size_t n);
/* sig NULL: sign instead of verify. */
enum s3_sigv4_err s3_sigv4_stream_chunk_end(struct s3_sigv4_stream *s, const char *sig);
void s3_sigv4_stream_trailer_add(struct s3_sigv4_stream *s, const char *name, size_t name_len, const char *value,
                                 size_t value_len);
enum s3_sigv4_err s3_sigv4_stream_trailer_end(struct s3_sigv4_stream *s, const char *sig);

#endif
