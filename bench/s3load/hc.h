/* The smallest HTTP/1.1 client a load generator needs, on the coroutine runtime: one request at a time on a
 * connection, a request head plus an optional body from memory, responses framed by Content-Length only (s3orch and
 * S3 frame every object response that way), keep-alive. Not src/http/http_client: that one pools, splices and
 * decodes chunked bodies for the server's backends, and a benchmark client should cost as little as it can and not
 * move when the server's client does.
 *
 * Every call takes an absolute deadline (coro.h) and returns >= 0 or -errno: -ETIMEDOUT, -ECANCELED, the socket's
 * errors, -EPROTO for a response this client cannot frame, -E2BIG for a head over the buffer. After an error the
 * connection is in an unknown state: close it. */
#ifndef S3LOAD_HC_H
#define S3LOAD_HC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define HC_HEAD_MAX 8192 /* response head bytes; S3 heads are a few hundred */

/* How a response body is thrown away. */
enum hc_sink {
    HC_SINK_RECV,   /* recv into a scratch buffer: a copy to user space, as a real client pays */
    HC_SINK_TRUNC,  /* recv with MSG_TRUNC: TCP drops the bytes in the kernel, no copy */
    HC_SINK_SPLICE, /* splice socket -> pipe -> /dev/null */
};

struct hc_conn {
    int fd;        /* -1 when closed */
    int pipe[2];   /* HC_SINK_SPLICE: opened with the connection */
    size_t buffered, used; /* head[used..buffered) arrived after the last response head */
    char head[HC_HEAD_MAX];
};

struct hc_resp {
    int status;
    int64_t content_length; /* -1 when absent (then only a bodiless status is framed) */
    bool close;             /* the server said Connection: close, or spoke HTTP/1.0 */
};

/* Where the discarded bodies go; shared by the connections of one thread. */
struct hc_discard {
    enum hc_sink sink;
    void *scratch; /* HC_SINK_RECV, HC_SINK_TRUNC (the kernel wants a buffer even when it writes none) */
    size_t scratch_len;
    int devnull; /* HC_SINK_SPLICE */
};

void hc_init(struct hc_conn *c);
int hc_connect(struct hc_conn *c, const struct sockaddr *addr, socklen_t addrlen, enum hc_sink sink,
               int64_t deadline);
/* Sends head then body[0..body_len), as one sendmsg while the socket takes it. */
int hc_send(struct hc_conn *c, const char *head, size_t head_len, const void *body, size_t body_len,
            int64_t deadline);
/* Reads the next response head. */
int hc_read_head(struct hc_conn *c, struct hc_resp *r, int64_t deadline);
/* Reads and drops the response body; returns its length. */
int64_t hc_discard_body(struct hc_conn *c, const struct hc_resp *r, const struct hc_discard *d, int64_t deadline);
void hc_close(struct hc_conn *c);

#endif
