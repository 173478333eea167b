#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "coro/coro.h"
#include "hc.h"

void hc_init(struct hc_conn *c)
{
    c->fd = -1;
    c->pipe[0] = c->pipe[1] = -1;
    c->buffered = c->used = 0;
}

int hc_connect(struct hc_conn *c, const struct sockaddr *addr, socklen_t addrlen, enum hc_sink sink,
               int64_t deadline)
{
    int err;
    hc_init(c);
    c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    /* Heads and bodies go out whole; Nagle would hold a small PUT's last segment for the previous ACK. */
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (sink == HC_SINK_SPLICE) {
        if (pipe2(c->pipe, O_CLOEXEC) < 0) {
            err = -errno;
            goto fail;
        }
        /* A bigger pipe moves more per splice pair; the default 64 KiB is what we get when the limit says no. */
        fcntl(c->pipe[1], F_SETPIPE_SZ, 1 << 20);
    }
    err = coro_connect(c->fd, addr, addrlen, deadline);
    if (err < 0)
        goto fail;
    return 0;

fail:
    hc_close(c);
    return err;
}

void hc_close(struct hc_conn *c)
{
    /* coro_close rather than close(2): an op of ours may still be in the ring after a cancel, and the ring's close
     * comes after it. Outside a coroutine (never here today) plain close would be needed. */
    if (c->fd >= 0)
        coro_close(c->fd);
    if (c->pipe[0] >= 0)
        coro_close(c->pipe[0]);
    if (c->pipe[1] >= 0)
        coro_close(c->pipe[1]);
    hc_init(c);
}

int hc_send(struct hc_conn *c, const char *head, size_t head_len, const void *body, size_t body_len,
            int64_t deadline)
{
    struct iovec iov[2] = {{(void *)head, head_len}, {(void *)body, body_len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = body_len ? 2 : 1};
    while (msg.msg_iovlen) {
        ssize_t n = coro_sendmsg(c->fd, &msg, 0, deadline);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EPIPE;
        /* A partial send: drop what went from the front of the vector. */
        while (msg.msg_iovlen && (size_t)n >= msg.msg_iov->iov_len) {
            n -= (ssize_t)msg.msg_iov->iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen) {
            msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
            msg.msg_iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* The value of header `name` in the head's header lines [p, end), trimmed, or NULL. */
static const char *header_value(const char *p, const char *end, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

static int parse_head(const char *h, size_t len, struct hc_resp *r)
{
    /* "HTTP/1.x SSS" and then anything up to the line's end. */
    if (len < 12 || memcmp(h, "HTTP/1.", 7) != 0 || (h[7] != '0' && h[7] != '1') || h[8] != ' ')
        return -EPROTO;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (h[i] < '0' || h[i] > '9')
            return -EPROTO;
        status = status * 10 + (h[i] - '0');
    }
    r->status = status;
    r->close = h[7] == '0';
    r->content_length = -1;

    const char *end = h + len - 2, *lines = memmem(h, len, "\r\n", 2) + 2;
    size_t n;
    const char *v = header_value(lines, end, "content-length", &n);
    if (v) {
        int64_t cl = 0;
        if (n == 0 || n > 18)
            return -EPROTO;
        for (size_t i = 0; i < n; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -EPROTO;
            cl = cl * 10 + (v[i] - '0');
        }
        r->content_length = cl;
    }
    /* Chunked framing is beyond this client; a response that uses it cannot be skipped safely. */
    if (header_value(lines, end, "transfer-encoding", &n))
        return -EPROTO;
    v = header_value(lines, end, "connection", &n);
    if (v && n == 5 && strncasecmp(v, "close", 5) == 0)
        r->close = true;
    return 0;
}

int hc_read_head(struct hc_conn *c, struct hc_resp *r, int64_t deadline)
{
    /* Whatever followed the previous response belongs to this one. */
    if (c->used) {
        memmove(c->head, c->head + c->used, c->buffered - c->used);
        c->buffered -= c->used;
        c->used = 0;
    }
    size_t scanned = 0;
    for (;;) {
        /* Resume the search 3 bytes back: the terminator may straddle two reads. */
        size_t from = scanned > 3 ? scanned - 3 : 0;
        const char *e = c->buffered > from ? memmem(c->head + from, c->buffered - from, "\r\n\r\n", 4) : NULL;
        if (e) {
            size_t len = (size_t)(e - c->head) + 4;
            c->used = len;
            return parse_head(c->head, len, r);
        }
        scanned = c->buffered;
        if (c->buffered == sizeof(c->head))
            return -E2BIG;
        ssize_t n = coro_recv(c->fd, c->head + c->buffered, sizeof(c->head) - c->buffered, 0, deadline);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -ECONNRESET;
        c->buffered += (size_t)n;
    }
}

/* Moves up to `left` bytes socket -> pipe -> /dev/null; returns what went. */
static ssize_t splice_out(struct hc_conn *c, int devnull, size_t left, int64_t deadline)
{
    ssize_t in = coro_splice(c->fd, -1, c->pipe[1], -1, left, SPLICE_F_MOVE, deadline);
    if (in <= 0)
        return in;
    for (ssize_t out = 0; out < in;) {
        ssize_t n = coro_splice(c->pipe[0], -1, devnull, -1, (size_t)(in - out), SPLICE_F_MOVE, deadline);
        if (n <= 0)
            return n < 0 ? n : -EIO;
        out += n;
    }
    return in;
}

int64_t hc_discard_body(struct hc_conn *c, const struct hc_resp *r, const struct hc_discard *d, int64_t deadline)
{
    bool bodiless = r->status < 200 || r->status == 204 || r->status == 304;
    if (bodiless)
        return 0;
    if (r->content_length < 0)
        return -EPROTO;
    size_t have = c->buffered - c->used;
    if ((int64_t)have > r->content_length)
        return -EPROTO; /* more than the body: we never pipeline, so the server sent garbage */
    c->used = c->buffered = 0;
    int64_t left = r->content_length - (int64_t)have;
    while (left > 0) {
        size_t want = left < (int64_t)d->scratch_len ? (size_t)left : d->scratch_len;
        ssize_t n;
        if (d->sink == HC_SINK_SPLICE)
            n = splice_out(c, d->devnull, want, deadline);
        else
            n = coro_recv(c->fd, d->scratch, want, d->sink == HC_SINK_TRUNC ? MSG_TRUNC : 0, deadline);
        if (n < 0)
            return n;
        if (n == 0)
            return -ECONNRESET;
        left -= n;
    }
    return r->content_length;
}
