/* One body to several writers at once: every branch gets the same bytes in order whatever its read sizes and pace,
 * the input is read once, a branch that leaves does not hold the others, and the input's failure reaches all. */
#include <errno.h>

#include "coro/coro.h"
#include "unit.h"
#include "util/body_fanout.h"

static struct coro_sched *sched;

static unsigned char byte_at(size_t i) { return (unsigned char)(i * 131 + 7); }

/* The input: total bytes in pieces of up to `piece`, then fail_with (0: a clean end). */
struct input {
    struct body_source src;
    size_t total, piece, given;
    int fail_with;
    int reads;
};

static ssize_t input_read(struct body_source *src, void *buf, size_t len)
{
    struct input *in = (struct input *)src;
    in->reads++;
    if (in->given == in->total)
        return in->fail_with ? in->fail_with : 0;
    size_t n = in->total - in->given;
    n = n < len ? n : len;
    n = n < in->piece ? n : in->piece;
    for (size_t i = 0; i < n; i++)
        ((unsigned char *)buf)[i] = byte_at(in->given + i);
    in->given += n;
    return (ssize_t)n;
}

struct writer {
    struct body_fanout_branch *b;
    size_t read_size, leave_after, yield_every;
    size_t got;
    int result, mismatches;
    struct coro_wg *wg;
};

static void writer_run(void *arg)
{
    struct writer *w = arg;
    unsigned char buf[70000];
    for (size_t i = 0;; i++) {
        if (w->leave_after && w->got >= w->leave_after) {
            body_fanout_leave(w->b);
            w->result = 1;
            break;
        }
        ssize_t n = body_source_read(&w->b->src, buf, w->read_size);
        if (n <= 0) {
            w->result = (int)n;
            break;
        }
        for (ssize_t j = 0; j < n; j++)
            w->mismatches += buf[j] != byte_at(w->got + (size_t)j);
        w->got += (size_t)n;
        if (w->yield_every && i % w->yield_every == 0)
            coro_yield();
    }
    coro_wg_done(w->wg);
}

struct scenario {
    struct input in;
    struct writer w[4];
    size_t n;
    int end;
};

static void scenario_run(void *arg)
{
    struct scenario *s = arg;
    struct body_fanout f;
    s->in.src = (struct body_source){.read = input_read, .length = (int64_t)s->in.total};
    CHECK_EQ(body_fanout_init(&f, &s->in.src, s->n), 0);
    struct coro_wg wg = CORO_WG_INIT;
    for (size_t i = 0; i < s->n; i++) {
        s->w[i].b = &f.branch[i];
        s->w[i].wg = &wg;
        coro_wg_add(&wg, 1);
        CHECK(coro_spawn(sched, writer_run, &s->w[i]) != NULL);
    }
    coro_wg_wait(&wg, 0);
    s->end = body_fanout_end(&f);
    body_fanout_free(&f);
}

static void run(struct scenario *s)
{
    CHECK(coro_spawn(sched, scenario_run, s) != NULL);
    coro_sched_run(sched);
}

static void test_every_branch_gets_every_byte(void)
{
    size_t total = 3 * BODY_FANOUT_CHUNK + 12345;
    struct scenario s = {.in = {.total = total, .piece = 100000}, .n = 3};
    s.w[0] = (struct writer){.read_size = 1};
    s.w[0].read_size = 4093;
    s.w[1] = (struct writer){.read_size = 65536, .yield_every = 1};
    s.w[2] = (struct writer){.read_size = 70000, .yield_every = 3};
    run(&s);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(s.w[i].got, total);
        CHECK_EQ(s.w[i].mismatches, 0);
        CHECK_EQ(s.w[i].result, 0);
    }
    CHECK_EQ(s.end, 0);
    /* Read once: one read per chunk (pieces of 100000) plus the end, not once per branch. */
    CHECK(s.in.reads <= (int)(total / 100000) + 2);
}

static void test_a_branch_that_leaves_holds_nobody(void)
{
    size_t total = 5 * BODY_FANOUT_CHUNK;
    struct scenario s = {.in = {.total = total, .piece = BODY_FANOUT_CHUNK}, .n = 3};
    s.w[0] = (struct writer){.read_size = 10000, .leave_after = 100000};
    s.w[1] = (struct writer){.read_size = 65536, .yield_every = 2};
    s.w[2] = (struct writer){.read_size = 1000};
    run(&s);
    CHECK_EQ(s.w[0].result, 1);
    CHECK(s.w[0].got >= 100000 && s.w[0].got < total);
    for (size_t i = 1; i < 3; i++) {
        CHECK_EQ(s.w[i].got, total);
        CHECK_EQ(s.w[i].mismatches, 0);
    }
    CHECK_EQ(s.end, 0);
}

static void test_input_failure_reaches_every_branch(void)
{
    struct scenario s = {.in = {.total = 300000, .piece = 7000, .fail_with = -EBADMSG}, .n = 2};
    s.w[0] = (struct writer){.read_size = 4096};
    s.w[1] = (struct writer){.read_size = 50000, .yield_every = 1};
    run(&s);
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ(s.w[i].result, -EBADMSG);
        CHECK_EQ(s.w[i].got, 300000);
    }
    CHECK_EQ(s.end, -EBADMSG);
}

static void test_end_reads_what_no_branch_read(void)
{
    /* Writers that stop at the body's size never ask for its end: body_fanout_end does, and sees the failure. */
    struct scenario s = {.in = {.total = 1000, .piece = 1000, .fail_with = -EBADMSG}, .n = 2};
    s.w[0] = (struct writer){.read_size = 1000, .leave_after = 1000};
    s.w[1] = (struct writer){.read_size = 1000, .leave_after = 1000};
    run(&s);
    CHECK_EQ(s.w[0].got, 1000);
    CHECK_EQ(s.end, -EBADMSG);

    struct scenario longer = {.in = {.total = 2000, .piece = 1000}, .n = 1};
    longer.w[0] = (struct writer){.read_size = 1000, .leave_after = 1000};
    run(&longer);
    CHECK_EQ(longer.end, -EMSGSIZE);
}

static void test_limits(void)
{
    struct body_fanout f;
    struct input in = {.src = {.read = input_read}};
    CHECK_EQ(body_fanout_init(&f, &in.src, 0), -EINVAL);
    CHECK_EQ(body_fanout_init(&f, &in.src, BODY_FANOUT_MAX + 1), -EINVAL);
}

int main(void)
{
    if (coro_sched_create(&sched, NULL) < 0)
        return UNIT_SKIP;
    RUN(test_every_branch_gets_every_byte);
    RUN(test_a_branch_that_leaves_holds_nobody);
    RUN(test_input_failure_reaches_every_branch);
    RUN(test_end_reads_what_no_branch_read);
    RUN(test_limits);
    coro_sched_free(sched);
    return unit_finish("body_fanout");
}
