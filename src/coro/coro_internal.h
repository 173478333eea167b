/* Internals shared by the files of src/coro/. Not part of the public contract (coro.h). */
#ifndef S3ORCH_CORO_INTERNAL_H
#define S3ORCH_CORO_INTERNAL_H

#include <liburing.h>

#include "coro/coro.h"
#include "coro/coro_frame.h"

/* user_data of an SQE is either a struct coro_op pointer (8-byte aligned, low bits clear) or one of these. */
enum {
    CORO_UD_IGNORE = 0,    /* linked timeouts, cancel requests: nobody waits for their CQE */
    CORO_UD_MSG_IN = 1,    /* low bit set: a cross-thread message arriving, pointer in the upper bits */
    CORO_UD_MSG_SENT = 2,  /* the sending side's completion of IORING_OP_MSG_RING */
    CORO_UD_TAG_MASK = 3,
};

struct coro_op;
typedef void (*coro_op_complete_fn)(struct coro_op *op);

/* One SQE in flight, owned by a suspended coroutine; lives on that coroutine's stack. The coroutine resumes only
 * after the CQE has arrived, so the kernel never writes to a stack that moved on. */
struct coro_op {
    struct coro *co;
    coro_op_complete_fn complete; /* NULL: wake co */
    int res;
    bool done;
};

struct coro_stack {
    void *base;  /* mapping start (the guard page) */
    size_t size; /* whole mapping */
    unsigned valgrind_id;
    struct coro_stack *next_free;
};

struct coro_deferred {
    void (*fn)(void *);
    void *arg;
    struct coro_deferred *next;
};

enum coro_state { CORO_READY, CORO_RUNNING, CORO_PARKED, CORO_DONE };

struct coro {
    void *sp; /* saved stack pointer while not running */
    struct coro_stack *stack;
    struct coro_sched *sched;
    coro_fn fn;
    void *arg;
    enum coro_state state;
    bool cancelled;
    struct coro *next;          /* ready queue or wait queue link */
    struct coro_op *io;         /* the op being waited for, to cancel it */
    struct coro_waitq *waitq;   /* the wait queue it sits in, to take it out */
    int wait_res;               /* result handed over by a waker */
    struct coro_deferred *defers;
};

struct coro_sched {
    struct io_uring ring;
    unsigned ring_flags;
    struct io_uring_probe *probe; /* which ops the kernel knows; NULL when it cannot tell */
    void *main_sp;
    struct coro *current;
    struct coro *ready_head, *ready_tail;
    struct coro_round_end *round_end; /* coro_at_round_end's queue, run last first */
    size_t live;
    size_t msgs_in_flight; /* posted with MSG_RING, send CQE not yet seen */
    size_t stack_size;
    unsigned stack_pool_max, stack_pool_len;
    struct coro_stack *stack_pool;
    void *altstack;
    char describe[96];
};


/* sched.c */
void coro_make_ready(struct coro *co);
/* Suspends the running coroutine until coro_make_ready() is called for it. */
void coro_park(void);
/* An SQE for the current scheduler, flushing the SQ to the kernel when it is full. */
struct io_uring_sqe *coro_get_sqe(struct coro_sched *s);

/* sync.c */
void coro_waitq_remove(struct coro_waitq *q, struct coro *co);

/* stack.c */
struct coro_stack *coro_stack_get(struct coro_sched *s);
void coro_stack_put(struct coro_sched *s, struct coro_stack *st);
void coro_stack_pool_free(struct coro_sched *s);
int coro_stack_guard_install(struct coro_sched *s);
void coro_stack_guard_remove(struct coro_sched *s);

/* io.c */
void coro_op_complete(struct coro_op *op, int res);

/* msg.c */
void coro_msg_deliver(struct coro_sched *s, uint64_t user_data);
void coro_msg_sent(struct coro_sched *s, uint64_t user_data, int res);

#endif
