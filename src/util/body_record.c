#include "util/body_record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static ssize_t record_read(struct body_source *src, void *buf, size_t len)
{
    struct body_record *r = (struct body_record *)src;
    if (r->err)
        return r->err;
    if (r->ended)
        return 0;
    ssize_t n = body_source_read(r->inner, buf, len);
    if (n < 0)
        return r->err = (int)n;
    if (n == 0) {
        r->ended = true;
        return 0;
    }
    if ((size_t)n > r->cap - r->len)
        return r->err = -EMSGSIZE;
    memcpy(r->buf + r->len, buf, (size_t)n);
    r->len += (size_t)n;
    return n;
}

int body_record_init(struct body_record *r, struct body_source *inner, size_t size)
{
    *r = (struct body_record){.src = {.read = record_read, .length = inner->length}, .inner = inner, .cap = size};
    r->buf = malloc(size ? size : 1);
    return r->buf ? 0 : -ENOMEM;
}

int body_record_finish(struct body_record *r)
{
    char scratch[8192];
    while (!r->ended && !r->err) {
        size_t room = r->cap - r->len;
        ssize_t n = record_read(&r->src, scratch, room < sizeof(scratch) ? (room ? room : 1) : sizeof(scratch));
        if (n < 0)
            break;
    }
    return r->err;
}

void body_record_free(struct body_record *r)
{
    free(r->buf);
    r->buf = NULL;
}

static ssize_t replay_read(struct body_source *src, void *buf, size_t len)
{
    struct body_replay *p = (struct body_replay *)src;
    size_t n = p->r->len - p->pos < len ? p->r->len - p->pos : len;
    memcpy(buf, p->r->buf + p->pos, n);
    p->pos += n;
    return (ssize_t)n;
}

void body_replay_init(struct body_replay *p, const struct body_record *r)
{
    *p = (struct body_replay){.src = {.read = replay_read, .length = (int64_t)r->len}, .r = r};
}
