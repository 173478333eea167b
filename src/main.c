/* s3orch: one S3 endpoint over many S3-compatible backends. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_units.h"
#include "server/serve.h"

#define S3ORCH_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out, "usage: s3orch serve [options]\n"
                 "       s3orch version\n"
                 "\n"
                 "serve options:\n"
                 "  --listen HOST:PORT        address to listen on (default 127.0.0.1:9000; port 0 = any free)\n"
                 "  --threads N               request threads (default: usable CPUs, from affinity and cgroup)\n"
                 "  --max-connections N       open client connections at most (default 10000)\n"
                 "  --header-timeout DUR      time to receive a request head (default 10s)\n"
                 "  --idle-timeout DUR        keep-alive idle time, and longest stall in a body (default 60s)\n"
                 "  --shutdown-timeout DUR    time in-flight requests get on SIGTERM (default 30s)\n"
                 "  --debug-endpoints         enable /_debug/* (tests only)\n");
}

static int parse_duration_opt(const char *name, const char *arg, int64_t *out)
{
    if (config_parse_duration(arg, out) == 0 && *out > 0)
        return 0;
    fprintf(stderr, "s3orch: --%s: bad duration '%s' (e.g. 500ms, 10s, 5m)\n", name, arg);
    return -1;
}

static int parse_count_opt(const char *name, const char *arg, long min, long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg && !*end && v >= min) {
        *out = v;
        return 0;
    }
    fprintf(stderr, "s3orch: --%s: want a whole number >= %ld, got '%s'\n", name, min, arg);
    return -1;
}

static int cmd_serve(int argc, char **argv)
{
    enum { OPT_LISTEN = 1, OPT_THREADS, OPT_MAXCONN, OPT_HEADER, OPT_IDLE, OPT_SHUTDOWN, OPT_DEBUG, OPT_HELP };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"header-timeout", required_argument, NULL, OPT_HEADER},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN},
        {"debug-endpoints", no_argument, NULL, OPT_DEBUG},
        {"help", no_argument, NULL, OPT_HELP},
        {0, 0, 0, 0},
    };
    struct serve_options o;
    serve_options_default(&o);
    long v;
    int c, bad = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: o.listen = optarg; break;
        case OPT_THREADS: bad |= parse_count_opt("threads", optarg, 1, &v); o.threads = (int)v; break;
        case OPT_MAXCONN: bad |= parse_count_opt("max-connections", optarg, 1, &o.max_connections); break;
        case OPT_HEADER: bad |= parse_duration_opt("header-timeout", optarg, &o.http.header_timeout); break;
        case OPT_IDLE: bad |= parse_duration_opt("idle-timeout", optarg, &o.http.idle_timeout); break;
        case OPT_SHUTDOWN: bad |= parse_duration_opt("shutdown-timeout", optarg, &o.http.shutdown_timeout); break;
        case OPT_DEBUG: o.debug_endpoints = true; break;
        case OPT_HELP: usage(stdout); return 0;
        default: bad = 1;
        }
    }
    if (bad || optind != argc) {
        usage(stderr);
        return 2;
    }
    return serve_run(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("s3orch %s\n", S3ORCH_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "s3orch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
