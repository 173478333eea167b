/* What every S3 handler shares: the service's parts (store, backends, config) and the few steps each operation
 * repeats — naming a backend, choosing a backend key, turning a store error into an S3 error, deleting copies a
 * commit displaced, and reading a small request body. */
#ifndef S3ORCH_S3_SERVICE_H
#define S3ORCH_S3_SERVICE_H

#include "backend/backend.h"
#include "backend/placement.h"
#include "backend/usage.h"
#include "config/config.h"
#include "http/http_server.h"
#include "s3/s3_admission.h"
#include "s3/s3_auth.h"
#include "s3/s3_put_body.h"
#include "s3/s3_request.h"
#include "s3/s3_sigv4.h"
#include "store/store.h"

struct s3_service {
    const struct config *cfg;
    struct store *store;
    struct backend **backends; /* in config order */
    size_t nbackends;
    struct placement *placement; /* where new objects go, and each backend's bytes */
    struct usage *usage;         /* each backend's calls and bytes this month, against its limits */
    struct s3_admission *admission; /* the request budget and per-client rate limit; NULL admits all */
};

/* What authentication found that reading a signed body needs. */
struct s3_object_auth {
    const struct s3_sigv4_auth *auth;
    const uint8_t *signing_key; /* 32 bytes */
    const char *seed_sig;       /* the request's signature: the first chunk's previous signature */
};

/* One request on its way through the handlers. */
struct s3_call {
    struct http_conn *c;
    struct http_request *req;
    const struct s3_service *svc;
    const struct s3_request *r;
    const struct s3_identity *id;
    const struct s3_object_auth *oa;
};

enum { S3_BKEY_MAX = S3_BUCKET_MAX + S3_KEY_MAX + 32 };

struct backend *s3_backend_named(const struct s3_service *svc, const char *name);
/* An object's copies in the order a read of `len` bytes tries them: those on backends whose breaker is closed
 * first, each group by measured latency (usage_latency_ns, unmeasured first), then commit order; copies on
 * backends at a monthly limit are left out (counted in *over).
 * Returns how many went into order. */
size_t s3_copies_in_order(const struct s3_service *svc, const struct store_object *o, int64_t len,
                          const struct store_copy *order[STORE_COPIES_MAX], size_t *over);
/* A fresh backend key for a new version of bucket/key: "<bucket>/<key>#<16 hex>". Versions never share bytes,
 * so an overwrite cannot tear what a reader of the old version is reading. */
void s3_backend_key_new(char out[S3_BKEY_MAX], const char *bucket, const char *key);
/* A fresh multipart upload id: 32 hex digits. */
void s3_upload_id_new(char out[33]);
/* The S3 error for a failed store call (503 SlowDown when the database is busy, else 500). */
void s3_respond_store_error(const struct s3_call *k, int err);
/* Answers a failed store call on an object: NoSuchKey for -ENOENT, else as s3_respond_store_error(). */
void s3_respond_object_error(const struct s3_call *k, int err);
/* Answers a backend call's failure: 503 ServiceUnavailable when the backend is down, unreachable, timing out or
 * failing (the client may retry), 500 otherwise; nothing for -ECANCELED (the connection is going away). */
void s3_respond_backend_error(const struct s3_call *k, int err);
/* Takes the backends' states (draining or not) from the store into the router: at start, then on an interval, so
 * every instance sharing the store follows an operator's change. 0 or the store's error (states unchanged). */
int s3_backend_states_load(const struct s3_service *svc);
/* Answers a failed placement_reserve(): 507 InsufficientStorage when no backend has room, 429 SlowDown when those
 * with room are at a monthly usage limit, 503 when they are down. */
void s3_respond_no_room(const struct s3_call *k, int err);
/* Deletes the copies a commit or delete displaced and tells the store which are gone; takes the list. Called once
 * the client has its answer (s3_displaced.c): the copies a thread's requests displace while its previous batch
 * is in flight go in its next batch delete (DeleteObjects on S3), in a coroutine of its own, while the connection
 * goes on to its next request. A failed delete is the cleanup row's first attempt; the cleaner
 * (worker/cleaner.h) retries it after the backoff. */
void s3_delete_displaced(const struct s3_service *svc, struct store_cleanup_list *displaced);
/* Sends an error with the request's path as Resource. */
void s3_fail(const struct s3_call *k, int status, const char *code, const char *message);
/* 429 SlowDown: every backend that could serve the request is at a monthly usage limit. */
void s3_respond_over_limits(const struct s3_call *k);
/* Sends a response without a body (204 after a delete, 200 after a tagging update). */
void s3_respond_empty(const struct s3_call *k, int status);
/* Sends a 200 application/xml response; an XML document that overflowed becomes 500 InternalError. */
struct s3_xml;
void s3_respond_xml(const struct s3_call *k, struct s3_xml *x);

/* Reads a whole request body of at most cap bytes (an XML document) into a malloc'd buffer with a NUL after it,
 * verified as a PUT body is (signed payload hash, aws-chunked signatures, Content-MD5, x-amz-checksum-*).
 * flags as for s3_put_body_init(). Returns 0, or -1 after answering the client with the error. */
int s3_body_read_small(const struct s3_call *k, size_t cap, unsigned flags, char **out, size_t *len);

#endif
