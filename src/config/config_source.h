/* Internal to src/config: where each key of a loaded file stood. Validation runs on the struct, long after the YAML
 * nodes are gone; this table lets its errors still point at a line, and lets it ask whether a key was written at
 * all (rather than defaulted). */
#ifndef S3ORCH_CONFIG_SOURCE_H
#define S3ORCH_CONFIG_SOURCE_H

#include <stdbool.h>

struct config_source;

struct config_source *config_source_new(void);
void config_source_free(struct config_source *src);
/* Records path → line:column (1-based); -ENOMEM. */
int config_source_add(struct config_source *src, const char *path, int line, int column);
/* Position of path, else of its nearest recorded parent ("backends[1].path" → "backends[1]" → "backends");
 * 0:0 when none (or src is NULL). */
void config_source_position(const struct config_source *src, const char *path, int *line, int *column);
/* Was exactly this path written in the file? */
bool config_source_has(const struct config_source *src, const char *path);

#endif
