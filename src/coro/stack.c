/* Coroutine stacks: mmap'ed with a PROT_NONE guard page below them, pooled per scheduler.
 *
 * A coroutine that runs off its stack touches the guard page; the SIGSEGV handler (on an alternate signal stack,
 * since the faulting stack is unusable) says so on stderr and lets the fault kill the process. Crashing loudly
 * beats silently scribbling over a neighbour's memory. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "coro/coro_internal.h"

static _Thread_local struct coro_sched *guard_sched;

static size_t page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

struct coro_stack *coro_stack_get(struct coro_sched *s)
{
    struct coro_stack *st = s->stack_pool;
    if (st) {
        s->stack_pool = st->next_free;
        s->stack_pool_len--;
        return st;
    }

    size_t page = page_size();
    size_t size = page + ((s->stack_size + page - 1) & ~(page - 1));
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                      -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    if (mprotect(base, page, PROT_NONE) < 0) {
        munmap(base, size);
        return NULL;
    }
    /* The bookkeeping lives at the top of its own mapping: one allocation per coroutine. */
    st = (struct coro_stack *)((char *)base + size - sizeof(*st));
    st->base = base;
    st->size = size;
    st->next_free = NULL;
    st->valgrind_id = VALGRIND_STACK_REGISTER((char *)base + page, (char *)base + size);
    return st;
}

static void stack_unmap(struct coro_stack *st)
{
    VALGRIND_STACK_DEREGISTER(st->valgrind_id);
    munmap(st->base, st->size);
}

void coro_stack_put(struct coro_sched *s, struct coro_stack *st)
{
    if (s->stack_pool_len >= s->stack_pool_max) {
        stack_unmap(st);
        return;
    }
    st->next_free = s->stack_pool;
    s->stack_pool = st;
    s->stack_pool_len++;
}

void coro_stack_pool_free(struct coro_sched *s)
{
    while (s->stack_pool) {
        struct coro_stack *st = s->stack_pool;
        s->stack_pool = st->next_free;
        stack_unmap(st);
    }
    s->stack_pool_len = 0;
}

static void guard_write(const char *msg)
{
    ssize_t r = write(STDERR_FILENO, msg, strlen(msg));
    (void)r;
}

static void guard_on_segv(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    struct coro_sched *s = guard_sched;
    struct coro *co = s ? s->current : NULL;
    char *addr = info->si_addr;
    if (co && addr >= (char *)co->stack->base && addr < (char *)co->stack->base + page_size())
        guard_write("s3orch: coroutine stack overflow (guard page hit); aborting\n");
    else
        guard_write("s3orch: segmentation fault\n");
    /* Returning re-runs the faulting instruction, which now kills the process with the default action. */
    signal(sig, SIG_DFL);
}

static void guard_install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = guard_on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
}

int coro_stack_guard_install(struct coro_sched *s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    size_t size = 64 * 1024;
    stack_t ss = {.ss_size = size, .ss_flags = 0};

    ss.ss_sp = malloc(size);
    if (!ss.ss_sp)
        return -ENOMEM;
    if (sigaltstack(&ss, NULL) < 0) {
        free(ss.ss_sp);
        return -errno;
    }
    s->altstack = ss.ss_sp;
    guard_sched = s;
    pthread_once(&once, guard_install_handler);
    return 0;
}

void coro_stack_guard_remove(struct coro_sched *s)
{
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(s->altstack);
    s->altstack = NULL;
    if (guard_sched == s)
        guard_sched = NULL;
}
