/* Who is asking: SigV4 verification of a request against the credentials in the configuration. */
#ifndef S3ORCH_S3_AUTH_H
#define S3ORCH_S3_AUTH_H

#include "config/config.h"
#include "http/http_parser.h"
#include "s3/s3_request.h"
#include "s3/s3_sigv4.h"

struct s3_identity {
    const struct config_bucket *bucket; /* the bucket the credential belongs to */
    const struct config_credential *cred;
};

/* The verdict on a request: OK with an identity, or the S3 error to answer. */
struct s3_auth_result {
    int status;          /* 0 when authenticated */
    const char *code;    /* S3 error code otherwise */
    const char *message;
};

/* Parses and verifies the request's signature (header or presigned form) at time `now` (seconds). The signing key
 * comes from the calling thread's cache. An unknown access key is verified against a dummy secret all the same, so
 * it costs what a known one does, then reported as InvalidAccessKeyId. auth receives the parsed signature (its
 * payload mode and seed signature are needed to read an aws-chunked body). */
struct s3_auth_result s3_auth_verify(const struct config *cfg, const struct http_request *req, int64_t now,
                                     struct s3_sigv4_auth *auth, uint8_t signing_key[32], char seed_sig[65],
                                     struct s3_identity *id);

#endif
