/* An endpoint for the libcurl transport, made at start-up: the URL base, the Host to send and sign, and the
 * address start-up resolved, handed to libcurl as a CURLOPT_RESOLVE entry so that a ring thread never looks a
 * name up. Also where libcurl is initialised, once, before any ring thread uses it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_curl_internal.h"

static CURLcode global_rc = CURLE_FAILED_INIT;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* Never undone: libcurl's global cleanup is not safe while any thread may still use it. */
static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

void http_curl_endpoint_free(struct http_curl_endpoint *ep)
{
    curl_slist_free_all(ep->resolve);
    ep->resolve = NULL;
    free(ep->ca_file);
    ep->ca_file = NULL;
}

int http_curl_endpoint_init(struct http_curl_endpoint *ep, const char *scheme, const char *host, const char *port,
                            const char *ca_file)
{
    *ep = (struct http_curl_endpoint){0};
    bool tls = strcmp(scheme, "https") == 0;
    if ((!tls && strcmp(scheme, "http") != 0) || strchr(host, ':') || strchr(host, '/'))
        return -EINVAL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return -EIO;

    struct http_endpoint resolved;
    int err = http_endpoint_resolve(&resolved, host, port);
    if (err < 0)
        return err;
    bool v6 = resolved.addr.ss_family == AF_INET6;
    unsigned p = v6 ? ntohs(((struct sockaddr_in6 *)&resolved.addr)->sin6_port)
                    : ntohs(((struct sockaddr_in *)&resolved.addr)->sin_port);
    bool default_port = p == (tls ? 443u : 80u);
    int n = default_port ? snprintf(ep->host, sizeof(ep->host), "%s", host)
                         : snprintf(ep->host, sizeof(ep->host), "%s:%u", host, p);
    if (n < 0 || (size_t)n >= sizeof(ep->host))
        return -EINVAL;
    n = snprintf(ep->base, sizeof(ep->base), "%s://%s", scheme, ep->host);
    if (n < 0 || (size_t)n >= sizeof(ep->base))
        return -EINVAL;

    char addr[INET6_ADDRSTRLEN], entry[sizeof(ep->host) + INET6_ADDRSTRLEN + 16];
    const void *a = v6 ? (const void *)&((struct sockaddr_in6 *)&resolved.addr)->sin6_addr
                       : (const void *)&((struct sockaddr_in *)&resolved.addr)->sin_addr;
    if (!inet_ntop(resolved.addr.ss_family, a, addr, sizeof(addr)))
        return -EINVAL;
    /* An address literal is never looked up: it needs no entry. */
    if (strcmp(addr, host) != 0) {
        snprintf(entry, sizeof(entry), v6 ? "%s:%u:[%s]" : "%s:%u:%s", host, p, addr);
        if (!(ep->resolve = curl_slist_append(NULL, entry)))
            return -ENOMEM;
    }
    if (ca_file && *ca_file && !(ep->ca_file = strdup(ca_file))) {
        http_curl_endpoint_free(ep);
        return -ENOMEM;
    }
    return 0;
}
