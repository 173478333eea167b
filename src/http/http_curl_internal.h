/* Shared by the http_curl*.c files; not part of the transport's contract (http_curl.h). */
#ifndef S3ORCH_HTTP_CURL_INTERNAL_H
#define S3ORCH_HTTP_CURL_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <string.h>

#include "coro/coro.h"
#include "http/http_curl.h"

enum {
    HTTP_CURL_BODY_BUF = 256 * 1024, /* bytes of a body buffered between libcurl and the coroutine, each way */
};

/* A byte ring. Bytes in [head, head+len) (mod cap) are taken; a writer only fills the free part, so a reader may
 * hand a pointer into the taken part to a call that yields while the other side keeps filling. */
struct http_curl_ring {
    char *p;
    size_t cap, head, len;
};

static inline size_t ring_free(const struct http_curl_ring *r) { return r->cap - r->len; }

/* The taken bytes that follow head without wrapping. */
static inline size_t ring_data_span(const struct http_curl_ring *r, char **at)
{
    *at = r->p + r->head;
    return r->len < r->cap - r->head ? r->len : r->cap - r->head;
}

/* The free bytes after the taken ones, without wrapping. */
static inline size_t ring_free_span(const struct http_curl_ring *r, char **at)
{
    size_t tail = (r->head + r->len) % (r->cap ? r->cap : 1);
    *at = r->p + tail;
    size_t to_end = r->cap - tail;
    return ring_free(r) < to_end ? ring_free(r) : to_end;
}

/* Consuming moves head only, never the tail: a fill in progress at the tail stays where it was. */
static inline void ring_consume(struct http_curl_ring *r, size_t n)
{
    r->len -= n;
    r->head = (r->head + n) % r->cap;
}

/* n bytes were written at ring_free_span's pointer. */
static inline void ring_commit(struct http_curl_ring *r, size_t n) { r->len += n; }

/* n <= ring_free(r). */
static inline void ring_put(struct http_curl_ring *r, const char *src, size_t n)
{
    while (n) {
        char *at;
        size_t k = ring_free_span(r, &at);
        k = k < n ? k : n;
        memcpy(at, src, k);
        ring_commit(r, k);
        src += k;
        n -= k;
    }
}

static inline size_t ring_get(struct http_curl_ring *r, char *dst, size_t n)
{
    size_t got = 0;
    while (got < n && r->len) {
        char *at;
        size_t k = ring_data_span(r, &at);
        k = k < n - got ? k : n - got;
        memcpy(dst + got, at, k);
        ring_consume(r, k);
        got += k;
    }
    return got;
}

/* One exchange's state, shared between the requesting coroutine and libcurl's callbacks. */
struct http_curl_xfer {
    struct http_curl_exchange *ex;
    CURL *easy;
    struct curl_slist *headers;
    struct coro_waitq wq; /* the requesting coroutine, while it waits for the callbacks */
    int64_t deadline;
    /* The request body: read from src by the coroutine into out, taken from out by the read callback. */
    struct body_source *src;
    int64_t src_left;
    struct http_curl_ring out;
    bool send_wanted, send_paused;
    /* The response: the head by the header callback into ex, the body by the write callback into in. */
    size_t head_bytes;
    bool got_status, head_done;
    struct http_curl_ring in;
    bool recv_paused;
    bool in_multi, finished;
    CURLcode result; /* once finished */
    int err;         /* set when a callback or the coroutine failed the transfer itself (-E2BIG, -EPROTO…) */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's words for a failure */
};

/* http_curl_multi.c: the calling thread's CURLM, made on first use; NULL when libcurl cannot make one. */
CURLM *http_curl_multi(void);
/* Adds x's easy handle to the thread's CURLM; its socket and timer coroutines run while any transfer is in. */
int http_curl_attach(struct http_curl_xfer *x);
/* Takes it out again: a transfer that had not finished is aborted. */
void http_curl_detach(struct http_curl_xfer *x);
/* An easy handle: a spare one of the thread's (reset when put back), or a new one. NULL when out of memory. */
CURL *http_curl_easy_get(void);
void http_curl_easy_put(CURL *easy);
/* Wakes x's coroutine (callbacks call it: it does not yield). */
static inline void http_curl_wake(struct http_curl_xfer *x) { coro_waitq_wake_all(&x->wq); }

/* http_curl_head.c: libcurl's CURLOPT_HEADERFUNCTION, userdata the xfer. */
size_t http_curl_on_header(char *p, size_t size, size_t n, void *arg);

/* http_curl_body.c: libcurl's CURLOPT_WRITEFUNCTION and CURLOPT_READFUNCTION, userdata the xfer. */
size_t http_curl_on_body(char *p, size_t size, size_t n, void *arg);
size_t http_curl_on_send(char *p, size_t size, size_t n, void *arg);

/* http_curl.c: waits until ready(x), the transfer finished or failed, or the deadline, feeding the request body
 * to libcurl meanwhile. 0 (then check which), -ETIMEDOUT, -ECANCELED, x->err. */
int http_curl_wait(struct http_curl_xfer *x, bool (*ready)(const struct http_curl_xfer *x), int64_t deadline);
/* What a finished transfer ended with: 0, or its error as -errno. */
int http_curl_result(const struct http_curl_xfer *x);
/* Lets libcurl go on receiving once the coroutine made room in x->in. */
void http_curl_recv_resume(struct http_curl_xfer *x);

#endif
