/* s3load: a SigV4-signed S3 load generator on s3orch's coroutine runtime. Each thread runs its own scheduler with
 * its share of --concurrency coroutines; each coroutine owns one connection and sends one request at a time. */
#ifndef S3LOAD_H
#define S3LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hc.h"
#include "hist.h"

enum op { OP_GET, OP_PUT, OP_COUNT };
enum workload { WORK_PUT, WORK_GET, WORK_MIXED };

struct opts {
    const char *endpoint, *bucket, *access_key, *secret_key, *region, *prefix;
    enum workload work;
    double get_ratio;
    int64_t size, duration_ns, timeout_ns;
    long concurrency, keys, threads;
    long rate; /* requests a second, open loop; 0: closed loop */
    bool prepare, signed_payload, keep_alive, json;
    enum hc_sink sink;
    /* Derived from endpoint. */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host[300]; /* the Host header: what the endpoint URL wrote between "//" and the path */
};

/* Exit codes. */
enum { EXIT_ERRORS = 1, EXIT_USAGE = 2 };

/* Returns 0, or EXIT_USAGE after printing why. */
int opts_parse(struct opts *o, int argc, char **argv);

/* Failures other than a status: transport and framing. */
enum fail { FAIL_TIMEOUT, FAIL_CONNECT, FAIL_IO, FAIL_PROTOCOL, FAIL_LENGTH, FAIL_COUNT };

struct stats {
    uint64_t ok[OP_COUNT], bytes[OP_COUNT];
    uint64_t status[600]; /* failed requests by response status */
    uint64_t fail[FAIL_COUNT];
    uint64_t late; /* requests that ended after the phase did: neither counted nor failed */
    struct hist lat[OP_COUNT]; /* successful requests only */
};

void stats_init(struct stats *s);
void stats_merge(struct stats *into, const struct stats *from);
uint64_t stats_errors(const struct stats *s);
const char *fail_name(enum fail f);

/* A phase's figures: the prepare uploads or the timed run. */
struct result {
    const char *phase; /* "prepare" or "run" */
    double seconds, cpu_seconds;
    unsigned threads;
    long concurrency;
    struct stats st;
};

/* Runs the prepare phase (when asked) then the timed one across o->threads threads. *prep gets the prepare phase's
 * figures, *run the timed one's. Returns 0, or -errno when the threads could not start. *ran_timed says whether the
 * timed phase ran (it does not when prepare failed). */
int load_run(const struct opts *o, struct result *prep, struct result *run, bool *ran_timed);

void report_text(const struct opts *o, const struct result *r);
void report_json(const struct opts *o, const struct result *prep, const struct result *r);

#endif
