/* Durations ("30s", "5m", "1h30m", "250ms", "1.5s") and sizes ("10GiB", "500MB", "4096") as the config file and
 * the command line write them. */
#ifndef S3ORCH_CONFIG_UNITS_H
#define S3ORCH_CONFIG_UNITS_H

#include <stdint.h>

/* Nanoseconds; a unit is required except for "0". -EINVAL on bad syntax, -ERANGE on overflow or a negative. */
int config_parse_duration(const char *s, int64_t *out_ns);
/* Bytes; no unit means bytes. KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024. */
int config_parse_size(const char *s, int64_t *out_bytes);

#endif
