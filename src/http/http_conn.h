/* A client connection; private to src/http/. It lives on its coroutine's stack for the connection's lifetime. */
#ifndef S3ORCH_HTTP_CONN_H
#define S3ORCH_HTTP_CONN_H

#include "http/http_server.h"

/* Room for the largest head the limits allow plus a window for body framing behind it. */
#define HTTP_CONN_BUF (40 * 1024)
#define HTTP_MAX_HEAD_LIMIT (32 * 1024)

/* Body bytes a finished request may leave unread and still keep its connection: they are read and dropped. */
#define HTTP_DRAIN_LIMIT (1024 * 1024)

struct http_conn {
    struct http_server *srv;
    struct coro *co;
    int fd;
    struct http_conn *prev, *next;

    /* Input: buf[0..len) received; the head sits at [0..body_base) while its request runs (the request's
     * slices point into it); unconsumed body bytes are [pos..len). */
    char *buf;
    size_t cap, len, pos, body_base;

    bool idle;        /* waiting for the first byte of a request: a drain may close it at once */
    bool close_after; /* send Connection: close and stop after this response */
    bool is_head;     /* HEAD: the response has no body */

    /* Request body. */
    bool body_chunked, body_done, continue_pending;
    bool continue_empty; /* Expect: 100-continue on a request without a body: 100 goes out before the head */
    int64_t body_left; /* Content-Length bytes not yet read */
    int64_t body_length;
    int64_t body_taken; /* body bytes handed out (read or spliced) */
    int body_err; /* the first error reading the body, if any */
    struct http_chunked chunked;

    /* Response. */
    bool head_sent;
    int64_t resp_left; /* body bytes promised by Content-Length and not yet sent */
    int status;

    char request_id[17];
};

/* http_conn.c: the request body and the response, for one request at a time. */
void http_conn_begin_request(struct http_conn *c, struct http_request *req);
/* Reads and discards what is left of the body, up to `limit` bytes; false if the connection cannot be reused. */
bool http_conn_finish_request(struct http_conn *c, size_t limit);

#endif
