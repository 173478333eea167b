/* `s3orch serve`: the process shape of docs/architecture — request threads (one per usable CPU, pinned, each
 * with its own ring and SO_REUSEPORT listener), one worker thread with its own ring, and the main thread handling
 * signals. */
#ifndef S3ORCH_SERVE_H
#define S3ORCH_SERVE_H

#include <stdbool.h>

#include "config/config.h"
#include "http/http_server.h"

/* What this instance does (M4, P8): everything; the S3 API only, leaving the background jobs to worker instances;
 * or the background jobs only, with no S3 API (and a listener for /health only when given one). */
enum serve_mode { SERVE_MODE_ALL, SERVE_MODE_API, SERVE_MODE_WORKER };

struct serve_options {
    enum serve_mode mode;
    const char *listen; /* "host:port"; port 0 picks a free one; NULL (worker mode only): no listener */
    int threads;        /* request threads; 0 = usable CPUs */
    long max_connections;
    bool debug_endpoints;
    struct http_server_config http;
    const struct config *config; /* buckets and credentials for the S3 API; owned by the caller */
};

void serve_options_default(struct serve_options *o);
/* Runs until SIGTERM/SIGINT and a graceful drain; returns the process exit code. */
int serve_run(const struct serve_options *o);

#endif
