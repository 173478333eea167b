/* Why a move waits for readiness before each splice: the ring runs a splice in a kernel worker, and on the kernels
 * we run on (6.18 at least) the timeout linked to it never fires once that worker waits. So a splice only starts
 * when its input has bytes or its output has room, and the ring's poll, whose timeout works, does the waiting. A
 * socket output can still fill up in the middle of a splice; its own send timeout (SO_SNDTIMEO), set for the move,
 * bounds that wait inside the worker. */
#include "util/splice_move.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "coro/coro.h"

enum {
    PIPE_CACHE = 16,       /* idle pipes kept per thread: enough for the moves a thread usually has in flight */
    PIPE_WANT = 1 << 20,   /* fewer trips through the ring per megabyte than the default 64 KiB */
    PIPE_DEFAULT = 1 << 16,
};

struct move_pipe {
    int rd, wr;
    size_t cap;
};

static _Thread_local struct move_pipe cache[PIPE_CACHE];
static _Thread_local unsigned ncached;

static int pipe_get(struct move_pipe *p)
{
    if (ncached) {
        *p = cache[--ncached];
        return 0;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    /* The limits (fs.pipe-max-size, the per-user page budget) may refuse the bigger size; the default still works. */
    int cap = fcntl(fds[1], F_SETPIPE_SZ, PIPE_WANT);
    if (cap < 0)
        cap = fcntl(fds[1], F_GETPIPE_SZ);
    *p = (struct move_pipe){fds[0], fds[1], cap > 0 ? (size_t)cap : PIPE_DEFAULT};
    return 0;
}

static void pipe_put(const struct move_pipe *p, bool clean)
{
    if (clean && ncached < PIPE_CACHE) {
        cache[ncached++] = *p;
        return;
    }
    coro_close(p->rd);
    coro_close(p->wr);
}

/* The earlier of the move's deadline and the end of this step. */
static int64_t step_deadline(const struct splice_move *how)
{
    if (!how)
        return 0;
    int64_t step = coro_deadline_in(how->step_ns);
    if (!step || (how->deadline && how->deadline < step))
        return how->deadline;
    return step;
}

/* A send timeout on fd_out for the move (a step's length, or what is left until the deadline), and the one it had
 * before, to put back. Not a socket, or no bound: nothing to do. */
struct send_bound {
    bool set;
    struct timeval old;
};

static void send_bound_set(int fd, const struct splice_move *how, struct send_bound *b)
{
    b->set = false;
    int64_t until = step_deadline(how);
    if (!until)
        return;
    int64_t ns = until - coro_now();
    ns = ns > 1000 ? ns : 1000; /* a zero timeval would mean no timeout at all */
    struct timeval tv = {.tv_sec = ns / 1000000000, .tv_usec = ns % 1000000000 / 1000};
    socklen_t len = sizeof(b->old);
    if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &b->old, &len) < 0)
        return;
    b->set = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0;
}

static void send_bound_clear(int fd, const struct send_bound *b)
{
    if (b->set)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &b->old, sizeof(b->old));
}

/* One splice, started once fd can go on (or has failed, which the splice then reports). */
static ssize_t splice_when(int wait_fd, unsigned events, int fd_in, int64_t off_in, int fd_out, size_t len,
                           const struct splice_move *how)
{
    int r = coro_poll(wait_fd, events, step_deadline(how));
    if (r < 0)
        return r;
    ssize_t n = coro_splice(fd_in, off_in, fd_out, -1, len, 0, step_deadline(how));
    if (n < 0 && coro_is_cancelled())
        return -ECANCELED; /* a worker stopped by the cancel reports -ERESTARTSYS */
    return n == -EAGAIN ? -ETIMEDOUT : n; /* what a socket's send timeout gives when it runs out */
}

ssize_t splice_move(int fd_in, int fd_out, size_t len, const struct splice_move *how)
{
    if (len == 0)
        return 0;
    struct move_pipe p;
    ssize_t err = pipe_get(&p);
    if (err < 0)
        return err;
    struct send_bound bound;
    send_bound_set(fd_out, how, &bound);
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < p.cap ? len - done : p.cap;
        int64_t *off = how ? how->in_off : NULL;
        ssize_t in = splice_when(fd_in, POLLIN, fd_in, off ? *off : -1, p.wr, want, how);
        if (in <= 0) {
            err = in; /* 0: fd_in ended early, which the caller judges from the count */
            goto out;
        }
        if (off)
            *off += in;
        while (in > 0) {
            ssize_t out = splice_when(fd_out, POLLOUT, p.rd, -1, fd_out, (size_t)in, how);
            if (out <= 0) {
                err = out < 0 ? out : -EPIPE;
                goto out;
            }
            in -= out;
            done += (size_t)out;
            if (how && how->moved)
                how->moved(how->arg, (size_t)out);
        }
    }
out:
    send_bound_clear(fd_out, &bound);
    /* After an error the pipe may hold bytes (or the kernel may have put some there after a cancelled step). */
    pipe_put(&p, err >= 0);
    return err < 0 ? err : (ssize_t)done;
}

void splice_move_pipes_close(void)
{
    /* Thread exit may come after the scheduler stopped, where no coroutine can wait for a ring op. */
    bool on_coro = coro_self() != NULL;
    while (ncached) {
        struct move_pipe p = cache[--ncached];
        if (on_coro) {
            coro_close(p.rd);
            coro_close(p.wr);
        } else {
            close(p.rd);
            close(p.wr);
        }
    }
}
