/* The rules a loaded (or built) config must meet: bounds from the schema table, required keys, duplicates, and the
 * rules that tie keys together. Every broken rule is reported, each at its key path; a path that already has an
 * error (say a type error while loading) gets no second one, since the first is the cause. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_check.h"
#include "config/config_schema.h"
#include "config/config_source.h"

struct validator {
    const struct config *cfg;
    struct config_errors *errs;
    char path[1024];
};

/* Formats a key path into v->path; the returned buffer is reused by the next call. */
__attribute__((format(printf, 2, 3))) static const char *at(struct validator *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->path, sizeof(v->path), fmt, ap);
    va_end(ap);
    return v->path;
}

__attribute__((format(printf, 3, 4))) static void bad(struct validator *v, const char *path, const char *fmt, ...)
{
    if (v->errs->count >= CONFIG_ERRORS_MAX) {
        v->errs->truncated = true;
        return;
    }
    if (config_errors_find(v->errs, path))
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line, column;
    config_source_position(v->cfg->source, path, &line, &column);
    config_errors_add(v->errs, path, line, column, "%s", msg);
}

static bool written(const struct validator *v, const char *path) { return config_source_has(v->cfg->source, path); }

static bool empty(const char *s) { return !s || !*s; }

/* "16MiB" when exact, else plain bytes: bounds read better in the unit a user writes. */
static const char *size_text(char *buf, size_t len, int64_t bytes)
{
    static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
    for (int i = 0; i < 4; i++) {
        int64_t scale = 1LL << (10 * (4 - i));
        if (bytes >= scale && bytes % scale == 0) {
            snprintf(buf, len, "%lld%s", (long long)(bytes / scale), units[i]);
            return buf;
        }
    }
    snprintf(buf, len, "%lld", (long long)bytes);
    return buf;
}

/* --- the generic pass: bounds and well-formed values, from the schema table ---------------------------------- */

static void check_bounds(struct validator *v, const struct config_field *f, const void *base, const char *path)
{
    const void *slot = config_cslot(base, f->offset);
    char lo[32], hi[32];
    switch (f->kind) {
    case CONFIG_KIND_INT:
    case CONFIG_KIND_SIZE:
    case CONFIG_KIND_DURATION: {
        int64_t x = *(const int64_t *)slot;
        if (x >= f->min && (f->max == 0 || x <= f->max))
            return;
        if (f->kind == CONFIG_KIND_DURATION)
            bad(v, path, f->min > 0 ? "must be more than 0" : "must not be negative");
        else if (f->kind == CONFIG_KIND_SIZE && f->max)
            bad(v, path, "must be from %s to %s", size_text(lo, sizeof(lo), f->min), size_text(hi, sizeof(hi), f->max));
        else if (f->kind == CONFIG_KIND_SIZE)
            bad(v, path, "must be at least %s", size_text(lo, sizeof(lo), f->min));
        else if (f->max)
            bad(v, path, "must be from %lld to %lld", (long long)f->min, (long long)f->max);
        else
            bad(v, path, "must be at least %lld", (long long)f->min);
        return;
    }
    case CONFIG_KIND_FLOAT: {
        double x = *(const double *)slot;
        if (!(x >= f->fmin) || (f->fmax > 0 && x > f->fmax))
            bad(v, path, f->fmax > 0 ? "must be from %g to %g" : "must be at least %g", f->fmin, f->fmax);
        return;
    }
    case CONFIG_KIND_ENUM: {
        int x = *(const int *)slot, n = 0;
        while (f->names[n])
            n++;
        if (x >= 0 && x < n && f->names[x][0])
            return;
        size_t len = 0;
        char list[200] = "";
        for (int i = 0; i < n; i++)
            if (f->names[i][0] && len < sizeof(list))
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", f->names[i]);
        bad(v, path, "required: one of %s", list);
        return;
    }
    default: return;
    }
}

static void walk(struct validator *v, const struct config_schema *s, const void *base, const char *prefix)
{
    char path[1024];
    for (size_t i = 0; i < s->nfields; i++) {
        const struct config_field *f = &s->fields[i];
        const void *slot = config_cslot(base, f->offset);
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->name);
        switch (f->kind) {
        case CONFIG_KIND_SECTION: walk(v, f->sub, slot, path); break;
        case CONFIG_KIND_LIST: {
            const char *items = config_list_items(base, f);
            size_t n = config_list_count(base, f);
            for (size_t j = 0; j < n; j++) {
                char elem[1024];
                snprintf(elem, sizeof(elem), "%s[%zu]", path, j);
                walk(v, f->sub, items + j * f->sub->size, elem);
            }
            break;
        }
        case CONFIG_KIND_STRINGS: {
            const struct config_strings *l = slot;
            for (size_t j = 0; j < l->n; j++)
                if (empty(l->items[j]))
                    bad(v, at(v, "%s[%zu]", path, j), "empty item");
            break;
        }
        case CONFIG_KIND_LABELS: {
            const struct config_labels *l = slot;
            for (size_t j = 0; j < l->n; j++) {
                if (empty(l->items[j].key))
                    bad(v, at(v, "%s", path), "empty label name");
                else if (empty(l->items[j].value))
                    bad(v, at(v, "%s.%s", path, l->items[j].key), "empty label value");
            }
            break;
        }
        default: check_bounds(v, f, base, path);
        }
    }
}

/* --- sections -------------------------------------------------------------------------------------------------- */

static void check_server(struct validator *v)
{
    const struct config_server *s = &v->cfg->server;
    const char *why;
    if (empty(s->listen_addr))
        bad(v, "server.listen_addr", "required (e.g. 127.0.0.1:9000)");
    else if ((why = config_check_listen_addr(s->listen_addr)))
        bad(v, "server.listen_addr", "%s; got '%s'", why, s->listen_addr);
    for (size_t i = 0; i < s->virtual_host_domains.n; i++)
        if (!empty(s->virtual_host_domains.items[i]) &&
            (why = config_check_domain(s->virtual_host_domains.items[i])))
            bad(v, at(v, "server.virtual_host_domains[%zu]", i), "%s", why);
    bool cert = !empty(s->tls.cert_file), key = !empty(s->tls.key_file);
    if (cert && !key)
        bad(v, "server.tls.key_file", "required when server.tls.cert_file is set (give both or neither)");
    if (key && !cert)
        bad(v, "server.tls.cert_file", "required when server.tls.key_file is set (give both or neither)");
    if (!empty(s->tls.client_ca_file) && !cert && !key)
        bad(v, "server.tls.client_ca_file", "client certificates need TLS: set server.tls.cert_file and key_file");
}

static void check_database(struct validator *v)
{
    const struct config_database *d = &v->cfg->database;
    if (d->driver == CONFIG_DB_POSTGRES && empty(d->dsn))
        bad(v, "database.dsn", "required for driver postgres (e.g. postgres://user:pass@host/db)");
    if (d->driver == CONFIG_DB_SQLITE && empty(d->path))
        bad(v, "database.path", "required for driver sqlite");
}

static bool has_label(const struct config_labels *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0 && (!value || strcmp(l->items[i].value, value) == 0))
            return true;
    return false;
}

/* Can any backend take this bucket's writes? A placement no backend meets would fail every PUT with 507. */
static void check_placement(struct validator *v, size_t bi)
{
    const struct config *c = v->cfg;
    const struct config_placement *p = &c->buckets[bi].placement;
    for (size_t i = 0; i < p->distinct.n; i++) {
        bool seen = false;
        for (size_t b = 0; b < c->nbackends && !seen; b++)
            seen = has_label(&c->backends[b].labels, p->distinct.items[i], NULL);
        if (!seen && !empty(p->distinct.items[i]) && c->nbackends)
            bad(v, at(v, "buckets[%zu].placement.distinct[%zu]", bi, i), "no backend has a label '%s'",
                p->distinct.items[i]);
    }
    if (!p->require.n && !p->exclude.n)
        return;
    for (size_t b = 0; b < c->nbackends; b++) {
        bool ok = true;
        for (size_t i = 0; i < p->require.n && ok; i++)
            ok = has_label(&c->backends[b].labels, p->require.items[i].key, p->require.items[i].value);
        for (size_t i = 0; i < p->exclude.n && ok; i++)
            ok = !has_label(&c->backends[b].labels, p->exclude.items[i].key, p->exclude.items[i].value);
        if (ok)
            return;
    }
    if (c->nbackends)
        bad(v, at(v, "buckets[%zu].placement", bi), "no backend meets both require and exclude");
}

static void check_buckets(struct validator *v)
{
    const struct config *c = v->cfg;
    const char *why;
    if (c->nbuckets == 0)
        bad(v, "buckets", "at least one bucket is required");
    for (size_t i = 0; i < c->nbuckets; i++) {
        const struct config_bucket *b = &c->buckets[i];
        if (empty(b->name)) {
            bad(v, at(v, "buckets[%zu].name", i), "required");
        } else if ((why = config_check_bucket_name(b->name))) {
            bad(v, at(v, "buckets[%zu].name", i), "%s; got '%s'", why, b->name);
        } else {
            for (size_t j = 0; j < i; j++)
                if (c->buckets[j].name && strcmp(c->buckets[j].name, b->name) == 0) {
                    bad(v, at(v, "buckets[%zu].name", i), "duplicate bucket name '%s' (also buckets[%zu])", b->name,
                        j);
                    break;
                }
        }
        if (b->ncredentials == 0)
            bad(v, at(v, "buckets[%zu].credentials", i), "a bucket needs at least one credential");
        for (size_t k = 0; k < b->ncredentials; k++) {
            const struct config_credential *cr = &b->credentials[k];
            if (empty(cr->access_key_id)) {
                bad(v, at(v, "buckets[%zu].credentials[%zu].access_key_id", i, k), "required");
            } else if ((why = config_check_access_key_id(cr->access_key_id))) {
                bad(v, at(v, "buckets[%zu].credentials[%zu].access_key_id", i, k), "%s", why);
            } else {
                /* Key ids are global: a request names only its key, and the key decides the bucket's access. */
                bool dup = false;
                for (size_t j = 0; j <= i && !dup; j++) {
                    const struct config_bucket *o = &c->buckets[j];
                    for (size_t m = 0; m < (j == i ? k : o->ncredentials) && !dup; m++) {
                        if (o->credentials[m].access_key_id &&
                            strcmp(o->credentials[m].access_key_id, cr->access_key_id) == 0) {
                            bad(v, at(v, "buckets[%zu].credentials[%zu].access_key_id", i, k),
                                "duplicate access key id '%s' (also buckets[%zu].credentials[%zu])",
                                cr->access_key_id, j, m);
                            dup = true;
                        }
                    }
                }
            }
            if (empty(cr->secret_access_key))
                bad(v, at(v, "buckets[%zu].credentials[%zu].secret_access_key", i, k), "required");
            else if ((why = config_check_secret(cr->secret_access_key)))
                bad(v, at(v, "buckets[%zu].credentials[%zu].secret_access_key", i, k), "%s", why);
        }
        check_placement(v, i);
    }
}

static const char *const s3_only_keys[] = {"endpoint", "region", "bucket", "access_key_id", "secret_access_key",
                                           "force_path_style", "ca_file", "unsigned_payload", "disable_checksum",
                                           "strip_sdk_headers"};
static const char *const fs_only_keys[] = {"path", "durability"};

static void check_backends(struct validator *v)
{
    const struct config *c = v->cfg;
    const char *why;
    if (c->nbackends == 0)
        bad(v, "backends", "at least one backend is required");
    for (size_t i = 0; i < c->nbackends; i++) {
        const struct config_backend *b = &c->backends[i];
        if (empty(b->name)) {
            bad(v, at(v, "backends[%zu].name", i), "required");
        } else if ((why = config_check_backend_name(b->name))) {
            bad(v, at(v, "backends[%zu].name", i), "%s; got '%s'", why, b->name);
        } else {
            for (size_t j = 0; j < i; j++)
                if (c->backends[j].name && strcmp(c->backends[j].name, b->name) == 0) {
                    bad(v, at(v, "backends[%zu].name", i), "duplicate backend name '%s' (also backends[%zu])",
                        b->name, j);
                    break;
                }
        }
        if (b->type == CONFIG_BACKEND_UNSET) {
            continue; /* reported by the generic pass */
        }
        /* A key of the other driver is a sign of a wrong type or a misplaced block; the driver would ignore it. */
        bool fs = b->type == CONFIG_BACKEND_FS;
        const char *const *other = fs ? s3_only_keys : fs_only_keys;
        size_t nother = fs ? sizeof(s3_only_keys) / sizeof(s3_only_keys[0]) : sizeof(fs_only_keys) / sizeof(*other);
        for (size_t k = 0; k < nother; k++)
            if (written(v, at(v, "backends[%zu].%s", i, other[k])))
                bad(v, v->path, "only for type %s backends; this one is type %s", fs ? "s3" : "fs", fs ? "fs" : "s3");
        if (fs) {
            if (empty(b->path))
                bad(v, at(v, "backends[%zu].path", i), "required for type fs (a directory)");
            continue;
        }
        if (empty(b->endpoint))
            bad(v, at(v, "backends[%zu].endpoint", i),
                "required for type s3 (e.g. https://s3.us-east-1.amazonaws.com)");
        else if ((strncmp(b->endpoint, "http://", 7) != 0 || !b->endpoint[7]) &&
                 (strncmp(b->endpoint, "https://", 8) != 0 || !b->endpoint[8]))
            bad(v, at(v, "backends[%zu].endpoint", i), "want an http:// or https:// URL; got '%s'", b->endpoint);
        if (empty(b->region))
            bad(v, at(v, "backends[%zu].region", i), "required for type s3 (e.g. us-east-1, auto)");
        if (empty(b->bucket))
            bad(v, at(v, "backends[%zu].bucket", i), "required for type s3 (the bucket on the endpoint)");
        if (empty(b->access_key_id))
            bad(v, at(v, "backends[%zu].access_key_id", i), "required for type s3");
        if (empty(b->secret_access_key))
            bad(v, at(v, "backends[%zu].secret_access_key", i), "required for type s3");
    }
}

static void check_replication(struct validator *v)
{
    const struct config *c = v->cfg;
    const struct config_replication *r = &c->replication;
    if (c->nbackends > 0 && r->factor > (int64_t)c->nbackends)
        bad(v, "replication.factor", "%lld copies need at least %lld backends; %zu configured", (long long)r->factor,
            (long long)r->factor, c->nbackends);
    if (r->write_quorum > r->factor)
        bad(v, "replication.write_quorum", "must not exceed replication.factor (%lld)", (long long)r->factor);
    else if (r->mode == CONFIG_REPL_ASYNC && r->write_quorum > 0)
        bad(v, "replication.write_quorum", "only used with replication.mode: sync");
}

static void check_workers(struct validator *v)
{
    const struct config *c = v->cfg;
    const char *why;
    if (c->rate_limit.enabled && c->rate_limit.requests_per_sec <= 0)
        bad(v, "rate_limit.requests_per_sec", "must be more than 0 when rate_limit.enabled");
    for (size_t i = 0; i < c->rate_limit.trusted_proxies.n; i++)
        if (!empty(c->rate_limit.trusted_proxies.items[i]) &&
            (why = config_check_cidr(c->rate_limit.trusted_proxies.items[i])))
            bad(v, at(v, "rate_limit.trusted_proxies[%zu]", i), "%s; got '%s'", why,
                c->rate_limit.trusted_proxies.items[i]);
    if (c->usage_flush.adaptive_enabled && c->usage_flush.fast_interval > c->usage_flush.interval)
        bad(v, "usage_flush.fast_interval", "must not exceed usage_flush.interval");
    for (size_t i = 0; i < c->lifecycle.nrules; i++) {
        const struct config_lifecycle_rule *r = &c->lifecycle.rules[i];
        if (empty(r->bucket))
            bad(v, at(v, "lifecycle.rules[%zu].bucket", i), "required");
        else if ((why = config_check_bucket_name(r->bucket)))
            bad(v, at(v, "lifecycle.rules[%zu].bucket", i), "%s; got '%s'", why, r->bucket);
    }
}

static void check_security(struct validator *v)
{
    const struct config *c = v->cfg;
    const struct config_encryption *e = &c->encryption;
    const char *why;
    bool key = !empty(e->master_key), file = !empty(e->master_key_file);
    if (e->enabled && !key && !file)
        bad(v, "encryption.master_key", "required when encryption.enabled (or set encryption.master_key_file)");
    if (key && file)
        bad(v, "encryption.master_key_file", "set encryption.master_key or master_key_file, not both");
    if (key && (why = config_check_key_material(e->master_key)))
        bad(v, "encryption.master_key", "%s", why);
    for (size_t i = 0; i < e->previous_keys.n; i++)
        if (!empty(e->previous_keys.items[i]) && (why = config_check_key_material(e->previous_keys.items[i])))
            bad(v, at(v, "encryption.previous_keys[%zu]", i), "%s", why);

    const struct config_metrics *m = &c->telemetry.metrics;
    if (empty(m->path) || m->path[0] != '/')
        bad(v, "telemetry.metrics.path", "must start with '/'");
    if (!empty(m->listen) && (why = config_check_listen_addr(m->listen)))
        bad(v, "telemetry.metrics.listen", "%s; got '%s'", why, m->listen);

    if (!empty(c->admin.token) && strlen(c->admin.token) < 16)
        bad(v, "admin.token", "must be at least 16 characters (it guards every admin call)");
    if (c->ui.enabled && empty(c->ui.admin_key))
        bad(v, "ui.admin_key", "required when ui.enabled");
    if (c->ui.enabled && empty(c->ui.admin_secret))
        bad(v, "ui.admin_secret", "required when ui.enabled");
}

int config_validate(const struct config *cfg, struct config_errors *errs)
{
    struct validator v = {.cfg = cfg, .errs = errs};
    size_t before = errs->count;
    walk(&v, &config_schema_root, cfg, "");
    check_server(&v);
    check_database(&v);
    check_buckets(&v);
    check_backends(&v);
    check_replication(&v);
    check_workers(&v);
    check_security(&v);
    if (errs->out_of_mem)
        return -ENOMEM;
    return errs->count > before ? -EINVAL : 0;
}
