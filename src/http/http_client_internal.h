/* Shared by the http_client*.c files; not part of the client's contract (http_client.h). */
#ifndef S3ORCH_HTTP_CLIENT_INTERNAL_H
#define S3ORCH_HTTP_CLIENT_INTERNAL_H

#include "http/http_client.h"

/* One TCP connection to an endpoint; owned by an exchange while it runs, by its thread's pool while idle. */
struct http_client_conn {
    int fd;
    int64_t idle_since;
    struct http_client_conn *next; /* in the pool */
};

/* The earlier of two deadlines, where 0 means none. */
static inline int64_t http_client_deadline_min(int64_t a, int64_t b)
{
    return !a || (b && b < a) ? b : a;
}

/* http_client_endpoint.c: a new connection, with TCP_NODELAY, connected by min(deadline, the connect timeout). */
int http_client_connect(const struct http_endpoint *ep, int64_t deadline, struct http_client_conn **out);
void http_client_conn_close(struct http_client_conn *c);

/* http_client_pool.c: an idle connection to ep that is young enough and still open, or NULL. */
struct http_client_conn *http_client_pool_take(const struct http_endpoint *ep);
void http_client_pool_put(const struct http_endpoint *ep, struct http_client_conn *c);

/* http_client_head.c: reads the response head into ex, skipping 1xx interim heads, and sets up the body's framing.
 * *answered tells whether any response byte came, which decides whether a request on a reused connection may be
 * tried again. */
int http_client_head_read(struct http_client_exchange *ex, bool head_request, bool *answered);

#endif
