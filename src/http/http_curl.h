/* An HTTP/1.1 client on libcurl's multi interface, driven by the ring: the transport for S3 backends over
 * https:// (libcurl does the TLS). It has http_client.h's shape and takes its request and header types:
 * http_curl_request() sends the request and waits for the response head; the caller reads the body
 * (http_curl_body_read, http_curl_body_to_sink, http_curl_body_discard) and ends with http_curl_done(). Every
 * call yields, never blocks the thread, and fails with -ETIMEDOUT past the exchange's deadline; errors are -errno
 * and a response with any status is a success at this level.
 *
 * Each ring thread has one CURLM, made on first use; its connection cache keeps connections alive between
 * exchanges. libcurl's callbacks run inside curl_multi_socket_action() where nothing may yield, so bodies cross
 * between them and the requesting coroutine through bounded buffers: an exchange's memory does not grow with
 * its body. */
#ifndef S3ORCH_HTTP_CURL_H
#define S3ORCH_HTTP_CURL_H

#include <stdint.h>
#include <sys/types.h>

#include "http/http_client.h"

struct curl_slist;

/* Where requests go; made at start-up, then only read (by every ring thread). */
struct http_curl_endpoint {
    char base[320];              /* "scheme://host[:port]", which request targets are appended to */
    char host[300];              /* the Host header sent (and so the one to sign): the port only when not the
                                    scheme's default */
    char *ca_file;               /* CA certificates to verify the server with, in place of libcurl's default
                                    bundle; NULL: that bundle */
    struct curl_slist *resolve;  /* "host:port:address": libcurl connects where start-up resolved, no lookup */
    int64_t connect_ns;          /* connect (and TLS handshake) timeout; 0 = 5 s */
};

/* Prepares ep for scheme ("http" or "https") host and port: resolves host with getaddrinfo (blocking: call at
 * start-up, not on a ring thread) and initialises libcurl once for the process. host is a name or an IPv4
 * literal. -EINVAL, -ENOENT (does not resolve), -ENOMEM, -EIO (libcurl would not initialise). */
int http_curl_endpoint_init(struct http_curl_endpoint *ep, const char *scheme, const char *host, const char *port,
                            const char *ca_file);
void http_curl_endpoint_free(struct http_curl_endpoint *ep);

struct http_curl_xfer;

/* One exchange in progress. The fields above `internal` are as in http_client_exchange. */
struct http_curl_exchange {
    int status;
    struct http_client_header headers[HTTP_CLIENT_HEADERS_MAX]; /* NUL-terminated slices of head */
    size_t nheaders;
    int64_t content_length; /* -1 when the body is chunked or runs to the close; for HEAD, what the header says */
    /* internal */
    struct http_curl_xfer *x;
    char head[HTTP_CLIENT_HEAD_MAX];
};

/* Sends req (its body read from req->body with read(), never spliced) and waits for the response head. On
 * failure nothing is left open. -ECONNREFUSED and friends, -ETIMEDOUT, -ECONNRESET (closed before answering),
 * -EPROTO (a malformed response, or a TLS failure: a certificate that does not verify), -E2BIG (a response head
 * over HTTP_CLIENT_HEAD_MAX or HTTP_CLIENT_HEADERS_MAX), -EINVAL (a method, target or header that would break
 * the request head), -EPIPE (the body source ended short), -EMSGSIZE (it ran long), the body source's error.
 * req->idempotent is libcurl's call: it retries a request without a body on a reused connection found dead. */
int http_curl_request(const struct http_curl_endpoint *ep, const struct http_client_request *req,
                      struct http_curl_exchange *ex, int64_t deadline);
/* The value of a response header (case-insensitive name), or NULL. */
const char *http_curl_header(const struct http_curl_exchange *ex, const char *name);
/* Up to len bytes of the response body; 0 at its end; -ECONNRESET when it ends short. */
ssize_t http_curl_body_read(struct http_curl_exchange *ex, void *buf, size_t len);
/* The whole (rest of the) body into sink, by sink->write (never spliced). */
int http_curl_body_to_sink(struct http_curl_exchange *ex, struct body_sink *sink);
/* Reads and drops the rest of a small body (at most limit bytes; more closes the connection instead). */
int http_curl_body_discard(struct http_curl_exchange *ex, size_t limit);
/* Ends the exchange: a finished transfer leaves its connection in libcurl's cache, an unfinished one is
 * aborted and its connection closed. Safe to call after any failure, and twice. */
void http_curl_done(struct http_curl_exchange *ex);

/* Frees the calling thread's CURLM, its connections and spare handles. Ring threads need not call it (it runs
 * at thread exit); tests do, on a thread that goes on. No exchange of the thread may be open. */
void http_curl_thread_exit(void);

#endif
