/* A relay between two coroutines of one thread: a producer writes into the relay's sink (a backend GET, say)
 * while a consumer reads the same bytes from its source (a backend PUT). The consumer copies straight out of the
 * producer's buffer, so bytes move once; nothing is buffered beyond what the producer holds.
 *
 * body_relay_start() spawns the producer; body_relay_finish() ends the relay from the consumer's side: it stops
 * a producer that is still writing (its write fails with -EPIPE) and waits for it to return. */
#ifndef S3ORCH_BODY_RELAY_H
#define S3ORCH_BODY_RELAY_H

#include <stdbool.h>

#include "coro/coro.h"
#include "util/body.h"

struct body_relay;
/* Runs on the producer coroutine: moves the body into sink, returns 0 or -errno. */
typedef int (*body_relay_fn)(struct body_sink *sink, void *arg);

struct body_relay {
    struct body_source src; /* the consumer's end */
    struct body_sink sink;  /* the producer's end */
    body_relay_fn fn;
    void *arg;
    const char *pending; /* the producer's bytes not yet taken */
    size_t pending_len;
    bool done, closed;
    int result; /* the producer's return, once done */
    struct coro_waitq readers, writers;
    struct coro_wg wg;
    struct coro *producer; /* valid while !done */
};

/* length: what src.length reports (-1 when unknown). */
int body_relay_start(struct body_relay *r, body_relay_fn fn, void *arg, int64_t length);
/* Returns the producer's result (0, or its -errno; -EPIPE when it was stopped early). */
int body_relay_finish(struct body_relay *r);

#endif
