/* An HTTP/1.1 client on the coroutine runtime, for talking to S3 backends over http://.
 *
 * Connections are kept alive and pooled per ring thread per endpoint (no locks: a pool belongs to the thread that
 * made it). A request body comes from a body_source, spliced socket → pipe → socket when the source can splice
 * (unless it came whole with the client's request head: then it goes out with this request's head in one send); a
 * response body goes to a body_sink, spliced when the sink has a splice_fd (unless it fits behind the response head:
 * then it is received whole and written once). Nothing holds a whole body.
 *
 * Use: http_client_request() sends the request and reads the response head; then the caller reads the body
 * (http_client_body_read, or http_client_body_to_sink) and ends with http_client_done(), which returns the
 * connection to the pool when the exchange finished cleanly, or closes it. Every call takes the exchange's
 * absolute deadline (coro.h's convention) and fails with -ETIMEDOUT past it. Errors are -errno; a response with
 * any status is a success at this level. */
#ifndef S3ORCH_HTTP_CLIENT_H
#define S3ORCH_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/http_chunked.h"
#include "util/body.h"

enum {
    HTTP_CLIENT_HEADERS_MAX = 64,
    HTTP_CLIENT_HEAD_MAX = 16384, /* bytes of a response head */
};

/* Where requests go: resolved once, at start-up (name resolution blocks; never on a ring thread). */
struct http_endpoint {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host[300];      /* the Host header: "name" or "name:port" when the port is not 80 */
    unsigned id;         /* index of this endpoint's pool in each thread's pool table */
    unsigned max_idle;   /* idle connections kept per thread; 0 = 64 */
    int64_t idle_ns;     /* an idle connection older than this is closed, not reused; 0 = 30 s */
    int64_t connect_ns;  /* connect timeout; 0 = 5 s */
};

/* Resolves host and port (numeric or names) into ep's addr, addrlen and host with getaddrinfo; the other fields
 * are the caller's. -EINVAL, -ENOENT (no address). */
int http_endpoint_resolve(struct http_endpoint *ep, const char *host, const char *port);

struct http_client_header {
    const char *name, *value;
};

struct http_client_request {
    const char *method;
    const char *target;  /* origin-form: "/path?query", already percent-encoded */
    /* Host and Content-Length are added by the client; none of them, Connection or Transfer-Encoding here */
    const struct http_client_header *headers;
    size_t nheaders;
    int64_t content_length;   /* -1: no body and no Content-Length header (GET, HEAD, DELETE) */
    /* Exactly content_length bytes; NULL when content_length <= 0. A source that splices is handed the socket
     * and must bound its own waits (splice_move with its deadline): the exchange's deadline cannot reach it. */
    struct body_source *body;
    bool idempotent;          /* a pooled connection that turns out dead may be retried once on a new one; only
                                 for requests without a body, or whose body has not been read yet */
    bool head;                /* a HEAD request: the response has no body whatever its Content-Length says */
};

/* One exchange in progress: the response head and the connection it came on. */
struct http_client_exchange {
    int status;
    struct http_client_header headers[HTTP_CLIENT_HEADERS_MAX]; /* NUL-terminated slices of head */
    size_t nheaders;
    int64_t content_length; /* -1 when the body is chunked or runs to the close; for HEAD, what the header says */
    /* internal */
    struct http_client_conn *conn;
    const struct http_endpoint *ep;
    int64_t deadline;
    int64_t body_left; /* Content-Length bytes not yet read; -1 when chunked or to the close */
    bool chunked, body_done, reusable;
    size_t rpos, rlen; /* head[rpos..rlen): body bytes that came with the head, not yet consumed */
    struct http_chunked dechunk;
    char head[HTTP_CLIENT_HEAD_MAX]; /* the request head while it is sent, then the response head */
};

/* Sends the request on a pooled or new connection and reads the response head into ex. On failure nothing is
 * left open. -ECONNREFUSED and friends, -ETIMEDOUT, -ECONNRESET (closed before answering), -EPROTO (a malformed
 * response), -E2BIG (a response head over HTTP_CLIENT_HEAD_MAX or HTTP_CLIENT_HEADERS_MAX, or a request head over
 * HTTP_CLIENT_HEAD_MAX), -EINVAL (a method, target or header that would break the request head), -EPIPE (the body
 * source ended short), the body source's error. */
int http_client_request(const struct http_endpoint *ep, const struct http_client_request *req,
                        struct http_client_exchange *ex, int64_t deadline);
/* The value of a response header (case-insensitive name), or NULL. */
const char *http_client_header(const struct http_client_exchange *ex, const char *name);
/* Up to len bytes of the response body; 0 at its end; -ECONNRESET when it ends short, -EPROTO bad chunked framing. */
ssize_t http_client_body_read(struct http_client_exchange *ex, void *buf, size_t len);
/* The whole (rest of the) body into sink, spliced when sink->splice_fd >= 0 and the body has a Content-Length
 * too large to fit behind the response head in ex->head; a body that fits goes to the sink in one write, which
 * skips the sink's start (body.h). */
int http_client_body_to_sink(struct http_client_exchange *ex, struct body_sink *sink);
/* Reads and drops the rest of a small body (at most limit bytes; more closes the connection instead). */
int http_client_body_discard(struct http_client_exchange *ex, size_t limit);
/* Ends the exchange: the connection goes back to the pool if the body was read whole and the server allows
 * keep-alive, else it is closed. Safe to call after a failed body read. */
void http_client_done(struct http_client_exchange *ex);

/* Closes the calling thread's pooled connections (thread exit, tests). */
void http_client_pools_close(void);

#endif
