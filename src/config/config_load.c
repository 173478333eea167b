/* YAML text → struct config: libyaml builds the node tree, and one walk over it, guided by the schema table, fills
 * the struct over its defaults. Every problem is recorded with the key path and the node's line:column and the walk
 * goes on, so one run reports them all. Semantic rules are config_validate.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config/config.h"
#include "config/config_check.h"
#include "config/config_env.h"
#include "config/config_schema.h"
#include "config/config_source.h"

/* A config is a few KB; the cap keeps a wrong path (a disk image, /dev/zero) from eating memory. */
enum { CONFIG_MAX_FILE = 16 << 20 };
/* Aliases let a small file name the same subtree many times; the walk visits at most this many nodes. */
enum { CONFIG_MAX_VISITS = 1000000 };

struct loader {
    yaml_document_t *doc;
    struct config_errors *errs;
    struct config_source *src;
    const struct config_env *env;
    long visits_left;
    int err; /* -ENOMEM: stop */
    char path[1024];
    size_t plen;
};

/* --- key paths: "backends[2].labels.region" ------------------------------------------------------------------ */

static size_t path_push_key(struct loader *l, const char *name)
{
    size_t old = l->plen;
    int n = snprintf(l->path + old, sizeof(l->path) - old, "%s%s", old ? "." : "", name);
    l->plen = n < 0 ? old : old + (size_t)n >= sizeof(l->path) ? sizeof(l->path) - 1 : old + (size_t)n;
    return old;
}

static size_t path_push_index(struct loader *l, size_t i)
{
    size_t old = l->plen;
    int n = snprintf(l->path + old, sizeof(l->path) - old, "[%zu]", i);
    l->plen = n < 0 ? old : old + (size_t)n >= sizeof(l->path) ? sizeof(l->path) - 1 : old + (size_t)n;
    return old;
}

static void path_pop(struct loader *l, size_t old)
{
    l->plen = old;
    l->path[old] = 0;
}

/* --- helpers ------------------------------------------------------------------------------------------------------ */

static void fail(struct loader *l, const yaml_node_t *at, const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
    config_errors_add(l->errs, l->path, at ? (int)at->start_mark.line + 1 : 0,
                      at ? (int)at->start_mark.column + 1 : 0, "%s", msg);
}

static void remember(struct loader *l, const yaml_node_t *at)
{
    if (!l->err && config_source_add(l->src, l->path, (int)at->start_mark.line + 1, (int)at->start_mark.column + 1))
        l->err = -ENOMEM;
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static const char *describe(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a single value";
    }
}

/* Spends one visit; false (with one error) once the budget is gone. */
static bool visit(struct loader *l, const yaml_node_t *n)
{
    if (l->err)
        return false;
    if (--l->visits_left == 0)
        fail(l, n, "the document is too large (aliases repeated too often?)", NULL, NULL);
    return l->visits_left > 0;
}

/* The text of a scalar node, or NULL after recording why not: not a scalar, holds a NUL, or holds an unset
 * environment variable (reported here, where the key path is known). */
static const char *scalar_text(struct loader *l, const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE) {
        fail(l, n, "want a single value, got %s", describe(n), NULL);
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length) {
        fail(l, n, "value contains a NUL byte", NULL, NULL);
        return NULL;
    }
    int u = config_env_find_unset(l->env, v);
    if (u >= 0) {
        const struct config_env_unset *e = &l->env->unset[u];
        config_errors_add(l->errs, l->path, e->line, e->column,
                          "environment variable %s is not set (write ${%s:-default} to give a default)", e->name,
                          e->name);
        return NULL;
    }
    return v;
}

/* --- values ---------------------------------------------------------------------------------------------------- */

static void load_mapping(struct loader *l, const yaml_node_t *n, const struct config_schema *s, void *base);

static void load_strings(struct loader *l, const yaml_node_t *n, struct config_strings *out)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        fail(l, n, "want a list (e.g. [a, b]), got %s", describe(n), NULL);
        return;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char **items = calloc(count ? count : 1, sizeof(*items));
    if (!items) {
        l->err = -ENOMEM;
        return;
    }
    out->items = items;
    out->n = 0;
    for (size_t i = 0; i < count && !l->err; i++) {
        const yaml_node_t *item = yaml_document_get_node(l->doc, n->data.sequence.items.start[i]);
        size_t old = path_push_index(l, i);
        if (visit(l, item)) {
            remember(l, item);
            const char *v = is_null(item) ? "" : scalar_text(l, item);
            if (v && !(out->items[out->n++] = strdup(v)))
                l->err = -ENOMEM;
        }
        path_pop(l, old);
    }
}

static void load_labels(struct loader *l, const yaml_node_t *n, struct config_labels *out)
{
    if (n->type != YAML_MAPPING_NODE) {
        fail(l, n, "want a mapping of labels (e.g. { provider: aws }), got %s", describe(n), NULL);
        return;
    }
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    struct config_kv *items = calloc(count ? count : 1, sizeof(*items));
    if (!items) {
        l->err = -ENOMEM;
        return;
    }
    out->items = items;
    out->n = 0;
    for (size_t i = 0; i < count && !l->err; i++) {
        const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
        const yaml_node_t *k = yaml_document_get_node(l->doc, pair->key);
        const yaml_node_t *v = yaml_document_get_node(l->doc, pair->value);
        if (!visit(l, k))
            break;
        const char *key = scalar_text(l, k);
        if (!key)
            continue;
        size_t old = path_push_key(l, key);
        bool dup = false;
        for (size_t j = 0; j < out->n && !dup; j++)
            dup = strcmp(out->items[j].key, key) == 0;
        if (dup) {
            fail(l, k, "duplicate label", NULL, NULL);
        } else {
            remember(l, k);
            const char *val = is_null(v) ? "" : scalar_text(l, v);
            if (val) {
                struct config_kv *kv = &out->items[out->n++];
                kv->key = strdup(key);
                kv->value = strdup(val);
                if (!kv->key || !kv->value)
                    l->err = -ENOMEM;
            }
        }
        path_pop(l, old);
    }
}

static void load_list(struct loader *l, const struct config_field *f, const yaml_node_t *n, void *base)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        fail(l, n, "want a list of mappings (each item starting with '- '), got %s", describe(n), NULL);
        return;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    char *items = calloc(count ? count : 1, f->sub->size);
    if (!items) {
        l->err = -ENOMEM;
        return;
    }
    /* Owned by the parent from here on, so an error part-way leaves nothing to leak. */
    config_list_set(base, f, items, count);
    for (size_t i = 0; i < count; i++) {
        void *elem = items + i * f->sub->size;
        if (config_schema_apply_defaults(f->sub, elem) < 0)
            l->err = -ENOMEM;
    }
    for (size_t i = 0; i < count && !l->err; i++) {
        const yaml_node_t *item = yaml_document_get_node(l->doc, n->data.sequence.items.start[i]);
        size_t old = path_push_index(l, i);
        if (visit(l, item)) {
            remember(l, item);
            if (item->type == YAML_MAPPING_NODE)
                load_mapping(l, item, f->sub, items + i * f->sub->size);
            else
                fail(l, item, "want a mapping (key: value), got %s", describe(item), NULL);
        }
        path_pop(l, old);
    }
}

static void load_field(struct loader *l, const struct config_field *f, const yaml_node_t *v, void *base)
{
    if (is_null(v))
        return; /* `key:` with nothing after it keeps the default, as an absent key does */
    switch (f->kind) {
    case CONFIG_KIND_SECTION:
        if (v->type == YAML_MAPPING_NODE)
            load_mapping(l, v, f->sub, config_slot(base, f->offset));
        else
            fail(l, v, "want a mapping (key: value), got %s", describe(v), NULL);
        return;
    case CONFIG_KIND_LIST: load_list(l, f, v, base); return;
    case CONFIG_KIND_STRINGS: load_strings(l, v, config_slot(base, f->offset)); return;
    case CONFIG_KIND_LABELS: load_labels(l, v, config_slot(base, f->offset)); return;
    default: break;
    }
    const char *text = scalar_text(l, v);
    if (!text)
        return;
    char why[400];
    int err = config_field_set(f, base, text, why, sizeof(why));
    if (err == -ENOMEM) {
        l->err = err;
    } else if (err < 0) {
        const char *hint = f->kind == CONFIG_KIND_ENUM ? config_suggest(text, f->names) : NULL;
        if (hint)
            fail(l, v, "%s (did you mean '%s'?)", why, hint);
        else
            fail(l, v, "%s", why, NULL);
    }
}

static void load_mapping(struct loader *l, const yaml_node_t *n, const struct config_schema *s, void *base)
{
    const char *names[64];
    size_t nn = 0;
    for (size_t i = 0; i < s->nfields && nn + 1 < sizeof(names) / sizeof(names[0]); i++)
        names[nn++] = s->fields[i].name;
    names[nn] = NULL;

    const yaml_node_pair_t *start = n->data.mapping.pairs.start, *top = n->data.mapping.pairs.top;
    for (const yaml_node_pair_t *pair = start; pair < top && !l->err; pair++) {
        const yaml_node_t *k = yaml_document_get_node(l->doc, pair->key);
        const yaml_node_t *v = yaml_document_get_node(l->doc, pair->value);
        if (!visit(l, k))
            return;
        const char *key = scalar_text(l, k);
        if (!key)
            continue;
        size_t old = path_push_key(l, key);
        const struct config_field *f = config_schema_find(s, key);
        const yaml_node_t *first = NULL;
        for (const yaml_node_pair_t *p = start; p < pair && !first; p++) {
            const yaml_node_t *pk = yaml_document_get_node(l->doc, p->key);
            if (pk->type == YAML_SCALAR_NODE && strcmp((const char *)pk->data.scalar.value, key) == 0)
                first = pk;
        }
        if (first) {
            char line[32];
            snprintf(line, sizeof(line), "%zu", first->start_mark.line + 1);
            fail(l, k, "duplicate key (first written on line %s)", line, NULL);
        } else if (!f) {
            const char *hint = config_suggest(key, names);
            if (hint)
                fail(l, k, "unknown key (did you mean '%s'?)", hint, NULL);
            else
                fail(l, k, "unknown key", NULL, NULL);
        } else {
            remember(l, k);
            load_field(l, f, v, base);
        }
        path_pop(l, old);
    }
}

/* --- entry points ------------------------------------------------------------------------------------------------ */

static void yaml_problem(struct config_errors *errs, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "cannot parse";
    if (p->error == YAML_MEMORY_ERROR)
        problem = "out of memory";
    if (p->context)
        config_errors_add(errs, "", (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                          "YAML syntax: %s (%s at line %zu)", problem, p->context, p->context_mark.line + 1);
    else
        config_errors_add(errs, "", (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                          "YAML syntax: %s", problem);
}

/* Parses env->text into cfg. -EINVAL when the YAML itself is broken (nothing was loaded), -E2BIG when the walk ran
 * out of visits, -ENOMEM; 0 otherwise, even when keys had errors (those are in errs). */
static int load_yaml(const struct config_env *env, struct config *cfg, struct config_errors *errs)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)env->text, env->len);
    if (!yaml_parser_load(&parser, &doc)) {
        int err = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        yaml_problem(errs, &parser);
        yaml_parser_delete(&parser);
        return err;
    }
    struct loader l = {.doc = &doc, .errs = errs, .src = cfg->source, .env = env,
                       .visits_left = CONFIG_MAX_VISITS};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && !is_null(root)) {
        if (root->type == YAML_MAPPING_NODE)
            load_mapping(&l, root, &config_schema_root, cfg);
        else
            fail(&l, root, "the file must be a mapping of sections (server:, backends:, ...), not %s",
                 describe(root), NULL);
    }
    yaml_document_delete(&doc);

    /* A second document ("---") is almost always a paste mistake; say so rather than ignore it. */
    if (!l.err && root) {
        if (!yaml_parser_load(&parser, &doc)) {
            yaml_problem(errs, &parser);
        } else {
            yaml_node_t *next = yaml_document_get_root_node(&doc);
            if (next)
                config_errors_add(errs, "", (int)next->start_mark.line + 1, (int)next->start_mark.column + 1,
                                  "only one YAML document is allowed; found a second");
            yaml_document_delete(&doc);
        }
    }
    yaml_parser_delete(&parser);
    /* Out of visits: the struct is half-filled, and validating it would only bury the one real error. */
    return l.err ? l.err : l.visits_left <= 0 ? -E2BIG : 0;
}

int config_new_default(struct config **out)
{
    struct config *cfg = calloc(1, sizeof(*cfg));
    *out = NULL;
    if (!cfg)
        return -ENOMEM;
    if (config_schema_apply_defaults(&config_schema_root, cfg) < 0) {
        config_free(cfg);
        return -ENOMEM;
    }
    *out = cfg;
    return 0;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    config_schema_free(&config_schema_root, cfg);
    config_source_free(cfg->source);
    free(cfg);
}

int config_load_string(const char *text, size_t len, struct config **out, struct config_errors *errs)
{
    *out = NULL;
    size_t before = errs->count;
    struct config *cfg = NULL;
    struct config_env env;
    int err = config_env_expand(text, len, &env, errs);
    if (err == -ENOMEM)
        goto out;
    if ((err = config_new_default(&cfg)) < 0)
        goto out;
    if (!(cfg->source = config_source_new())) {
        err = -ENOMEM;
        goto out;
    }
    if ((err = load_yaml(&env, cfg, errs)) < 0) {
        if (err == -E2BIG)
            err = -EINVAL;
        goto out;
    }
    err = config_validate(cfg, errs);
    if (err == -ENOMEM)
        goto out;
    if (errs->count > before || errs->out_of_mem)
        err = -EINVAL;
out:
    config_env_free(&env);
    if (err == -ENOMEM && errs->count == before)
        config_errors_add(errs, "", 0, 0, "out of memory");
    if (err < 0) {
        config_free(cfg);
        return err;
    }
    *out = cfg;
    return 0;
}

/* Reads the whole file; -errno. */
static int read_file(const char *path, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        int err = S_ISDIR(st.st_mode) ? -EISDIR : -errno;
        close(fd);
        return err;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    int err = buf ? 0 : -ENOMEM;
    while (!err) {
        if (n == cap) {
            if (cap >= CONFIG_MAX_FILE) {
                err = -EFBIG;
                break;
            }
            char *p = realloc(buf, cap * 2 + 1);
            if (!p) {
                err = -ENOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = -errno;
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return 0;
}

int config_load_file(const char *path, struct config **out, struct config_errors *errs)
{
    *out = NULL;
    if (!errs->file && !(errs->file = strdup(path)))
        return -ENOMEM;
    char *text;
    size_t len;
    int err = read_file(path, &text, &len);
    if (err < 0) {
        config_errors_add(errs, "", 0, 0, "cannot read: %s",
                          err == -EFBIG ? "file larger than 16 MiB" : strerror(-err));
        return err;
    }
    err = config_load_string(text, len, out, errs);
    free(text);
    return err;
}
