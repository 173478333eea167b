/* Stackful coroutines on a per-thread io_uring ring.
 *
 * Each thread that serves requests owns one scheduler (struct coro_sched) with its own ring. A coroutine is
 * straight-line code: every I/O call below submits an SQE naming the waiting coroutine, then yields until the
 * completion arrives. Nothing here blocks the thread.
 *
 * Conventions:
 *  - Calls return >= 0 on success or -errno.
 *  - `deadline` is an absolute CLOCK_MONOTONIC time in nanoseconds (see coro_now()); 0 means none. A call whose
 *    deadline passes returns -ETIMEDOUT.
 *  - A cancelled coroutine (coro_cancel) gets -ECANCELED from the call it is blocked in and from every later
 *    blocking call, so it unwinds; coro_close() still works so it can release what it holds.
 *  - Everything here except coro_msg_post() must be called on the scheduler's own thread.
 */
#ifndef S3ORCH_CORO_H
#define S3ORCH_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct coro;
struct coro_sched;

typedef void (*coro_fn)(void *arg);

struct coro_sched_config {
    unsigned ring_entries; /* SQ size; 0 = 1024 */
    size_t stack_size;     /* usable bytes per coroutine stack; 0 = CORO_DEFAULT_STACK_SIZE */
    unsigned stack_pool;   /* stacks kept for reuse; 0 = 256 */
};

#define CORO_DEFAULT_STACK_SIZE (256 * 1024)

/* Scheduler: create, run and free on the same thread. */
int coro_sched_create(struct coro_sched **out, const struct coro_sched_config *cfg);
/* Runs until no coroutine is left. */
void coro_sched_run(struct coro_sched *s);
void coro_sched_free(struct coro_sched *s);
struct coro_sched *coro_sched_self(void);
/* Which ring features the kernel gave this scheduler (for logs and tests). */
const char *coro_sched_describe(const struct coro_sched *s);

/* Coroutines. coro_spawn works from a coroutine or from the thread before/while coro_sched_run runs. */
struct coro *coro_spawn(struct coro_sched *s, coro_fn fn, void *arg);
struct coro *coro_self(void);
void coro_yield(void);
void coro_cancel(struct coro *co);
bool coro_is_cancelled(void);
/* Registers fn(arg) to run when the current coroutine finishes, last registered first. */
int coro_defer(void (*fn)(void *), void *arg);
/* Number of live coroutines on the current scheduler. */
size_t coro_count(void);

int64_t coro_now(void);
static inline int64_t coro_deadline_in(int64_t ns) { return ns > 0 ? coro_now() + ns : 0; }
#define CORO_MS(n) ((int64_t)(n) * 1000000LL)
#define CORO_SEC(n) ((int64_t)(n) * 1000000000LL)

/* I/O. */
int coro_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags, int64_t deadline);
int coro_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline);
ssize_t coro_recv(int fd, void *buf, size_t len, int flags, int64_t deadline);
ssize_t coro_send(int fd, const void *buf, size_t len, int flags, int64_t deadline);
ssize_t coro_sendmsg(int fd, const struct msghdr *msg, int flags, int64_t deadline);
ssize_t coro_read(int fd, void *buf, size_t len, uint64_t offset, int64_t deadline);
ssize_t coro_write(int fd, const void *buf, size_t len, uint64_t offset, int64_t deadline);
/* off_in/off_out: -1 for a pipe or socket (current position), as io_uring wants. */
ssize_t coro_splice(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len, unsigned flags,
                    int64_t deadline);
ssize_t coro_tee(int fd_in, int fd_out, size_t len, unsigned flags, int64_t deadline);
int coro_openat(int dfd, const char *path, int flags, mode_t mode);
int coro_close(int fd);
/* Files and directories; flags as for the syscalls of the same name. */
int coro_fsync(int fd, bool data_only);
int coro_renameat(int olddfd, const char *oldpath, int newdfd, const char *newpath, unsigned flags);
int coro_unlinkat(int dfd, const char *path, int flags);
int coro_mkdirat(int dfd, const char *path, mode_t mode);
/* -ENOTSUP when the ring has no link op (kernel < 5.15). */
int coro_linkat(int olddfd, const char *oldpath, int newdfd, const char *newpath, int flags);
struct statx;
int coro_statx(int dfd, const char *path, int flags, unsigned mask, struct statx *out);
/* Waits for poll events (POLLIN, POLLOUT…) on fd; returns the events that fired. */
int coro_poll(int fd, unsigned events, int64_t deadline);
/* 0 when the time came, -ECANCELED when cancelled first. */
int coro_sleep_until(int64_t deadline);
int coro_sleep(int64_t ns);

/* Wait queue: coroutines of one thread waiting for something another coroutine will signal. */
struct coro_waitq {
    struct coro *head, *tail;
};
#define CORO_WAITQ_INIT {0, 0}
/* 0 when woken, -ETIMEDOUT, -ECANCELED. */
int coro_waitq_wait(struct coro_waitq *q, int64_t deadline);
bool coro_waitq_wake_one(struct coro_waitq *q);
void coro_waitq_wake_all(struct coro_waitq *q);

/* Bounded channel of pointers between coroutines of one thread. The caller owns `slots` (cap entries). */
struct coro_chan {
    void **slots;
    size_t cap, head, len;
    bool closed;
    struct coro_waitq senders, receivers;
};
void coro_chan_init(struct coro_chan *ch, void **slots, size_t cap);
/* 0, -EPIPE when closed, -ETIMEDOUT, -ECANCELED. */
int coro_chan_send(struct coro_chan *ch, void *v, int64_t deadline);
/* 0, -EPIPE when closed and empty, -ETIMEDOUT, -ECANCELED. */
int coro_chan_recv(struct coro_chan *ch, void **v, int64_t deadline);
void coro_chan_close(struct coro_chan *ch);

/* Wait group: wait until `count` drops to zero. */
struct coro_wg {
    long count;
    struct coro_waitq q;
};
#define CORO_WG_INIT {0, CORO_WAITQ_INIT}
void coro_wg_add(struct coro_wg *wg, long n);
void coro_wg_done(struct coro_wg *wg);
int coro_wg_wait(struct coro_wg *wg, int64_t deadline);

/* Cross-thread message: fn(arg) runs on the target scheduler's thread, in its loop (outside any coroutine),
 * where it may spawn coroutines or wake waiters. Callable from any thread, with or without a scheduler. */
int coro_msg_post(struct coro_sched *target, void (*fn)(void *), void *arg);

/* Work deferred to the end of the scheduler's round: fn(arg) runs once, after the coroutines ready in this round
 * have run and before the ring is submitted or slept on. Waking another thread from here instead of at once lets
 * one wake-up cover a whole round, and keeps a thread on the same core from being preempted by the thread it woke
 * while it still has coroutines to run. The caller owns the node and keeps it alive until fn has run. Outside a
 * coroutine fn runs at once. */
struct coro_round_end {
    void (*fn)(void *arg);
    void *arg;
    struct coro_round_end *next;
};
void coro_at_round_end(struct coro_round_end *node);

#endif
