/* Moving bytes from one descriptor to another through a pipe, so they never enter user space.
 *
 * splice(2) needs a pipe on one side, so socket → socket goes socket → pipe → socket. A move borrows a pipe from a
 * small per-thread cache for as long as it runs: coroutines of one thread interleave at every splice, and two moves
 * sharing a pipe would mix their bytes. A move that fails gives its pipe back closed, since bytes it may have left
 * in the pipe belong to nobody and would reach the next move's output.
 *
 * Both descriptors must be in blocking mode: the ring runs a splice in a kernel worker that waits for data or room,
 * where a non-blocking descriptor fails with -EAGAIN instead. A socket output has its send timeout (SO_SNDTIMEO)
 * set for the move's duration and put back after (see splice_move.c for why). Splicing into a socket whose peer is
 * gone raises SIGPIPE (splice has no MSG_NOSIGNAL), which the process ignores. */
#ifndef S3ORCH_SPLICE_MOVE_H
#define S3ORCH_SPLICE_MOVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct splice_move {
    int64_t deadline; /* absolute, for the whole move (coro.h's convention); 0 = none */
    int64_t step_ns;  /* bound on each single splice, so a stalled peer is noticed early; 0 = none */
    void (*moved)(void *arg, size_t n); /* optional: n more bytes reached fd_out */
    void *arg;
    int64_t *in_off; /* fd_in is a file: read from *in_off on, advanced as bytes move; NULL for a stream */
};

/* Moves len bytes from fd_in to fd_out; how may be NULL (no deadline, no reports). Returns the bytes moved, fewer
 * than len only when fd_in reached its end first, or -errno: -ETIMEDOUT, -ECANCELED, a splice's error, -EPIPE when
 * fd_out takes nothing. Must run on a coroutine. */
ssize_t splice_move(int fd_in, int fd_out, size_t len, const struct splice_move *how);
/* Closes the calling thread's cached pipes (thread exit, tests). */
void splice_move_pipes_close(void);

#endif
