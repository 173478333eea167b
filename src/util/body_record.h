/* A body kept as it is read, so a write that failed part-way can be sent again elsewhere (write failover, O4):
 * a source that reads through to another and keeps a copy of every byte, and a source over that copy.
 * For bodies small enough to hold (write_failover.buffer_limit); the caller picks which. */
#ifndef S3ORCH_BODY_RECORD_H
#define S3ORCH_BODY_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/body.h"

struct body_record {
    struct body_source src; /* first: reads inner, keeping the bytes */
    struct body_source *inner;
    char *buf;
    size_t len, cap;
    bool ended; /* inner said 0: it was read whole and passed its checks */
    int err;    /* inner's failure, if any */
};

/* Records a body of `size` bytes (the buffer is made now). -ENOMEM. */
int body_record_init(struct body_record *r, struct body_source *inner, size_t size);
/* Reads what is left of inner into the record (after a write stopped part-way). 0 once inner ended cleanly, else
 * its error, or -EMSGSIZE when it holds more than size. */
int body_record_finish(struct body_record *r);
void body_record_free(struct body_record *r);

/* The recorded bytes as a new source (valid while r is). */
struct body_replay {
    struct body_source src;
    const struct body_record *r;
    size_t pos;
};
void body_replay_init(struct body_replay *p, const struct body_record *r);

#endif
