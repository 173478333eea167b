/* The configuration module: the example of config.md, defaults, every error class at its exact key path, errors
 * reported together, ${VAR} expansion, suggestions, the `init` output, and the embedded default's credential. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_check.h"
#include "config/config_schema.h"
#include "unit.h"

static const char base_buckets[] = "buckets:\n"
                                   "  - name: photos\n"
                                   "    credentials:\n"
                                   "      - access_key_id: PHOTOSKEY\n"
                                   "        secret_access_key: photos-secret\n";
static const char base_backends[] = "backends:\n"
                                    "  - name: disk1\n"
                                    "    type: fs\n"
                                    "    path: /tmp/d1\n";

/* base_buckets + base_backends + extra, in a buffer the caller frees. */
static char *with_base(const char *extra)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", base_buckets, base_backends, extra) < 0)
        abort();
    return s;
}

static struct config *load_ok(const char *yaml)
{
    struct config_errors errs = {0};
    struct config *cfg = NULL;
    int rc = config_load_string(yaml, strlen(yaml), &cfg, &errs);
    if (rc != 0)
        config_errors_print(&errs, stderr);
    CHECK_EQ(rc, 0);
    CHECK_EQ(errs.count, 0);
    config_errors_free(&errs);
    return cfg;
}

/* Loads yaml, which must fail with an error at exactly `path` whose message contains `needle`; line > 0 is checked
 * too. Returns whether it did, so a failing case prints its input. */
static int expect_error_at(const char *yaml, const char *path, const char *needle, int line)
{
    struct config_errors errs = {0};
    struct config *cfg = (struct config *)1;
    int rc = config_load_string(yaml, strlen(yaml), &cfg, &errs);
    const struct config_error *e = config_errors_find(&errs, path);
    int ok = rc == -EINVAL && cfg == NULL && e && strstr(e->message, needle) && (line <= 0 || e->line == line);
    if (!ok) {
        fprintf(stderr, "    want %s: ...%s... (line %d); rc=%d; got:\n", path, needle, line, rc);
        config_errors_print(&errs, stderr);
        fprintf(stderr, "    --- input ---\n%s    ---\n", yaml);
    }
    config_errors_free(&errs);
    return ok;
}

static int expect_error(const char *yaml, const char *path, const char *needle)
{
    return expect_error_at(yaml, path, needle, 0);
}

/* expect_error() on base + extra. */
static int expect_extra_error(const char *extra, const char *path, const char *needle)
{
    char *yaml = with_base(extra);
    int ok = expect_error(yaml, path, needle);
    free(yaml);
    return ok;
}

/* --- the example ----------------------------------------------------------------------------------------------- */

static const char spec_example[] =
    "server:\n"
    "  listen_addr: \"127.0.0.1:9000\"      # --listen overrides\n"
    "  threads: 0\n"
    "  max_object_size: 5GiB\n"
    "  virtual_host_domains: [\"s3.example.com\"]\n"
    "  max_connections: 10000\n"
    "  header_timeout: 10s\n"
    "  idle_timeout: 60s\n"
    "  backend_timeout: 30s\n"
    "  shutdown_timeout: 30s\n"
    "  tls: { cert_file: \"\", key_file: \"\", client_ca_file: \"\", min_version: \"1.2\" }\n"
    "\n"
    "database:\n"
    "  driver: sqlite\n"
    "  path: ./s3orch-data/meta.db\n"
    "  dsn: \"\"\n"
    "  max_conns_per_thread: 2\n"
    "\n"
    "buckets:\n"
    "  - name: photos\n"
    "    quota_bytes: 0\n"
    "    placement: { distinct: [provider], require: {}, exclude: { provider: aws } }\n"
    "    credentials:\n"
    "      - access_key_id: PHOTOSKEY\n"
    "        secret_access_key: \"${PHOTOS_SECRET}\"\n"
    "        permission: read-write\n"
    "        create_buckets: false\n"
    "      - access_key_id: PHOTOSREADER\n"
    "        secret_access_key: reader-secret\n"
    "        permission: read-only\n"
    "        create_buckets: true\n"
    "\n"
    "routing_strategy: weighted\n"
    "\n"
    "backends:\n"
    "  - name: local1\n"
    "    type: fs\n"
    "    path: ./s3orch-data/local1\n"
    "    durability: fsync\n"
    "    quota_bytes: 0\n"
    "    labels: { provider: local }\n"
    "  - name: r2\n"
    "    type: s3\n"
    "    endpoint: \"https://ACCOUNT.r2.cloudflarestorage.com\"\n"
    "    region: auto\n"
    "    bucket: my-bucket\n"
    "    access_key_id: \"${R2_AK}\"\n"
    "    secret_access_key: \"${R2_SK}\"\n"
    "    force_path_style: true\n"
    "    ca_file: \"\"\n"
    "    unsigned_payload: true\n"
    "    disable_checksum: false\n"
    "    strip_sdk_headers: false\n"
    "    quota_bytes: 10GiB\n"
    "    api_request_limit: 1000000\n"
    "    egress_byte_limit: 10GiB\n"
    "    ingress_byte_limit: 0\n"
    "    weight: 3\n"
    "    labels: { provider: cloudflare, region: auto }\n"
    "\n"
    "replication:\n"
    "  factor: 2\n"
    "  mode: sync\n"
    "  write_quorum: 1\n"
    "  worker_interval: 5m\n"
    "  batch_size: 50\n"
    "  concurrency: 5\n"
    "  unhealthy_threshold: 10m\n"
    "\n"
    "circuit_breaker:\n"
    "  failure_threshold: 3\n"
    "  open_timeout: 15s\n"
    "  cache_ttl: 60s\n"
    "  parallel_broadcast: false\n"
    "\n"
    "backend_circuit_breaker: { enabled: true, failure_threshold: 5, open_timeout: 5m }\n"
    "\n"
    "admission: { max_concurrent_requests: 1000, max_concurrent_reads: 0, max_concurrent_writes: 0, "
    "load_shed_threshold: 0.9 }\n"
    "rate_limit: { enabled: false, requests_per_sec: 100, burst: 200, trusted_proxies: [10.0.0.0/8, \"::1\"] }\n"
    "write_failover: { buffer_limit: 8MiB }\n"
    "\n"
    "usage_flush: { interval: 30s, adaptive_enabled: true, adaptive_threshold: 0.8, fast_interval: 5s }\n"
    "cleanup_queue: { concurrency: 10, max_attempts: 10, multipart_stale_timeout: 24h }\n"
    "rebalance: { enabled: false, strategy: spread, interval: 6h, batch_size: 100, threshold: 0.1, concurrency: 5 }\n"
    "reconcile: { enabled: false, interval: 24h }\n"
    "lifecycle: { interval: 1h, rules: [ { bucket: photos, prefix: \"tmp/\", expiration_days: 7 } ] }\n"
    "integrity: { enabled: false, verify_on_read: false, scrubber_interval: 6h }\n"
    "encryption: { enabled: false, master_key: \"\", master_key_file: \"\", previous_keys: [], chunk_size: 64KiB }\n"
    "\n"
    "telemetry:\n"
    "  metrics: { enabled: true, path: /metrics, listen: \"\" }   # empty listen = same listener\n"
    "  log: { level: info, format: json, audit: false }\n"
    "admin: { token: \"${S3ORCH_ADMIN_TOKEN}\" }\n"
    "ui: { enabled: false, admin_key: \"\", admin_secret: \"\", session_secret: \"\" }\n";

static void set_example_env(void)
{
    setenv("PHOTOS_SECRET", "photos-secret-value", 1);
    setenv("R2_AK", "r2-access-key", 1);
    setenv("R2_SK", "r2-secret-key-value", 1);
    setenv("S3ORCH_ADMIN_TOKEN", "admin-token-0123456789", 1);
}

static void test_spec_example(void)
{
    set_example_env();
    struct config *c = load_ok(spec_example);
    if (!c)
        return;
    CHECK_STR(c->server.listen_addr, "127.0.0.1:9000");
    CHECK_EQ(c->server.max_object_size, 5LL << 30);
    CHECK_EQ(c->server.virtual_host_domains.n, 1);
    CHECK_STR(c->server.virtual_host_domains.items[0], "s3.example.com");
    CHECK_EQ(c->server.header_timeout, 10000000000LL);
    CHECK_EQ(c->server.tls.min_version, CONFIG_TLS_1_2);
    CHECK_EQ(c->database.driver, CONFIG_DB_SQLITE);
    CHECK_EQ(c->nbuckets, 1);
    CHECK_STR(c->buckets[0].name, "photos");
    CHECK_EQ(c->buckets[0].ncredentials, 2);
    CHECK_STR(c->buckets[0].credentials[0].secret_access_key, "photos-secret-value");
    CHECK_EQ(c->buckets[0].credentials[1].permission, CONFIG_PERM_READ_ONLY);
    CHECK(c->buckets[0].credentials[1].create_buckets);
    CHECK_EQ(c->buckets[0].placement.distinct.n, 1);
    CHECK_EQ(c->buckets[0].placement.exclude.n, 1);
    CHECK_STR(c->buckets[0].placement.exclude.items[0].value, "aws");
    CHECK_EQ(c->routing_strategy, CONFIG_ROUTE_WEIGHTED);
    CHECK_EQ(c->nbackends, 2);
    CHECK_EQ(c->backends[0].type, CONFIG_BACKEND_FS);
    CHECK_STR(c->backends[0].path, "./s3orch-data/local1");
    CHECK_EQ(c->backends[1].type, CONFIG_BACKEND_S3);
    CHECK_STR(c->backends[1].access_key_id, "r2-access-key");
    CHECK_STR(c->backends[1].region, "auto");
    CHECK(c->backends[1].force_path_style);
    CHECK(c->backends[1].unsigned_payload);
    CHECK_EQ(c->backends[1].quota_bytes, 10LL << 30);
    CHECK_EQ(c->backends[1].api_request_limit, 1000000);
    CHECK_EQ(c->backends[1].weight, 3);
    CHECK_EQ(c->backends[1].labels.n, 2);
    CHECK_STR(c->backends[1].labels.items[1].key, "region");
    CHECK_EQ(c->replication.factor, 2);
    CHECK_EQ(c->replication.mode, CONFIG_REPL_SYNC);
    CHECK_EQ(c->replication.worker_interval, 300000000000LL);
    CHECK(c->backend_circuit_breaker.enabled);
    CHECK_EQ(c->backend_circuit_breaker.open_timeout, 300000000000LL);
    CHECK(c->admission.load_shed_threshold > 0.89 && c->admission.load_shed_threshold < 0.91);
    CHECK_EQ(c->rate_limit.trusted_proxies.n, 2);
    CHECK_EQ(c->write_failover.buffer_limit, 8LL << 20);
    CHECK_EQ(c->rebalance.strategy, CONFIG_REBALANCE_SPREAD);
    CHECK_EQ(c->cleanup_queue.multipart_stale_timeout, 24LL * 3600 * 1000000000LL);
    CHECK_EQ(c->lifecycle.nrules, 1);
    CHECK_STR(c->lifecycle.rules[0].prefix, "tmp/");
    CHECK_EQ(c->lifecycle.rules[0].expiration_days, 7);
    CHECK_EQ(c->encryption.chunk_size, 64 * 1024);
    CHECK_STR(c->telemetry.metrics.path, "/metrics");
    CHECK_EQ(c->telemetry.log.level, CONFIG_LOG_INFO);
    CHECK_STR(c->admin.token, "admin-token-0123456789");
    config_free(c);
}

/* --- defaults -------------------------------------------------------------------------------------------------- */

static void test_defaults(void)
{
    struct config *c = load_ok("# minimal\nbuckets:\n  - name: photos\n    credentials:\n"
                               "      - { access_key_id: PHOTOSKEY, secret_access_key: photos-secret }\n"
                               "backends:\n  - { name: disk1, type: fs, path: /tmp/d1 }\n"
                               "server:\n  tls:\ndatabase: ~\n");
    if (!c)
        return;
    CHECK_STR(c->server.listen_addr, "127.0.0.1:9000");
    CHECK_EQ(c->server.threads, 0);
    CHECK_EQ(c->server.max_object_size, 5LL << 30);
    CHECK_EQ(c->server.max_connections, 10000);
    CHECK_EQ(c->server.header_timeout, 10000000000LL);
    CHECK_EQ(c->server.idle_timeout, 60000000000LL);
    CHECK_EQ(c->server.backend_timeout, 30000000000LL);
    CHECK_EQ(c->server.shutdown_timeout, 30000000000LL);
    CHECK_STR(c->server.tls.cert_file, "");
    CHECK_EQ(c->database.driver, CONFIG_DB_SQLITE);
    CHECK_STR(c->database.path, "./s3orch-data/meta.db");
    CHECK_EQ(c->database.max_conns_per_thread, 2);
    CHECK_EQ(c->buckets[0].quota_bytes, 0);
    CHECK_EQ(c->buckets[0].credentials[0].permission, CONFIG_PERM_READ_WRITE);
    CHECK(!c->buckets[0].credentials[0].create_buckets);
    CHECK_EQ(c->routing_strategy, CONFIG_ROUTE_PACK);
    CHECK_EQ(c->backends[0].durability, CONFIG_DURABILITY_FSYNC);
    CHECK_EQ(c->backends[0].weight, 1);
    CHECK_STR(c->backends[0].region, "us-east-1");
    CHECK_EQ(c->replication.factor, 1);
    CHECK_EQ(c->replication.mode, CONFIG_REPL_ASYNC);
    CHECK_EQ(c->replication.worker_interval, 300000000000LL);
    CHECK_EQ(c->replication.batch_size, 50);
    CHECK_EQ(c->replication.unhealthy_threshold, 600000000000LL);
    CHECK_EQ(c->circuit_breaker.failure_threshold, 3);
    CHECK_EQ(c->circuit_breaker.open_timeout, 15000000000LL);
    CHECK_EQ(c->circuit_breaker.cache_ttl, 60000000000LL);
    CHECK(c->backend_circuit_breaker.enabled);
    CHECK_EQ(c->backend_circuit_breaker.failure_threshold, 5);
    CHECK_EQ(c->admission.max_concurrent_requests, 1000);
    CHECK(!c->rate_limit.enabled);
    CHECK(c->rate_limit.requests_per_sec == 100);
    CHECK_EQ(c->rate_limit.burst, 200);
    CHECK_EQ(c->write_failover.buffer_limit, 8LL << 20);
    CHECK_EQ(c->usage_flush.interval, 30000000000LL);
    CHECK(c->usage_flush.adaptive_enabled);
    CHECK(c->usage_flush.adaptive_threshold == 0.8);
    CHECK_EQ(c->usage_flush.fast_interval, 5000000000LL);
    CHECK_EQ(c->cleanup_queue.concurrency, 10);
    CHECK_EQ(c->cleanup_queue.max_attempts, 10);
    CHECK(!c->rebalance.enabled);
    CHECK_EQ(c->rebalance.strategy, CONFIG_REBALANCE_PACK);
    CHECK_EQ(c->rebalance.interval, 6LL * 3600 * 1000000000LL);
    CHECK(c->rebalance.threshold == 0.1);
    CHECK_EQ(c->reconcile.interval, 24LL * 3600 * 1000000000LL);
    CHECK_EQ(c->lifecycle.interval, 3600LL * 1000000000LL);
    CHECK_EQ(c->lifecycle.nrules, 0);
    CHECK_EQ(c->integrity.scrubber_interval, 6LL * 3600 * 1000000000LL);
    CHECK(!c->encryption.enabled);
    CHECK_EQ(c->encryption.chunk_size, 65536);
    CHECK(c->telemetry.metrics.enabled);
    CHECK_STR(c->telemetry.metrics.path, "/metrics");
    CHECK_EQ(c->telemetry.log.format, CONFIG_LOG_JSON);
    CHECK_STR(c->admin.token, "");
    CHECK(!c->ui.enabled);
    config_free(c);
}

/* The table's defaults parse, and alone they break only the "need at least one" rules. */
static void test_default_table(void)
{
    struct config *c;
    CHECK_EQ(config_new_default(&c), 0);
    struct config_errors errs = {0};
    CHECK_EQ(config_validate(c, &errs), -EINVAL);
    CHECK_EQ(errs.count, 2);
    CHECK(config_errors_find(&errs, "buckets"));
    CHECK(config_errors_find(&errs, "backends"));
    CHECK_EQ(errs.items[0].line, 0);
    config_errors_free(&errs);
    config_free(c);
}

/* --- error classes ------------------------------------------------------------------------------------------------ */

static void test_unknown_keys(void)
{
    CHECK(expect_extra_error("serverr: {}\n", "serverr", "unknown key (did you mean 'server'?)"));
    CHECK(expect_extra_error("server: { threds: 2 }\n", "server.threds", "did you mean 'threads'?"));
    CHECK(expect_extra_error("server: { zzzzzzzz: 2 }\n", "server.zzzzzzzz", "unknown key"));
    CHECK(expect_extra_error("telemetry: { log: { levle: debug } }\n", "telemetry.log.levle",
                             "did you mean 'level'?"));
    CHECK(expect_error("buckets:\n  - name: photos\n    credentials:\n"
                       "      - { access_key_id: PHOTOSKEY, secret_acess_key: photos-secret }\n"
                       "backends:\n  - { name: d, type: fs, path: /d, quota_byte: 5 }\n",
                       "backends[0].quota_byte", "did you mean 'quota_bytes'?"));
    CHECK(expect_error("buckets:\n  - name: photos\n    credentials:\n"
                       "      - { access_key_id: PHOTOSKEY, secret_acess_key: photos-secret }\n"
                       "backends:\n  - { name: d, type: fs, path: /d }\n",
                       "buckets[0].credentials[0].secret_acess_key", "did you mean 'secret_access_key'?"));
    /* Nothing close: no suggestion. */
    struct config_errors errs = {0};
    struct config *c;
    char *y = with_base("frobnicate: 1\n");
    CHECK_EQ(config_load_string(y, strlen(y), &c, &errs), -EINVAL);
    CHECK(errs.count == 1 && strcmp(errs.items[0].message, "unknown key") == 0);
    free(y);
    config_errors_free(&errs);
}

static void test_type_errors(void)
{
    CHECK(expect_extra_error("server: 5\n", "server", "want a mapping"));
    CHECK(expect_extra_error("server: [1, 2]\n", "server", "want a mapping (key: value), got a list"));
    CHECK(expect_extra_error("server: { threads: [1] }\n", "server.threads", "want a single value, got a list"));
    CHECK(expect_extra_error("server: { threads: many }\n", "server.threads", "want a whole number, got 'many'"));
    CHECK(expect_extra_error("server: { threads: 1.5 }\n", "server.threads", "want a whole number"));
    CHECK(expect_extra_error("server: { threads: 99999999999999999999 }\n", "server.threads", "out of range"));
    CHECK(expect_extra_error("rate_limit: { enabled: yes }\n", "rate_limit.enabled", "want true or false, got 'yes'"));
    CHECK(expect_extra_error("admission: { load_shed_threshold: lots }\n", "admission.load_shed_threshold",
                             "want a number"));
    CHECK(expect_extra_error("server: { virtual_host_domains: s3.example.com }\n", "server.virtual_host_domains",
                             "want a list"));
    CHECK(expect_extra_error("server: { virtual_host_domains: [ [a] ] }\n", "server.virtual_host_domains[0]",
                             "want a single value"));
    CHECK(expect_extra_error("lifecycle: { rules: [ 5 ] }\n", "lifecycle.rules[0]", "want a mapping"));
    CHECK(expect_extra_error("lifecycle: { rules: { bucket: photos } }\n", "lifecycle.rules", "want a list"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d, labels: [a, b] } ]\n",
                       "backends[0].labels", "want a mapping of labels"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d, labels: { zone: [a] } } ]\n",
                       "backends[0].labels.zone", "want a single value"));
    CHECK(expect_error("- just\n- a list\n", "", "must be a mapping of sections"));
}

static void test_value_errors(void)
{
    /* sizes and durations */
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret } ] } ]\n"
                       "backends:\n  - { name: a, type: fs, path: /a }\n  - { name: b, type: fs, path: /b }\n"
                       "  - { name: c, type: fs, path: /c, quota_bytes: 10XB }\n",
                       "backends[2].quota_bytes", "bad size '10XB'"));
    CHECK(expect_extra_error("server: { idle_timeout: 10 }\n", "server.idle_timeout", "bad duration '10'"));
    CHECK(expect_extra_error("server: { idle_timeout: -5s }\n", "server.idle_timeout", "out of range"));
    CHECK(expect_extra_error("server: { idle_timeout: 0 }\n", "server.idle_timeout", "must be more than 0"));
    CHECK(expect_extra_error("server: { max_object_size: 0 }\n", "server.max_object_size", "must be from 1 to 5TiB"));
    CHECK(expect_extra_error("write_failover: { buffer_limit: 1 TiB }\n", "write_failover.buffer_limit",
                             "bad size"));
    CHECK(expect_extra_error("encryption: { chunk_size: 1KiB }\n", "encryption.chunk_size",
                             "must be from 4KiB to 16MiB"));
    /* number bounds */
    CHECK(expect_extra_error("server: { max_connections: 0 }\n", "server.max_connections", "must be from 1 to"));
    CHECK(expect_extra_error("replication: { batch_size: -1 }\n", "replication.batch_size", "must be from 1 to"));
    CHECK(expect_extra_error("rebalance: { threshold: 2 }\n", "rebalance.threshold", "must be from 0 to 1"));
    /* enums, each with its suggestion */
    CHECK(expect_extra_error("routing_strategy: packk\n", "routing_strategy",
                             "want one of pack, spread, weighted; got 'packk' (did you mean 'pack'?)"));
    CHECK(expect_extra_error("database: { driver: postgress }\n", "database.driver", "did you mean 'postgres'?"));
    CHECK(expect_extra_error("replication: { mode: synchronous }\n", "replication.mode", "want one of async, sync"));
    CHECK(expect_extra_error("telemetry: { log: { level: verbose } }\n", "telemetry.log.level",
                             "want one of debug, info, warn, error"));
    CHECK(expect_extra_error("telemetry: { log: { format: jsn } }\n", "telemetry.log.format",
                             "did you mean 'json'?"));
    CHECK(expect_extra_error("server: { tls: { min_version: \"1.1\" } }\n", "server.tls.min_version",
                             "want one of 1.2, 1.3"));
    CHECK(expect_extra_error("rebalance: { strategy: weighted }\n", "rebalance.strategy", "want one of pack, spread"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret, permission: write } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d } ]\n",
                       "buckets[0].credentials[0].permission", "want one of read-write, read-only"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: ftp, path: /d } ]\n",
                       "backends[0].type", "want one of fs, s3; got 'ftp'"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d, durability: always } ]\n",
                       "backends[0].durability", "want one of fsync, none"));
}

static const char cred[] = "credentials: [ { access_key_id: PHOTOSKEY, secret_access_key: photos-secret } ]";

static void test_required(void)
{
    char y[2048];
    snprintf(y, sizeof(y), "buckets: [ { name: photos, %s } ]\nbackends: [ { type: fs, path: /d } ]\n", cred);
    CHECK(expect_error(y, "backends[0].name", "required"));
    snprintf(y, sizeof(y), "buckets: [ { name: photos, %s } ]\nbackends: [ { name: d, path: /d } ]\n", cred);
    CHECK(expect_error(y, "backends[0].type", "required: one of fs, s3"));
    snprintf(y, sizeof(y), "buckets: [ { name: photos, %s } ]\nbackends: [ { name: d, type: fs } ]\n", cred);
    CHECK(expect_error(y, "backends[0].path", "required for type fs"));
    snprintf(y, sizeof(y), "buckets: [ { name: photos, %s } ]\nbackends: [ { name: d, type: s3 } ]\n", cred);
    CHECK(expect_error(y, "backends[0].endpoint", "required for type s3"));
    CHECK(expect_error(y, "backends[0].bucket", "required for type s3"));
    CHECK(expect_error(y, "backends[0].access_key_id", "required for type s3"));
    CHECK(expect_error(y, "backends[0].secret_access_key", "required for type s3"));
    snprintf(y, sizeof(y),
             "buckets: [ { name: photos, %s } ]\n"
             "backends: [ { name: d, type: s3, endpoint: s3.amazonaws.com, bucket: b, access_key_id: k, "
             "secret_access_key: s, region: \"\" } ]\n",
             cred);
    CHECK(expect_error(y, "backends[0].endpoint", "want an http:// or https:// URL"));
    CHECK(expect_error(y, "backends[0].region", "required for type s3"));
    snprintf(y, sizeof(y), "buckets: [ { %s } ]\nbackends: [ { name: d, type: fs, path: /d } ]\n", cred);
    CHECK(expect_error(y, "buckets[0].name", "required"));
    CHECK(expect_error("buckets: [ { name: photos } ]\nbackends: [ { name: d, type: fs, path: /d } ]\n",
                       "buckets[0].credentials", "at least one credential"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d } ]\n",
                       "buckets[0].credentials[0].access_key_id", "required"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: \"\" } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d } ]\n",
                       "buckets[0].credentials[0].secret_access_key", "required"));
    snprintf(y, sizeof(y), "buckets: [ { name: photos, %s } ]\n", cred);
    CHECK(expect_error(y, "backends", "at least one backend is required"));
    CHECK(expect_error("backends: [ { name: d, type: fs, path: /d } ]\n", "buckets", "at least one bucket"));
    CHECK(expect_extra_error("lifecycle: { rules: [ { prefix: tmp/ } ] }\n", "lifecycle.rules[0].bucket", "required"));
    CHECK(expect_extra_error("lifecycle: { rules: [ { bucket: photos } ] }\n", "lifecycle.rules[0].expiration_days",
                             "must be from 1"));
}

static void test_duplicates(void)
{
    char y[2048];
    snprintf(y, sizeof(y),
             "buckets: [ { name: photos, %s } ]\n"
             "backends: [ { name: d, type: fs, path: /d }, { name: e, type: fs, path: /e },"
             " { name: d, type: fs, path: /f } ]\n",
             cred);
    CHECK(expect_error(y, "backends[2].name", "duplicate backend name 'd' (also backends[0])"));
    snprintf(y, sizeof(y),
             "buckets:\n  - { name: photos, %s }\n"
             "  - { name: photos, credentials: [ { access_key_id: OTHERKEY, secret_access_key: other-secret } ] }\n"
             "backends: [ { name: d, type: fs, path: /d } ]\n",
             cred);
    CHECK(expect_error(y, "buckets[1].name", "duplicate bucket name 'photos' (also buckets[0])"));
    snprintf(y, sizeof(y),
             "buckets:\n  - { name: photos, %s }\n"
             "  - name: videos\n    credentials:\n"
             "      - { access_key_id: VIDEOSKEY, secret_access_key: videos-secret }\n"
             "      - { access_key_id: PHOTOSKEY, secret_access_key: another-secret }\n"
             "backends: [ { name: d, type: fs, path: /d } ]\n",
             cred);
    CHECK(expect_error(y, "buckets[1].credentials[1].access_key_id",
                       "duplicate access key id 'PHOTOSKEY' (also buckets[0].credentials[0])"));
    /* A key written twice in one mapping: YAML parsers accept it silently; we do not. */
    CHECK(expect_extra_error("server:\n  threads: 2\n  threads: 3\n", "server.threads",
                             "duplicate key (first written on line"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d, labels: { zone: a, zone: b } } ]\n",
                       "backends[0].labels.zone", "duplicate label"));
}

static void test_cross_field(void)
{
    char y[2048];
    CHECK(expect_extra_error("replication: { factor: 2 }\n", "replication.factor",
                             "2 copies need at least 2 backends; 1 configured"));
    snprintf(y, sizeof(y),
             "buckets: [ { name: photos, %s } ]\n"
             "backends: [ { name: d, type: fs, path: /d }, { name: e, type: fs, path: /e } ]\n"
             "replication: { factor: 2, mode: sync, write_quorum: 3 }\n",
             cred);
    CHECK(expect_error(y, "replication.write_quorum", "must not exceed replication.factor (2)"));
    CHECK(expect_extra_error("replication: { write_quorum: 1 }\n", "replication.write_quorum",
                             "only used with replication.mode: sync"));
    CHECK(expect_extra_error("server: { listen_addr: localhost }\n", "server.listen_addr", "want host:port"));
    CHECK(expect_extra_error("server: { listen_addr: \":9000\" }\n", "server.listen_addr", "host is missing"));
    CHECK(expect_extra_error("server: { listen_addr: \"127.0.0.1:70000\" }\n", "server.listen_addr",
                             "port must be a number"));
    CHECK(expect_extra_error("server: { listen_addr: \"::1:9000\" }\n", "server.listen_addr", "in brackets"));
    CHECK(expect_extra_error("server: { tls: { cert_file: a.pem } }\n", "server.tls.key_file",
                             "required when server.tls.cert_file is set"));
    CHECK(expect_extra_error("server: { tls: { key_file: a.key } }\n", "server.tls.cert_file",
                             "required when server.tls.key_file is set"));
    CHECK(expect_extra_error("server: { tls: { client_ca_file: ca.pem } }\n", "server.tls.client_ca_file",
                             "need TLS"));
    CHECK(expect_extra_error("server: { virtual_host_domains: [\"s3.example.com:9000\"] }\n",
                             "server.virtual_host_domains[0]", "no port"));
    CHECK(expect_extra_error("database: { driver: postgres }\n", "database.dsn", "required for driver postgres"));
    CHECK(expect_extra_error("database: { path: \"\" }\n", "database.path", "required for driver sqlite"));
    CHECK(expect_extra_error("rate_limit: { trusted_proxies: [10.0.0.0/33] }\n", "rate_limit.trusted_proxies[0]",
                             "prefix length"));
    CHECK(expect_extra_error("rate_limit: { trusted_proxies: [proxy.local] }\n", "rate_limit.trusted_proxies[0]",
                             "want an IP address or CIDR"));
    CHECK(expect_extra_error("rate_limit: { enabled: true, requests_per_sec: 0 }\n", "rate_limit.requests_per_sec",
                             "more than 0"));
    CHECK(expect_extra_error("usage_flush: { interval: 5s, fast_interval: 10s }\n", "usage_flush.fast_interval",
                             "must not exceed usage_flush.interval"));
    CHECK(expect_extra_error("encryption: { enabled: true }\n", "encryption.master_key", "required when"));
    CHECK(expect_extra_error("encryption: { master_key: short }\n", "encryption.master_key", "want 32 bytes"));
    CHECK(expect_extra_error("encryption: { master_key: "
                             "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                             " master_key_file: /k }\n",
                             "encryption.master_key_file", "not both"));
    CHECK(expect_extra_error("encryption: { previous_keys: [\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\", x] }\n",
                             "encryption.previous_keys[1]", "want 32 bytes"));
    CHECK(expect_extra_error("telemetry: { metrics: { path: metrics } }\n", "telemetry.metrics.path",
                             "must start with '/'"));
    CHECK(expect_extra_error("telemetry: { metrics: { listen: nowhere } }\n", "telemetry.metrics.listen",
                             "want host:port"));
    CHECK(expect_extra_error("admin: { token: short }\n", "admin.token", "at least 16"));
    CHECK(expect_extra_error("ui: { enabled: true, admin_secret: s }\n", "ui.admin_key", "required when ui.enabled"));
    CHECK(expect_extra_error("lifecycle: { rules: [ { bucket: Photos, expiration_days: 1 } ] }\n",
                             "lifecycle.rules[0].bucket", "lowercase"));
    /* keys of the other backend type */
    snprintf(y, sizeof(y),
             "buckets: [ { name: photos, %s } ]\n"
             "backends: [ { name: d, type: fs, path: /d, endpoint: \"http://x\", force_path_style: true } ]\n",
             cred);
    CHECK(expect_error(y, "backends[0].endpoint", "only for type s3 backends; this one is type fs"));
    CHECK(expect_error(y, "backends[0].force_path_style", "only for type s3 backends"));
    snprintf(y, sizeof(y),
             "buckets: [ { name: photos, %s } ]\n"
             "backends: [ { name: d, type: s3, endpoint: \"http://x\", bucket: b, access_key_id: k, "
             "secret_access_key: s, path: /d } ]\n",
             cred);
    CHECK(expect_error(y, "backends[0].path", "only for type fs backends"));
    snprintf(y, sizeof(y), "buckets: [ { name: photos, %s } ]\nbackends: [ { name: \"d 1\", type: fs, path: /d } ]\n",
             cred);
    CHECK(expect_error(y, "backends[0].name", "use only letters"));
    /* placement rules no backend can meet */
    CHECK(expect_error("buckets: [ { name: photos, placement: { require: { provider: aws } }, "
                       "credentials: [ { access_key_id: PHOTOSKEY, secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d, labels: { provider: local } } ]\n",
                       "buckets[0].placement", "no backend meets"));
    CHECK(expect_error("buckets: [ { name: photos, placement: { distinct: [zone] }, "
                       "credentials: [ { access_key_id: PHOTOSKEY, secret_access_key: photos-secret } ] } ]\n"
                       "backends: [ { name: d, type: fs, path: /d, labels: { provider: local } } ]\n",
                       "buckets[0].placement.distinct[0]", "no backend has a label 'zone'"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: \"A/B\", "
                       "secret_access_key: photos-secret } ] } ]\nbackends: [ { name: d, type: fs, path: /d } ]\n",
                       "buckets[0].credentials[0].access_key_id", "use only letters"));
    CHECK(expect_error("buckets: [ { name: photos, credentials: [ { access_key_id: PHOTOSKEY, "
                       "secret_access_key: \"has space\" } ] } ]\nbackends: [ { name: d, type: fs, path: /d } ]\n",
                       "buckets[0].credentials[0].secret_access_key", "without spaces"));
}

static void test_bucket_names(void)
{
    CHECK(config_check_bucket_name("photos") == NULL);
    CHECK(config_check_bucket_name("my.bucket-01") == NULL);
    CHECK(config_check_bucket_name("abc") == NULL);
    CHECK(config_check_bucket_name("ab") != NULL);
    CHECK(config_check_bucket_name("a234567890123456789012345678901234567890123456789012345678901234") != NULL);
    CHECK(config_check_bucket_name("Photos") != NULL);
    CHECK(config_check_bucket_name("my_bucket") != NULL);
    CHECK(config_check_bucket_name("-abc") != NULL);
    CHECK(config_check_bucket_name("abc-") != NULL);
    CHECK(config_check_bucket_name("a..b") != NULL);
    CHECK(config_check_bucket_name("a.-b") != NULL);
    CHECK(config_check_bucket_name("192.168.1.1") != NULL);
    CHECK(config_check_bucket_name("xn--abc") != NULL);
    CHECK(config_check_bucket_name("sthree-abc") != NULL);
    CHECK(config_check_bucket_name("abc-s3alias") != NULL);
    CHECK(config_check_bucket_name("abc--ol-s3") != NULL);
    char y[2048];
    snprintf(y, sizeof(y), "buckets: [ { name: ab, %s } ]\nbackends: [ { name: d, type: fs, path: /d } ]\n", cred);
    CHECK(expect_error(y, "buckets[0].name", "3 to 63 characters"));
    snprintf(y, sizeof(y), "buckets: [ { name: 10.0.0.1, %s } ]\nbackends: [ { name: d, type: fs, path: /d } ]\n",
             cred);
    CHECK(expect_error(y, "buckets[0].name", "IP address"));
}

static void test_yaml_syntax(void)
{
    CHECK(expect_error_at("server:\n  threads: 1\n bad: [\n", "", "YAML syntax", 0));
    CHECK(expect_error_at("server: { threads: 1\n", "", "YAML syntax", 0));
    char *y = with_base("---\nserver: {}\n");
    CHECK(expect_error(y, "", "only one YAML document"));
    free(y);
    /* Empty input: defaults, and the two "at least one" errors. */
    CHECK(expect_error("", "backends", "at least one backend"));
    CHECK(expect_error("# nothing\n", "buckets", "at least one bucket"));
}

/* Positions point at the key, or at the value for a bad value. */
static void test_positions(void)
{
    char *y = with_base("server:\n"
                        "  threads: x\n"       /* line 11, value at column 12 */
                        "  idle_timeout: 0\n"  /* line 12 */
                        "  tls: { cert_file: c.pem }\n");
    CHECK(expect_error_at(y, "server.threads", "whole number", 11));
    struct config_errors errs = {0};
    struct config *c;
    CHECK_EQ(config_load_string(y, strlen(y), &c, &errs), -EINVAL);
    const struct config_error *e = config_errors_find(&errs, "server.threads");
    CHECK(e && e->line == 11 && e->column == 12);
    e = config_errors_find(&errs, "server.idle_timeout");
    CHECK(e && e->line == 12 && e->column == 3);
    e = config_errors_find(&errs, "server.tls.key_file"); /* absent: its section's place */
    CHECK(e && e->line == 13 && e->column == 3);
    config_errors_free(&errs);
    free(y);
}

/* Every error of a file comes back in one load, printed in file order. */
static void test_many_errors(void)
{
    unsetenv("S3ORCH_TEST_UNSET");
    const char *y = "server:\n"
                    "  listen_addr: nowhere\n"
                    "  threds: 2\n"
                    "buckets:\n"
                    "  - name: Photos\n"
                    "    credentials:\n"
                    "      - { access_key_id: PHOTOSKEY, secret_access_key: \"${S3ORCH_TEST_UNSET}\" }\n"
                    "backends:\n"
                    "  - { name: d, type: fs, path: /d, quota_bytes: lots }\n"
                    "  - { name: d, type: s3 }\n"
                    "routing_strategy: random\n"
                    "replication: { factor: 3 }\n";
    struct config_errors errs = {0};
    struct config *c;
    CHECK_EQ(config_load_string(y, strlen(y), &c, &errs), -EINVAL);
    static const char *const paths[] = {
        "server.listen_addr", "server.threds", "buckets[0].name",
        "buckets[0].credentials[0].secret_access_key", "backends[0].quota_bytes", "backends[1].name",
        "backends[1].endpoint", "backends[1].bucket", "backends[1].access_key_id",
        "backends[1].secret_access_key", "routing_strategy", "replication.factor",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (!config_errors_find(&errs, paths[i])) {
            fprintf(stderr, "    missing error at %s\n", paths[i]);
            CHECK(0);
        }
    }
    CHECK_EQ(errs.count, sizeof(paths) / sizeof(paths[0]));
    const struct config_error *e = config_errors_find(&errs, "buckets[0].credentials[0].secret_access_key");
    CHECK(e && strstr(e->message, "S3ORCH_TEST_UNSET is not set"));

    /* Printed: one line per error, sorted by line, each with file:line:col: path: message. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    errs.file = strdup("conf.yaml");
    config_errors_print(&errs, m);
    fclose(m);
    CHECK(strstr(text, "conf.yaml:2:3: server.listen_addr: want host:port") != NULL);
    CHECK(strstr(text, "conf.yaml:3:3: server.threds: unknown key (did you mean 'threads'?)") != NULL);
    const char *a = strstr(text, "server.threds"), *b = strstr(text, "backends[0].quota_bytes"),
               *d = strstr(text, "replication.factor");
    CHECK(a && b && d && a < b && b < d);
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    CHECK_EQ(lines, errs.count);
    free(text);
    config_errors_free(&errs);
}

/* --- ${VAR} ------------------------------------------------------------------------------------------------------- */

static void test_env(void)
{
    setenv("S3ORCH_T_SECRET", "from-the-env", 1);
    setenv("S3ORCH_T_EMPTY", "", 1);
    unsetenv("S3ORCH_T_UNSET");
    char *y = with_base("admin: { token: \"${S3ORCH_T_SECRET}-0123456789\" }\n"
                        "ui: { admin_key: \"${S3ORCH_T_UNSET:-fallback}\", admin_secret: \"${S3ORCH_T_EMPTY:-dflt}\","
                        " session_secret: \"${S3ORCH_T_SECRET:-unused}\" }\n"
                        "database: { dsn: \"pa$$word ${S3ORCH_T_EMPTY} $HOME a$b $\" }\n"
                        "# ${S3ORCH_T_UNSET} in a comment is harmless\n");
    struct config *c = load_ok(y);
    free(y);
    if (c) {
        CHECK_STR(c->admin.token, "from-the-env-0123456789");
        CHECK_STR(c->ui.admin_key, "fallback");
        CHECK_STR(c->ui.admin_secret, "dflt");
        CHECK_STR(c->ui.session_secret, "from-the-env");
        CHECK_STR(c->database.dsn, "pa$word  $HOME a$b $");
        config_free(c);
    }
    /* `$${X}` is the literal text ${X}, not a variable. */
    y = with_base("database: { dsn: \"$${S3ORCH_T_UNSET}\" }\n");
    c = load_ok(y);
    free(y);
    if (c) {
        CHECK_STR(c->database.dsn, "${S3ORCH_T_UNSET}");
        config_free(c);
    }
    /* Unset: an error naming the variable, at the key that held it, on the line it was written. */
    y = with_base("admin:\n  token: \"${S3ORCH_T_UNSET}\"\n");
    CHECK(expect_error_at(y, "admin.token", "environment variable S3ORCH_T_UNSET is not set", 11));
    free(y);
    /* Unset in a flow mapping and as a bare value. */
    y = with_base("ui: { admin_key: ${S3ORCH_T_UNSET} }\n");
    CHECK(expect_error(y, "ui.admin_key", "S3ORCH_T_UNSET is not set"));
    free(y);
    /* Malformed references. */
    y = with_base("admin: { token: \"${1BAD}\" }\n");
    CHECK(expect_error(y, "", "malformed '${'"));
    free(y);
    y = with_base("admin: { token: \"${UNCLOSED\" }\n");
    CHECK(expect_error(y, "", "malformed '${'"));
    free(y);
    /* A value that is set is used verbatim: its own `$` or `${` are not expanded again. */
    setenv("S3ORCH_T_DOLLAR", "x${S3ORCH_T_SECRET}y", 1);
    y = with_base("database: { dsn: \"${S3ORCH_T_DOLLAR}\" }\n");
    c = load_ok(y);
    free(y);
    if (c) {
        CHECK_STR(c->database.dsn, "x${S3ORCH_T_SECRET}y");
        config_free(c);
    }
}

/* --- suggestions ------------------------------------------------------------------------------------------------- */

static void test_suggest(void)
{
    CHECK_EQ(config_edit_distance("", ""), 0);
    CHECK_EQ(config_edit_distance("threads", "threads"), 0);
    CHECK_EQ(config_edit_distance("threds", "threads"), 1);
    CHECK_EQ(config_edit_distance("qoutas", "quotas"), 1);
    CHECK_EQ(config_edit_distance("abc", "xyz"), 3);
    static const char *const names[] = {"pack", "spread", "weighted", NULL};
    CHECK_STR(config_suggest("packk", names), "pack");
    CHECK_STR(config_suggest("spred", names), "spread");
    CHECK(config_suggest("random", names) == NULL);
}

/* --- init --------------------------------------------------------------------------------------------------------- */

static void collect_missing_keys(const struct config_schema *s, const char *text, int *missing)
{
    for (size_t i = 0; i < s->nfields; i++) {
        char key[80], top[80];
        snprintf(key, sizeof(key), " %s:", s->fields[i].name);
        snprintf(top, sizeof(top), "\n%s:", s->fields[i].name);
        if (!strstr(text, key) && !strstr(text, top)) {
            fprintf(stderr, "    init output lacks '%s'\n", key);
            (*missing)++;
        }
        if (s->fields[i].sub)
            collect_missing_keys(s->fields[i].sub, text, missing);
    }
}

/* Scalar values of two structs of one schema are equal (lists are not compared). */
static int same_scalars(const struct config_schema *s, const void *a, const void *b, const char *prefix)
{
    int same = 1;
    for (size_t i = 0; i < s->nfields; i++) {
        const struct config_field *f = &s->fields[i];
        const void *x = config_cslot(a, f->offset), *y = config_cslot(b, f->offset);
        int eq = 1;
        switch (f->kind) {
        case CONFIG_KIND_STRING: eq = strcmp(*(char *const *)x, *(char *const *)y) == 0; break;
        case CONFIG_KIND_BOOL: eq = *(const bool *)x == *(const bool *)y; break;
        case CONFIG_KIND_INT:
        case CONFIG_KIND_SIZE:
        case CONFIG_KIND_DURATION: eq = *(const int64_t *)x == *(const int64_t *)y; break;
        case CONFIG_KIND_FLOAT: eq = *(const double *)x == *(const double *)y; break;
        case CONFIG_KIND_ENUM: eq = *(const int *)x == *(const int *)y; break;
        case CONFIG_KIND_SECTION: eq = same_scalars(f->sub, x, y, f->name); break;
        default: break;
        }
        if (!eq) {
            fprintf(stderr, "    %s.%s differs from the default\n", prefix, f->name);
            same = 0;
        }
    }
    return same;
}

static void test_init_output(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    CHECK_EQ(config_write_example(m), 0);
    fclose(m);
    struct config *c = load_ok(text);
    int missing = 0;
    collect_missing_keys(&config_schema_root, text, &missing);
    CHECK_EQ(missing, 0);
    struct config *d;
    CHECK_EQ(config_new_default(&d), 0);
    if (c) {
        CHECK_EQ(c->nbuckets, 1);
        CHECK_EQ(c->nbackends, 2);
        CHECK_EQ(strlen(c->buckets[0].credentials[0].access_key_id), 20);
        CHECK_EQ(strlen(c->buckets[0].credentials[0].secret_access_key), 40);
        /* Every section written with the table's defaults: the file documents what omitting a key means. */
        CHECK(same_scalars(&config_schema_root, c, d, "root"));
        CHECK(same_scalars(config_schema_find(&config_schema_root, "backends")->sub, &c->backends[0],
                           &c->backends[0], "backends[0]"));
    }
    /* A second run makes a different credential. */
    char *text2 = NULL;
    m = open_memstream(&text2, &len);
    CHECK_EQ(config_write_example(m), 0);
    fclose(m);
    CHECK(strcmp(text, text2) != 0);
    free(text2);
    config_free(d);
    config_free(c);
    free(text);
}

/* --- files -------------------------------------------------------------------------------------------------------- */

static char tmpdir[256];

static void test_load_file(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
    struct config_errors errs = {0};
    struct config *c;
    CHECK_EQ(config_load_file(path, &c, &errs), -ENOENT);
    CHECK(c == NULL);
    CHECK(errs.count == 1 && strstr(errs.items[0].message, "cannot read"));
    CHECK_STR(errs.file, path);
    config_errors_free(&errs);

    snprintf(path, sizeof(path), "%s/ok.yaml", tmpdir);
    FILE *f = fopen(path, "w");
    char *y = with_base("server: { listen_addr: \"[::1]:0\" }\n");
    fputs(y, f);
    fclose(f);
    free(y);
    CHECK_EQ(config_load_file(path, &c, &errs), 0);
    CHECK_EQ(errs.count, 0);
    if (c)
        CHECK_STR(c->server.listen_addr, "[::1]:0");
    config_free(c);
    config_errors_free(&errs);
    CHECK_EQ(config_load_file(tmpdir, &c, &errs), -EISDIR);
    config_errors_free(&errs);
}

static void test_embedded(void)
{
    char dir[512], credfile[600];
    snprintf(dir, sizeof(dir), "%s/data/nested", tmpdir);
    snprintf(credfile, sizeof(credfile), "%s/credentials", dir);
    struct config *a = NULL, *b = NULL;
    CHECK_EQ(config_default_embedded(dir, &a), 0);
    CHECK_EQ(config_default_embedded(dir, &b), 0);
    if (!a || !b)
        goto out;
    struct stat st;
    CHECK_EQ(stat(credfile, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    const char *id = a->buckets[0].credentials[0].access_key_id;
    const char *secret = a->buckets[0].credentials[0].secret_access_key;
    CHECK_EQ(strlen(id), 20);
    CHECK_EQ(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 20);
    CHECK_EQ(strlen(secret), 40);
    CHECK_EQ(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"), 40);
    CHECK_STR(b->buckets[0].credentials[0].access_key_id, id);
    CHECK_STR(b->buckets[0].credentials[0].secret_access_key, secret);
    CHECK_STR(a->buckets[0].name, "default");
    CHECK_EQ(a->nbackends, 2);
    char want[700];
    snprintf(want, sizeof(want), "%s/meta.db", dir);
    CHECK_STR(a->database.path, want);
    CHECK_EQ(a->database.driver, CONFIG_DB_SQLITE);
    snprintf(want, sizeof(want), "%s/disk2", dir);
    CHECK_STR(a->backends[1].path, want);
    CHECK_STR(a->backends[1].name, "disk2");
    CHECK_EQ(a->backends[0].type, CONFIG_BACKEND_FS);
    /* The server section is the built-in defaults, so `serve` without --config behaves as before. */
    CHECK_STR(a->server.listen_addr, "127.0.0.1:9000");
    CHECK_EQ(a->server.threads, 0);
    CHECK_EQ(a->server.max_connections, 10000);
    CHECK(a->source == NULL);

    /* A credentials file that is not ours is an error, and is left alone. */
    char other[600];
    snprintf(other, sizeof(other), "%s/other", tmpdir);
    CHECK_EQ(mkdir(other, 0700), 0);
    snprintf(credfile, sizeof(credfile), "%s/credentials", other);
    FILE *f = fopen(credfile, "w");
    fputs("hello\n", f);
    fclose(f);
    struct config *c = NULL;
    CHECK_EQ(config_default_embedded(other, &c), -EINVAL);
    CHECK(c == NULL);
    f = fopen(credfile, "r");
    char line[64] = "";
    CHECK(fgets(line, sizeof(line), f) != NULL);
    fclose(f);
    CHECK_STR(line, "hello\n");
    /* A data dir that is a file. */
    CHECK_EQ(config_default_embedded(credfile, &c), -ENOTDIR);
out:
    config_free(a);
    config_free(b);
}

/* YAML anchors work; a document that repeats an alias without end is stopped, not followed. */
static void test_aliases(void)
{
    char *y = with_base("rate_limit: { trusted_proxies: &p [10.0.0.1, 10.0.0.2] }\n"
                        "telemetry: { metrics: &m { enabled: false } }\n");
    struct config *c = load_ok(y);
    free(y);
    if (c) {
        CHECK_EQ(c->rate_limit.trusted_proxies.n, 2);
        CHECK(!c->telemetry.metrics.enabled);
        config_free(c);
    }
    /* 2000 buckets, each the same anchored bucket with 2000 aliased credentials: 4 million credentials if
     * followed blindly. The walk stops at its visit budget with one error. */
    size_t cap = 64 * 1024, n = 0;
    char *bomb = malloc(cap);
    n += (size_t)snprintf(bomb + n, cap - n, "backends: [ { name: d, type: fs, path: /d } ]\n"
                                             "buckets:\n  - &b { name: photos, credentials: [ &c { access_key_id: "
                                             "PHOTOSKEY, secret_access_key: photos-secret }");
    for (int i = 1; i < 2000; i++)
        n += (size_t)snprintf(bomb + n, cap - n, ",*c");
    n += (size_t)snprintf(bomb + n, cap - n, "] }\n");
    for (int i = 1; i < 2000; i++)
        n += (size_t)snprintf(bomb + n, cap - n, "  - *b\n");
    struct config_errors errs = {0};
    CHECK_EQ(config_load_string(bomb, n, &c, &errs), -EINVAL);
    CHECK_EQ(errs.count, 1);
    CHECK(errs.count && strstr(errs.items[0].message, "too large"));
    free(bomb);
    config_errors_free(&errs);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/s3orch-test-config-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_spec_example);
    RUN(test_defaults);
    RUN(test_default_table);
    RUN(test_unknown_keys);
    RUN(test_type_errors);
    RUN(test_value_errors);
    RUN(test_required);
    RUN(test_duplicates);
    RUN(test_cross_field);
    RUN(test_bucket_names);
    RUN(test_yaml_syntax);
    RUN(test_positions);
    RUN(test_many_errors);
    RUN(test_env);
    RUN(test_suggest);
    RUN(test_init_output);
    RUN(test_load_file);
    RUN(test_embedded);
    RUN(test_aliases);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return unit_finish("test_config");
}
