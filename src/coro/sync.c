/* Synchronisation between coroutines of one thread: wait queues, and the channel and wait group built on them. */
#include <errno.h>

#include "coro/coro_internal.h"

/* A waiter's wait_res while it is still queued. */
enum { WAIT_PENDING = 1 };

void coro_waitq_remove(struct coro_waitq *q, struct coro *co)
{
    struct coro *prev = NULL;
    for (struct coro *it = q->head; it; prev = it, it = it->next) {
        if (it != co)
            continue;
        if (prev)
            prev->next = co->next;
        else
            q->head = co->next;
        if (q->tail == co)
            q->tail = prev;
        break;
    }
    co->waitq = NULL;
}

static void waitq_timer_fired(struct coro_op *op)
{
    struct coro *co = op->co;
    if (co->waitq) {
        coro_waitq_remove(co->waitq, co);
        co->wait_res = -ETIMEDOUT;
    }
    coro_make_ready(co);
}

int coro_waitq_wait(struct coro_waitq *q, int64_t deadline)
{
    struct coro_sched *s = coro_sched_self();
    struct coro *co = s->current;
    struct coro_op timer = {.co = co, .complete = waitq_timer_fired};
    struct __kernel_timespec ts;

    if (co->cancelled)
        return -ECANCELED;
    co->next = NULL;
    if (q->tail)
        q->tail->next = co;
    else
        q->head = co;
    q->tail = co;
    co->waitq = q;
    co->wait_res = WAIT_PENDING;

    if (deadline) {
        ts = (struct __kernel_timespec){.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
        struct io_uring_sqe *sqe = coro_get_sqe(s);
        io_uring_prep_timeout(sqe, &ts, 0, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data(sqe, &timer);
    }
    while (co->wait_res == WAIT_PENDING)
        coro_park();
    /* Woken before the timer fired: the timer's CQE still names this stack frame, so wait for it. */
    if (deadline && !timer.done) {
        struct io_uring_sqe *sqe = coro_get_sqe(s);
        io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)&timer, 0);
        io_uring_sqe_set_data64(sqe, CORO_UD_IGNORE);
        while (!timer.done)
            coro_park();
    }
    return co->wait_res;
}

bool coro_waitq_wake_one(struct coro_waitq *q)
{
    struct coro *co = q->head;
    if (!co)
        return false;
    q->head = co->next;
    if (!q->head)
        q->tail = NULL;
    co->waitq = NULL;
    co->wait_res = 0;
    coro_make_ready(co);
    return true;
}

void coro_waitq_wake_all(struct coro_waitq *q)
{
    while (coro_waitq_wake_one(q))
        ;
}

void coro_chan_init(struct coro_chan *ch, void **slots, size_t cap)
{
    *ch = (struct coro_chan){.slots = slots, .cap = cap};
}

int coro_chan_send(struct coro_chan *ch, void *v, int64_t deadline)
{
    while (ch->len == ch->cap && !ch->closed) {
        int r = coro_waitq_wait(&ch->senders, deadline);
        if (r < 0)
            return r;
    }
    if (ch->closed)
        return -EPIPE;
    ch->slots[(ch->head + ch->len) % ch->cap] = v;
    ch->len++;
    coro_waitq_wake_one(&ch->receivers);
    return 0;
}

int coro_chan_recv(struct coro_chan *ch, void **v, int64_t deadline)
{
    while (ch->len == 0 && !ch->closed) {
        int r = coro_waitq_wait(&ch->receivers, deadline);
        if (r < 0)
            return r;
    }
    if (ch->len == 0)
        return -EPIPE;
    *v = ch->slots[ch->head];
    ch->head = (ch->head + 1) % ch->cap;
    ch->len--;
    coro_waitq_wake_one(&ch->senders);
    return 0;
}

void coro_chan_close(struct coro_chan *ch)
{
    ch->closed = true;
    coro_waitq_wake_all(&ch->senders);
    coro_waitq_wake_all(&ch->receivers);
}

void coro_wg_add(struct coro_wg *wg, long n) { wg->count += n; }

void coro_wg_done(struct coro_wg *wg)
{
    if (--wg->count <= 0)
        coro_waitq_wake_all(&wg->q);
}

int coro_wg_wait(struct coro_wg *wg, int64_t deadline)
{
    while (wg->count > 0) {
        int r = coro_waitq_wait(&wg->q, deadline);
        if (r < 0)
            return r;
    }
    return 0;
}
