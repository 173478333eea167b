/* s3orch: one S3 endpoint over many S3-compatible backends. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_units.h"
#include "server/serve.h"

#define S3ORCH_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out, "usage: s3orch serve [options]\n"
                 "       s3orch validate FILE         check a configuration file\n"
                 "       s3orch init [FILE|-] [--force]  write a commented configuration (default: stdout)\n"
                 "       s3orch version\n"
                 "\n"
                 "serve options:\n"
                 "  --config FILE             configuration file (YAML); the flags below override its server keys\n"
                 "  --data-dir DIR            without --config: where the embedded default keeps its database,\n"
                 "                            disks and credential (default ./s3orch-data)\n"
                 "  --mode all|api|worker     all (default): S3 API and background jobs; api: the S3 API only;\n"
                 "                            worker: background jobs only, listening (for /health) only when\n"
                 "                            --listen is given\n"
                 "  --listen HOST:PORT        address to listen on (default 127.0.0.1:9000; port 0 = any free)\n"
                 "  --threads N               request threads (default: usable CPUs, from affinity and cgroup)\n"
                 "  --max-connections N       open client connections at most (default 10000)\n"
                 "  --header-timeout DUR      time to receive a request head (default 10s)\n"
                 "  --idle-timeout DUR        keep-alive idle time, and longest stall in a body (default 60s)\n"
                 "  --shutdown-timeout DUR    time in-flight requests get on SIGTERM (default 30s)\n"
                 "  --debug-endpoints         enable /_debug/* (tests only)\n"
                 "  --debug-copy-bodies       move object bodies through user space, never splice (benchmarks)\n");
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

static int parse_mode_opt(const char *arg, enum serve_mode *out)
{
    static const char *const names[] = {[SERVE_MODE_ALL] = "all", [SERVE_MODE_API] = "api",
                                        [SERVE_MODE_WORKER] = "worker"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(arg, names[i]) == 0) {
            *out = (enum serve_mode)i;
            return 0;
        }
    fprintf(stderr, "s3orch: --mode: want all, api or worker, got '%s'\n", arg);
    return -1;
}

enum serve_opt {
    OPT_LISTEN = 1, OPT_THREADS, OPT_MAXCONN, OPT_HEADER, OPT_IDLE, OPT_SHUTDOWN, OPT_DEBUG, OPT_COPY_BODIES,
    OPT_HELP, OPT_CONFIG, OPT_DATA_DIR, OPT_MODE
};

/* The config file's server keys, for every option not given on the command line (bit 1 << OPT_x in `given`). */
static void serve_options_from_config(struct serve_options *o, const struct config_server *s, unsigned given)
{
    if (!(given & (1u << OPT_LISTEN)))
        o->listen = o->mode == SERVE_MODE_WORKER ? NULL : s->listen_addr;
    if (!(given & (1u << OPT_THREADS)))
        o->threads = (int)s->threads;
    if (!(given & (1u << OPT_MAXCONN)))
        o->max_connections = (long)s->max_connections;
    if (!(given & (1u << OPT_HEADER)))
        o->http.header_timeout = s->header_timeout;
    if (!(given & (1u << OPT_IDLE)))
        o->http.idle_timeout = s->idle_timeout;
    if (!(given & (1u << OPT_SHUTDOWN)))
        o->http.shutdown_timeout = s->shutdown_timeout;
}

/* --config FILE, or the embedded default under data_dir (whose credential is printed: it is the only way in). */
static int serve_load_config(const char *file, const char *data_dir, struct config **cfg)
{
    if (!file) {
        int err = config_default_embedded(data_dir, cfg);
        if (err < 0) {
            fprintf(stderr, "s3orch: embedded default in %s: %s%s\n", data_dir, strerror(-err),
                    err == -EINVAL ? " (its credentials file is not one s3orch wrote)" : "");
            return 1;
        }
        const struct config_credential *cr = &(*cfg)->buckets[0].credentials[0];
        printf("no --config: embedded default in %s\n"
               "  bucket:            %s\n"
               "  access key id:     %s\n"
               "  secret access key: %s\n",
               data_dir, (*cfg)->buckets[0].name, cr->access_key_id, cr->secret_access_key);
        fflush(stdout);
        return 0;
    }
    struct config_errors errs = {0};
    int err = config_load_file(file, cfg, &errs);
    if (err < 0)
        config_errors_print(&errs, stderr);
    config_errors_free(&errs);
    return err < 0 ? 1 : 0;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"header-timeout", required_argument, NULL, OPT_HEADER},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN},
        {"debug-endpoints", no_argument, NULL, OPT_DEBUG},
        {"debug-copy-bodies", no_argument, NULL, OPT_COPY_BODIES},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"mode", required_argument, NULL, OPT_MODE},
        {"help", no_argument, NULL, OPT_HELP},
        {0, 0, 0, 0},
    };
    struct serve_options o;
    serve_options_default(&o);
    long v;
    int c, bad = 0;
    unsigned given = 0;
    const char *config_file = NULL, *data_dir = NULL;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c > 0 && c < 32)
            given |= 1u << c;
        switch (c) {
        case OPT_LISTEN: o.listen = optarg; break;
        case OPT_THREADS: bad |= parse_count_opt("threads", optarg, 1, &v); o.threads = (int)v; break;
        case OPT_MAXCONN: bad |= parse_count_opt("max-connections", optarg, 1, &o.max_connections); break;
        case OPT_HEADER: bad |= parse_duration_opt("header-timeout", optarg, &o.http.header_timeout); break;
        case OPT_IDLE: bad |= parse_duration_opt("idle-timeout", optarg, &o.http.idle_timeout); break;
        case OPT_SHUTDOWN: bad |= parse_duration_opt("shutdown-timeout", optarg, &o.http.shutdown_timeout); break;
        case OPT_DEBUG: o.debug_endpoints = true; break;
        case OPT_COPY_BODIES: o.http.copy_bodies = true; break;
        case OPT_CONFIG: config_file = optarg; break;
        case OPT_DATA_DIR: data_dir = optarg; break;
        case OPT_MODE: bad |= parse_mode_opt(optarg, &o.mode); break;
        case OPT_HELP: usage(stdout); return 0;
        default: bad = 1;
        }
    }
    if (bad || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (config_file && data_dir) {
        fprintf(stderr, "s3orch: --data-dir applies only without --config (the file names its own paths)\n");
        return 2;
    }
    struct config *cfg = NULL;
    if (serve_load_config(config_file, data_dir ? data_dir : "./s3orch-data", &cfg) != 0)
        return 1;
    serve_options_from_config(&o, &cfg->server, given);
    o.config = cfg;
    int rc = serve_run(&o);
    config_free(cfg); /* after serve_run: o.listen may point into it */
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "validate") == 0)
        return config_cmd_validate(argc - 1, argv + 1);
    if (strcmp(argv[1], "init") == 0)
        return config_cmd_init(argc - 1, argv + 1);
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
