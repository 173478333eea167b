/* Reaching an endpoint: resolving it once at start-up, and opening connections to it on a ring thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro/coro.h"
#include "http/http_client_internal.h"

static int gai_errno(int rc)
{
    switch (rc) {
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
        return -ENOENT;
    case EAI_AGAIN: return -EAGAIN;
    case EAI_MEMORY: return -ENOMEM;
    case EAI_SYSTEM: return -errno;
    default: return -EINVAL;
    }
}

static unsigned addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int http_endpoint_resolve(struct http_endpoint *ep, const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (!*host)
        return -EINVAL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return gai_errno(rc);
    if (res->ai_addrlen > sizeof(ep->addr)) {
        freeaddrinfo(res);
        return -EINVAL;
    }
    memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
    ep->addrlen = res->ai_addrlen;
    freeaddrinfo(res);

    /* An IPv6 literal needs brackets in Host, and the port is left out where it is the default. */
    bool v6 = strchr(host, ':') != NULL;
    unsigned p = addr_port(&ep->addr);
    int n = p == 80 ? snprintf(ep->host, sizeof(ep->host), v6 ? "[%s]" : "%s", host)
                    : snprintf(ep->host, sizeof(ep->host), v6 ? "[%s]:%u" : "%s:%u", host, p);
    return n > 0 && (size_t)n < sizeof(ep->host) ? 0 : -EINVAL;
}

void http_client_conn_close(struct http_client_conn *c)
{
    /* http_client_pools_close() may run at thread exit, after the scheduler stopped. */
    if (coro_self())
        coro_close(c->fd);
    else
        close(c->fd);
    free(c);
}

int http_client_connect(const struct http_endpoint *ep, int64_t deadline, struct http_client_conn **out)
{
    struct http_client_conn *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    /* Blocking mode on purpose: the ring runs splice in a kernel worker that waits for data, where a non-blocking
     * socket fails with -EAGAIN; connect, send and recv wait through the ring either way. */
    c->fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        int err = -errno;
        free(c);
        return err;
    }
    /* The end of a request must not wait behind an unacknowledged segment (Nagle) while delayed ACKs run. */
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int64_t limit = coro_deadline_in(ep->connect_ns > 0 ? ep->connect_ns : CORO_SEC(5));
    int err = coro_connect(c->fd, (const struct sockaddr *)&ep->addr, ep->addrlen,
                           http_client_deadline_min(deadline, limit));
    if (err < 0) {
        http_client_conn_close(c);
        return err;
    }
    *out = c;
    return 0;
}
