/* The S3 API's entry point: addressing, authentication, authorisation, then the operation's handler. */
#ifndef S3ORCH_S3_HANDLER_H
#define S3ORCH_S3_HANDLER_H

#include "http/http_server.h"
#include "s3/s3_service.h"


void s3_handle(struct http_conn *c, struct http_request *req, const struct s3_service *svc);

#endif
