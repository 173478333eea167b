/* Cross-thread messages with IORING_OP_MSG_RING: the sender's ring posts a CQE into the target's ring, so the
 * target thread learns of the message in its ordinary completion loop, with no lock and no extra wake-up fd.
 * A thread without a scheduler (the main thread) posts through a small ring of its own. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "coro/coro_internal.h"

struct coro_msg {
    void (*fn)(void *);
    void *arg;
    int target_fd;
};

static void msg_prep(struct io_uring_sqe *sqe, struct coro_msg *m)
{
    io_uring_prep_msg_ring(sqe, m->target_fd, 0, (uint64_t)(uintptr_t)m | CORO_UD_MSG_IN, 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)m | CORO_UD_MSG_SENT);
}

static bool msg_retryable(int res) { return res == -EOVERFLOW || res == -EAGAIN || res == -EBUSY; }

/* The main thread and other threads without a scheduler share this ring; posting is rare there. */
static pthread_mutex_t post_lock = PTHREAD_MUTEX_INITIALIZER;
static struct io_uring post_ring;
static bool post_ring_ready;

static int msg_post_blocking(struct coro_msg *m)
{
    int res = 0;
    pthread_mutex_lock(&post_lock);
    if (!post_ring_ready) {
        res = io_uring_queue_init(8, &post_ring, 0);
        post_ring_ready = res == 0;
    }
    for (int attempt = 0; res == 0 && attempt < 1000; attempt++) {
        struct io_uring_cqe *cqe;
        msg_prep(io_uring_get_sqe(&post_ring), m);
        io_uring_submit_and_wait(&post_ring, 1);
        if (io_uring_wait_cqe(&post_ring, &cqe) < 0) {
            res = -EIO;
            break;
        }
        res = cqe->res;
        io_uring_cqe_seen(&post_ring, cqe);
        if (!msg_retryable(res))
            break;
        res = 0;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    pthread_mutex_unlock(&post_lock);
    return res < 0 ? res : 0;
}

int coro_msg_post(struct coro_sched *target, void (*fn)(void *), void *arg)
{
    struct coro_msg *m = malloc(sizeof(*m));
    if (!m)
        return -ENOMEM;
    *m = (struct coro_msg){.fn = fn, .arg = arg, .target_fd = target->ring.ring_fd};

    struct coro_sched *s = coro_sched_self();
    if (!s) {
        int r = msg_post_blocking(m);
        if (r < 0)
            free(m);
        return r;
    }
    msg_prep(coro_get_sqe(s), m);
    s->msgs_in_flight++;
    return 0;
}

void coro_msg_deliver(struct coro_sched *s, uint64_t user_data)
{
    (void)s;
    struct coro_msg *m = (struct coro_msg *)(uintptr_t)(user_data & ~(uint64_t)CORO_UD_TAG_MASK);
    m->fn(m->arg);
    free(m);
}

/* On success the target owns the message (and may have freed it already); only a failure hands it back. */
void coro_msg_sent(struct coro_sched *s, uint64_t user_data, int res)
{
    if (res >= 0) {
        s->msgs_in_flight--;
        return;
    }
    struct coro_msg *m = (struct coro_msg *)(uintptr_t)(user_data & ~(uint64_t)CORO_UD_TAG_MASK);
    if (msg_retryable(res)) {
        msg_prep(coro_get_sqe(s), m);
        return;
    }
    fprintf(stderr, "s3orch: cross-thread message lost: %d\n", res);
    s->msgs_in_flight--;
    free(m);
}
