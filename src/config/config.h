/* The configuration file (shared/spec/config.md) as typed C structs.
 *
 * Loading takes three steps: `${VAR}` expansion of the raw text, a libyaml parse into the struct over the defaults
 * of one table (config_schema.c), then validation of every rule. Every problem found on the way goes into one
 * struct config_errors, each with its key path and file position, so a user fixes a file in one round.
 *
 * Units: sizes are bytes, durations nanoseconds (the unit of the coroutine runtime), both int64_t. Whole numbers
 * are int64_t too, so one code path reads them all.
 *
 * Ownership: a struct config owns every string and array it points to and config_free() releases them all. Nothing
 * in it changes after loading, so any thread may read it. */
#ifndef S3ORCH_CONFIG_H
#define S3ORCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- value types ---------------------------------------------------------------------------------------------- */

struct config_strings {
    char **items;
    size_t n;
};

struct config_kv {
    char *key;
    char *value;
};

/* A label map ({ provider: aws, region: eu }) in file order; keys are unique. */
struct config_labels {
    struct config_kv *items;
    size_t n;
};

/* Every enum's first value is its default, except backend type, which has no default. The spellings are the
 * file's (see config_schema.c). */
enum config_tls_version { CONFIG_TLS_1_2, CONFIG_TLS_1_3 };
enum config_db_driver { CONFIG_DB_SQLITE, CONFIG_DB_POSTGRES };
enum config_permission { CONFIG_PERM_READ_WRITE, CONFIG_PERM_READ_ONLY };
enum config_routing { CONFIG_ROUTE_PACK, CONFIG_ROUTE_SPREAD, CONFIG_ROUTE_WEIGHTED };
enum config_backend_type { CONFIG_BACKEND_UNSET, CONFIG_BACKEND_FS, CONFIG_BACKEND_S3 };
enum config_durability { CONFIG_DURABILITY_FSYNC, CONFIG_DURABILITY_NONE };
enum config_replication_mode { CONFIG_REPL_ASYNC, CONFIG_REPL_SYNC };
enum config_rebalance_strategy { CONFIG_REBALANCE_PACK, CONFIG_REBALANCE_SPREAD };
enum config_log_level { CONFIG_LOG_DEBUG, CONFIG_LOG_INFO, CONFIG_LOG_WARN, CONFIG_LOG_ERROR };
enum config_log_format { CONFIG_LOG_JSON, CONFIG_LOG_TEXT };

/* --- sections --------------------------------------------------------------------------------------------------- */

struct config_tls {
    char *cert_file; /* empty: plain HTTP */
    char *key_file;
    char *client_ca_file; /* non-empty: clients must present a certificate it signed (mTLS) */
    enum config_tls_version min_version;
};

struct config_server {
    char *listen_addr; /* "host:port", IPv6 as "[::1]:9000"; port 0 picks a free one */
    int64_t threads;   /* 0 = usable CPUs */
    int64_t max_object_size;
    struct config_strings virtual_host_domains;
    int64_t max_connections;
    int64_t header_timeout;
    int64_t idle_timeout;
    int64_t backend_timeout;
    int64_t shutdown_timeout;
    struct config_tls tls;
};

struct config_database {
    enum config_db_driver driver;
    char *path; /* sqlite */
    char *dsn;  /* postgres */
    int64_t max_conns_per_thread;
};

struct config_credential {
    char *access_key_id;
    char *secret_access_key;
    enum config_permission permission;
    bool create_buckets;
};

/* Label rules for where a bucket's copies may go (O11). */
struct config_placement {
    struct config_strings distinct; /* label names whose values the copies must not share */
    struct config_labels require;   /* a backend must carry every one of these label values */
    struct config_labels exclude;   /* a backend carrying any of these label values is skipped */
};

struct config_bucket {
    char *name;
    int64_t quota_bytes; /* 0 = unlimited */
    struct config_placement placement;
    struct config_credential *credentials;
    size_t ncredentials;
};

struct config_backend {
    char *name;
    enum config_backend_type type;
    /* fs */
    char *path;
    enum config_durability durability;
    /* s3 */
    char *endpoint;
    char *region;
    char *bucket;
    char *access_key_id;
    char *secret_access_key;
    bool force_path_style;
    char *ca_file;
    bool unsigned_payload;
    bool disable_checksum;
    bool strip_sdk_headers;
    /* both */
    int64_t quota_bytes; /* 0 = unlimited, as every limit below */
    int64_t api_request_limit;
    int64_t egress_byte_limit;
    int64_t ingress_byte_limit;
    int64_t weight;
    struct config_labels labels;
};

struct config_replication {
    int64_t factor;
    enum config_replication_mode mode;
    int64_t write_quorum; /* sync: 0 = all `factor` copies */
    int64_t worker_interval;
    int64_t batch_size;
    int64_t concurrency;
    int64_t unhealthy_threshold;
};

struct config_circuit_breaker {
    int64_t failure_threshold;
    int64_t open_timeout;
    int64_t cache_ttl;
    bool parallel_broadcast;
};

struct config_backend_circuit_breaker {
    bool enabled;
    int64_t failure_threshold;
    int64_t open_timeout;
};

struct config_admission {
    int64_t max_concurrent_requests; /* 0 = unlimited, as the three below */
    int64_t max_concurrent_reads;
    int64_t max_concurrent_writes;
    double load_shed_threshold; /* fraction of the budget in use above which requests are shed; 0 = never */
};

struct config_rate_limit {
    bool enabled;
    double requests_per_sec; /* per client IP */
    int64_t burst;
    struct config_strings trusted_proxies; /* IPs or CIDRs whose X-Forwarded-For is believed */
};

struct config_write_failover {
    int64_t buffer_limit;
};

struct config_usage_flush {
    int64_t interval;
    bool adaptive_enabled;
    double adaptive_threshold;
    int64_t fast_interval;
};

struct config_cleanup_queue {
    int64_t interval; /* how often the cleaner and the pending reaper look */
    int64_t concurrency;
    int64_t max_attempts;
    int64_t retry_backoff;   /* the first retry's wait; doubled each time up to 24h */
    int64_t pending_timeout; /* PUT intents older than this are abandoned (the pending reaper) */
    int64_t multipart_stale_timeout;
};

struct config_rebalance {
    bool enabled;
    enum config_rebalance_strategy strategy;
    int64_t interval;
    int64_t batch_size;
    double threshold;
    int64_t concurrency;
};

struct config_reconcile {
    bool enabled;
    int64_t interval;
};

struct config_lifecycle_rule {
    char *bucket;
    char *prefix;
    int64_t expiration_days;
};

struct config_lifecycle {
    int64_t interval;
    struct config_lifecycle_rule *rules;
    size_t nrules;
};

struct config_integrity {
    bool enabled;
    bool verify_on_read;
    int64_t scrubber_interval;
};

struct config_encryption {
    bool enabled;
    char *master_key;      /* 32 bytes as base64 or 64 hex digits */
    char *master_key_file; /* a file holding such a key */
    struct config_strings previous_keys;
    int64_t chunk_size;
};

struct config_metrics {
    bool enabled;
    char *path;
    char *listen; /* empty = the S3 listener */
};

struct config_log {
    enum config_log_level level;
    enum config_log_format format;
    bool audit;
};

struct config_telemetry {
    struct config_metrics metrics;
    struct config_log log;
};

struct config_admin {
    char *token; /* empty: the admin API is off */
};

struct config_ui {
    bool enabled;
    char *admin_key;
    char *admin_secret;
    char *session_secret;
};

struct config_source;

struct config {
    struct config_server server;
    struct config_database database;
    struct config_bucket *buckets;
    size_t nbuckets;
    enum config_routing routing_strategy;
    struct config_backend *backends;
    size_t nbackends;
    struct config_replication replication;
    struct config_circuit_breaker circuit_breaker;
    struct config_backend_circuit_breaker backend_circuit_breaker;
    struct config_admission admission;
    struct config_rate_limit rate_limit;
    struct config_write_failover write_failover;
    struct config_usage_flush usage_flush;
    struct config_cleanup_queue cleanup_queue;
    struct config_rebalance rebalance;
    struct config_reconcile reconcile;
    struct config_lifecycle lifecycle;
    struct config_integrity integrity;
    struct config_encryption encryption;
    struct config_telemetry telemetry;
    struct config_admin admin;
    struct config_ui ui;
    /* Where each key stood in the file, for error positions and "was it written" checks; NULL when built in code. */
    struct config_source *source;
};

/* --- errors ----------------------------------------------------------------------------------------------------- */

struct config_error {
    char *path;   /* "backends[2].quota_bytes"; "" for the file as a whole */
    int line;     /* 1-based; 0 when the problem has no place in the file */
    int column;   /* 1-based */
    char *message;
};

/* Zero-initialise (`struct config_errors errs = {0};`); owns its list and file name; free with
 * config_errors_free(). */
#define CONFIG_ERRORS_MAX 200

struct config_errors {
    struct config_error *items;
    size_t count;
    size_t cap;
    bool truncated;  /* more than CONFIG_ERRORS_MAX errors: the rest were dropped */
    char *file;      /* prefix of printed lines; set by config_load_file() if not set */
    bool out_of_mem; /* an error could not be recorded */
};

void config_errors_add(struct config_errors *errs, const char *path, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The first error recorded for exactly this path, or NULL. */
const struct config_error *config_errors_find(const struct config_errors *errs, const char *path);
/* One line per error: "FILE:LINE:COL: PATH: MESSAGE", in file order. */
void config_errors_print(const struct config_errors *errs, FILE *out);
void config_errors_free(struct config_errors *errs);

/* --- loading ------------------------------------------------------------------------------------------------------ */

/* Reads, expands, parses and validates. 0 with *out set; otherwise *out is NULL and the result is -EINVAL (the
 * errors say why), -ENOMEM, or the -errno of reading the file (also recorded in errs). */
int config_load_file(const char *path, struct config **out, struct config_errors *errs);
int config_load_string(const char *text, size_t len, struct config **out, struct config_errors *errs);
/* Every rule on an already built config (loading runs it); 0 or -EINVAL with the errors added. */
int config_validate(const struct config *cfg, struct config_errors *errs);
void config_free(struct config *cfg);

/* A config holding only the defaults of every key (no buckets, no backends); -ENOMEM. */
int config_new_default(struct config **out);

/* The configuration `s3orch serve` runs without --config: SQLite in DATA_DIR/meta.db, fs backends disk1 and disk2
 * under DATA_DIR, bucket `default` and one credential. The credential is generated once and kept in
 * DATA_DIR/credentials (mode 0600, AWS_ACCESS_KEY_ID=… / AWS_SECRET_ACCESS_KEY=… lines), then re-read on later
 * starts. DATA_DIR is created if missing. Errors: -errno of the file system, -EINVAL for a credentials file that
 * is not ours (it is never overwritten), -ENOMEM. */
int config_default_embedded(const char *data_dir, struct config **out);

/* A commented configuration with every section and freshly generated credentials, as `s3orch init` writes it. */
int config_write_example(FILE *out);

/* NULL when `name` is a valid S3 bucket name, else why not (for CreateBucket as well as the config). */
const char *config_check_bucket_name(const char *name);

/* --- commands (argv[0] is the command name) --------------------------------------------------------------------- */

/* `s3orch validate FILE`: prints "FILE: ok" and returns 0, or prints every error and returns 1; 2 on usage. */
int config_cmd_validate(int argc, char **argv);
/* `s3orch init [FILE|-] [--force]`: writes the example to FILE (default stdout); an existing FILE is kept unless
 * --force. */
int config_cmd_init(int argc, char **argv);

#endif
