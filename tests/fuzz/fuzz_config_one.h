/* One fuzz input through the configuration loader (config.h), shared by tests/fuzz/fuzz_config.c and
 * tests/unit/test_fuzz_config_corpus.c.
 *
 * The input is the text of a configuration file, any bytes (${VAR} expansion, libyaml, the schema walk and
 * validation all see it). So seeds can use ${VAR} deterministically, S3ORCH_FUZZ_SECRET is set to a valid secret
 * and S3ORCH_FUZZ_EMPTY to "" (the rest of the environment is whatever the process has). The text ends just below
 * an inaccessible page, so a read past it (a strlen on a text that is not NUL-terminated) faults at once.
 *
 * The checks: config_load_string() returns 0 with a config and no error, or -EINVAL/-ENOMEM with no config and at
 * least one error, never both; every error has a path, a message and a sane position, and config_errors_find()
 * finds it; errors print. A loaded config validates again without errors and holds what validation promises
 * (strings set, names unique, bucket names valid). Small inputs are loaded a second time with an error already
 * in the list: the same result, the errors appended. config_free() and config_errors_free() release everything
 * (tests/unit/test_fuzz_config_corpus.c counts the heap around each input; valgrind checks the rest). Any
 * violation abort()s, which is what the fuzzer counts as a crash.
 */
#ifndef S3ORCH_FUZZ_CONFIG_ONE_H
#define S3ORCH_FUZZ_CONFIG_ONE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

#define FUZZ_CONFIG_MAX_INPUT (64u << 10)
#define FUZZ_CONFIG_RELOAD_MAX 4096 /* inputs up to this size are loaded twice */

static void fuzz_cf_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_config: invariant broken: %s\n", what);
    abort();
}

/* The end of a FUZZ_CONFIG_MAX_INPUT-byte buffer followed by a PROT_NONE page. Mapped once. */
static char *fuzz_cf_guarded_end(void)
{
    static char *end;
    if (!end) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = (FUZZ_CONFIG_MAX_INPUT + page - 1) / page * page;
        char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_cf_require(p != MAP_FAILED, "mmap of the guarded buffer");
        fuzz_cf_require(mprotect(p + size, page, PROT_NONE) == 0, "mprotect of the guard page");
        end = p + size;
    }
    return end;
}

static void fuzz_cf_check_errors(const struct config_errors *errs, size_t from)
{
    for (size_t i = from; i < errs->count; i++) {
        const struct config_error *e = &errs->items[i];
        fuzz_cf_require(e->path != NULL && e->message != NULL && e->message[0] != '\0', "error path and message");
        fuzz_cf_require(e->line >= 0 && e->column >= 0, "error position not negative");
        fuzz_cf_require((e->line == 0) == (e->column == 0), "an error has both a line and a column, or neither");
        const struct config_error *found = config_errors_find(errs, e->path);
        fuzz_cf_require(found != NULL && found <= e && strcmp(found->path, e->path) == 0,
                        "config_errors_find finds the first error at a path");
    }
}

static void fuzz_cf_check_strings(const struct config_strings *s)
{
    fuzz_cf_require(s->n == 0 || s->items != NULL, "a list has its items");
    for (size_t i = 0; i < s->n; i++)
        fuzz_cf_require(s->items[i] != NULL, "list items set");
}

static void fuzz_cf_check_labels(const struct config_labels *l)
{
    fuzz_cf_require(l->n == 0 || l->items != NULL, "labels have their items");
    for (size_t i = 0; i < l->n; i++) {
        fuzz_cf_require(l->items[i].key != NULL && l->items[i].value != NULL, "label key and value set");
        for (size_t j = 0; j < i; j++)
            fuzz_cf_require(strcmp(l->items[i].key, l->items[j].key) != 0, "label keys unique");
    }
}

/* What a config that loaded without errors must hold. */
static void fuzz_cf_check_config(const struct config *cfg)
{
    fuzz_cf_require(cfg->source != NULL, "a loaded config knows where its keys stood");
    fuzz_cf_require(cfg->server.listen_addr && cfg->database.path && cfg->database.dsn &&
                        cfg->telemetry.metrics.path && cfg->telemetry.metrics.listen && cfg->admin.token,
                    "strings are set, never NULL");
    fuzz_cf_check_strings(&cfg->server.virtual_host_domains);
    fuzz_cf_check_strings(&cfg->rate_limit.trusted_proxies);
    fuzz_cf_check_strings(&cfg->encryption.previous_keys);
    fuzz_cf_require(cfg->nbuckets == 0 || cfg->buckets != NULL, "buckets have their items");
    for (size_t i = 0; i < cfg->nbuckets; i++) {
        const struct config_bucket *b = &cfg->buckets[i];
        fuzz_cf_require(b->name != NULL && config_check_bucket_name(b->name) == NULL, "bucket names valid");
        for (size_t j = 0; j < i; j++)
            fuzz_cf_require(strcmp(b->name, cfg->buckets[j].name) != 0, "bucket names unique");
        fuzz_cf_check_strings(&b->placement.distinct);
        fuzz_cf_check_labels(&b->placement.require);
        fuzz_cf_check_labels(&b->placement.exclude);
        fuzz_cf_require(b->ncredentials == 0 || b->credentials != NULL, "credentials have their items");
        for (size_t c = 0; c < b->ncredentials; c++)
            fuzz_cf_require(b->credentials[c].access_key_id && b->credentials[c].secret_access_key,
                            "credential strings set");
    }
    fuzz_cf_require(cfg->nbackends == 0 || cfg->backends != NULL, "backends have their items");
    for (size_t i = 0; i < cfg->nbackends; i++) {
        const struct config_backend *b = &cfg->backends[i];
        fuzz_cf_require(b->name != NULL && b->type != CONFIG_BACKEND_UNSET, "backend name and type set");
        for (size_t j = 0; j < i; j++)
            fuzz_cf_require(strcmp(b->name, cfg->backends[j].name) != 0, "backend names unique");
        fuzz_cf_check_labels(&b->labels);
    }
    fuzz_cf_require(cfg->lifecycle.nrules == 0 || cfg->lifecycle.rules != NULL, "rules have their items");

    struct config_errors again = { 0 };
    int rc = config_validate(cfg, &again);
    if (rc != 0 || again.count)
        config_errors_print(&again, stderr);
    fuzz_cf_require(rc == 0 && again.count == 0 && !again.out_of_mem, "a loaded config validates again");
    config_errors_free(&again);
}

/* Loads text[0..len); errs may already hold errors. Checks the result; returns it, with *count the errors added. */
static int fuzz_cf_load(const char *text, size_t len, struct config_errors *errs, size_t *count)
{
    static FILE *devnull;
    if (!devnull)
        fuzz_cf_require((devnull = fopen("/dev/null", "w")) != NULL, "open /dev/null");
    size_t before = errs->count;
    struct config *cfg = (struct config *)&cfg; /* must be overwritten */
    int rc = config_load_string(text, len, &cfg, errs);
    fuzz_cf_require(errs->count >= before, "errors are only added");
    fuzz_cf_require(errs->items == NULL || errs->count <= errs->cap, "error list within its capacity");
    *count = errs->count - before;
    if (rc == 0) {
        fuzz_cf_require(cfg != NULL && cfg != (struct config *)&cfg, "success gives a config");
        fuzz_cf_require(*count == 0 && !errs->out_of_mem, "success records no error");
        fuzz_cf_check_config(cfg);
        config_free(cfg);
    } else {
        fuzz_cf_require(rc == -EINVAL || rc == -ENOMEM, "failure is -EINVAL or -ENOMEM");
        fuzz_cf_require(cfg == NULL, "failure gives no config");
        fuzz_cf_require(*count > 0 || errs->out_of_mem, "failure records at least one error");
    }
    fuzz_cf_check_errors(errs, before);
    config_errors_print(errs, devnull);
    return rc;
}

static void fuzz_config_one(const void *data, size_t len)
{
    static bool env_ready;
    if (!env_ready) {
        setenv("S3ORCH_FUZZ_SECRET", "fuzz-secret-from-the-environment-0123", 1);
        setenv("S3ORCH_FUZZ_EMPTY", "", 1);
        env_ready = true;
    }
    if (len > FUZZ_CONFIG_MAX_INPUT)
        len = FUZZ_CONFIG_MAX_INPUT;
    char *text = fuzz_cf_guarded_end() - len;
    memcpy(text, data, len);

    struct config_errors errs = { 0 };
    size_t count;
    int rc = fuzz_cf_load(text, len, &errs, &count);
    config_errors_free(&errs);
    fuzz_cf_require(errs.items == NULL && errs.count == 0 && errs.file == NULL, "errors_free empties the list");

    if (len <= FUZZ_CONFIG_RELOAD_MAX) {
        struct config_errors more = { 0 };
        config_errors_add(&more, "earlier", 1, 1, "an error from before");
        size_t count2;
        /* The cap on recorded errors counts the earlier one too. */
        size_t room = count >= CONFIG_ERRORS_MAX ? CONFIG_ERRORS_MAX - 1 : count;
        fuzz_cf_require(fuzz_cf_load(text, len, &more, &count2) == rc && count2 == room,
                        "earlier errors change neither the result nor the errors added");
        fuzz_cf_require(more.count >= 1 && strcmp(more.items[0].path, "earlier") == 0, "earlier error kept first");
        config_errors_free(&more);
    }
}

/* Runs the file at `path` through fuzz_config_one(). Returns 0 or -errno. */
static int fuzz_config_run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = malloc(FUZZ_CONFIG_MAX_INPUT);
    fuzz_cf_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_CONFIG_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err)
        fuzz_config_one(buf, n);
    free(buf);
    return err;
}

#endif
