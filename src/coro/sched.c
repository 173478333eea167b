/* The per-thread scheduler: a ready queue of coroutines and an io_uring ring.
 *
 * The loop runs every ready coroutine once, then submits the SQEs they queued and reaps completions in one
 * io_uring_enter. A coroutine made ready during a pass runs in the next pass, after completions were reaped,
 * so a coroutine that keeps yielding cannot starve I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <valgrind/valgrind.h>

#include "coro/coro_internal.h"

static _Thread_local struct coro_sched *tls_sched;

struct coro_sched *coro_sched_self(void) { return tls_sched; }

struct coro *coro_self(void) { return tls_sched ? tls_sched->current : NULL; }

size_t coro_count(void) { return tls_sched ? tls_sched->live : 0; }

bool coro_is_cancelled(void)
{
    struct coro *co = coro_self();
    return co && co->cancelled;
}

int64_t coro_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Best ring first; older kernels refuse the newer flags with -EINVAL and we step down. */
static int ring_init(struct coro_sched *s, unsigned entries)
{
    static const struct {
        unsigned flags;
        const char *name;
    } tries[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "single-issuer,defer-taskrun"},
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, "single-issuer,coop-taskrun"},
        {IORING_SETUP_COOP_TASKRUN, "coop-taskrun"},
        {0, "plain"},
    };
    int err = -EINVAL;
    /* Under valgrind the ring waits in poll() (see sched_wait), which needs a ring that posts CQEs itself. */
    size_t first = RUNNING_ON_VALGRIND ? sizeof(tries) / sizeof(tries[0]) - 1 : 0;
    for (size_t i = first; i < sizeof(tries) / sizeof(tries[0]); i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof(p));
        /* A roomy CQ: every connection can have an op and a linked timeout in flight at once. */
        p.flags = tries[i].flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
        p.cq_entries = entries * 4;
        err = io_uring_queue_init_params(entries, &s->ring, &p);
        if (err == 0) {
            s->ring_flags = tries[i].flags;
            snprintf(s->describe, sizeof(s->describe), "io_uring %u entries, %s", entries, tries[i].name);
            return 0;
        }
        if (err != -EINVAL)
            break;
    }
    return err;
}

int coro_sched_create(struct coro_sched **out, const struct coro_sched_config *cfg)
{
    struct coro_sched *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->stack_size = cfg && cfg->stack_size ? cfg->stack_size : CORO_DEFAULT_STACK_SIZE;
    s->stack_pool_max = cfg && cfg->stack_pool ? cfg->stack_pool : 256;
    int err = ring_init(s, cfg && cfg->ring_entries ? cfg->ring_entries : 1024);
    if (err < 0)
        goto err_free;
    s->probe = io_uring_get_probe_ring(&s->ring);
    err = coro_stack_guard_install(s);
    if (err < 0)
        goto err_ring;
    tls_sched = s;
    *out = s;
    return 0;

err_ring:
    io_uring_free_probe(s->probe);
    io_uring_queue_exit(&s->ring);
err_free:
    free(s);
    return err;
}

void coro_sched_free(struct coro_sched *s)
{
    coro_stack_pool_free(s);
    coro_stack_guard_remove(s);
    io_uring_free_probe(s->probe);
    io_uring_queue_exit(&s->ring);
    if (tls_sched == s)
        tls_sched = NULL;
    free(s);
}

const char *coro_sched_describe(const struct coro_sched *s) { return s->describe; }

static void ready_push(struct coro_sched *s, struct coro *co)
{
    co->next = NULL;
    if (s->ready_tail)
        s->ready_tail->next = co;
    else
        s->ready_head = co;
    s->ready_tail = co;
}

void coro_make_ready(struct coro *co)
{
    if (co->state != CORO_PARKED)
        return;
    co->state = CORO_READY;
    ready_push(co->sched, co);
}

static void coro_run_defers(struct coro *co)
{
    while (co->defers) {
        struct coro_deferred *d = co->defers;
        co->defers = d->next;
        d->fn(d->arg);
        free(d);
    }
}

/* First frame of every coroutine. Never returns: the scheduler frees the stack after switching away from it. */
static void coro_entry(void *arg)
{
    struct coro *co = arg;
    co->fn(co->arg);
    coro_run_defers(co);
    co->state = CORO_DONE;
    coro_switch(&co->sp, co->sched->main_sp);
    __builtin_unreachable();
}

struct coro *coro_spawn(struct coro_sched *s, coro_fn fn, void *arg)
{
    struct coro_stack *st = coro_stack_get(s);
    if (!st)
        return NULL;
    /* The coroutine's own struct sits at the top of its stack, below the stack's bookkeeping. */
    uintptr_t top = ((uintptr_t)st - sizeof(struct coro)) & ~(uintptr_t)15;
    struct coro *co = (struct coro *)top;
    memset(co, 0, sizeof(*co));
    co->stack = st;
    co->sched = s;
    co->fn = fn;
    co->arg = arg;
    co->sp = coro_frame_init(top, coro_entry, co);
    s->live++;
    co->state = CORO_READY;
    ready_push(s, co);
    return co;
}

static void coro_resume(struct coro_sched *s, struct coro *co)
{
    s->current = co;
    co->state = CORO_RUNNING;
    coro_switch(&s->main_sp, co->sp);
    s->current = NULL;
    if (co->state == CORO_DONE) {
        s->live--;
        coro_stack_put(s, co->stack);
    }
}

void coro_park(void)
{
    struct coro *co = tls_sched->current;
    co->state = CORO_PARKED;
    coro_switch(&co->sp, tls_sched->main_sp);
}

void coro_yield(void)
{
    struct coro *co = tls_sched->current;
    co->state = CORO_READY;
    ready_push(tls_sched, co);
    coro_switch(&co->sp, tls_sched->main_sp);
}

struct io_uring_sqe *coro_get_sqe(struct coro_sched *s)
{
    struct io_uring_sqe *sqe;
    while (!(sqe = io_uring_get_sqe(&s->ring)))
        io_uring_submit(&s->ring);
    return sqe;
}

void coro_cancel(struct coro *co)
{
    if (co->state == CORO_DONE || co->cancelled)
        return;
    co->cancelled = true;
    if (co->io && !co->io->done) {
        struct io_uring_sqe *sqe = coro_get_sqe(co->sched);
        io_uring_prep_cancel(sqe, co->io, 0);
        io_uring_sqe_set_data64(sqe, CORO_UD_IGNORE);
    } else if (co->waitq) {
        coro_waitq_remove(co->waitq, co);
        co->wait_res = -ECANCELED;
        coro_make_ready(co);
    }
}

int coro_defer(void (*fn)(void *), void *arg)
{
    struct coro *co = coro_self();
    struct coro_deferred *d = malloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->fn = fn;
    d->arg = arg;
    d->next = co->defers;
    co->defers = d;
    return 0;
}

static void sched_dispatch(struct coro_sched *s, uint64_t ud, int res)
{
    switch (ud & CORO_UD_TAG_MASK) {
    case CORO_UD_MSG_IN:
        coro_msg_deliver(s, ud);
        return;
    case CORO_UD_MSG_SENT:
        coro_msg_sent(s, ud, res);
        return;
    default:
        if (ud != CORO_UD_IGNORE)
            coro_op_complete((struct coro_op *)(uintptr_t)ud, res);
    }
}

static void sched_reap(struct coro_sched *s)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&s->ring, head, cqe)
    {
        sched_dispatch(s, cqe->user_data, cqe->res);
        n++;
    }
    io_uring_cq_advance(&s->ring, n);
}

/* Submits and sleeps until a completion arrives. Valgrind does not know that io_uring_enter blocks and keeps its
 * global lock across it, which would freeze every other thread; poll() on the ring fd it does know. */
static void sched_wait(struct coro_sched *s)
{
    if (!RUNNING_ON_VALGRIND) {
        io_uring_submit_and_wait(&s->ring, 1);
        return;
    }
    io_uring_submit(&s->ring);
    if (!io_uring_cq_ready(&s->ring)) {
        struct pollfd p = {.fd = s->ring.ring_fd, .events = POLLIN};
        poll(&p, 1, -1);
    }
}

void coro_at_round_end(struct coro_round_end *node)
{
    struct coro_sched *s = tls_sched;
    if (!s || !s->current) { /* no round to wait for: a plain thread, or the loop itself */
        node->fn(node->arg);
        return;
    }
    node->next = s->round_end;
    s->round_end = node;
}

static void sched_round_end(struct coro_sched *s)
{
    while (s->round_end) {
        struct coro_round_end *node = s->round_end;
        s->round_end = node->next;
        node->fn(node->arg);
    }
}

void coro_sched_run(struct coro_sched *s)
{
    /* Messages this thread posted must leave before it stops, so the loop also waits for their send CQEs. */
    while (s->live || s->msgs_in_flight) {
        struct coro *co = s->ready_head;
        s->ready_head = s->ready_tail = NULL;
        while (co) {
            struct coro *next = co->next;
            coro_resume(s, co);
            co = next;
        }
        sched_round_end(s);
        if (!s->live && !s->msgs_in_flight)
            break;
        if (!s->ready_head)
            sched_wait(s);
        else if (s->ring_flags & IORING_SETUP_DEFER_TASKRUN)
            io_uring_submit_and_get_events(&s->ring);
        else
            io_uring_submit(&s->ring);
        sched_reap(s);
    }
}
