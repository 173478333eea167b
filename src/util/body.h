/* Bodies in motion. A source yields bytes (a client's request body, a backend's response); a sink takes them (a
 * client socket, a file, a backend request). A mover asks a sink whether it has a descriptor it may splice into,
 * so bytes that need no inspection go socket → pipe → socket/file without entering user space. */
#ifndef S3ORCH_BODY_H
#define S3ORCH_BODY_H

#include <stdint.h>
#include <sys/types.h>

struct body_source {
    /* Up to len bytes into buf; 0 at the end of the body; -errno on failure (a body whose checksum or signature
     * fails at its end reports the failure from the read that would have returned 0). */
    ssize_t (*read)(struct body_source *src, void *buf, size_t len);
    /* Optional (NULL when the bytes must be looked at: decoding, hashing): moves up to len bytes of the body into
     * fd (a socket or a pipe's write end) without copying them through user space where it can; returns as read
     * does. A mover uses either read or splice for one body, never both. */
    ssize_t (*splice)(struct body_source *src, int fd, size_t len);
    int64_t length; /* decoded length if known, else -1 */
    /* Optional, with splice: how many body bytes the source already holds in user space (they came in with the
     * request head). A mover may read a body that is all there instead of splicing it, and send it with what
     * goes before it in one write. */
    size_t (*buffered)(struct body_source *src);
};

struct body_sink {
    /* Takes all len bytes or fails with -errno. */
    ssize_t (*write)(struct body_sink *sink, const void *buf, size_t len);
    /* >= 0: a socket or pipe the mover may splice into directly, reporting what it moved with spliced(). */
    int splice_fd;
    void (*spliced)(struct body_sink *sink, size_t n);
    int64_t deadline_step; /* ns allowed per splice/write step (stall bound), 0 = none */
    /* Optional: a mover calls it (body_sink_start) once, before the first byte goes in by write or splice. A sink
     * with a response head to send sends it here, so a source that fails before its first byte can still be
     * answered with a clean error. 0 or -errno. A mover holding the whole body may skip it and make one write
     * instead: a sink with a start then starts on that write, and may send its head with those bytes. */
    int (*start)(struct body_sink *sink);
};

static inline int body_sink_start(struct body_sink *sink) { return sink->start ? sink->start(sink) : 0; }

static inline ssize_t body_source_read(struct body_source *src, void *buf, size_t len)
{
    return src->read(src, buf, len);
}

#endif
