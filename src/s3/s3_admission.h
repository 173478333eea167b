/* Admission control (O8): one concurrency budget for requests (the workers will draw from it too), split into read
 * and write pools, with load shedding, and a rate limit per client IP.
 *
 * A request is admitted before its signature is checked, so a flood costs as little as can be: over the budget it
 * is answered 503 SlowDown (which SDKs retry with backoff), over its client's rate 429 SlowDown. The client is the
 * TCP peer, or, when the peer is one of rate_limit.trusted_proxies, the last address in X-Forwarded-For that is not
 * a trusted proxy itself. */
#ifndef S3ORCH_S3_ADMISSION_H
#define S3ORCH_S3_ADMISSION_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config/config.h"
#include "http/http_parser.h"

struct s3_admission;

/* A request's hold on the budget; release it when the request ends. */
struct s3_ticket {
    struct s3_admission *a;
    bool write;
};

int s3_admission_create(struct s3_admission **out, const struct config_admission *adm,
                        const struct config_rate_limit *rl);
void s3_admission_free(struct s3_admission *a);

/* 0: admitted (*t to release); -EAGAIN: over the budget (shed); -EDQUOT: over the client's rate. a NULL admits. */
int s3_admit(struct s3_admission *a, const struct sockaddr_storage *peer, const struct http_request *req, bool write,
             struct s3_ticket *t);
void s3_ticket_release(struct s3_ticket *t);
/* Whether s3_admit() looks at the peer address (a rate limit is on): otherwise the caller need not fetch it. */
bool s3_admission_wants_peer(const struct s3_admission *a);

/* The address the rate limit counts for this request, as text (tests, logs). */
void s3_admission_client(const struct s3_admission *a, const struct sockaddr_storage *peer,
                         const struct http_request *req, char *out, size_t cap);

#endif
