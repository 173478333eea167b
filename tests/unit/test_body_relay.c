/* The relay between a producing and a consuming coroutine: bytes arrive whole and in order whatever the read
 * sizes, the producer's error reaches the consumer, and a consumer that stops early releases the producer. */
#include <errno.h>

#include "coro/coro.h"
#include "unit.h"
#include "util/body_relay.h"

static struct coro_sched *sched;

struct produce {
    size_t total, chunk;
    int fail_with; /* returned after all bytes, if non-zero */
    int write_err; /* what the last write returned */
    size_t written;
};

static int produce_run(struct body_sink *sink, void *arg)
{
    struct produce *p = arg;
    unsigned char buf[7000];
    while (p->written < p->total) {
        size_t n = p->total - p->written < p->chunk ? p->total - p->written : p->chunk;
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)((p->written + i) * 131 + 7);
        ssize_t w = sink->write(sink, buf, n);
        if (w < 0) {
            p->write_err = (int)w;
            return (int)w;
        }
        p->written += n;
        if (p->written % 3 == 0)
            coro_yield();
    }
    return p->fail_with;
}

struct consume {
    struct produce prod;
    size_t read_size, stop_after;
    size_t got;
    int read_result, finish_result;
    int mismatches;
};

static void consume_run(void *arg)
{
    struct consume *c = arg;
    struct body_relay r;
    if (body_relay_start(&r, produce_run, &c->prod, (int64_t)c->prod.total) < 0)
        return;
    unsigned char buf[9000];
    for (;;) {
        if (c->stop_after && c->got >= c->stop_after)
            break;
        ssize_t n = body_source_read(&r.src, buf, c->read_size);
        if (n <= 0) {
            c->read_result = (int)n;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            c->mismatches += buf[i] != (unsigned char)((c->got + (size_t)i) * 131 + 7);
        c->got += (size_t)n;
    }
    c->finish_result = body_relay_finish(&r);
}

static void run(struct consume *c)
{
    CHECK(coro_spawn(sched, consume_run, c) != NULL);
    coro_sched_run(sched);
}

static void test_bytes_in_order(void)
{
    size_t reads[] = {1, 13, 4096, 9000};
    size_t chunks[] = {1, 999, 7000};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        for (size_t j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++) {
            struct consume c = {.prod = {.total = 50000, .chunk = chunks[j]}, .read_size = reads[i]};
            run(&c);
            CHECK_EQ(c.got, 50000);
            CHECK_EQ(c.mismatches, 0);
            CHECK_EQ(c.read_result, 0);
            CHECK_EQ(c.finish_result, 0);
        }
}

static void test_empty_body(void)
{
    struct consume c = {.prod = {.total = 0, .chunk = 10}, .read_size = 100};
    run(&c);
    CHECK_EQ(c.got, 0);
    CHECK_EQ(c.read_result, 0);
    CHECK_EQ(c.finish_result, 0);
}

static void test_producer_error_reaches_reader(void)
{
    struct consume c = {.prod = {.total = 10000, .chunk = 1000, .fail_with = -EIO}, .read_size = 4096};
    run(&c);
    CHECK_EQ(c.got, 10000);
    CHECK_EQ(c.read_result, -EIO);
    CHECK_EQ(c.finish_result, -EIO);
}

static void test_consumer_stops_early(void)
{
    struct consume c = {.prod = {.total = 100000, .chunk = 1000}, .read_size = 500, .stop_after = 2500};
    run(&c);
    CHECK(c.got >= 2500 && c.got < 100000);
    CHECK_EQ(c.prod.write_err, -EPIPE);
    CHECK_EQ(c.finish_result, -EPIPE);
    CHECK_EQ(coro_count(), 0);
}

int main(void)
{
    if (coro_sched_create(&sched, NULL) < 0)
        return UNIT_SKIP;
    RUN(test_bytes_in_order);
    RUN(test_empty_body);
    RUN(test_producer_error_reaches_reader);
    RUN(test_consumer_stops_early);
    coro_sched_free(sched);
    return unit_finish("body_relay");
}
