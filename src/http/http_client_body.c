/* Reading a response body: Content-Length, chunked or to the close; bytes that came in with the head first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "http/http_client_internal.h"
#include "util/splice_move.h"

enum {
    SINK_CHUNK = 64 * 1024, /* bytes per write into a sink that cannot take a splice */
    DISCARD_CHUNK = 4096,
};

static int64_t step_deadline(const struct http_client_exchange *ex, int64_t step_ns)
{
    return http_client_deadline_min(ex->deadline, coro_deadline_in(step_ns));
}

/* A Content-Length body, or one that runs to the close (body_left -1). */
static ssize_t read_plain(struct http_client_exchange *ex, char *buf, size_t len, int64_t deadline)
{
    if (ex->body_left >= 0 && (uint64_t)ex->body_left < len)
        len = (size_t)ex->body_left;
    size_t avail = ex->rlen - ex->rpos;
    ssize_t n;
    if (avail) {
        n = (ssize_t)(avail < len ? avail : len);
        memcpy(buf, ex->head + ex->rpos, (size_t)n);
        ex->rpos += (size_t)n;
    } else {
        n = coro_recv(ex->conn->fd, buf, len, 0, deadline);
        if (n < 0)
            return n;
        if (n == 0) {
            if (ex->body_left >= 0)
                return -ECONNRESET;
            ex->body_done = true;
            return 0;
        }
    }
    if (ex->body_left >= 0) {
        ex->body_left -= n;
        ex->body_done = ex->body_left == 0;
    }
    return n;
}

/* Decodes chunked framing from in[0..avail) and copies the payload found to out (which may be in itself: payload
 * never moves forward). Returns the bytes of in consumed, or -EPROTO; *got is the payload copied. */
static ssize_t dechunk(struct http_chunked *c, const char *in, size_t avail, char *out, size_t outlen, size_t *got)
{
    size_t i = 0;
    *got = 0;
    while (i < avail && *got < outlen && !http_chunked_done(c)) {
        uint64_t left = http_chunked_data_left(c);
        if (left) {
            size_t n = avail - i < outlen - *got ? avail - i : outlen - *got;
            n = n < left ? n : (size_t)left;
            memmove(out + *got, in + i, n);
            http_chunked_skip(c, n);
            i += n;
            *got += n;
            continue;
        }
        /* Framing one byte at a time, so the decoder never runs into payload that out has no room for. */
        const char *data;
        size_t data_len;
        if (http_chunked_feed(c, NULL, in + i, 1, &data, &data_len) < 0)
            return *got ? (ssize_t)i : -EPROTO; /* the payload before the error first; the error sticks */
        i++;
    }
    return (ssize_t)i;
}

static ssize_t read_chunked(struct http_client_exchange *ex, char *buf, size_t len, int64_t deadline)
{
    while (!http_chunked_done(&ex->dechunk)) {
        if (ex->dechunk.state == HTTP_CHUNKED_ERROR)
            return -EPROTO;
        size_t got;
        ssize_t used;
        if (ex->rpos < ex->rlen) {
            used = dechunk(&ex->dechunk, ex->head + ex->rpos, ex->rlen - ex->rpos, buf, len, &got);
            if (used < 0)
                return used;
            ex->rpos += (size_t)used;
        } else {
            /* Received straight into the caller's buffer and decoded in place. */
            ssize_t n = coro_recv(ex->conn->fd, buf, len, 0, deadline);
            if (n <= 0)
                return n < 0 ? n : -ECONNRESET;
            used = dechunk(&ex->dechunk, buf, (size_t)n, buf, len, &got);
            if (used < 0)
                return used;
            if (used < n)
                ex->reusable = false; /* bytes after the body's end */
        }
        /* Done as soon as the last chunk is in, so a caller that stops at the payload's end keeps the connection. */
        ex->body_done = http_chunked_done(&ex->dechunk);
        if (got || ex->body_done)
            return (ssize_t)got;
    }
    ex->body_done = true;
    return 0;
}

static ssize_t body_read(struct http_client_exchange *ex, void *buf, size_t len, int64_t deadline)
{
    if (ex->body_done || len == 0)
        return 0;
    ssize_t n = ex->chunked ? read_chunked(ex, buf, len, deadline) : read_plain(ex, buf, len, deadline);
    if (n < 0)
        ex->reusable = false;
    return n;
}

ssize_t http_client_body_read(struct http_client_exchange *ex, void *buf, size_t len)
{
    return body_read(ex, buf, len, ex->deadline);
}

struct sink_splice {
    struct http_client_exchange *ex;
    struct body_sink *sink;
};

static void sink_spliced(void *arg, size_t n)
{
    struct sink_splice *s = arg;
    s->ex->body_left -= (int64_t)n;
    if (s->sink->spliced)
        s->sink->spliced(s->sink, n);
}

/* socket → pipe → sink, after the bytes that came with the head, which only a write can deliver. */
static int to_sink_splice(struct http_client_exchange *ex, struct body_sink *sink)
{
    size_t avail = ex->rlen - ex->rpos;
    if ((uint64_t)ex->body_left < avail)
        avail = (size_t)ex->body_left;
    if (avail) {
        ssize_t w = sink->write(sink, ex->head + ex->rpos, avail);
        if (w < 0)
            return (int)w;
        ex->rpos += avail;
        ex->body_left -= (int64_t)avail;
    }
    struct sink_splice s = {ex, sink};
    struct splice_move how = {
        .deadline = ex->deadline, .step_ns = sink->deadline_step, .moved = sink_spliced, .arg = &s};
    ssize_t n = splice_move(ex->conn->fd, sink->splice_fd, (size_t)ex->body_left, &how);
    if (n < 0)
        return (int)n;
    if (ex->body_left)
        return -ECONNRESET;
    ex->body_done = true;
    return 0;
}

static int to_sink_copy(struct http_client_exchange *ex, struct body_sink *sink)
{
    char *buf = malloc(SINK_CHUNK);
    if (!buf)
        return -ENOMEM;
    ssize_t n;
    while ((n = body_read(ex, buf, SINK_CHUNK, step_deadline(ex, sink->deadline_step))) > 0) {
        ssize_t w = sink->write(sink, buf, (size_t)n);
        if (w < 0) {
            n = w;
            break;
        }
    }
    free(buf);
    return (int)n;
}

/* Whether the rest of a Content-Length body fits behind the response head in ex->head. */
static bool body_fits_head(const struct http_client_exchange *ex)
{
    return !ex->chunked && ex->body_left > 0 && (uint64_t)ex->body_left <= sizeof(ex->head) - ex->rpos;
}

/* A small body is received whole into ex->head, behind the response head, and handed to the sink in one write:
 * a splice runs in one of the ring's kernel worker threads, so socket → pipe → socket costs two hand-offs to
 * another thread, more than copying a few KiB. With the whole body in hand the sink may also skip its start and
 * send its own head with these bytes, in one segment; and should the backend fail mid-body, nothing has gone to
 * the client yet, which can still get a clean error. */
static int to_sink_small(struct http_client_exchange *ex, struct body_sink *sink)
{
    size_t end = ex->rpos + (size_t)ex->body_left;
    while (ex->rlen < end) {
        ssize_t n = coro_recv(ex->conn->fd, ex->head + ex->rlen, end - ex->rlen, 0,
                              step_deadline(ex, sink->deadline_step));
        if (n <= 0)
            return n < 0 ? (int)n : -ECONNRESET;
        ex->rlen += (size_t)n;
    }
    ssize_t w = sink->write(sink, ex->head + ex->rpos, end - ex->rpos);
    if (w < 0)
        return (int)w;
    ex->rpos = end;
    ex->body_left = 0;
    ex->body_done = true;
    return 0;
}

int http_client_body_to_sink(struct http_client_exchange *ex, struct body_sink *sink)
{
    if (body_fits_head(ex)) {
        int err = to_sink_small(ex, sink);
        if (err < 0)
            ex->reusable = false;
        return err;
    }
    /* The sink may have a head to send first; it may also only then know its splice_fd. */
    int err = ex->body_left != 0 ? body_sink_start(sink) : 0;
    if (err < 0) {
        ex->reusable = false;
        return err;
    }
    /* A chunked body's framing must be read, and a body to the close has no length for a splice to count to. */
    bool splice = sink->splice_fd >= 0 && !ex->chunked && ex->body_left > 0;
    err = splice ? to_sink_splice(ex, sink) : to_sink_copy(ex, sink);
    if (err < 0)
        ex->reusable = false;
    return err;
}

int http_client_body_discard(struct http_client_exchange *ex, size_t limit)
{
    /* Reading a body to the close keeps nothing; a known length over the limit is not worth the wait. */
    if (!ex->chunked && (ex->body_left < 0 || (uint64_t)ex->body_left > limit)) {
        ex->reusable = false;
        return 0;
    }
    char buf[DISCARD_CHUNK];
    size_t seen = 0;
    while (!ex->body_done) {
        if (seen > limit) {
            ex->reusable = false;
            return 0;
        }
        ssize_t n = body_read(ex, buf, sizeof(buf), ex->deadline);
        if (n < 0)
            return (int)n;
        seen += (size_t)n;
    }
    return 0;
}
