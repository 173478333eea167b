/* One request on a connection: reading its body (Content-Length or chunked, with 100-continue) and writing its
 * response. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_conn.h"
#include "util/body_stats.h"
#include "util/splice_move.h"

const char *http_request_id(const struct http_conn *c) { return c->request_id; }

struct http_server *http_conn_server(const struct http_conn *c) { return c->srv; }

int64_t http_body_length(const struct http_conn *c) { return c->body_length; }

void http_conn_set_close(struct http_conn *c) { c->close_after = true; }

static int64_t io_deadline(const struct http_conn *c) { return coro_deadline_in(c->srv->shared->cfg.idle_timeout); }

static void request_id_make(struct http_conn *c)
{
    /* Unique per process run: a random salt from start-up, the thread, and a per-thread sequence number. */
    struct http_server *srv = c->srv;
    uint64_t id = (srv->shared->id_salt << 48) ^ ((uint64_t)srv->thread_index << 40) ^ ++srv->request_seq;
    snprintf(c->request_id, sizeof(c->request_id), "%016" PRIX64, id);
}

void http_conn_begin_request(struct http_conn *c, struct http_request *req)
{
    c->pos = c->body_base = req->head_len;
    c->body_chunked = req->chunked;
    c->body_left = req->chunked ? 0 : (req->content_length > 0 ? req->content_length : 0);
    c->body_length = req->chunked ? -1 : c->body_left;
    c->body_taken = 0;
    c->body_done = !req->chunked && c->body_left == 0;
    c->body_err = 0;
    c->continue_pending = req->expect_continue && !c->body_done;
    c->continue_empty = req->expect_continue && c->body_done;
    if (req->chunked)
        http_chunked_init(&c->chunked);
    c->close_after = !req->keep_alive || c->srv->draining;
    c->is_head = req->method == HTTP_HEAD;
    c->head_sent = false;
    c->resp_left = 0;
    c->status = 0;
    request_id_make(c);
}

static ssize_t send_all_to(int fd, const void *buf, size_t len, int64_t deadline)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = coro_send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL, deadline);
        if (n <= 0)
            return n < 0 ? n : -ECONNRESET;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static ssize_t send_all(struct http_conn *c, const void *buf, size_t len)
{
    return send_all_to(c->fd, buf, len, io_deadline(c));
}

static int send_continue(struct http_conn *c)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->continue_pending = false;
    ssize_t n = send_all(c, line, sizeof(line) - 1);
    return n < 0 ? (int)n : 0;
}

/* Makes room behind body_base for more input, then receives into it. */
static ssize_t conn_fill(struct http_conn *c)
{
    if (c->pos == c->len) {
        c->pos = c->len = c->body_base;
    } else if (c->len == c->cap) {
        memmove(c->buf + c->body_base, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos - c->body_base;
        c->pos = c->body_base;
    }
    ssize_t n = coro_recv(c->fd, c->buf + c->len, c->cap - c->len, 0, io_deadline(c));
    if (n == 0)
        return -ECONNRESET;
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static ssize_t body_read_length(struct http_conn *c, char *buf, size_t len)
{
    size_t want = len < (uint64_t)c->body_left ? len : (size_t)c->body_left;
    size_t avail = c->len - c->pos;
    ssize_t n;
    if (avail) {
        n = (ssize_t)(avail < want ? avail : want);
        memcpy(buf, c->buf + c->pos, (size_t)n);
        c->pos += (size_t)n;
    } else {
        /* Nothing buffered: receive straight into the caller's buffer. */
        n = coro_recv(c->fd, buf, want, 0, io_deadline(c));
        if (n == 0)
            n = -ECONNRESET;
        if (n < 0)
            return n;
    }
    c->body_left -= n;
    c->body_taken += n;
    c->body_done = c->body_left == 0;
    return n;
}

static ssize_t body_read_chunked(struct http_conn *c, char *buf, size_t len)
{
    for (;;) {
        size_t avail = c->len - c->pos;
        if (avail) {
            uint64_t left = http_chunked_data_left(&c->chunked);
            if (left) {
                size_t n = avail < len ? avail : len;
                n = n < left ? n : (size_t)left;
                memcpy(buf, c->buf + c->pos, n);
                http_chunked_skip(&c->chunked, n);
                c->pos += n;
                return (ssize_t)n;
            }
            /* Feeding at most len bytes bounds the payload that comes back to what fits in buf. */
            const char *data;
            size_t data_len;
            ssize_t r = http_chunked_feed(&c->chunked, NULL, c->buf + c->pos, avail < len ? avail : len, &data,
                                          &data_len);
            if (r < 0)
                return -EPROTO;
            c->pos += (size_t)r;
            if (data_len) {
                memmove(buf, data, data_len);
                return (ssize_t)data_len;
            }
            if (http_chunked_done(&c->chunked)) {
                c->body_done = true;
                return 0;
            }
            if (r > 0)
                continue;
        }
        ssize_t n = conn_fill(c);
        if (n < 0)
            return n;
    }
}

ssize_t http_body_read(struct http_conn *c, void *buf, size_t len)
{
    if (c->body_done || len == 0)
        return 0;
    if (c->continue_pending) {
        int err = send_continue(c);
        if (err < 0)
            return err;
    }
    ssize_t n = c->body_chunked ? body_read_chunked(c, buf, len) : body_read_length(c, buf, len);
    if (n < 0) {
        c->close_after = true; /* the framing is lost: the connection cannot carry another request */
        if (!c->body_err)
            c->body_err = (int)n;
    } else {
        c->body_taken += n;
        body_stats_add(BODY_PUT_COPY, (uint64_t)n);
    }
    return n;
}

int64_t http_body_taken(const struct http_conn *c) { return c->body_taken; }

int http_conn_peer(const struct http_conn *c, struct sockaddr_storage *out)
{
    socklen_t len = sizeof(*out);
    return getpeername(c->fd, (struct sockaddr *)out, &len) < 0 ? -errno : 0;
}

bool http_conn_finish_request(struct http_conn *c, size_t limit)
{
    if (!c->head_sent || c->resp_left > 0 || c->body_err)
        return false;
    if (!c->body_done) {
        /* The client waits for 100 Continue and never sent the body: its next bytes are not a request. */
        if (c->continue_pending)
            return false;
        char scratch[16384];
        size_t drained = 0;
        while (!c->body_done) {
            ssize_t n = http_body_read(c, scratch, sizeof(scratch));
            if (n <= 0)
                return n == 0;
            drained += (size_t)n;
            if (drained > limit)
                return false;
        }
    }
    return !c->close_after;
}

/* --- response ----------------------------------------------------------------------------------------------- */

void http_resp_init(struct http_resp *r, int status)
{
    r->status = status;
    r->len = 0;
    r->overflow = false;
}

void http_resp_header(struct http_resp *r, const char *name, const char *value)
{
    http_resp_headerf(r, name, "%s", value);
}

void http_resp_headerf(struct http_resp *r, const char *name, const char *fmt, ...)
{
    size_t room = sizeof(r->buf) - r->len;
    int n = snprintf(r->buf + r->len, room, "%s: ", name);
    if (n < 0 || (size_t)n >= room)
        goto overflow;
    r->len += (size_t)n;
    room -= (size_t)n;

    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(r->buf + r->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= room)
        goto overflow;
    r->len += (size_t)n;
    memcpy(r->buf + r->len, "\r\n", 2);
    r->len += 2;
    return;
overflow:
    r->overflow = true;
}

/* The Date header value, formatted once per second per thread. */
static const char *http_date_now(void)
{
    static _Thread_local char date[40];
    static _Thread_local time_t cached;
    time_t now = time(NULL);
    if (now != cached) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = now;
    }
    return date;
}

/* Prepends the status line and appends the headers every response carries; returns the head's length. */
static int resp_finish(struct http_conn *c, struct http_resp *r, int64_t content_length, char *out, size_t cap)
{
    /* A final answer before the client was told to send its body: it may send the body anyway or not, so the
     * next bytes on this connection are not known to be a request. */
    if (c->srv->draining || c->continue_pending)
        c->close_after = true;
    /* A body left unread that will not be drained (too much, or broken off): the connection ends with this answer,
     * and says so, or the client would send its next request into a closing socket. */
    if (!c->body_done && (c->body_err || c->body_chunked || c->body_left > HTTP_DRAIN_LIMIT))
        c->close_after = true;
    /* An Expect: 100-continue request without a body still gets its 100 first, as S3 sends it: botocore takes a
     * final answer to Expect as an early response and misreads the next response on the connection. */
    const char *interim = c->continue_empty ? "HTTP/1.1 100 Continue\r\n\r\n" : "";
    c->continue_empty = false;
    /* RFC 9110: no Content-Length on 204, and a 304 has no body to measure. */
    char length[48] = "";
    if (r->status != 204 && r->status != 304)
        snprintf(length, sizeof(length), "Content-Length: %" PRId64 "\r\n", content_length);
    int n = snprintf(out, cap,
                     "%s"
                     "HTTP/1.1 %d %s\r\n"
                     "Server: s3orch\r\n"
                     "Date: %s\r\n"
                     "x-amz-request-id: %s\r\n"
                     "x-amz-id-2: %s\r\n"
                     "%s"
                     "%s"
                     "%.*s\r\n",
                     interim, r->status, http_status_reason(r->status), http_date_now(), c->request_id, c->request_id,
                     length, c->close_after ? "Connection: close\r\n" : "", (int)r->len, r->buf);
    if (r->overflow || n < 0 || (size_t)n >= cap)
        return -E2BIG;
    return n;
}

int http_send_head(struct http_conn *c, struct http_resp *r, int64_t content_length)
{
    return http_respond_partial(c, r, content_length, NULL, 0);
}

int http_respond_partial(struct http_conn *c, struct http_resp *r, int64_t content_length, const void *body,
                         size_t len)
{
    char head[sizeof(r->buf) + 512];
    if (c->head_sent)
        return -EALREADY;
    int n = resp_finish(c, r, content_length, head, sizeof(head));
    if (n < 0)
        return n;
    c->head_sent = true;
    c->status = r->status;
    c->resp_left = c->is_head ? 0 : content_length;
    if (c->is_head)
        len = 0;

    struct iovec iov[2] = {{head, (size_t)n}, {(void *)body, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    size_t total = (size_t)n + len, done = 0;
    while (done < total) {
        ssize_t sent = coro_sendmsg(c->fd, &mh, 0, io_deadline(c));
        if (sent <= 0) {
            c->close_after = true;
            return sent < 0 ? (int)sent : -ECONNRESET;
        }
        done += (size_t)sent;
        /* Advance the iovecs past what went out. */
        while (sent > 0 && mh.msg_iovlen) {
            size_t step = (size_t)sent < mh.msg_iov->iov_len ? (size_t)sent : mh.msg_iov->iov_len;
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + step;
            mh.msg_iov->iov_len -= step;
            sent -= (ssize_t)step;
            if (!mh.msg_iov->iov_len) {
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
        }
    }
    c->resp_left -= (int64_t)len;
    return 0;
}

ssize_t http_send_body(struct http_conn *c, const void *buf, size_t len)
{
    if (c->is_head)
        return (ssize_t)len;
    if ((int64_t)len > c->resp_left)
        return -EMSGSIZE;
    ssize_t n = send_all(c, buf, len);
    if (n < 0) {
        c->close_after = true;
        return n;
    }
    c->resp_left -= n;
    return n;
}

int http_respond(struct http_conn *c, struct http_resp *r, const void *body, size_t len)
{
    return http_respond_partial(c, r, (int64_t)len, body, len);
}

int http_respond_text(struct http_conn *c, int status, const char *text)
{
    struct http_resp r;
    http_resp_init(&r, status);
    http_resp_header(&r, "Content-Type", "text/plain; charset=utf-8");
    return http_respond(c, &r, text, strlen(text));
}

static ssize_t conn_source_read(struct body_source *src, void *buf, size_t len)
{
    return http_body_read(((struct http_body_source *)src)->conn, buf, len);
}

static void note_spliced(void *arg, size_t n)
{
    (void)arg;
    body_stats_add(BODY_PUT_SPLICE, n);
}

ssize_t http_body_splice(struct http_conn *c, int fd, size_t len)
{
    if (c->body_done || len == 0)
        return 0;
    if (c->body_chunked)
        return -EOPNOTSUPP;
    if (c->continue_pending) {
        int err = send_continue(c);
        if (err < 0)
            return err;
    }
    size_t want = len < (uint64_t)c->body_left ? len : (size_t)c->body_left;
    size_t avail = c->len - c->pos;
    ssize_t n;
    if (avail) {
        /* Bytes that came in with the head are already in user space: they go out from the buffer. */
        n = send_all_to(fd, c->buf + c->pos, avail < want ? avail : want, io_deadline(c));
        if (n > 0) {
            c->pos += (size_t)n;
            body_stats_add(BODY_PUT_COPY, (uint64_t)n);
        }
    } else {
        /* Each splice step has the idle timeout: a client that stops sending is cut off, however large the body. */
        struct splice_move how = {.step_ns = c->srv->shared->cfg.idle_timeout, .moved = note_spliced};
        n = splice_move(c->fd, fd, want, &how);
        if (n >= 0 && (size_t)n < want)
            n = -ECONNRESET; /* the client closed before the end of its body */
    }
    if (n < 0) {
        c->close_after = true;
        if (!c->body_err)
            c->body_err = (int)n;
        return n;
    }
    c->body_left -= n;
    c->body_done = c->body_left == 0;
    return n;
}

static ssize_t conn_source_splice(struct body_source *src, int fd, size_t len)
{
    return http_body_splice(((struct http_body_source *)src)->conn, fd, len);
}

/* The Content-Length body bytes that came in with the head and wait in the connection's buffer. */
static size_t conn_source_buffered(struct body_source *src)
{
    const struct http_conn *c = ((struct http_body_source *)src)->conn;
    size_t avail = c->len - c->pos;
    return c->body_chunked ? 0 : (avail < (uint64_t)c->body_left ? avail : (size_t)c->body_left);
}

void http_body_source_init(struct http_body_source *s, struct http_conn *c)
{
    /* A body framed by Content-Length can be moved without being read; a chunked one must be decoded. */
    bool splice = !c->body_chunked && !c->srv->shared->cfg.copy_bodies;
    s->src = (struct body_source){.read = conn_source_read,
                                  .splice = splice ? conn_source_splice : NULL,
                                  .length = c->body_length,
                                  .buffered = splice ? conn_source_buffered : NULL};
    s->conn = c;
}

static ssize_t conn_sink_write(struct body_sink *sink, const void *buf, size_t len)
{
    ssize_t n = http_send_body(((struct http_body_sink *)sink)->conn, buf, len);
    if (n > 0)
        body_stats_add(BODY_GET_COPY, (uint64_t)n);
    return n;
}

static void conn_sink_spliced(struct body_sink *sink, size_t n)
{
    ((struct http_body_sink *)sink)->conn->resp_left -= (int64_t)n;
    body_stats_add(BODY_GET_SPLICE, n);
}

ssize_t http_body_sink_start_with(struct http_body_sink *s, struct http_resp *r, int64_t content_length,
                                  const void *buf, size_t len)
{
    http_body_sink_init(s, s->conn);
    int err = http_respond_partial(s->conn, r, content_length, buf, len);
    if (err < 0)
        return err;
    body_stats_add(BODY_GET_COPY, s->conn->is_head ? 0 : (uint64_t)len);
    return (ssize_t)len;
}

void http_body_sink_init(struct http_body_sink *s, struct http_conn *c)
{
    s->sink = (struct body_sink){
        .write = conn_sink_write,
        /* A HEAD response has no body: nothing may reach the socket, so no splicing either. */
        .splice_fd = c->is_head || c->srv->shared->cfg.copy_bodies ? -1 : c->fd,
        .spliced = conn_sink_spliced,
        .deadline_step = c->srv->shared->cfg.idle_timeout,
    };
    s->conn = c;
}
