/* Accepting connections and running each one: read a head, hand the request to the handler, finish its body,
 * and go round again while keep-alive allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <strings.h>

#include "http/http_conn.h"

/* Body bytes left unread by a handler that we still read to keep the connection; beyond this we close. */

static void conn_link(struct http_server *srv, struct http_conn *c)
{
    c->prev = NULL;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
}

static void conn_unlink(struct http_server *srv, struct http_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void conn_reject(struct http_conn *c, int status)
{
    c->close_after = true;
    if (c->srv->shared->reject)
        c->srv->shared->reject(c, status);
    else
        http_respond_text(c, status, http_status_reason(status));
}

/* Rejects a connection before it has a parsed request. */
static void conn_reject_early(struct http_conn *c, int status)
{
    http_conn_begin_request(c, &(struct http_request){.content_length = -1});
    conn_reject(c, status);
}

/* A handler that returned without answering: say why, from what went wrong with the body. */
static void conn_reject_unanswered(struct http_conn *c)
{
    switch (c->body_err) {
    case -ECONNRESET: /* the client is gone: nobody to tell */
    case -ECANCELED:  /* shutdown cut the request */
        c->close_after = true;
        return;
    case -ETIMEDOUT: conn_reject(c, 408); return;
    case -EPROTO: conn_reject(c, 400); return;
    default: conn_reject(c, 500);
    }
}

/* RFC 9112 section 3.2.2: "GET http://host/path" must be accepted; handlers see only the path and query. */
static void http_target_strip_absolute(struct http_request *req)
{
    struct http_str *t = &req->target;
    size_t skip;
    if (t->n >= 7 && strncasecmp(t->p, "http://", 7) == 0)
        skip = 7;
    else if (t->n >= 8 && strncasecmp(t->p, "https://", 8) == 0)
        skip = 8;
    else
        return;
    const char *path = memchr(t->p + skip, '/', t->n - skip);
    const char *query = memchr(t->p + skip, '?', t->n - skip);
    if (path && (!query || path < query)) {
        t->n -= (size_t)(path - t->p);
        t->p = path;
    } else {
        /* "http://host?x" or "http://host": the path is "/"; keep the query after it. Rewrite in place: the byte
         * before the query (or the end) is part of the authority and can hold the '/'. */
        const char *end = query ? query : t->p + t->n;
        char *slash = (char *)end - 1;
        *slash = '/';
        t->n = (size_t)(t->p + t->n - slash);
        t->p = slash;
    }
}

/* Reads until a whole head is parsed. Returns the head length, 0 when the connection should just close, or a
 * negative HTTP status to answer before closing. */
static int conn_read_head(struct http_conn *c, struct http_request *req)
{
    const struct http_server_config *cfg = &c->srv->shared->cfg;
    struct http_parser p;
    int64_t head_deadline = 0;

    http_parser_init(&p);
    for (;;) {
        if (c->len > 0) {
            if (!head_deadline)
                head_deadline = coro_deadline_in(cfg->header_timeout);
            int r = http_parse_request(&p, c->buf, c->len, &cfg->limits, req);
            if (r != 0)
                return r;
            if (c->len == c->cap)
                return -431;
        }
        if (c->len == 0 && c->srv->draining)
            return 0;
        c->idle = c->len == 0;
        ssize_t n = coro_recv(c->fd, c->buf + c->len, c->cap - c->len, 0,
                              c->len ? head_deadline : coro_deadline_in(cfg->idle_timeout));
        c->idle = false;
        if (n == -ETIMEDOUT && c->len)
            return -408;
        if (n <= 0)
            return 0;
        c->len += (size_t)n;
    }
}

/* Serves one request; false when the connection is done. */
static bool conn_serve_one(struct http_conn *c)
{
    struct http_request req;

    /* Pipelined bytes of the next request move to the front. */
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = c->body_base = 0;

    int r = conn_read_head(c, &req);
    if (r < 0)
        conn_reject_early(c, -r);
    if (r <= 0)
        return false;
    http_target_strip_absolute(&req);
    http_conn_begin_request(c, &req);
    c->srv->shared->handler(c, &req, c->srv->shared->handler_ctx);
    if (!c->head_sent)
        conn_reject_unanswered(c);
    return http_conn_finish_request(c, HTTP_DRAIN_LIMIT) && !c->srv->draining;
}

enum { LINGER_MAX = 16 << 20 }; /* bytes a closing connection reads and drops, at most */

/* A connection closed while its client may still be sending (a body refused or cut short before its end) is shut
 * for writing first, and what the client still sends is read and dropped for a moment: closing a socket with unread
 * input makes the kernel answer with a reset, which can destroy the error response before the client has read it. */
static void conn_linger(struct http_conn *c)
{
    if (c->body_done || c->srv->draining)
        return;
    shutdown(c->fd, SHUT_WR);
    char scratch[16384];
    int64_t deadline = coro_deadline_in(CORO_SEC(2));
    for (size_t total = 0; total < LINGER_MAX;) {
        ssize_t n = coro_recv(c->fd, scratch, sizeof(scratch), 0, deadline);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
}

struct conn_start {
    struct http_server *srv;
    int fd;
};

static void conn_main(void *arg)
{
    struct conn_start start = *(struct conn_start *)arg;
    free(arg);
    struct http_server *srv = start.srv;
    char buf[HTTP_CONN_BUF];
    struct http_conn c = {.srv = srv, .co = coro_self(), .fd = start.fd, .buf = buf, .cap = sizeof(buf),
                          .body_done = true}; /* no request yet, so no body left unread */

    conn_link(srv, &c);
    long open = atomic_fetch_add(&srv->shared->connections, 1) + 1;
    if (srv->shared->max_connections && open > srv->shared->max_connections) {
        conn_reject_early(&c, 503);
    } else {
        while (conn_serve_one(&c))
            ;
    }
    conn_linger(&c);
    atomic_fetch_sub(&srv->shared->connections, 1);
    coro_close(c.fd);
    conn_unlink(srv, &c);
    coro_wg_done(&srv->live);
}

static void acceptor_main(void *arg)
{
    struct http_server *srv = arg;
    while (!srv->draining) {
        int fd = coro_accept(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC, 0);
        if (fd == -ECANCELED)
            break;
        if (fd < 0) {
            /* Out of descriptors or memory: back off instead of spinning on the same error. */
            coro_sleep(CORO_MS(10));
            continue;
        }
        struct conn_start *start = malloc(sizeof(*start));
        if (start) {
            *start = (struct conn_start){srv, fd};
            coro_wg_add(&srv->live, 1);
            if (coro_spawn(coro_sched_self(), conn_main, start))
                continue;
            coro_wg_done(&srv->live);
            free(start);
        }
        coro_close(fd);
    }
    coro_close(srv->listen_fd);
    srv->listen_fd = -1;
    coro_wg_done(&srv->live);
}

/* One server per ring thread: handlers reach it through here (http_server_detach). */
static _Thread_local struct http_server *thread_server;

enum { DETACHED_MAX = 1024 }; /* per thread: beyond it, handlers do the work inline */

struct http_detached {
    struct http_server *srv;
    coro_fn fn;
    void *arg;
    struct coro *co;
    struct http_detached *prev, *next;
};

static void detached_unlink(struct http_detached *d)
{
    struct http_server *srv = d->srv;
    if (d->prev)
        d->prev->next = d->next;
    else
        srv->detached = d->next;
    if (d->next)
        d->next->prev = d->prev;
    srv->ndetached--;
}

static void detached_main(void *arg)
{
    struct http_detached *d = arg;
    struct http_server *srv = d->srv;
    d->fn(d->arg);
    detached_unlink(d);
    free(d);
    coro_wg_done(&srv->live);
}

int http_server_detach(coro_fn fn, void *arg)
{
    struct http_server *srv = thread_server;
    if (!srv || srv->draining)
        return -ESHUTDOWN;
    if (srv->ndetached >= DETACHED_MAX)
        return -EBUSY;
    struct http_detached *d = malloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    *d = (struct http_detached){.srv = srv, .fn = fn, .arg = arg, .next = srv->detached};
    if (srv->detached)
        srv->detached->prev = d;
    srv->detached = d;
    srv->ndetached++;
    coro_wg_add(&srv->live, 1);
    /* The coroutine only starts once this one yields, so d is still ours here. */
    d->co = coro_spawn(coro_sched_self(), detached_main, d);
    if (!d->co) {
        detached_unlink(d);
        coro_wg_done(&srv->live);
        free(d);
        return -ENOMEM;
    }
    return 0;
}

int http_server_start(struct http_server *srv, struct http_shared *shared, int listen_fd, unsigned thread_index)
{
    memset(srv, 0, sizeof(*srv));
    thread_server = srv;
    srv->shared = shared;
    srv->listen_fd = listen_fd;
    srv->thread_index = thread_index;
    coro_wg_add(&srv->live, 1);
    srv->acceptor = coro_spawn(coro_sched_self(), acceptor_main, srv);
    return srv->acceptor ? 0 : -ENOMEM;
}

/* Lets requests in flight finish until the shutdown timeout, then cancels what is left. */
static void drain_main(void *arg)
{
    struct http_server *srv = arg;
    int64_t deadline = coro_deadline_in(srv->shared->cfg.shutdown_timeout);
    if (coro_wg_wait(&srv->live, deadline) == 0)
        return;
    for (struct http_conn *c = srv->conns; c; c = c->next)
        coro_cancel(c->co);
    for (struct http_detached *d = srv->detached; d; d = d->next)
        coro_cancel(d->co);
    coro_wg_wait(&srv->live, 0);
}

void http_server_drain(struct http_server *srv)
{
    if (srv->draining)
        return;
    srv->draining = true;
    coro_cancel(srv->acceptor);
    for (struct http_conn *c = srv->conns; c; c = c->next)
        if (c->idle)
            coro_cancel(c->co);
    coro_spawn(coro_sched_self(), drain_main, srv);
}
