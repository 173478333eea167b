/* The configuration of `s3orch serve` without --config (config.md, last paragraph): everything under one data
 * directory, and a credential generated on the first start and kept there so later starts accept the same keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_check.h"
#include "config/config_random.h"
#include "config/config_schema.h"

static const char credentials_name[] = "credentials";
static const char id_var[] = "AWS_ACCESS_KEY_ID=", secret_var[] = "AWS_SECRET_ACCESS_KEY=";

/* mkdir -p with mode 0700 for what it creates: the directory will hold the credential and the data. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        char saved = path[i];
        path[i] = 0;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -errno;
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static char *join(const char *dir, const char *name)
{
    char *p = NULL;
    size_t n = strlen(dir);
    bool slash = n > 0 && dir[n - 1] == '/';
    return asprintf(&p, "%s%s%s", dir, slash ? "" : "/", name) < 0 ? NULL : p;
}

/* Reads "AWS_ACCESS_KEY_ID=…" and "AWS_SECRET_ACCESS_KEY=…" lines (the format `set -a; . FILE` also reads).
 * -ENOENT when absent, -EINVAL when it is not a file we wrote. */
static int credentials_read(const char *path, char *id, size_t idlen, char *secret, size_t secretlen)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[512];
    id[0] = secret[0] = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, id_var, sizeof(id_var) - 1) == 0)
            snprintf(id, idlen, "%s", line + sizeof(id_var) - 1);
        else if (strncmp(line, secret_var, sizeof(secret_var) - 1) == 0)
            snprintf(secret, secretlen, "%s", line + sizeof(secret_var) - 1);
    }
    fclose(f);
    if (config_check_access_key_id(id) || config_check_secret(secret))
        return -EINVAL;
    return 0;
}

/* Writes a new credential file without ever replacing one: the content goes to a private temporary name first and
 * is then linked into place, which fails if another process got there first (its credential then wins). */
static int credentials_create(const char *path, const char *id, const char *secret)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return -ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = -errno;
        free(tmp);
        return err;
    }
    char text[512];
    int n = snprintf(text, sizeof(text),
                     "# The credential of s3orch's embedded default (bucket 'default'). Keep this file private.\n"
                     "%s%s\n%s%s\n",
                     id_var, id, secret_var, secret);
    int err = 0;
    ssize_t w = write(fd, text, (size_t)n);
    if (w != n)
        err = w < 0 ? -errno : -EIO;
    else if (fsync(fd) < 0)
        err = -errno;
    close(fd);
    if (err == 0 && link(tmp, path) < 0)
        err = -errno;
    unlink(tmp);
    free(tmp);
    return err;
}

static int credential_get(const char *data_dir, char *id, size_t idlen, char *secret, size_t secretlen)
{
    char *path = join(data_dir, credentials_name);
    if (!path)
        return -ENOMEM;
    int err = credentials_read(path, id, idlen, secret, secretlen);
    if (err == -ENOENT) {
        char new_id[CONFIG_GEN_KEY_ID_LEN + 1], new_secret[CONFIG_GEN_SECRET_LEN + 1];
        err = config_generate_credential(new_id, new_secret);
        if (err == 0)
            err = credentials_create(path, new_id, new_secret);
        if (err == -EEXIST || err == 0)
            err = credentials_read(path, id, idlen, secret, secretlen);
    }
    free(path);
    return err;
}

static int set_string(char **slot, char *value)
{
    if (!value)
        return -ENOMEM;
    free(*slot);
    *slot = value;
    return 0;
}

static int add_backend(struct config *cfg, size_t i, const char *data_dir, const char *name)
{
    struct config_backend *b = &cfg->backends[i];
    b->type = CONFIG_BACKEND_FS;
    int err = set_string(&b->name, strdup(name));
    return err ? err : set_string(&b->path, join(data_dir, name));
}

static const struct config_field *root_field(const char *name)
{
    return config_schema_find(&config_schema_root, name);
}

/* Allocates n elements of the list field `name`, each with its defaults. */
static int alloc_list(void *base, const struct config_field *f, size_t n)
{
    char *items = calloc(n, f->sub->size);
    if (!items)
        return -ENOMEM;
    config_list_set(base, f, items, n);
    for (size_t i = 0; i < n; i++)
        if (config_schema_apply_defaults(f->sub, items + i * f->sub->size) < 0)
            return -ENOMEM;
    return 0;
}

int config_default_embedded(const char *data_dir, struct config **out)
{
    *out = NULL;
    int err = make_dirs(data_dir);
    char id[160], secret[160];
    if (err == 0)
        err = credential_get(data_dir, id, sizeof(id), secret, sizeof(secret));
    if (err < 0)
        return err;

    struct config *cfg;
    if ((err = config_new_default(&cfg)) < 0)
        return err;
    if ((err = set_string(&cfg->database.path, join(data_dir, "meta.db"))) < 0)
        goto fail;
    if ((err = alloc_list(cfg, root_field("backends"), 2)) < 0 || (err = add_backend(cfg, 0, data_dir, "disk1")) < 0 ||
        (err = add_backend(cfg, 1, data_dir, "disk2")) < 0)
        goto fail;
    if ((err = alloc_list(cfg, root_field("buckets"), 1)) < 0 ||
        (err = set_string(&cfg->buckets[0].name, strdup("default"))) < 0)
        goto fail;
    struct config_bucket *b = &cfg->buckets[0];
    if ((err = alloc_list(b, config_schema_find(root_field("buckets")->sub, "credentials"), 1)) < 0)
        goto fail;
    /* One user on their own machine: let the demo key create buckets too, so tools that make their own work. */
    b->credentials[0].create_buckets = true;
    if ((err = set_string(&b->credentials[0].access_key_id, strdup(id))) < 0 ||
        (err = set_string(&b->credentials[0].secret_access_key, strdup(secret))) < 0)
        goto fail;

    struct config_errors errs = {0};
    err = config_validate(cfg, &errs);
    config_errors_free(&errs);
    if (err < 0)
        goto fail;
    *out = cfg;
    return 0;
fail:
    config_free(cfg);
    return err;
}
