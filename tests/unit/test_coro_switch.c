/* The context switch alone (no ring): ping-pong between contexts with callee-saved registers and floating point
 * live across switches. Built natively by `zig build test`, and by scripts/test for aarch64 and run under
 * qemu-aarch64, so both hand-written switches are exercised. */
#include <stdint.h>
#include <stdlib.h>

#include "coro/coro_frame.h"
#include "unit.h"

enum { STACK = 64 * 1024, ROUNDS = 10000 };

struct ctx {
    void *sp;
    void *main_sp;
    long counter;
    double acc;
};

/* Many values live across each switch, so the compiler keeps some in callee-saved registers (incl. d8–d15). */
static void worker(void *arg)
{
    struct ctx *c = arg;
    volatile long guard = 0x5a5a5a5a;
    unsigned long a = 1, b = 2, d = 3, e = 5, f = 7, g = 11;
    double x = 1.5, y = 2.25, z = 0.125;
    for (int i = 0; i < ROUNDS; i++) {
        a += b; b ^= d; d += e * 3; e += f; f ^= g; g += a;
        x = x * 1.000001 + y; y = y * 0.999999 + z; z += 0.5;
        c->counter++;
        coro_switch(&c->sp, c->main_sp);
    }
    c->acc = x + y + z;
    c->counter += (a ^ b ^ d ^ e ^ f ^ g) == 0 ? 1000000 : 0; /* keeps the values alive */
    if (guard != 0x5a5a5a5a)
        c->counter = -1;
    coro_switch(&c->sp, c->main_sp);
    abort(); /* never resumed again */
}

static double expected_acc(void)
{
    double x = 1.5, y = 2.25, z = 0.125;
    for (int i = 0; i < ROUNDS; i++) {
        x = x * 1.000001 + y;
        y = y * 0.999999 + z;
        z += 0.5;
    }
    return x + y + z;
}

static void test_ping_pong(void)
{
    struct ctx c[2] = {{0}};
    char *stacks = aligned_alloc(16, 2 * STACK);
    for (int k = 0; k < 2; k++)
        c[k].sp = coro_frame_init((uintptr_t)(stacks + (k + 1) * STACK), worker, &c[k]);

    volatile double here = 3.0; /* the main side's own FP state must survive too */
    for (int i = 0; i <= ROUNDS; i++)
        for (int k = 0; k < 2; k++)
            coro_switch(&c[k].main_sp, c[k].sp);
    for (int k = 0; k < 2; k++) {
        CHECK(c[k].counter == ROUNDS || c[k].counter == ROUNDS + 1000000);
        CHECK(c[k].acc == expected_acc());
    }
    CHECK(here == 3.0);
    free(stacks);
}

int main(void)
{
    RUN(test_ping_pong);
#if defined(__aarch64__)
    return unit_finish("coro_switch(aarch64)");
#else
    return unit_finish("coro_switch");
#endif
}
