/* The S3 API's entry point: addressing, authentication, authorisation, then the operation's handler. */
#ifndef S3ORCH_S3_HANDLER_H
#define S3ORCH_S3_HANDLER_H

#include "backend/backend.h"
#include "config/config.h"
#include "http/http_server.h"
#include "store/store.h"

struct s3_service {
    const struct config *cfg;
    struct store *store;
    struct backend **backends; /* in config order */
    size_t nbackends;
};

void s3_handle(struct http_conn *c, struct http_request *req, const struct s3_service *svc);

#endif
