#ifndef S3ORCH_DEBUG_ENDPOINTS_H
#define S3ORCH_DEBUG_ENDPOINTS_H

#include <stdbool.h>

#include "http/http_server.h"

struct s3_service;
struct job_stats;

/* Handles /_debug/sleep?ms=N, /_debug/echo, /_debug/stats (jobs: STORE_JOB_COUNT job stats, or NULL),
 * /_debug/backend-list?backend=NAME, /_debug/backend-state, /_debug/store-fault and /_debug/crash?at=POINT (svc's
 * backends and store; none when svc is NULL); false when the request is not one of them. */
bool debug_endpoint_handle(struct http_conn *c, struct http_request *req, struct http_str path,
                           struct http_str query, const struct s3_service *svc, const struct job_stats *jobs);

#endif
