/* The architecture-specific half of a coroutine: the context switch (switch_*.S) and the first frame it returns
 * into. Kept apart from the scheduler so it can be tested alone, and under emulation for the other architecture. */
#ifndef S3ORCH_CORO_FRAME_H
#define S3ORCH_CORO_FRAME_H

#include <stdint.h>

/* Saves the callee-saved state on the current stack, stores the stack pointer in *from, resumes `to`. */
void coro_switch(void **from, void *to);
/* Lays out a frame under `top` so that switching to the returned stack pointer calls entry(arg) on that stack.
 * entry must never return. */
void *coro_frame_init(uintptr_t top, void (*entry)(void *), void *arg);

#endif
