/* Internal to src/config: `${VAR}` expansion of the raw file text, before YAML parsing (config.md).
 *
 *   ${VAR}            the variable's value; unset is an error
 *   ${VAR:-default}   the value, or `default` when unset or empty
 *   $$                a literal `$`
 *   any other `$`     itself, so secrets such as "pa$word" need no escaping
 *
 * An unset variable is not reported here: it is replaced by a placeholder the loader recognises, so the error can
 * name the key it stood in (`backends[1].secret_access_key: environment variable R2_SK is not set`), and a
 * variable inside a YAML comment, which no key holds, stays harmless. */
#ifndef S3ORCH_CONFIG_ENV_H
#define S3ORCH_CONFIG_ENV_H

#include <stddef.h>

#include "config/config.h"

struct config_env_unset {
    char *name;
    int line, column; /* of the `$` in the original text */
};

struct config_env {
    char *text; /* expanded, NUL-terminated */
    size_t len;
    struct config_env_unset *unset;
    size_t nunset;
};

/* 0, -EINVAL for a malformed `${` (recorded in errs with its position), or -ENOMEM. env is filled either way and
 * must be released with config_env_free(). */
int config_env_expand(const char *text, size_t len, struct config_env *env, struct config_errors *errs);
void config_env_free(struct config_env *env);

/* If s holds a placeholder, the index of the first one in env->unset, else -1. */
int config_env_find_unset(const struct config_env *env, const char *s);

#endif
