/* I/O calls that yield: each prepares one SQE naming a struct coro_op on the caller's stack, optionally links a
 * timeout for the deadline, parks, and returns the CQE's result. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <valgrind/memcheck.h>

#include "coro/coro_internal.h"

void coro_op_complete(struct coro_op *op, int res)
{
    op->res = res;
    op->done = true;
    if (op->complete)
        op->complete(op);
    else
        coro_make_ready(op->co);
}

static struct __kernel_timespec ns_to_timespec(int64_t ns)
{
    return (struct __kernel_timespec){.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
}

/* An SQE for the running coroutine's next op, with room behind it for a linked timeout; NULL once cancelled. */
static struct io_uring_sqe *op_begin(int64_t deadline)
{
    struct coro_sched *s = coro_sched_self();
    if (s->current->cancelled)
        return NULL;
    if (io_uring_sq_space_left(&s->ring) < (deadline ? 2u : 1u))
        io_uring_submit(&s->ring);
    return io_uring_get_sqe(&s->ring);
}

static int op_finish(struct io_uring_sqe *sqe, int64_t deadline)
{
    struct coro_sched *s = coro_sched_self();
    struct coro *co = s->current;
    struct coro_op op = {.co = co};
    struct __kernel_timespec ts;

    io_uring_sqe_set_data(sqe, &op);
    if (deadline) {
        ts = ns_to_timespec(deadline);
        sqe->flags |= IOSQE_IO_LINK;
        struct io_uring_sqe *t = io_uring_get_sqe(&s->ring);
        io_uring_prep_link_timeout(t, &ts, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(t, CORO_UD_IGNORE);
    }
    co->io = &op;
    while (!op.done)
        coro_park();
    co->io = NULL;
    /* -ECANCELED comes from coro_cancel() or from the linked timeout; only the first sets `cancelled`. */
    if (op.res == -ECANCELED && deadline && !co->cancelled)
        return -ETIMEDOUT;
    return op.res;
}

/* The kernel fills these buffers behind valgrind's back. */
static ssize_t mark_defined(const void *buf, ssize_t n)
{
    if (n > 0)
        VALGRIND_MAKE_MEM_DEFINED(buf, n);
    return n;
}

int coro_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_accept(sqe, fd, addr, addrlen, flags);
    int r = op_finish(sqe, deadline);
    if (r >= 0 && addr)
        mark_defined(addr, *addrlen);
    return r;
}

int coro_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_connect(sqe, fd, addr, addrlen);
    return op_finish(sqe, deadline);
}

ssize_t coro_recv(int fd, void *buf, size_t len, int flags, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_recv(sqe, fd, buf, len, flags);
    return mark_defined(buf, op_finish(sqe, deadline));
}

ssize_t coro_send(int fd, const void *buf, size_t len, int flags, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_send(sqe, fd, buf, len, flags | MSG_NOSIGNAL);
    return op_finish(sqe, deadline);
}

ssize_t coro_sendmsg(int fd, const struct msghdr *msg, int flags, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_sendmsg(sqe, fd, msg, (unsigned)flags | MSG_NOSIGNAL);
    return op_finish(sqe, deadline);
}

ssize_t coro_read(int fd, void *buf, size_t len, uint64_t offset, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_read(sqe, fd, buf, (unsigned)len, offset);
    return mark_defined(buf, op_finish(sqe, deadline));
}

ssize_t coro_write(int fd, const void *buf, size_t len, uint64_t offset, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_write(sqe, fd, buf, (unsigned)len, offset);
    return op_finish(sqe, deadline);
}

ssize_t coro_splice(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len, unsigned flags,
                    int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_splice(sqe, fd_in, off_in, fd_out, off_out, (unsigned)len, flags);
    return op_finish(sqe, deadline);
}

ssize_t coro_tee(int fd_in, int fd_out, size_t len, unsigned flags, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_tee(sqe, fd_in, fd_out, (unsigned)len, flags);
    return op_finish(sqe, deadline);
}

int coro_openat(int dfd, const char *path, int flags, mode_t mode)
{
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_openat(sqe, dfd, path, flags, mode);
    return op_finish(sqe, 0);
}

int coro_fsync(int fd, bool data_only)
{
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_fsync(sqe, fd, data_only ? IORING_FSYNC_DATASYNC : 0);
    return op_finish(sqe, 0);
}

int coro_renameat(int olddfd, const char *oldpath, int newdfd, const char *newpath, unsigned flags)
{
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_renameat(sqe, olddfd, oldpath, newdfd, newpath, flags);
    return op_finish(sqe, 0);
}

int coro_unlinkat(int dfd, const char *path, int flags)
{
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_unlinkat(sqe, dfd, path, flags);
    return op_finish(sqe, 0);
}

int coro_mkdirat(int dfd, const char *path, mode_t mode)
{
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_mkdirat(sqe, dfd, path, mode);
    return op_finish(sqe, 0);
}

int coro_linkat(int olddfd, const char *oldpath, int newdfd, const char *newpath, int flags)
{
    struct coro_sched *s = coro_sched_self();
    if (!s->probe || !io_uring_opcode_supported(s->probe, IORING_OP_LINKAT))
        return -ENOTSUP;
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_linkat(sqe, olddfd, oldpath, newdfd, newpath, flags);
    return op_finish(sqe, 0);
}

int coro_statx(int dfd, const char *path, int flags, unsigned mask, struct statx *out)
{
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_statx(sqe, dfd, path, flags, mask, out);
    int r = op_finish(sqe, 0);
    if (r == 0)
        mark_defined(out, sizeof(*out));
    return r;
}

int coro_close(int fd)
{
    /* Not cancellable: a cancelled coroutine must still be able to let go of its descriptors. */
    struct coro_sched *s = coro_sched_self();
    if (io_uring_sq_space_left(&s->ring) < 1)
        io_uring_submit(&s->ring);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    io_uring_prep_close(sqe, fd);
    bool was_cancelled = s->current->cancelled;
    s->current->cancelled = false;
    int r = op_finish(sqe, 0);
    s->current->cancelled = was_cancelled;
    return r;
}

int coro_poll(int fd, unsigned events, int64_t deadline)
{
    struct io_uring_sqe *sqe = op_begin(deadline);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_poll_add(sqe, fd, events);
    return op_finish(sqe, deadline);
}

int coro_sleep_until(int64_t deadline)
{
    struct __kernel_timespec ts = ns_to_timespec(deadline);
    struct io_uring_sqe *sqe = op_begin(0);
    if (!sqe)
        return -ECANCELED;
    io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_ABS);
    int r = op_finish(sqe, 0);
    return r == -ETIME ? 0 : r;
}

int coro_sleep(int64_t ns) { return coro_sleep_until(coro_now() + ns); }
