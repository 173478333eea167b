/* One exchange: a connection from the pool or a new one, the request head and body, the response head; and the
 * end of the exchange, which hands the connection back or closes it. The body readers are in http_client_body.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/coro.h"
#include "http/http_client_internal.h"
#include "http/http_parser.h"

enum { BODY_CHUNK = 64 * 1024 }; /* bytes of a request body read from a source that cannot splice, per send */

struct head_out {
    char *p;
    size_t n, cap;
};

static void put(struct head_out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->n + n > o->cap) {
        o->n = o->cap + 1; /* sticks: the head does not fit */
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static bool all_of(const char *s, bool (*ok)(unsigned char))
{
    for (; *s; s++)
        if (!ok((unsigned char)*s))
            return false;
    return true;
}

/* What a request target may hold without ending the request line early. */
static bool target_char(unsigned char c) { return c > ' ' && c != 0x7f; }

/* "METHOD target HTTP/1.1", Host, the caller's fields, Content-Length: into ex->head, which is free until the
 * response comes. Returns the head's length, -EINVAL, -E2BIG. */
static ssize_t head_build(struct http_client_exchange *ex, const struct http_client_request *req)
{
    struct head_out o = {ex->head, 0, sizeof(ex->head)};
    if (!*req->method || !all_of(req->method, http_is_tchar) || !*req->target || !all_of(req->target, target_char))
        return -EINVAL;
    put(&o, req->method);
    put(&o, " ");
    put(&o, req->target);
    put(&o, " HTTP/1.1\r\nHost: ");
    put(&o, ex->ep->host);
    put(&o, "\r\n");
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct http_client_header *h = &req->headers[i];
        /* A CR or LF in a value would let it add fields of its own. */
        if (!*h->name || !all_of(h->name, http_is_tchar) || !all_of(h->value, http_is_field_char))
            return -EINVAL;
        put(&o, h->name);
        put(&o, ": ");
        put(&o, h->value);
        put(&o, "\r\n");
    }
    if (req->content_length >= 0) {
        char cl[48];
        snprintf(cl, sizeof(cl), "Content-Length: %" PRId64 "\r\n", req->content_length);
        put(&o, cl);
    }
    put(&o, "\r\n");
    return o.n > o.cap ? -E2BIG : (ssize_t)o.n;
}

/* Sends every byte of iov[0..cnt), which it consumes. A server that went away is -ECONNRESET: -EPIPE is what a
 * body source says when it runs short, and the two call for different answers. */
static int send_vec(int fd, struct iovec *iov, int cnt, int64_t deadline)
{
    while (cnt > 0) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = coro_sendmsg(fd, &m, MSG_NOSIGNAL, deadline);
        if (n <= 0)
            return n == 0 || n == -EPIPE ? -ECONNRESET : (int)n;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* A source that can splice moves the body into the socket itself: client socket → pipe → this socket. */
static int body_splice(struct http_client_exchange *ex, struct body_source *src, int64_t left)
{
    while (left > 0) {
        ssize_t n = src->splice(src, ex->conn->fd, (size_t)left);
        if (n <= 0)
            return n < 0 ? (int)n : -EPIPE;
        left -= n;
    }
    return 0;
}

/* A source checks its signature and checksums when it reaches its end: it must say so (read returns 0) before
 * the last bytes go out, or a body that fails its checks would still be stored whole on the server. A source
 * longer than promised fails too. */
static int body_end_check(struct body_source *src)
{
    char extra;
    ssize_t n = src->read(src, &extra, 1);
    return n < 0 ? (int)n : (n > 0 ? -EMSGSIZE : 0);
}

/* The first body bytes go out with the head, in one segment when the body is small. */
static int body_copy(struct http_client_exchange *ex, struct body_source *src, int64_t left, size_t head_len)
{
    size_t cap = left < BODY_CHUNK ? (size_t)left : BODY_CHUNK;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    struct iovec iov[2] = {{ex->head, head_len}, {buf, 0}};
    struct iovec *first = &iov[0];
    int err = 0;
    while (left > 0) {
        ssize_t n = src->read(src, buf, left < (int64_t)cap ? (size_t)left : cap);
        if (n <= 0) {
            err = n < 0 ? (int)n : -EPIPE;
            break;
        }
        if (n == left && (err = body_end_check(src)) < 0)
            break;
        iov[1] = (struct iovec){buf, (size_t)n};
        err = send_vec(ex->conn->fd, first, (int)(&iov[2] - first), ex->deadline);
        if (err < 0)
            break;
        first = &iov[1];
        left -= n;
    }
    free(buf);
    return err;
}

/* Whether the whole body already sits in the source's memory: it then goes out with the head in one send, where a
 * splice would only add a send (and a segment) of its own. */
static bool body_in_memory(struct body_source *src, int64_t len)
{
    return src->buffered && len <= BODY_CHUNK && (int64_t)src->buffered(src) >= len;
}

/* *body_started: bytes of the body were taken from its source, so the request cannot be sent again. */
static int request_send(struct http_client_exchange *ex, const struct http_client_request *req, size_t head_len,
                        bool *body_started)
{
    struct iovec head = {ex->head, head_len};
    if (req->content_length <= 0)
        return send_vec(ex->conn->fd, &head, 1, ex->deadline);
    *body_started = true;
    if (!req->body->splice || body_in_memory(req->body, req->content_length))
        return body_copy(ex, req->body, req->content_length, head_len);
    int err = send_vec(ex->conn->fd, &head, 1, ex->deadline);
    return err < 0 ? err : body_splice(ex, req->body, req->content_length);
}

/* Whether a failed exchange may go again on a new connection: the connection came from the pool (a server may
 * have closed it just as we sent), nothing came back, and sending the request twice is harmless. */
static bool may_retry(const struct http_client_request *req, int err, bool reused, bool answered,
                      bool body_started)
{
    return reused && !answered && !body_started && req->idempotent && (err == -ECONNRESET || err == -EPIPE);
}

int http_client_request(const struct http_endpoint *ep, const struct http_client_request *req,
                        struct http_client_exchange *ex, int64_t deadline)
{
    ex->conn = NULL;
    ex->ep = ep;
    ex->deadline = deadline;
    ex->nheaders = 0;
    ex->body_done = ex->reusable = false;
    ex->rpos = ex->rlen = 0;
    if (req->content_length > 0 && !req->body)
        return -EINVAL;
    bool body_started = false, retried = false;
    for (;;) {
        /* Built first, so a request that cannot be sent takes no connection; built again for a retry, since the
         * response overwrites it. */
        ssize_t head_len = head_build(ex, req);
        if (head_len < 0)
            return (int)head_len;
        struct http_client_conn *conn = retried ? NULL : http_client_pool_take(ep);
        bool reused = conn != NULL, answered = false;
        int err = reused ? 0 : http_client_connect(ep, deadline, &conn);
        if (err < 0)
            return err;
        ex->conn = conn;
        err = request_send(ex, req, (size_t)head_len, &body_started);
        if (err == 0)
            err = http_client_head_read(ex, req->head, &answered);
        if (err == 0)
            return 0;
        http_client_conn_close(conn);
        ex->conn = NULL;
        if (!may_retry(req, err, reused, answered, body_started))
            return err;
        retried = true;
    }
}

const char *http_client_header(const struct http_client_exchange *ex, const char *name)
{
    for (size_t i = 0; i < ex->nheaders; i++)
        if (strcasecmp(ex->headers[i].name, name) == 0)
            return ex->headers[i].value;
    return NULL;
}

void http_client_done(struct http_client_exchange *ex)
{
    if (!ex->conn)
        return;
    /* Bytes past the body were never asked for: the server is not speaking HTTP as we understand it. */
    if (ex->body_done && ex->reusable && ex->rpos == ex->rlen)
        http_client_pool_put(ex->ep, ex->conn);
    else
        http_client_conn_close(ex->conn);
    ex->conn = NULL;
}
