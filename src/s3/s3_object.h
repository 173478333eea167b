/* Single-object operations: PutObject, GetObject, HeadObject, DeleteObject. */
#ifndef S3ORCH_S3_OBJECT_H
#define S3ORCH_S3_OBJECT_H

#include "http/http_server.h"
#include "s3/s3_handler.h"
#include "s3/s3_request.h"
#include "s3/s3_sigv4.h"

/* What authentication found that reading a signed body needs. */
struct s3_object_auth {
    const struct s3_sigv4_auth *auth;
    const uint8_t *signing_key; /* 32 bytes */
    const char *seed_sig;       /* the request's signature: the first chunk's previous signature */
};

void s3_object_put(struct http_conn *c, struct http_request *req, const struct s3_service *svc,
                   const struct s3_request *r, const struct s3_object_auth *a);
/* GET and HEAD (HEAD answers from the store alone). */
void s3_object_get(struct http_conn *c, struct http_request *req, const struct s3_service *svc,
                   const struct s3_request *r);
void s3_object_delete(struct http_conn *c, const struct s3_service *svc, const struct s3_request *r);

#endif
