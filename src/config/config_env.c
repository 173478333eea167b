#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_env.h"

/* Letters and underscores only: valid inside a plain scalar, a quoted one and a flow collection alike. */
static const char placeholder_prefix[] = "__s3orch_unset_env_";

struct buf {
    char *p;
    size_t len, cap;
    int err;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->err = -ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static int is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

static int record_unset(struct config_env *env, const char *name, size_t n, int line, int column)
{
    struct config_env_unset *u = realloc(env->unset, (env->nunset + 1) * sizeof(*u));
    if (!u)
        return -ENOMEM;
    env->unset = u;
    char *copy = strndup(name, n);
    if (!copy)
        return -ENOMEM;
    u[env->nunset++] = (struct config_env_unset){copy, line, column};
    return 0;
}

int config_env_expand(const char *text, size_t len, struct config_env *env, struct config_errors *errs)
{
    *env = (struct config_env){0};
    struct buf out = {0};
    int line = 1, column = 1, result = 0;
    buf_put(&out, "", 0);
    for (size_t i = 0; i < len && !out.err;) {
        char c = text[i];
        if (c != '$' || i + 1 >= len || (text[i + 1] != '$' && text[i + 1] != '{')) {
            buf_put(&out, &text[i], 1);
            i++;
            if (c == '\n') {
                line++;
                column = 1;
            } else if (((unsigned char)c & 0xC0) != 0x80) {
                column++; /* count characters, as libyaml's columns do */
            }
            continue;
        }
        if (text[i + 1] == '$') {
            buf_put(&out, "$", 1);
            i += 2;
            column += 2;
            continue;
        }
        /* ${NAME} or ${NAME:-default} */
        size_t name_at = i + 2, j = name_at;
        while (j < len && is_name_char(text[j]))
            j++;
        size_t name_len = j - name_at;
        const char *def = NULL;
        size_t def_len = 0;
        if (j + 1 < len && text[j] == ':' && text[j + 1] == '-') {
            def = &text[j + 2];
            j += 2;
            while (j < len && text[j] != '}' && text[j] != '\n')
                j++;
            def_len = (size_t)(&text[j] - def);
        }
        if (name_len == 0 || !is_name_start(text[name_at]) || j >= len || text[j] != '}') {
            config_errors_add(errs, "", line, column,
                              "malformed '${': want ${NAME} or ${NAME:-default} (write $$ for a literal $)");
            result = -EINVAL;
            buf_put(&out, "$", 1); /* keep going so later problems are reported too */
            i++;
            column++;
            continue;
        }
        char name[256];
        if (name_len >= sizeof(name))
            name_len = sizeof(name) - 1;
        memcpy(name, &text[name_at], name_len);
        name[name_len] = 0;
        const char *value = getenv(name);
        if (value && (*value || !def)) {
            buf_put(&out, value, strlen(value));
        } else if (def) {
            buf_put(&out, def, def_len);
        } else {
            char ph[64];
            int n = snprintf(ph, sizeof(ph), "%s%zu__", placeholder_prefix, env->nunset);
            buf_put(&out, ph, (size_t)n);
            if (record_unset(env, name, name_len, line, column) < 0)
                out.err = -ENOMEM;
        }
        column += (int)(j + 1 - i);
        i = j + 1;
    }
    env->text = out.p;
    env->len = out.len;
    return out.err ? out.err : result;
}

void config_env_free(struct config_env *env)
{
    for (size_t i = 0; i < env->nunset; i++)
        free(env->unset[i].name);
    free(env->unset);
    free(env->text);
    *env = (struct config_env){0};
}

int config_env_find_unset(const struct config_env *env, const char *s)
{
    if (!env || !env->nunset)
        return -1;
    const char *p = strstr(s, placeholder_prefix);
    if (!p)
        return -1;
    unsigned long idx = strtoul(p + sizeof(placeholder_prefix) - 1, NULL, 10);
    return idx < env->nunset ? (int)idx : -1;
}
