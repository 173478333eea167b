/* Context switch for x86-64 System V: saves the callee-saved registers, the SSE control word and the x87 control
 * word on the current stack, stores the stack pointer in *from, and resumes the context whose stack pointer is
 * `to`. Caller-saved registers need no saving: the switch is an ordinary function call for the compiler.
 *
 *   void coro_switch(void **from, void *to);
 *   coro_trampoline: first "return" of a new coroutine; calls r13(r12) and never returns.
 */
#if defined(__x86_64__)
    .text
    .globl coro_switch
    .type coro_switch, @function
coro_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size coro_switch, .-coro_switch

    .globl coro_trampoline
    .type coro_trampoline, @function
coro_trampoline:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size coro_trampoline, .-coro_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
