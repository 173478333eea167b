/* What each backend has been asked this calendar month (O2, O3): API calls, bytes read from it (egress) and bytes
 * written to it (ingress), checked against its monthly limits.
 *
 * Counting is on the request path of every ring thread, so each thread counts into a slot of its own: no lock, and
 * no counter that two threads write. A flusher (usage_flush) adds the slots' deltas to the store and takes back
 * the month's totals, which also hold what other instances sharing the store counted; a backend's use is those
 * totals plus what this instance counted since. At a new month the totals start again from the store's (empty)
 * row; calls counted just before the change and flushed after it land in the old month. */
#ifndef S3ORCH_USAGE_H
#define S3ORCH_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "store/store.h"

struct usage;

/* A backend's monthly limits; 0 = unlimited. */
struct usage_limits {
    int64_t api_calls;
    int64_t egress_bytes;
    int64_t ingress_bytes;
};

enum { USAGE_MAX_BACKENDS = STORE_USAGE_MAX, USAGE_MAX_THREADS = 256 };

/* names and limits have n entries (n <= USAGE_MAX_BACKENDS); names are copied. */
int usage_create(struct usage **out, const char *const *names, const struct usage_limits *limits, size_t n);
void usage_free(struct usage *u);

/* Wraps inner so that every call it takes counts for backend `index`: one API call each; the bytes a get or head
 * returns as egress, the bytes a put or part stores as ingress. Takes ownership of inner. */
int backend_usage_wrap(struct backend **out, struct backend *inner, struct usage *u, size_t index);

/* Whether backend i may take one more call writing `bytes` (no API-call or ingress limit reached). */
bool usage_allows_write(const struct usage *u, size_t i, int64_t bytes);
/* Whether backend i may take one more call reading `bytes` (no API-call or egress limit reached). */
bool usage_allows_read(const struct usage *u, size_t i, int64_t bytes);
/* Backend i's latency as this instance sees it: a moving average over its calls that carry little or no body (so
 * the time is the backend's, not the transfer's), in ns; 0 before the first such call. Reads try the faster copy. */
int64_t usage_latency_ns(const struct usage *u, size_t i);
/* The month's use of backend i so far, this instance's unflushed counts included. */
struct store_usage usage_get(const struct usage *u, size_t i);

/* Adds what every thread counted to the store under the month of now_ms (UTC) and takes back that month's totals.
 * Returns the highest fraction of a limit any backend has reached (0 with no limits), or -errno (what was counted
 * stays counted and goes with the next flush). Call from one coroutine or thread at a time. */
double usage_flush(struct usage *u, struct store *s, int64_t now_ms, int *err);

#endif
