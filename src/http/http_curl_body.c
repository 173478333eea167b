/* Bodies across the callback boundary. libcurl's write callback copies response bytes into a bounded ring and
 * pauses the transfer when the ring cannot take a delivery; the coroutine drains the ring to its caller and lets
 * libcurl go on. The read callback hands libcurl request bytes the coroutine put in the other ring, and pauses
 * the transfer while that one is empty (http_curl.c refills it). */
#include <errno.h>
#include <stdlib.h>

#include "http/http_curl_internal.h"

size_t http_curl_on_body(char *p, size_t size, size_t n, void *arg)
{
    struct http_curl_xfer *x = arg;
    struct http_curl_ring *r = &x->in;
    size_t len = size * n;
    if (len > ring_free(r)) {
        if (r->len) {
            /* libcurl keeps this delivery and offers it again once resumed. */
            x->recv_paused = true;
            http_curl_wake(x);
            return CURL_WRITEFUNC_PAUSE;
        }
        /* Empty, so nothing of it is lent out: it may move. Sized to the body when that is small, and grown
         * past HTTP_CURL_BODY_BUF only for a delivery larger than that, which libcurl bounds itself. */
        size_t cap = x->ex->content_length > 0 && x->ex->content_length < HTTP_CURL_BODY_BUF
                         ? (size_t)x->ex->content_length
                         : HTTP_CURL_BODY_BUF;
        cap = cap < len ? len : cap;
        char *np = realloc(r->p, cap);
        if (!np) {
            x->err = -ENOMEM;
            http_curl_wake(x);
            return 0;
        }
        *r = (struct http_curl_ring){.p = np, .cap = cap};
    }
    ring_put(r, p, len);
    http_curl_wake(x);
    return len;
}

size_t http_curl_on_send(char *p, size_t size, size_t n, void *arg)
{
    struct http_curl_xfer *x = arg;
    x->send_wanted = true;
    if (!x->out.len) {
        if (!x->src_left)
            return 0; /* all of it went (libcurl stops asking at Content-Length anyway) */
        x->send_paused = true;
        http_curl_wake(x);
        return CURL_READFUNC_PAUSE;
    }
    size_t got = ring_get(&x->out, p, size * n);
    http_curl_wake(x); /* room to refill */
    return got;
}

void http_curl_recv_resume(struct http_curl_xfer *x)
{
    /* Half the ring free: any single delivery of libcurl's (16 KiB by default) fits. */
    if (!x->recv_paused || !x->in_multi || (x->in.len && ring_free(&x->in) < x->in.cap / 2))
        return;
    x->recv_paused = false;
    /* May deliver what libcurl held right here, through the write callback (which may pause again). */
    curl_easy_pause(x->easy, x->send_paused ? CURLPAUSE_SEND : CURLPAUSE_CONT);
}

static bool body_ready(const struct http_curl_xfer *x) { return x->in.len > 0; }

/* Waits for body bytes: >0 when some are in x->in, 0 at the body's end, or -errno. */
static int body_wait(struct http_curl_xfer *x, int64_t deadline)
{
    int err = http_curl_wait(x, body_ready, deadline);
    if (err < 0)
        return err;
    return x->in.len ? 1 : http_curl_result(x);
}

ssize_t http_curl_body_read(struct http_curl_exchange *ex, void *buf, size_t len)
{
    struct http_curl_xfer *x = ex->x;
    if (!x || len == 0)
        return 0;
    int err = body_wait(x, x->deadline);
    if (err <= 0)
        return err;
    size_t n = ring_get(&x->in, buf, len);
    http_curl_recv_resume(x);
    return (ssize_t)n;
}

static int64_t deadline_min(int64_t a, int64_t b) { return !a || (b && b < a) ? b : a; }

int http_curl_body_to_sink(struct http_curl_exchange *ex, struct body_sink *sink)
{
    struct http_curl_xfer *x = ex->x;
    if (!x)
        return -EINVAL;
    /* The sink may have a head to send first. */
    int err = ex->content_length != 0 ? body_sink_start(sink) : 0;
    while (err == 0) {
        err = body_wait(x, deadline_min(x->deadline, coro_deadline_in(sink->deadline_step)));
        if (err <= 0)
            break;
        /* Written from the ring itself: the write callback only fills the free part meanwhile. */
        char *at;
        size_t n = ring_data_span(&x->in, &at);
        ssize_t w = sink->write(sink, at, n);
        if (w < 0)
            return (int)w;
        ring_consume(&x->in, n);
        http_curl_recv_resume(x);
        err = 0;
    }
    return err;
}

int http_curl_body_discard(struct http_curl_exchange *ex, size_t limit)
{
    struct http_curl_xfer *x = ex->x;
    /* A known length over the limit is not worth the wait: done() aborts it, closing the connection. */
    if (!x || (ex->content_length >= 0 && (uint64_t)ex->content_length > limit))
        return 0;
    size_t seen = 0;
    while (seen <= limit) {
        int err = body_wait(x, x->deadline);
        if (err <= 0)
            return err;
        seen += x->in.len;
        ring_consume(&x->in, x->in.len);
        http_curl_recv_resume(x);
    }
    return 0;
}
