/* Where new bytes go (O1, O2): the service's backends with their byte quotas, what each holds and what writes in
 * flight have reserved on it. Shared by every ring thread: the counters are atomics and a reservation is one
 * compare-and-swap, so writers racing for a backend's last free bytes never push it past its quota.
 *
 * A write reserves before it reads the body (so a client that waits for 100-continue is refused before it sends
 * anything), then commits the reservation once the store committed the object, or releases it. Bytes leave a
 * backend's account only when the copy is deleted from the backend (a displaced copy waiting in the cleanup
 * queue still takes space there). */
#ifndef S3ORCH_PLACEMENT_H
#define S3ORCH_PLACEMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "backend/usage.h"

enum placement_strategy {
    PLACEMENT_PACK,     /* the first backend in config order with room */
    PLACEMENT_SPREAD,   /* the lowest utilisation (held / quota; bytes held where there is no quota) */
    PLACEMENT_WEIGHTED, /* at random, in proportion to the backends' weights */
};

struct placement_backend_config {
    int64_t quota_bytes; /* 0 = unlimited */
    int64_t weight;      /* PLACEMENT_WEIGHTED: 0 = never chosen */
};

struct placement;

/* A reservation: `bytes` on backends[index]. */
struct placement_slot {
    struct backend *backend;
    size_t index;
    int64_t bytes;
};

enum { PLACEMENT_MAX_BACKENDS = 64 };

/* backends and cfg have n entries (n <= PLACEMENT_MAX_BACKENDS), in config order; backends stay the caller's.
 * usage (NULL: none), counting the same backends in the same order, rules out backends at a monthly limit. */
int placement_create(struct placement **out, struct backend *const *backends,
                     const struct placement_backend_config *cfg, size_t n, enum placement_strategy strategy,
                     const struct usage *usage);
void placement_free(struct placement *p);

/* Marks the named backend draining (it takes no new objects; parts of uploads already on it still go there) or
 * active again. Unknown names are ignored. */
void placement_set_draining(struct placement *p, const char *backend, bool draining);
bool placement_is_draining(const struct placement *p, const char *backend);
/* Adds bytes a backend holds already (start-up, from store_backend_usage). Unknown names are ignored. */
void placement_add_held(struct placement *p, const char *backend, int64_t bytes);
/* Bytes the named backend holds plus those reserved on it; -1 for an unknown name. */
int64_t placement_used(const struct placement *p, const char *backend);

/* Chooses a backend for `bytes` by the strategy among those not in `skip` (bit i: backends[i]), not draining,
 * available (breaker not open), under their monthly limits and with room, and reserves the bytes on it. -ENOSPC when none has room,
 * -EHOSTDOWN when every backend with room is unavailable, -EDQUOT when every one left is at a monthly limit. */
int placement_reserve(struct placement *p, int64_t bytes, uint64_t skip, struct placement_slot *out);
/* Reserves `bytes` on one given backend (multipart parts go where their upload is); -ENOSPC without room. */
int placement_reserve_on(struct placement *p, const char *backend, int64_t bytes, struct placement_slot *out);
/* The write is stored: the reservation becomes held bytes (`stored`, what the backend holds, may differ). */
void placement_commit(struct placement *p, struct placement_slot *slot, int64_t stored);
/* The write failed or was abandoned: the reservation goes. A zeroed slot is fine. */
void placement_release(struct placement *p, struct placement_slot *slot);
/* A copy of `bytes` was deleted from the named backend. */
void placement_freed(struct placement *p, const char *backend, int64_t bytes);

#endif
