#ifndef S3ORCH_DEBUG_ENDPOINTS_H
#define S3ORCH_DEBUG_ENDPOINTS_H

#include <stdbool.h>

#include "http/http_server.h"

/* Handles /_debug/sleep?ms=N and /_debug/echo; false when the request is not one of them. */
bool debug_endpoint_handle(struct http_conn *c, struct http_request *req, struct http_str path,
                           struct http_str query);

#endif
