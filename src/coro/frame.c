#include <string.h>

#include "coro/coro_frame.h"

void coro_trampoline(void);

void *coro_frame_init(uintptr_t top, void (*entry)(void *), void *arg)
{
    top &= ~(uintptr_t)15;
#if defined(__x86_64__)
    /* Popped by coro_switch: MXCSR/x87 CW, r15, r14, r13, r12, rbx, rbp, then `ret` into the trampoline, which
     * calls r13(r12). After `ret` rsp is 16-byte aligned, as the ABI wants before a call. */
    uint64_t *ret = (uint64_t *)(top - 24);
    ret[0] = (uint64_t)(uintptr_t)coro_trampoline;
    ret[-1] = 0; /* rbp: ends backtraces */
    ret[-2] = 0; /* rbx */
    ret[-3] = (uint64_t)(uintptr_t)arg;
    ret[-4] = (uint64_t)(uintptr_t)entry;
    ret[-5] = 0; /* r14 */
    ret[-6] = 0; /* r15 */
    ret[-7] = 0x1F80 | ((uint64_t)0x037F << 32); /* default MXCSR and x87 control word */
    return &ret[-7];
#elif defined(__aarch64__)
    /* Loaded by coro_switch: x19..x30 then d8..d15; `ret` jumps to x30, the trampoline, which calls x20(x19). */
    uint64_t *f = (uint64_t *)(top - 160);
    memset(f, 0, 160);
    f[0] = (uint64_t)(uintptr_t)arg;
    f[1] = (uint64_t)(uintptr_t)entry;
    f[11] = (uint64_t)(uintptr_t)coro_trampoline;
    return f;
#else
#error "coroutines need a context switch for this architecture"
#endif
}
