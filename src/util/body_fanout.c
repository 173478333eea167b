#include "util/body_fanout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether every live branch has taken all of the current chunk (so the buffer may be refilled). */
static bool chunk_done(const struct body_fanout *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct body_fanout_branch *b = &f->branch[i];
        if (b->live && (b->seq != f->seq || b->pos < f->len))
            return false;
    }
    return true;
}

/* Reads the next chunk from the input into the shared buffer; wakes every branch whatever happened. */
static void chunk_fill(struct body_fanout *f)
{
    f->reading = true;
    ssize_t n = body_source_read(f->in, f->buf, BODY_FANOUT_CHUNK);
    f->reading = false;
    if (n < 0)
        f->err = (int)n;
    else if (n == 0)
        f->eof = true;
    else {
        f->seq++;
        f->len = (size_t)n;
    }
    coro_waitq_wake_all(&f->waiters);
}

static ssize_t branch_read(struct body_source *src, void *buf, size_t len)
{
    struct body_fanout_branch *b = (struct body_fanout_branch *)src;
    struct body_fanout *f = b->f;
    for (;;) {
        if (b->seq != f->seq) { /* a new chunk came in */
            b->seq = f->seq;
            b->pos = 0;
        }
        if (f->seq && b->pos < f->len) {
            size_t n = len < f->len - b->pos ? len : f->len - b->pos;
            memcpy(buf, f->buf + b->pos, n);
            b->pos += n;
            if (b->pos == f->len)
                coro_waitq_wake_all(&f->waiters);
            return (ssize_t)n;
        }
        if (f->err)
            return f->err;
        if (f->eof)
            return 0;
        if (!f->reading && chunk_done(f)) {
            chunk_fill(f);
            continue;
        }
        int err = coro_waitq_wait(&f->waiters, 0);
        if (err < 0)
            return err;
    }
}

int body_fanout_init(struct body_fanout *f, struct body_source *in, size_t n)
{
    memset(f, 0, sizeof(*f));
    if (n == 0 || n > BODY_FANOUT_MAX)
        return -EINVAL;
    f->buf = malloc(BODY_FANOUT_CHUNK);
    if (!f->buf)
        return -ENOMEM;
    f->in = in;
    f->n = n;
    f->waiters = (struct coro_waitq)CORO_WAITQ_INIT;
    for (size_t i = 0; i < n; i++)
        f->branch[i] = (struct body_fanout_branch){
            .src = {.read = branch_read, .length = in->length}, .f = f, .live = true};
    return 0;
}

void body_fanout_leave(struct body_fanout_branch *b)
{
    b->live = false;
    coro_waitq_wake_all(&b->f->waiters);
}

int body_fanout_end(struct body_fanout *f)
{
    if (!f->err && !f->eof) {
        char extra;
        ssize_t n = body_source_read(f->in, &extra, 1);
        f->err = n < 0 ? (int)n : n > 0 ? -EMSGSIZE : 0;
        f->eof = n == 0;
    }
    return f->err;
}

void body_fanout_free(struct body_fanout *f)
{
    free(f->buf);
    f->buf = NULL;
}
