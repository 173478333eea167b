/* Degraded mode (O7): reading while the metadata store cannot be reached. A GET or HEAD is served from the
 * thread's location cache, else from a broadcast that asks every backend for the key's copies; the winner (the
 * newest copy found) is cached. Writes and listings answer 503 ServiceUnavailable meanwhile (s3_service.c). */
#ifndef S3ORCH_S3_DEGRADED_H
#define S3ORCH_S3_DEGRADED_H

#include "s3/s3_service.h"

/* Finds bucket/key without the store: the cache, else a list of "<bucket>/<key>#" on every available backend, one
 * after the other or all at once (circuit_breaker.parallel_broadcast). The object found carries what a backend
 * knows — size, time, ETag where the backend keeps one — not the headers the store holds. 0 with *out owned
 * (store_object_free); -ENOENT when every backend answered and none holds the key; -EHOSTDOWN when one that did
 * not answer might. */
int s3_degraded_locate(const struct s3_service *svc, const char *bucket, const char *key, struct store_object *out);

#endif
