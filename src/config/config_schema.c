/* Every key of the configuration file: name, type, default (as config.md writes it) and bounds. Loading, defaults,
 * validation, freeing and the tests all read this table; nothing else spells a default. */
#include <string.h>

#include "config/config_schema.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* Enum spellings, indexed by the C enum's value. */
static const char *const tls_versions[] = {"1.2", "1.3", NULL};
static const char *const db_drivers[] = {"sqlite", "postgres", NULL};
static const char *const permissions[] = {"read-write", "read-only", NULL};
static const char *const routings[] = {"pack", "spread", "weighted", NULL};
static const char *const backend_types[] = {"", "fs", "s3", NULL};
static const char *const durabilities[] = {"fsync", "none", NULL};
static const char *const repl_modes[] = {"async", "sync", NULL};
static const char *const rebalance_strategies[] = {"pack", "spread", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"json", "text", NULL};

/* Upper bounds below only catch typos (a stray zero or a missing unit); none is a product limit. */
enum { MANY = 1000000 };

/* --- server ------------------------------------------------------------------------------------------------------ */

static const struct config_field tls_fields[] = {
    {"cert_file", CONFIG_KIND_STRING, offsetof(struct config_tls, cert_file), .def = ""},
    {"key_file", CONFIG_KIND_STRING, offsetof(struct config_tls, key_file), .def = ""},
    {"client_ca_file", CONFIG_KIND_STRING, offsetof(struct config_tls, client_ca_file), .def = ""},
    {"min_version", CONFIG_KIND_ENUM, offsetof(struct config_tls, min_version), .def = "1.2", .names = tls_versions},
};
static const struct config_schema tls_schema = {tls_fields, NFIELDS(tls_fields), sizeof(struct config_tls)};

static const struct config_field server_fields[] = {
    {"listen_addr", CONFIG_KIND_STRING, offsetof(struct config_server, listen_addr), .def = "127.0.0.1:9000"},
    {"threads", CONFIG_KIND_INT, offsetof(struct config_server, threads), .def = "0", .max = 4096},
    {"max_object_size", CONFIG_KIND_SIZE, offsetof(struct config_server, max_object_size), .def = "5GiB", .min = 1,
     .max = 5LL << 40},
    {"virtual_host_domains", CONFIG_KIND_STRINGS, offsetof(struct config_server, virtual_host_domains), .def = NULL},
    {"max_connections", CONFIG_KIND_INT, offsetof(struct config_server, max_connections), .def = "10000", .min = 1,
     .max = 100LL * MANY},
    {"header_timeout", CONFIG_KIND_DURATION, offsetof(struct config_server, header_timeout), .def = "10s", .min = 1},
    {"idle_timeout", CONFIG_KIND_DURATION, offsetof(struct config_server, idle_timeout), .def = "60s", .min = 1},
    {"backend_timeout", CONFIG_KIND_DURATION, offsetof(struct config_server, backend_timeout), .def = "30s",
     .min = 1},
    {"shutdown_timeout", CONFIG_KIND_DURATION, offsetof(struct config_server, shutdown_timeout), .def = "30s",
     .min = 1},
    {"tls", CONFIG_KIND_SECTION, offsetof(struct config_server, tls), .sub = &tls_schema},
};
static const struct config_schema server_schema = {server_fields, NFIELDS(server_fields),
                                                   sizeof(struct config_server)};

static const struct config_field database_fields[] = {
    {"driver", CONFIG_KIND_ENUM, offsetof(struct config_database, driver), .def = "sqlite", .names = db_drivers},
    {"path", CONFIG_KIND_STRING, offsetof(struct config_database, path), .def = "./s3orch-data/meta.db"},
    {"dsn", CONFIG_KIND_STRING, offsetof(struct config_database, dsn), .def = ""},
    {"max_conns_per_thread", CONFIG_KIND_INT, offsetof(struct config_database, max_conns_per_thread), .def = "2",
     .min = 1, .max = 1000},
};
static const struct config_schema database_schema = {database_fields, NFIELDS(database_fields),
                                                     sizeof(struct config_database)};

/* --- buckets ------------------------------------------------------------------------------------------------------ */

static const struct config_field placement_fields[] = {
    {"distinct", CONFIG_KIND_STRINGS, offsetof(struct config_placement, distinct), .def = NULL},
    {"require", CONFIG_KIND_LABELS, offsetof(struct config_placement, require), .def = NULL},
    {"exclude", CONFIG_KIND_LABELS, offsetof(struct config_placement, exclude), .def = NULL},
};
static const struct config_schema placement_schema = {placement_fields, NFIELDS(placement_fields),
                                                      sizeof(struct config_placement)};

static const struct config_field credential_fields[] = {
    {"access_key_id", CONFIG_KIND_STRING, offsetof(struct config_credential, access_key_id), .def = ""},
    {"secret_access_key", CONFIG_KIND_STRING, offsetof(struct config_credential, secret_access_key), .def = ""},
    {"permission", CONFIG_KIND_ENUM, offsetof(struct config_credential, permission), .def = "read-write",
     .names = permissions},
    {"create_buckets", CONFIG_KIND_BOOL, offsetof(struct config_credential, create_buckets), .def = "false"},
};
static const struct config_schema credential_schema = {credential_fields, NFIELDS(credential_fields),
                                                       sizeof(struct config_credential)};

static const struct config_field bucket_fields[] = {
    {"name", CONFIG_KIND_STRING, offsetof(struct config_bucket, name), .def = ""},
    {"quota_bytes", CONFIG_KIND_SIZE, offsetof(struct config_bucket, quota_bytes), .def = "0"},
    {"placement", CONFIG_KIND_SECTION, offsetof(struct config_bucket, placement), .sub = &placement_schema},
    {"credentials", CONFIG_KIND_LIST, offsetof(struct config_bucket, credentials),
     offsetof(struct config_bucket, ncredentials), .sub = &credential_schema},
};
static const struct config_schema bucket_schema = {bucket_fields, NFIELDS(bucket_fields),
                                                   sizeof(struct config_bucket)};

/* --- backends ----------------------------------------------------------------------------------------------------- */

static const struct config_field backend_fields[] = {
    {"name", CONFIG_KIND_STRING, offsetof(struct config_backend, name), .def = ""},
    {"type", CONFIG_KIND_ENUM, offsetof(struct config_backend, type), .names = backend_types},
    {"path", CONFIG_KIND_STRING, offsetof(struct config_backend, path), .def = ""},
    {"durability", CONFIG_KIND_ENUM, offsetof(struct config_backend, durability), .def = "fsync",
     .names = durabilities},
    {"endpoint", CONFIG_KIND_STRING, offsetof(struct config_backend, endpoint), .def = ""},
    {"region", CONFIG_KIND_STRING, offsetof(struct config_backend, region), .def = "us-east-1"},
    {"bucket", CONFIG_KIND_STRING, offsetof(struct config_backend, bucket), .def = ""},
    {"access_key_id", CONFIG_KIND_STRING, offsetof(struct config_backend, access_key_id), .def = ""},
    {"secret_access_key", CONFIG_KIND_STRING, offsetof(struct config_backend, secret_access_key), .def = ""},
    {"force_path_style", CONFIG_KIND_BOOL, offsetof(struct config_backend, force_path_style), .def = "false"},
    {"ca_file", CONFIG_KIND_STRING, offsetof(struct config_backend, ca_file), .def = ""},
    {"unsigned_payload", CONFIG_KIND_BOOL, offsetof(struct config_backend, unsigned_payload), .def = "false"},
    {"disable_checksum", CONFIG_KIND_BOOL, offsetof(struct config_backend, disable_checksum), .def = "false"},
    {"strip_sdk_headers", CONFIG_KIND_BOOL, offsetof(struct config_backend, strip_sdk_headers), .def = "false"},
    {"quota_bytes", CONFIG_KIND_SIZE, offsetof(struct config_backend, quota_bytes), .def = "0"},
    {"api_request_limit", CONFIG_KIND_INT, offsetof(struct config_backend, api_request_limit), .def = "0"},
    {"egress_byte_limit", CONFIG_KIND_SIZE, offsetof(struct config_backend, egress_byte_limit), .def = "0"},
    {"ingress_byte_limit", CONFIG_KIND_SIZE, offsetof(struct config_backend, ingress_byte_limit), .def = "0"},
    {"weight", CONFIG_KIND_INT, offsetof(struct config_backend, weight), .def = "1", .min = 1, .max = MANY},
    {"labels", CONFIG_KIND_LABELS, offsetof(struct config_backend, labels), .def = NULL},
};
static const struct config_schema backend_schema = {backend_fields, NFIELDS(backend_fields),
                                                    sizeof(struct config_backend)};

/* --- orchestration and workers -------------------------------------------------------------------------------- */

static const struct config_field replication_fields[] = {
    {"factor", CONFIG_KIND_INT, offsetof(struct config_replication, factor), .def = "1", .min = 1, .max = 64},
    {"mode", CONFIG_KIND_ENUM, offsetof(struct config_replication, mode), .def = "async", .names = repl_modes},
    {"write_quorum", CONFIG_KIND_INT, offsetof(struct config_replication, write_quorum), .def = "0", .max = 64},
    {"worker_interval", CONFIG_KIND_DURATION, offsetof(struct config_replication, worker_interval), .def = "5m",
     .min = 1},
    {"batch_size", CONFIG_KIND_INT, offsetof(struct config_replication, batch_size), .def = "50", .min = 1,
     .max = MANY},
    {"concurrency", CONFIG_KIND_INT, offsetof(struct config_replication, concurrency), .def = "5", .min = 1,
     .max = 10000},
    {"unhealthy_threshold", CONFIG_KIND_DURATION, offsetof(struct config_replication, unhealthy_threshold),
     .def = "10m", .min = 1},
};
static const struct config_schema replication_schema = {replication_fields, NFIELDS(replication_fields),
                                                        sizeof(struct config_replication)};

static const struct config_field circuit_breaker_fields[] = {
    {"failure_threshold", CONFIG_KIND_INT, offsetof(struct config_circuit_breaker, failure_threshold), .def = "3",
     .min = 1, .max = MANY},
    {"open_timeout", CONFIG_KIND_DURATION, offsetof(struct config_circuit_breaker, open_timeout), .def = "15s",
     .min = 1},
    {"cache_ttl", CONFIG_KIND_DURATION, offsetof(struct config_circuit_breaker, cache_ttl), .def = "60s"},
    {"parallel_broadcast", CONFIG_KIND_BOOL, offsetof(struct config_circuit_breaker, parallel_broadcast),
     .def = "false"},
};
static const struct config_schema circuit_breaker_schema = {circuit_breaker_fields, NFIELDS(circuit_breaker_fields),
                                                            sizeof(struct config_circuit_breaker)};

static const struct config_field backend_breaker_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_backend_circuit_breaker, enabled), .def = "true"},
    {"failure_threshold", CONFIG_KIND_INT, offsetof(struct config_backend_circuit_breaker, failure_threshold),
     .def = "5", .min = 1, .max = MANY},
    {"open_timeout", CONFIG_KIND_DURATION, offsetof(struct config_backend_circuit_breaker, open_timeout),
     .def = "5m", .min = 1},
};
static const struct config_schema backend_breaker_schema = {backend_breaker_fields, NFIELDS(backend_breaker_fields),
                                                            sizeof(struct config_backend_circuit_breaker)};

static const struct config_field admission_fields[] = {
    {"max_concurrent_requests", CONFIG_KIND_INT, offsetof(struct config_admission, max_concurrent_requests),
     .def = "1000", .max = 100LL * MANY},
    {"max_concurrent_reads", CONFIG_KIND_INT, offsetof(struct config_admission, max_concurrent_reads), .def = "0",
     .max = 100LL * MANY},
    {"max_concurrent_writes", CONFIG_KIND_INT, offsetof(struct config_admission, max_concurrent_writes), .def = "0",
     .max = 100LL * MANY},
    {"load_shed_threshold", CONFIG_KIND_FLOAT, offsetof(struct config_admission, load_shed_threshold), .def = "0",
     .fmax = 1},
};
static const struct config_schema admission_schema = {admission_fields, NFIELDS(admission_fields),
                                                      sizeof(struct config_admission)};

static const struct config_field rate_limit_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_rate_limit, enabled), .def = "false"},
    {"requests_per_sec", CONFIG_KIND_FLOAT, offsetof(struct config_rate_limit, requests_per_sec), .def = "100",
     .fmax = 1e9},
    {"burst", CONFIG_KIND_INT, offsetof(struct config_rate_limit, burst), .def = "200", .min = 1, .max = 1000LL * MANY},
    {"trusted_proxies", CONFIG_KIND_STRINGS, offsetof(struct config_rate_limit, trusted_proxies), .def = NULL},
};
static const struct config_schema rate_limit_schema = {rate_limit_fields, NFIELDS(rate_limit_fields),
                                                       sizeof(struct config_rate_limit)};

static const struct config_field write_failover_fields[] = {
    {"buffer_limit", CONFIG_KIND_SIZE, offsetof(struct config_write_failover, buffer_limit), .def = "8MiB",
     .max = 1LL << 34},
};
static const struct config_schema write_failover_schema = {write_failover_fields, NFIELDS(write_failover_fields),
                                                           sizeof(struct config_write_failover)};

static const struct config_field usage_flush_fields[] = {
    {"interval", CONFIG_KIND_DURATION, offsetof(struct config_usage_flush, interval), .def = "30s", .min = 1},
    {"adaptive_enabled", CONFIG_KIND_BOOL, offsetof(struct config_usage_flush, adaptive_enabled), .def = "true"},
    {"adaptive_threshold", CONFIG_KIND_FLOAT, offsetof(struct config_usage_flush, adaptive_threshold), .def = "0.8",
     .fmin = 0.01, .fmax = 1},
    {"fast_interval", CONFIG_KIND_DURATION, offsetof(struct config_usage_flush, fast_interval), .def = "5s",
     .min = 1},
};
static const struct config_schema usage_flush_schema = {usage_flush_fields, NFIELDS(usage_flush_fields),
                                                        sizeof(struct config_usage_flush)};

static const struct config_field cleanup_queue_fields[] = {
    {"interval", CONFIG_KIND_DURATION, offsetof(struct config_cleanup_queue, interval), .def = "1m", .min = 1},
    {"concurrency", CONFIG_KIND_INT, offsetof(struct config_cleanup_queue, concurrency), .def = "10", .min = 1,
     .max = 10000},
    {"max_attempts", CONFIG_KIND_INT, offsetof(struct config_cleanup_queue, max_attempts), .def = "10", .min = 1,
     .max = 1000},
    {"retry_backoff", CONFIG_KIND_DURATION, offsetof(struct config_cleanup_queue, retry_backoff), .def = "1m",
     .min = 1},
    {"pending_timeout", CONFIG_KIND_DURATION, offsetof(struct config_cleanup_queue, pending_timeout), .def = "6h",
     .min = 1},
    {"multipart_stale_timeout", CONFIG_KIND_DURATION,
     offsetof(struct config_cleanup_queue, multipart_stale_timeout), .def = "24h", .min = 1},
};
static const struct config_schema cleanup_queue_schema = {cleanup_queue_fields, NFIELDS(cleanup_queue_fields),
                                                          sizeof(struct config_cleanup_queue)};

static const struct config_field rebalance_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_rebalance, enabled), .def = "false"},
    {"strategy", CONFIG_KIND_ENUM, offsetof(struct config_rebalance, strategy), .def = "pack",
     .names = rebalance_strategies},
    {"interval", CONFIG_KIND_DURATION, offsetof(struct config_rebalance, interval), .def = "6h", .min = 1},
    {"batch_size", CONFIG_KIND_INT, offsetof(struct config_rebalance, batch_size), .def = "100", .min = 1,
     .max = MANY},
    {"threshold", CONFIG_KIND_FLOAT, offsetof(struct config_rebalance, threshold), .def = "0.1", .fmax = 1},
    {"concurrency", CONFIG_KIND_INT, offsetof(struct config_rebalance, concurrency), .def = "5", .min = 1,
     .max = 10000},
};
static const struct config_schema rebalance_schema = {rebalance_fields, NFIELDS(rebalance_fields),
                                                      sizeof(struct config_rebalance)};

static const struct config_field reconcile_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_reconcile, enabled), .def = "false"},
    {"interval", CONFIG_KIND_DURATION, offsetof(struct config_reconcile, interval), .def = "24h", .min = 1},
};
static const struct config_schema reconcile_schema = {reconcile_fields, NFIELDS(reconcile_fields),
                                                      sizeof(struct config_reconcile)};

static const struct config_field lifecycle_rule_fields[] = {
    {"bucket", CONFIG_KIND_STRING, offsetof(struct config_lifecycle_rule, bucket), .def = ""},
    {"prefix", CONFIG_KIND_STRING, offsetof(struct config_lifecycle_rule, prefix), .def = ""},
    {"expiration_days", CONFIG_KIND_INT, offsetof(struct config_lifecycle_rule, expiration_days), .def = "0",
     .min = 1, .max = 100000},
};
static const struct config_schema lifecycle_rule_schema = {lifecycle_rule_fields, NFIELDS(lifecycle_rule_fields),
                                                           sizeof(struct config_lifecycle_rule)};

static const struct config_field lifecycle_fields[] = {
    {"interval", CONFIG_KIND_DURATION, offsetof(struct config_lifecycle, interval), .def = "1h", .min = 1},
    {"rules", CONFIG_KIND_LIST, offsetof(struct config_lifecycle, rules), offsetof(struct config_lifecycle, nrules),
     .sub = &lifecycle_rule_schema},
};
static const struct config_schema lifecycle_schema = {lifecycle_fields, NFIELDS(lifecycle_fields),
                                                      sizeof(struct config_lifecycle)};

static const struct config_field integrity_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_integrity, enabled), .def = "false"},
    {"verify_on_read", CONFIG_KIND_BOOL, offsetof(struct config_integrity, verify_on_read), .def = "false"},
    {"scrubber_interval", CONFIG_KIND_DURATION, offsetof(struct config_integrity, scrubber_interval), .def = "6h",
     .min = 1},
};
static const struct config_schema integrity_schema = {integrity_fields, NFIELDS(integrity_fields),
                                                      sizeof(struct config_integrity)};

static const struct config_field encryption_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_encryption, enabled), .def = "false"},
    {"master_key", CONFIG_KIND_STRING, offsetof(struct config_encryption, master_key), .def = ""},
    {"master_key_file", CONFIG_KIND_STRING, offsetof(struct config_encryption, master_key_file), .def = ""},
    {"previous_keys", CONFIG_KIND_STRINGS, offsetof(struct config_encryption, previous_keys), .def = NULL},
    /* A chunk is the unit of AES-GCM sealing: too small wastes tags, too large makes ranged reads decrypt waste. */
    {"chunk_size", CONFIG_KIND_SIZE, offsetof(struct config_encryption, chunk_size), .def = "64KiB", .min = 4096,
     .max = 16LL << 20},
};
static const struct config_schema encryption_schema = {encryption_fields, NFIELDS(encryption_fields),
                                                       sizeof(struct config_encryption)};

/* --- operations ------------------------------------------------------------------------------------------------- */

static const struct config_field metrics_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_metrics, enabled), .def = "true"},
    {"path", CONFIG_KIND_STRING, offsetof(struct config_metrics, path), .def = "/metrics"},
    {"listen", CONFIG_KIND_STRING, offsetof(struct config_metrics, listen), .def = ""},
};
static const struct config_schema metrics_schema = {metrics_fields, NFIELDS(metrics_fields),
                                                    sizeof(struct config_metrics)};

static const struct config_field log_fields[] = {
    {"level", CONFIG_KIND_ENUM, offsetof(struct config_log, level), .def = "info", .names = log_levels},
    {"format", CONFIG_KIND_ENUM, offsetof(struct config_log, format), .def = "json", .names = log_formats},
    {"audit", CONFIG_KIND_BOOL, offsetof(struct config_log, audit), .def = "false"},
};
static const struct config_schema log_schema = {log_fields, NFIELDS(log_fields), sizeof(struct config_log)};

static const struct config_field telemetry_fields[] = {
    {"metrics", CONFIG_KIND_SECTION, offsetof(struct config_telemetry, metrics), .sub = &metrics_schema},
    {"log", CONFIG_KIND_SECTION, offsetof(struct config_telemetry, log), .sub = &log_schema},
};
static const struct config_schema telemetry_schema = {telemetry_fields, NFIELDS(telemetry_fields),
                                                      sizeof(struct config_telemetry)};

static const struct config_field admin_fields[] = {
    {"token", CONFIG_KIND_STRING, offsetof(struct config_admin, token), .def = ""},
};
static const struct config_schema admin_schema = {admin_fields, NFIELDS(admin_fields), sizeof(struct config_admin)};

static const struct config_field ui_fields[] = {
    {"enabled", CONFIG_KIND_BOOL, offsetof(struct config_ui, enabled), .def = "false"},
    {"admin_key", CONFIG_KIND_STRING, offsetof(struct config_ui, admin_key), .def = ""},
    {"admin_secret", CONFIG_KIND_STRING, offsetof(struct config_ui, admin_secret), .def = ""},
    {"session_secret", CONFIG_KIND_STRING, offsetof(struct config_ui, session_secret), .def = ""},
};
static const struct config_schema ui_schema = {ui_fields, NFIELDS(ui_fields), sizeof(struct config_ui)};

/* --- the file ----------------------------------------------------------------------------------------------------- */

static const struct config_field root_fields[] = {
    {"server", CONFIG_KIND_SECTION, offsetof(struct config, server), .sub = &server_schema},
    {"database", CONFIG_KIND_SECTION, offsetof(struct config, database), .sub = &database_schema},
    {"buckets", CONFIG_KIND_LIST, offsetof(struct config, buckets), offsetof(struct config, nbuckets),
     .sub = &bucket_schema},
    {"routing_strategy", CONFIG_KIND_ENUM, offsetof(struct config, routing_strategy), .def = "pack",
     .names = routings},
    {"backends", CONFIG_KIND_LIST, offsetof(struct config, backends), offsetof(struct config, nbackends),
     .sub = &backend_schema},
    {"replication", CONFIG_KIND_SECTION, offsetof(struct config, replication), .sub = &replication_schema},
    {"circuit_breaker", CONFIG_KIND_SECTION, offsetof(struct config, circuit_breaker),
     .sub = &circuit_breaker_schema},
    {"backend_circuit_breaker", CONFIG_KIND_SECTION, offsetof(struct config, backend_circuit_breaker),
     .sub = &backend_breaker_schema},
    {"admission", CONFIG_KIND_SECTION, offsetof(struct config, admission), .sub = &admission_schema},
    {"rate_limit", CONFIG_KIND_SECTION, offsetof(struct config, rate_limit), .sub = &rate_limit_schema},
    {"write_failover", CONFIG_KIND_SECTION, offsetof(struct config, write_failover), .sub = &write_failover_schema},
    {"usage_flush", CONFIG_KIND_SECTION, offsetof(struct config, usage_flush), .sub = &usage_flush_schema},
    {"cleanup_queue", CONFIG_KIND_SECTION, offsetof(struct config, cleanup_queue), .sub = &cleanup_queue_schema},
    {"rebalance", CONFIG_KIND_SECTION, offsetof(struct config, rebalance), .sub = &rebalance_schema},
    {"reconcile", CONFIG_KIND_SECTION, offsetof(struct config, reconcile), .sub = &reconcile_schema},
    {"lifecycle", CONFIG_KIND_SECTION, offsetof(struct config, lifecycle), .sub = &lifecycle_schema},
    {"integrity", CONFIG_KIND_SECTION, offsetof(struct config, integrity), .sub = &integrity_schema},
    {"encryption", CONFIG_KIND_SECTION, offsetof(struct config, encryption), .sub = &encryption_schema},
    {"telemetry", CONFIG_KIND_SECTION, offsetof(struct config, telemetry), .sub = &telemetry_schema},
    {"admin", CONFIG_KIND_SECTION, offsetof(struct config, admin), .sub = &admin_schema},
    {"ui", CONFIG_KIND_SECTION, offsetof(struct config, ui), .sub = &ui_schema},
};
const struct config_schema config_schema_root = {root_fields, NFIELDS(root_fields), sizeof(struct config)};

const struct config_field *config_schema_find(const struct config_schema *s, const char *name)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return &s->fields[i];
    return NULL;
}
