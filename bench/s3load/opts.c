/* Command line of s3load. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_units.h"
#include "server/cpu.h"
#include "s3load.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: s3load --bucket NAME [options]\n"
            "\n"
            "  --endpoint URL          http://HOST:PORT of the S3 service (default http://127.0.0.1:9000)\n"
            "  --bucket NAME           bucket to load (path-style requests)\n"
            "  --access-key ID         default $AWS_ACCESS_KEY_ID\n"
            "  --secret-key SECRET     default $AWS_SECRET_ACCESS_KEY\n"
            "  --region NAME           signing region (default us-east-1)\n"
            "  --op put|get|mixed      workload (default mixed)\n"
            "  --get-ratio R           mixed: share of GETs, 0..1 (default 0.9)\n"
            "  --size BYTES            object size: 4096, 4KiB, 1MiB, 64MiB (default 4KiB)\n"
            "  --keys N                key space: PREFIXkey-0 .. key-(N-1) (default 100)\n"
            "  --prefix P              key prefix (default s3load/)\n"
            "  --prepare               upload the N keys first (not timed); GET needs existing objects\n"
            "  --concurrency C         connections, one request in flight each (default 32)\n"
            "  --rate R                open loop: start R requests a second in all, on a fixed schedule, each on a\n"
            "                          free connection; latency counts from the scheduled start (default: closed\n"
            "                          loop, each connection sends its next request when the last one ends)\n"
            "  --threads N             threads, each with its own ring (default: usable CPUs)\n"
            "  --duration DUR          timed phase length (default 10s)\n"
            "  --timeout DUR           bound on every request (default 10s)\n"
            "  --payload unsigned|signed  x-amz-content-sha256: UNSIGNED-PAYLOAD (default) or the body's hash\n"
            "  --keep-alive[=on|off], --no-keep-alive  reuse connections (default on)\n"
            "  --get-sink recv|trunc|splice  how GET bodies are dropped (default trunc; see bench/README.md)\n"
            "  --json                  print one JSON object instead of text\n"
            "\n"
            "Exit status: 0 when every request succeeded, 1 when any failed (or none ran), 2 for bad usage.\n");
}

enum {
    O_ENDPOINT = 1, O_BUCKET, O_AK, O_SK, O_REGION, O_OP, O_RATIO, O_SIZE, O_KEYS, O_PREFIX, O_PREPARE, O_CONC,
    O_THREADS, O_DURATION, O_TIMEOUT, O_PAYLOAD, O_KEEPALIVE, O_NO_KEEPALIVE, O_SINK, O_JSON, O_HELP, O_RATE
};

static int bad(const char *opt, const char *arg, const char *want)
{
    fprintf(stderr, "s3load: --%s: %s, got '%s'\n", opt, want, arg);
    return EXIT_USAGE;
}

static int parse_long(const char *opt, const char *arg, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || errno || v < min) {
        char want[64];
        snprintf(want, sizeof(want), "want a whole number >= %ld", min);
        return bad(opt, arg, want);
    }
    *out = v;
    return 0;
}

/* "http://host[:port][/]" into the Host header and a resolved address. */
static int parse_endpoint(struct opts *o)
{
    const char *p = o->endpoint;
    if (strncmp(p, "http://", 7) != 0)
        return bad("endpoint", p, "want http://HOST[:PORT] (https is not supported)");
    p += 7;
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sizeof(o->host) || (p[n] && strcmp(p + n, "/") != 0))
        return bad("endpoint", o->endpoint, "want http://HOST[:PORT] without a path");
    memcpy(o->host, p, n);
    o->host[n] = 0;

    char host[300];
    const char *port = "80";
    memcpy(host, o->host, n + 1);
    char *colon = strrchr(host, ':');
    if (colon && (host[0] != '[' || colon > strchr(host, ']'))) {
        *colon = 0;
        port = colon + 1;
    }
    char *name = host;
    if (name[0] == '[') {
        name++;
        char *close = strchr(name, ']');
        if (close)
            *close = 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int gai = getaddrinfo(name, port, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "s3load: --endpoint %s: %s\n", o->endpoint, gai_strerror(gai));
        return EXIT_USAGE;
    }
    memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
    o->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int parse_one(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case O_ENDPOINT: o->endpoint = arg; return 0;
    case O_BUCKET: o->bucket = arg; return 0;
    case O_AK: o->access_key = arg; return 0;
    case O_SK: o->secret_key = arg; return 0;
    case O_REGION: o->region = arg; return 0;
    case O_PREFIX: o->prefix = arg; return 0;
    case O_PREPARE: o->prepare = true; return 0;
    case O_JSON: o->json = true; return 0;
    case O_NO_KEEPALIVE: o->keep_alive = false; return 0;
    case O_KEEPALIVE:
        if (!arg || strcmp(arg, "on") == 0)
            o->keep_alive = true;
        else if (strcmp(arg, "off") == 0)
            o->keep_alive = false;
        else
            return bad("keep-alive", arg, "want on or off");
        return 0;
    case O_OP:
        if (strcmp(arg, "put") == 0)
            o->work = WORK_PUT;
        else if (strcmp(arg, "get") == 0)
            o->work = WORK_GET;
        else if (strcmp(arg, "mixed") == 0)
            o->work = WORK_MIXED;
        else
            return bad("op", arg, "want put, get or mixed");
        return 0;
    case O_PAYLOAD:
        if (strcmp(arg, "unsigned") != 0 && strcmp(arg, "signed") != 0)
            return bad("payload", arg, "want unsigned or signed");
        o->signed_payload = arg[0] == 's';
        return 0;
    case O_SINK:
        if (strcmp(arg, "recv") == 0)
            o->sink = HC_SINK_RECV;
        else if (strcmp(arg, "trunc") == 0)
            o->sink = HC_SINK_TRUNC;
        else if (strcmp(arg, "splice") == 0)
            o->sink = HC_SINK_SPLICE;
        else
            return bad("get-sink", arg, "want recv, trunc or splice");
        return 0;
    case O_RATIO: {
        char *end;
        o->get_ratio = strtod(arg, &end);
        if (!*arg || *end || !(o->get_ratio >= 0 && o->get_ratio <= 1))
            return bad("get-ratio", arg, "want a number from 0 to 1");
        return 0;
    }
    case O_SIZE:
        if (config_parse_size(arg, &o->size) < 0)
            return bad("size", arg, "want bytes, e.g. 4096, 4KiB, 1MiB");
        return 0;
    case O_DURATION:
        if (config_parse_duration(arg, &o->duration_ns) < 0 || o->duration_ns <= 0)
            return bad("duration", arg, "want a duration, e.g. 500ms, 10s, 1m");
        return 0;
    case O_TIMEOUT:
        if (config_parse_duration(arg, &o->timeout_ns) < 0 || o->timeout_ns <= 0)
            return bad("timeout", arg, "want a duration, e.g. 500ms, 10s");
        return 0;
    case O_KEYS: return parse_long("keys", arg, 1, &o->keys);
    case O_CONC: return parse_long("concurrency", arg, 1, &o->concurrency);
    case O_THREADS: return parse_long("threads", arg, 1, &o->threads);
    case O_RATE: return parse_long("rate", arg, 1, &o->rate);
    }
    return EXIT_USAGE;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, 0, O_ENDPOINT}, {"bucket", required_argument, 0, O_BUCKET},
        {"access-key", required_argument, 0, O_AK},     {"secret-key", required_argument, 0, O_SK},
        {"region", required_argument, 0, O_REGION},     {"op", required_argument, 0, O_OP},
        {"get-ratio", required_argument, 0, O_RATIO},   {"size", required_argument, 0, O_SIZE},
        {"keys", required_argument, 0, O_KEYS},         {"prefix", required_argument, 0, O_PREFIX},
        {"prepare", no_argument, 0, O_PREPARE},         {"concurrency", required_argument, 0, O_CONC},
        {"threads", required_argument, 0, O_THREADS},   {"duration", required_argument, 0, O_DURATION},
        {"timeout", required_argument, 0, O_TIMEOUT},   {"payload", required_argument, 0, O_PAYLOAD},
        {"keep-alive", optional_argument, 0, O_KEEPALIVE}, {"no-keep-alive", no_argument, 0, O_NO_KEEPALIVE},
        {"get-sink", required_argument, 0, O_SINK},     {"json", no_argument, 0, O_JSON},
        {"rate", required_argument, 0, O_RATE},         {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    *o = (struct opts){
        .endpoint = "http://127.0.0.1:9000",
        .access_key = getenv("AWS_ACCESS_KEY_ID"),
        .secret_key = getenv("AWS_SECRET_ACCESS_KEY"),
        .region = "us-east-1",
        .prefix = "s3load/",
        .work = WORK_MIXED,
        .get_ratio = 0.9,
        .size = 4096,
        .duration_ns = 10 * 1000000000LL,
        .timeout_ns = 10 * 1000000000LL,
        .concurrency = 32,
        .keys = 100,
        .keep_alive = true,
        .sink = HC_SINK_TRUNC,
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == O_HELP) {
            usage(stdout);
            exit(0);
        }
        if (c == '?' || c == ':') {
            usage(stderr);
            return EXIT_USAGE;
        }
        int err = parse_one(o, c, optarg);
        if (err)
            return err;
    }
    if (optind < argc) {
        fprintf(stderr, "s3load: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->bucket || !o->access_key || !o->secret_key) {
        fprintf(stderr, "s3load: %s\n", !o->bucket ? "--bucket is required"
                                                   : "credentials needed: --access-key/--secret-key or "
                                                     "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
        return EXIT_USAGE;
    }
    if (!o->threads) {
        cpu_set_t cpus;
        o->threads = cpu_usable(&cpus);
    }
    /* A thread without a connection would only add a ring. */
    if (o->threads > o->concurrency)
        o->threads = o->concurrency;
    return parse_endpoint(o);
}
