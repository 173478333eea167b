/* Idle connections, per ring thread and endpoint: a LIFO, so the connection reused is the one most likely still
 * open, and the ones left at the bottom age out. No locks: a thread's pools are its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "http/http_client_internal.h"

struct pool {
    struct http_client_conn *top;
    unsigned n;
};

static _Thread_local struct pool *pools; /* indexed by http_endpoint.id */
static _Thread_local unsigned npools;

static int64_t idle_limit(const struct http_endpoint *ep) { return ep->idle_ns > 0 ? ep->idle_ns : CORO_SEC(30); }

/* Room for every connection a thread has in use at once: a thread can serve more client connections than an even
 * share (SO_REUSEPORT spreads them by hash), and each may hold a backend connection; a pool smaller than that
 * closes connections at each peak and connects again after it. */
static unsigned idle_max(const struct http_endpoint *ep) { return ep->max_idle ? ep->max_idle : 64; }

static int pools_reserve(unsigned id)
{
    if (id < npools)
        return 0;
    unsigned n = id + 1 > npools * 2 ? id + 1 : npools * 2;
    struct pool *p = realloc(pools, n * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memset(p + npools, 0, (n - npools) * sizeof(*p));
    pools = p;
    npools = n;
    return 0;
}

/* A server closes idle connections (its keep-alive timeout), and may first send something unasked (a 408): a
 * request on such a connection would fail, or read that as its answer. A peek that would block means the
 * connection is open and quiet; it goes through the ring and cannot wait. */
static bool conn_quiet(const struct http_client_conn *c)
{
    char b;
    return coro_recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT, 0) == -EAGAIN;
}

struct http_client_conn *http_client_pool_take(const struct http_endpoint *ep)
{
    /* A cancelled caller could not check a connection, and would close good ones for it. */
    if (coro_is_cancelled())
        return NULL;
    /* The pool is looked up afresh each round: closing yields, and other coroutines may use it meanwhile. */
    while (ep->id < npools && pools[ep->id].top) {
        struct pool *p = &pools[ep->id];
        struct http_client_conn *c = p->top;
        p->top = c->next;
        p->n--;
        if (coro_now() - c->idle_since < idle_limit(ep) && conn_quiet(c))
            return c;
        http_client_conn_close(c);
    }
    return NULL;
}

void http_client_pool_put(const struct http_endpoint *ep, struct http_client_conn *c)
{
    if (pools_reserve(ep->id) < 0) {
        http_client_conn_close(c);
        return;
    }
    struct pool *p = &pools[ep->id];
    c->idle_since = coro_now();
    c->next = p->top;
    p->top = c;
    if (++p->n <= idle_max(ep))
        return;
    /* Full: the connection idle longest goes. */
    struct http_client_conn **last = &p->top;
    while ((*last)->next)
        last = &(*last)->next;
    struct http_client_conn *old = *last;
    *last = NULL;
    p->n--;
    http_client_conn_close(old);
}

void http_client_pools_close(void)
{
    /* Everything is unlinked before the first close, which may yield. */
    struct http_client_conn *all = NULL;
    for (unsigned i = 0; i < npools; i++)
        while (pools[i].top) {
            struct http_client_conn *c = pools[i].top;
            pools[i].top = c->next;
            c->next = all;
            all = c;
        }
    free(pools);
    pools = NULL;
    npools = 0;
    while (all) {
        struct http_client_conn *c = all;
        all = c->next;
        http_client_conn_close(c);
    }
}
