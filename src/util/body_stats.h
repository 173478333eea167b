/* Bytes of object bodies by the path they took, so tests and benchmarks can see that a transfer went the
 * zero-copy way (strace cannot see io_uring's splices): request bodies read by splice or through user space,
 * response bodies spliced or written. Process-wide, relaxed atomics: one add per chunk moved. */
#ifndef S3ORCH_BODY_STATS_H
#define S3ORCH_BODY_STATS_H

#include <stdint.h>

enum body_path {
    BODY_PUT_SPLICE, /* request body moved socket → pipe → socket/file */
    BODY_PUT_COPY,   /* request body read into user space */
    BODY_GET_SPLICE, /* response body spliced into the client socket */
    BODY_GET_COPY,   /* response body written from user space */
    BODY_PATH_COUNT
};

void body_stats_add(enum body_path path, uint64_t n);
uint64_t body_stats_get(enum body_path path);
/* "put_splice" … */
const char *body_stats_name(enum body_path path);

#endif
