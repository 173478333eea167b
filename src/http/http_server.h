/* HTTP/1.1 server on the coroutine runtime: one acceptor coroutine per thread on its own SO_REUSEPORT listener,
 * one coroutine per connection. A handler is straight-line code: it reads the body with http_body_read(),
 * answers with http_respond() (or http_send_head() + http_send_body()), and returns.
 *
 * Lifecycle per thread: http_server_start() spawns the acceptor; http_server_drain() (called on that thread, e.g.
 * from a cross-thread message) stops accepting, closes idle connections, marks busy ones to close after their
 * response, and cuts whatever still runs when the shutdown timeout passes. */
#ifndef S3ORCH_HTTP_SERVER_H
#define S3ORCH_HTTP_SERVER_H

#include <stdatomic.h>
#include <sys/socket.h>

#include "coro/coro.h"
#include "util/body.h"
#include "http/http_chunked.h"
#include "http/http_parser.h"

struct http_server_config {
    int64_t header_timeout;   /* ns: from the first byte of a head to its end (slow-loris bound) */
    int64_t idle_timeout;     /* ns: keep-alive wait for the next request, and the longest stall in a body or send */
    int64_t shutdown_timeout; /* ns: how long a drain lets requests in flight run */
    bool copy_bodies;         /* never splice request or response bodies: the copy path, for benchmarks */
    struct http_limits limits;
};

struct http_conn;
typedef void (*http_handler_fn)(struct http_conn *c, struct http_request *req, void *ctx);
/* Answers what the server rejects before any handler runs (malformed head: 400/414/431/501/505, head timeout: 408,
 * connection limit: 503), so that these too come in the S3 error format. */
typedef void (*http_reject_fn)(struct http_conn *c, int status);

/* Shared by every thread's server: the connection limit is global. */
struct http_shared {
    struct http_server_config cfg;
    atomic_long connections;
    long max_connections;
    http_handler_fn handler;
    void *handler_ctx;
    http_reject_fn reject;
    uint64_t id_salt; /* random per process, mixed into request ids */
};

struct http_detached;

struct http_server {
    struct http_shared *shared;
    int listen_fd;
    struct coro *acceptor;
    struct http_conn *conns;         /* every open connection on this thread */
    struct http_detached *detached;  /* work handlers left running after their response (http_server_detach) */
    unsigned ndetached;
    struct coro_wg live;             /* acceptor + connections + detached work */
    bool draining;
    unsigned thread_index;
    uint64_t request_seq;
};

/* Spawns the acceptor on the current thread's scheduler. listen_fd is owned by the server from here on. */
int http_server_start(struct http_server *srv, struct http_shared *shared, int listen_fd, unsigned thread_index);
/* Begins a graceful stop on this thread; a coroutine waits for the shutdown timeout and then cuts what is left. */
void http_server_drain(struct http_server *srv);

/* --- for handlers ------------------------------------------------------------------------------------------- */

/* Runs fn(arg) in a coroutine of its own on this thread's server: for work a handler need not finish before the
 * connection reads its next request (deleting what a write displaced). A drain waits for it as for a request,
 * and cancels it at the shutdown timeout. -ESHUTDOWN (no server on this thread, or it is draining), -EBUSY (too
 * much such work already runs: the caller should do it inline, which slows its client down), -ENOMEM; the
 * caller keeps arg on failure. */
int http_server_detach(coro_fn fn, void *arg);

/* The id of the request being handled (also sent as x-amz-request-id). */
const char *http_request_id(const struct http_conn *c);
struct http_server *http_conn_server(const struct http_conn *c);

/* Reads up to len body bytes, decoding chunked framing; 0 at the end of the body. Sends "100 Continue" first if
 * the client asked for it. Errors: -ETIMEDOUT (stalled), -ECONNRESET (client went away, or closed early),
 * -EPROTO (bad chunked framing), -ECANCELED. */
ssize_t http_body_read(struct http_conn *c, void *buf, size_t len);
/* The decoded body length if known up front (Content-Length), else -1. */
int64_t http_body_length(const struct http_conn *c);
/* The client's address (the TCP peer). 0 or -errno. */
int http_conn_peer(const struct http_conn *c, struct sockaddr_storage *out);
/* Body bytes handed out so far, read or spliced: 0 means the body can still go anywhere (write failover). */
int64_t http_body_taken(const struct http_conn *c);

/* The request body as a body_source, and the response body as a body_sink that a backend may splice into.
 * Both live in caller storage and are valid while the request runs. */
struct http_body_source {
    struct body_source src;
    struct http_conn *conn;
};
struct http_body_sink {
    struct body_sink sink;
    struct http_conn *conn;
};
/* The request body as a source; framed by Content-Length, it can also splice (http_body_splice). */
void http_body_source_init(struct http_body_source *s, struct http_conn *c);
/* Moves up to len bytes of a Content-Length body into fd (a socket or pipe) without reading them into user space
 * (bytes already buffered with the head are sent from the buffer); returns as http_body_read does. -EOPNOTSUPP
 * for a chunked body. */
ssize_t http_body_splice(struct http_conn *c, int fd, size_t len);
/* After http_send_head(): the body bytes it promised go through this sink. */
void http_body_sink_init(struct http_body_sink *s, struct http_conn *c);

/* A response head under construction. Headers that overflow the buffer make the send fail with -E2BIG. */
struct http_resp {
    int status;
    size_t len;
    bool overflow;
    char buf[4096];
};
void http_resp_init(struct http_resp *r, int status);
void http_resp_header(struct http_resp *r, const char *name, const char *value);
void http_resp_headerf(struct http_resp *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sends the head with Content-Length, Date, Connection and the request-id headers added; the body follows with
 * http_send_body(). For HEAD requests no body goes out. */
int http_send_head(struct http_conn *c, struct http_resp *r, int64_t content_length);
ssize_t http_send_body(struct http_conn *c, const void *buf, size_t len);
/* Head and the first `len` bytes of a body of content_length bytes, in one send. */
int http_respond_partial(struct http_conn *c, struct http_resp *r, int64_t content_length, const void *body,
                         size_t len);
/* For a sink that sends its head only once the body comes (s->conn set): does http_body_sink_init() and sends
 * the head with the body's first len bytes in one send, which for a small body is the whole response in one
 * segment. Returns len or -errno. */
ssize_t http_body_sink_start_with(struct http_body_sink *s, struct http_resp *r, int64_t content_length,
                                  const void *buf, size_t len);
/* Head and whole body in one go. */
int http_respond(struct http_conn *c, struct http_resp *r, const void *body, size_t len);
/* A plain-text response in one go. */
int http_respond_text(struct http_conn *c, int status, const char *text);
/* Asks for the connection to close after this response (sent as Connection: close). */
void http_conn_set_close(struct http_conn *c);

#endif
