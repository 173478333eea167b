#include "s3/s3_admission.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    RATE_SLOTS = 4096,  /* clients tracked at once; the one idle longest in reach makes room */
    RATE_STRIPES = 16,  /* locks, each over its own run of slots */
    RATE_PROBE = 8,     /* slots tried from a client's home slot, within its stripe */
    STRIPE_SLOTS = RATE_SLOTS / RATE_STRIPES,
};

struct ip {
    int family; /* AF_INET (addr[0..4)) or AF_INET6 */
    unsigned char addr[16];
};

struct cidr {
    struct ip ip;
    unsigned bits;
};

struct rate_entry {
    struct ip ip;
    double tokens;
    int64_t at_ns; /* last refill; 0: free slot */
};

struct s3_admission {
    int64_t max_total, max_reads, max_writes; /* 0 = unlimited; max_total already lowered by the shed threshold */
    _Atomic int64_t total, reads, writes;
    bool rate_on;
    double rate, burst;
    struct cidr *trusted;
    size_t ntrusted;
    pthread_mutex_t stripe[RATE_STRIPES];
    struct rate_entry slots[RATE_SLOTS];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --- addresses ---------------------------------------------------------------------------------------------- */

static bool ip_parse(const char *s, size_t n, struct ip *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        return true;
    }
    return false;
}

/* An IPv4 address seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 address. */
static struct ip ip_of_peer(const struct sockaddr_storage *ss)
{
    struct ip ip = {0};
    if (ss->ss_family == AF_INET) {
        ip.family = AF_INET;
        memcpy(ip.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            ip.family = AF_INET;
            memcpy(ip.addr, a + 12, 4);
        } else {
            ip.family = AF_INET6;
            memcpy(ip.addr, a, 16);
        }
    }
    return ip;
}

static bool cidr_has(const struct cidr *c, const struct ip *ip)
{
    if (c->ip.family != ip->family)
        return false;
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->ip.addr, ip->addr, full) != 0)
        return false;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return !rest || (c->ip.addr[full] & mask) == (ip->addr[full] & mask);
}

static bool trusted(const struct s3_admission *a, const struct ip *ip)
{
    for (size_t i = 0; i < a->ntrusted; i++)
        if (cidr_has(&a->trusted[i], ip))
            return true;
    return false;
}

/* The peer, or behind trusted proxies the nearest X-Forwarded-For address that is not one. */
static struct ip client_ip(const struct s3_admission *a, const struct sockaddr_storage *peer,
                           const struct http_request *req)
{
    struct ip ip = ip_of_peer(peer);
    const struct http_str *xff = a->ntrusted ? http_request_header(req, "x-forwarded-for") : NULL;
    if (!xff || !trusted(a, &ip))
        return ip;
    const char *end = xff->p + xff->n;
    while (end > xff->p) {
        const char *start = end;
        while (start > xff->p && start[-1] != ',')
            start--;
        const char *s = start, *e = end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        struct ip hop;
        if (!ip_parse(s, (size_t)(e - s), &hop))
            return ip; /* garbage in the chain: trust nothing further left */
        ip = hop;
        if (!trusted(a, &ip))
            return ip;
        end = start > xff->p ? start - 1 : start;
    }
    return ip;
}

void s3_admission_client(const struct s3_admission *a, const struct sockaddr_storage *peer,
                         const struct http_request *req, char *out, size_t cap)
{
    struct ip ip = client_ip(a, peer, req);
    if (!inet_ntop(ip.family ? ip.family : AF_INET, ip.addr, out, (socklen_t)cap))
        snprintf(out, cap, "?");
}

/* --- rate limit --------------------------------------------------------------------------------------------- */

static uint64_t ip_hash(const struct ip *ip)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)ip->family;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ ip->addr[i]) * 1099511628211ULL;
    return h;
}

/* Takes one token from the client's bucket (made full on first sight); false when it is empty. */
static bool rate_take(struct s3_admission *a, const struct ip *ip)
{
    uint64_t h = ip_hash(ip);
    size_t stripe = (size_t)(h % RATE_STRIPES);
    struct rate_entry *base = &a->slots[stripe * STRIPE_SLOTS], *hit = NULL, *oldest = NULL;
    int64_t now = mono_ns();
    pthread_mutex_lock(&a->stripe[stripe]);
    for (size_t i = 0; i < RATE_PROBE && !hit; i++) {
        struct rate_entry *e = &base[(h / RATE_STRIPES + i) % STRIPE_SLOTS];
        if (e->at_ns && memcmp(&e->ip, ip, sizeof(*ip)) == 0)
            hit = e;
        else if (!oldest || e->at_ns < oldest->at_ns)
            oldest = e;
    }
    if (!hit) {
        hit = oldest;
        *hit = (struct rate_entry){.ip = *ip, .tokens = a->burst, .at_ns = now};
    }
    double tokens = hit->tokens + a->rate * (double)(now - hit->at_ns) / 1e9;
    hit->tokens = tokens < a->burst ? tokens : a->burst;
    hit->at_ns = now;
    bool ok = hit->tokens >= 1;
    if (ok)
        hit->tokens -= 1;
    pthread_mutex_unlock(&a->stripe[stripe]);
    return ok;
}

/* --- budget -------------------------------------------------------------------------------------------------- */

static bool pool_take(_Atomic int64_t *n, int64_t max)
{
    int64_t v = atomic_load(n);
    do {
        if (max && v >= max)
            return false;
    } while (!atomic_compare_exchange_weak(n, &v, v + 1));
    return true;
}

int s3_admit(struct s3_admission *a, const struct sockaddr_storage *peer, const struct http_request *req, bool write,
             struct s3_ticket *t)
{
    *t = (struct s3_ticket){0};
    if (!a)
        return 0;
    if (a->rate_on) {
        struct ip ip = client_ip(a, peer, req);
        if (!rate_take(a, &ip))
            return -EDQUOT;
    }
    if (!pool_take(&a->total, a->max_total))
        return -EAGAIN;
    if (!pool_take(write ? &a->writes : &a->reads, write ? a->max_writes : a->max_reads)) {
        atomic_fetch_sub(&a->total, 1);
        return -EAGAIN;
    }
    *t = (struct s3_ticket){a, write};
    return 0;
}

bool s3_admission_wants_peer(const struct s3_admission *a) { return a && a->rate_on; }

void s3_ticket_release(struct s3_ticket *t)
{
    if (!t->a)
        return;
    atomic_fetch_sub(t->write ? &t->a->writes : &t->a->reads, 1);
    atomic_fetch_sub(&t->a->total, 1);
    t->a = NULL;
}

/* --- set-up -------------------------------------------------------------------------------------------------- */

static bool cidr_parse(const char *s, struct cidr *out)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (!ip_parse(s, n, &out->ip))
        return false;
    unsigned max = out->ip.family == AF_INET ? 32 : 128;
    out->bits = slash ? (unsigned)atoi(slash + 1) : max;
    return out->bits <= max;
}

int s3_admission_create(struct s3_admission **out, const struct config_admission *adm,
                        const struct config_rate_limit *rl)
{
    *out = NULL;
    struct s3_admission *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->max_total = adm->max_concurrent_requests;
    if (a->max_total && adm->load_shed_threshold > 0 && adm->load_shed_threshold < 1) {
        a->max_total = (int64_t)((double)a->max_total * adm->load_shed_threshold);
        a->max_total = a->max_total > 0 ? a->max_total : 1;
    }
    a->max_reads = adm->max_concurrent_reads;
    a->max_writes = adm->max_concurrent_writes;
    a->rate_on = rl->enabled && rl->requests_per_sec > 0;
    a->rate = rl->requests_per_sec;
    a->burst = rl->burst > 0 ? (double)rl->burst : 1;
    a->trusted = rl->trusted_proxies.n ? calloc(rl->trusted_proxies.n, sizeof(*a->trusted)) : NULL;
    for (size_t i = 0; a->trusted && i < rl->trusted_proxies.n; i++) {
        const char *p = rl->trusted_proxies.items[i];
        if (p[0] && cidr_parse(p, &a->trusted[a->ntrusted]))
            a->ntrusted++;
    }
    for (size_t i = 0; i < RATE_STRIPES; i++)
        pthread_mutex_init(&a->stripe[i], NULL);
    *out = a;
    return 0;
}

void s3_admission_free(struct s3_admission *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < RATE_STRIPES; i++)
        pthread_mutex_destroy(&a->stripe[i]);
    free(a->trusted);
    free(a);
}
