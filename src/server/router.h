/* The first stop of every request: operational endpoints (/health, /health/ready), test-only debug endpoints,
 * and then the S3 API. */
#ifndef S3ORCH_ROUTER_H
#define S3ORCH_ROUTER_H

#include <stdbool.h>

#include "http/http_server.h"
#include "s3/s3_handler.h"
#include "worker/job.h"

struct router {
    bool debug_endpoints; /* /_debug/…, for tests only (server/debug_endpoints.h) */
    const struct s3_service *s3; /* NULL: every S3 request is NotImplemented */
    bool api;                    /* false (--mode worker): every S3 request is ServiceUnavailable */
    const struct job_stats *job_stats; /* STORE_JOB_COUNT, for /_debug/stats; NULL: none */
};

/* An http_handler_fn; ctx is a struct router. */
void router_handle(struct http_conn *c, struct http_request *req, void *ctx);

#endif
