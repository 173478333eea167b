#include <string.h>

#include "s3/s3_auth.h"

static _Thread_local struct s3_sigv4_key_cache key_cache;
static _Thread_local bool key_cache_ready;

/* Verifying an unknown key with this secret keeps its cost equal to a known key's. */
static const char dummy_secret[] = "s3orch-unknown-access-key-dummy-secret-0000";

static bool find_credential(const struct config *cfg, struct s3_sigv4_str ak, struct s3_identity *id)
{
    for (size_t b = 0; b < cfg->nbuckets; b++) {
        const struct config_bucket *bucket = &cfg->buckets[b];
        for (size_t i = 0; i < bucket->ncredentials; i++) {
            const char *k = bucket->credentials[i].access_key_id;
            if (k && strlen(k) == ak.n && memcmp(k, ak.p, ak.n) == 0) {
                id->bucket = bucket;
                id->cred = &bucket->credentials[i];
                return true;
            }
        }
    }
    return false;
}

static struct s3_auth_result sigv4_error(enum s3_sigv4_err err, const struct s3_sigv4_auth *auth)
{
    return (struct s3_auth_result){
        .status = s3_sigv4_err_status(err),
        .code = s3_sigv4_err_code(err),
        .message = auth->reason ? auth->reason : s3_sigv4_err_message(err),
    };
}

struct s3_auth_result s3_auth_verify(const struct config *cfg, const struct http_request *req, int64_t now,
                                     struct s3_sigv4_auth *auth, uint8_t signing_key[32], char seed_sig[65],
                                     struct s3_identity *id)
{
    struct s3_sigv4_header headers[HTTP_MAX_HEADERS];
    for (unsigned i = 0; i < req->nheaders; i++)
        headers[i] = (struct s3_sigv4_header){req->headers[i].name.p, req->headers[i].name.n,
                                              req->headers[i].value.p, req->headers[i].value.n};
    const char *q = memchr(req->target.p, '?', req->target.n);
    struct s3_sigv4_request sreq = {
        .method = req->method_str.p,
        .method_len = req->method_str.n,
        .path = req->target.p,
        .path_len = q ? (size_t)(q - req->target.p) : req->target.n,
        .query = q ? q + 1 : NULL,
        .query_len = q ? req->target.n - (size_t)(q - req->target.p) - 1 : 0,
        .headers = headers,
        .nheaders = req->nheaders,
    };
    struct s3_sigv4_check chk = {.now = now};

    memset(auth, 0, sizeof(*auth));
    enum s3_sigv4_err err = s3_sigv4_parse(&sreq, &chk, auth);
    if (err != S3_SIGV4_OK)
        return sigv4_error(err, auth);

    if (!key_cache_ready) {
        s3_sigv4_key_cache_init(&key_cache);
        key_cache_ready = true;
    }
    bool known = find_credential(cfg, auth->access_key, id);
    const char *secret = known ? id->cred->secret_access_key : dummy_secret;
    s3_sigv4_key_cache_get(&key_cache, auth, secret, strlen(secret), signing_key);
    err = s3_sigv4_verify(&sreq, auth, signing_key, seed_sig);
    if (!known)
        return (struct s3_auth_result){403, "InvalidAccessKeyId",
                                       "The AWS Access Key Id you provided does not exist in our records."};
    if (err != S3_SIGV4_OK)
        return sigv4_error(err, auth);
    struct s3_sigv4_str unsigned_hdr = s3_sigv4_unsigned_amz_header(&sreq, auth);
    if (unsigned_hdr.n)
        return (struct s3_auth_result){403, "AccessDenied",
                                       "There were headers present in the request which were not signed"};
    return (struct s3_auth_result){0, NULL, NULL};
}
