/* One body to several writers at once, on one thread: each branch is a body_source that a coroutine of its own
 * drains into its backend, while the bytes are read from the input only once. Chunks go round in lock step: the
 * branch that finds every live branch done with the current chunk reads the next one into the shared buffer, and
 * each branch copies the chunk out as it writes it. A branch whose write failed leaves, and the others go on
 * without waiting for it; the input's own failure (a bad checksum at the end, a client gone) reaches every branch.
 *
 * Memory: one chunk buffer of BODY_FANOUT_CHUNK bytes, whatever the body's size. */
#ifndef S3ORCH_BODY_FANOUT_H
#define S3ORCH_BODY_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coro/coro.h"
#include "util/body.h"

enum { BODY_FANOUT_MAX = 16, BODY_FANOUT_CHUNK = 256 * 1024 };

struct body_fanout;

struct body_fanout_branch {
    struct body_source src; /* first: what the branch's writer reads */
    struct body_fanout *f;
    uint64_t seq;  /* the chunk this branch is in */
    size_t pos;    /* bytes of it taken */
    bool live;
};

struct body_fanout {
    struct body_source *in;
    char *buf;
    size_t len;   /* bytes in the current chunk */
    uint64_t seq; /* the current chunk's number; 0 before the first */
    bool reading, eof;
    int err;
    size_t n;
    struct coro_waitq waiters;
    struct body_fanout_branch branch[BODY_FANOUT_MAX];
};

/* Sets up n (1..BODY_FANOUT_MAX) branches over in; their sources report in's length. -ENOMEM, -EINVAL. */
int body_fanout_init(struct body_fanout *f, struct body_source *in, size_t n);
/* A branch's writer gave up (its write failed, or it never started): the others stop waiting for it. */
void body_fanout_leave(struct body_fanout_branch *b);
/* Once the writers are done: 0 when the input was read to its end and passed its checks, else its error (-EMSGSIZE
 * when it holds bytes beyond what the writers took). Reads the input's end itself if no branch did. */
int body_fanout_end(struct body_fanout *f);
void body_fanout_free(struct body_fanout *f);

#endif
