/* Where objects live, remembered per thread for degraded mode (O7): while the metadata store cannot be reached, a
 * GET or HEAD is served from the last lookup this thread made of the key, when it is younger than its time to live
 * (circuit_breaker.cache_ttl, with up to a tenth of jitter so entries made together do not expire together).
 *
 * Each ring thread has its own table (no lock): a bounded number of entries, the stalest replaced first. It is read
 * only while the store is down, so an entry another thread's write made stale matters only then, for one TTL. */
#ifndef S3ORCH_S3_LOCATION_CACHE_H
#define S3ORCH_S3_LOCATION_CACHE_H

#include <stdint.h>

#include "store/store.h"

enum { S3_LOCATION_CACHE_SLOTS = 4096 };

/* Remembers a copy of o for ttl_ns (0: remembers nothing). */
void s3_location_remember(const struct store_object *o, int64_t ttl_ns);
/* 0 with *out (owned: store_object_free) when this thread remembers bucket/key and the entry is fresh; else
 * -ENOENT (or -ENOMEM). */
int s3_location_recall(const char *bucket, const char *key, struct store_object *out);
void s3_location_forget(const char *bucket, const char *key);
/* Frees this thread's table (thread exit). */
void s3_location_clear(void);

#endif
