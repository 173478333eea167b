#include <errno.h>
#include <string.h>

#include "util/body_relay.h"

static ssize_t relay_write(struct body_sink *sink, const void *buf, size_t len)
{
    struct body_relay *r = (struct body_relay *)((char *)sink - offsetof(struct body_relay, sink));
    if (r->closed)
        return -EPIPE;
    r->pending = buf;
    r->pending_len = len;
    coro_waitq_wake_one(&r->readers);
    while (r->pending_len && !r->closed) {
        int err = coro_waitq_wait(&r->writers, 0);
        if (err < 0) {
            r->pending_len = 0;
            return err;
        }
    }
    return r->closed && r->pending_len ? -EPIPE : (ssize_t)len;
}

static ssize_t relay_read(struct body_source *src, void *buf, size_t len)
{
    struct body_relay *r = (struct body_relay *)src;
    while (!r->pending_len && !r->done) {
        int err = coro_waitq_wait(&r->readers, 0);
        if (err < 0)
            return err;
    }
    if (!r->pending_len)
        return r->result < 0 ? r->result : 0;
    size_t n = len < r->pending_len ? len : r->pending_len;
    memcpy(buf, r->pending, n);
    r->pending += n;
    r->pending_len -= n;
    if (!r->pending_len)
        coro_waitq_wake_one(&r->writers);
    return (ssize_t)n;
}

static void relay_producer(void *arg)
{
    struct body_relay *r = arg;
    r->result = r->fn(&r->sink, r->arg);
    r->done = true;
    coro_waitq_wake_all(&r->readers);
    coro_wg_done(&r->wg);
}

int body_relay_start(struct body_relay *r, body_relay_fn fn, void *arg, int64_t length)
{
    *r = (struct body_relay){
        .src = {.read = relay_read, .length = length},
        .sink = {.write = relay_write, .splice_fd = -1},
        .fn = fn,
        .arg = arg,
    };
    coro_wg_add(&r->wg, 1);
    r->producer = coro_spawn(coro_sched_self(), relay_producer, r);
    if (!r->producer) {
        coro_wg_done(&r->wg);
        r->done = true;
        return -ENOMEM;
    }
    return 0;
}

int body_relay_finish(struct body_relay *r)
{
    r->closed = true;
    coro_waitq_wake_all(&r->writers);
    /* The producer's own calls have timeouts, so waiting for it cannot hang; a cancelled consumer cancels it. */
    while (coro_wg_wait(&r->wg, 0) == -ECANCELED && r->wg.count) {
        if (!r->done)
            coro_cancel(r->producer);
        coro_yield();
    }
    return r->result;
}
