/* Admission control (src/s3/s3_admission.c): which address the rate limit counts (the peer, or behind trusted
 * proxies the nearest untrusted X-Forwarded-For hop; IPv4-mapped IPv6 peers as IPv4), the pools' caps and the shed
 * threshold, and token buckets per client. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "s3/s3_admission.h"
#include "unit.h"

static struct sockaddr_storage peer4(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &in->sin_addr);
    return ss;
}

static struct sockaddr_storage peer6(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
    in->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &in->sin6_addr);
    return ss;
}

static struct http_request with_xff(const char *xff)
{
    struct http_request req = {0};
    if (xff) {
        req.headers[0] = (struct http_header){{"X-Forwarded-For", 15}, {xff, strlen(xff)}};
        req.nheaders = 1;
    }
    return req;
}

static struct s3_admission *make(const struct config_admission *adm, double rate, int64_t burst, char **trusted,
                                 size_t ntrusted)
{
    struct config_rate_limit rl = {.enabled = rate > 0, .requests_per_sec = rate, .burst = burst,
                                   .trusted_proxies = {trusted, ntrusted}};
    struct s3_admission *a;
    CHECK_EQ(s3_admission_create(&a, adm, &rl), 0);
    return a;
}

static const char *client(struct s3_admission *a, struct sockaddr_storage peer, const char *xff)
{
    static char out[64];
    struct http_request req = with_xff(xff);
    s3_admission_client(a, &peer, &req, out, sizeof(out));
    return out;
}

static void test_client_address(void)
{
    char *trusted[] = {"10.0.0.0/8", "2001:db8::/32"};
    struct s3_admission *a = make(&(struct config_admission){0}, 1, 1, trusted, 2);
    CHECK_STR(client(a, peer4("192.0.2.9"), "198.51.100.1"), "192.0.2.9"); /* untrusted peer: header ignored */
    CHECK_STR(client(a, peer4("10.1.2.3"), NULL), "10.1.2.3");
    CHECK_STR(client(a, peer4("10.1.2.3"), "198.51.100.1"), "198.51.100.1");
    CHECK_STR(client(a, peer4("10.1.2.3"), "203.0.113.5, 198.51.100.1 , 10.9.9.9"), "198.51.100.1");
    CHECK_STR(client(a, peer4("10.1.2.3"), "10.2.2.2, 10.3.3.3"), "10.2.2.2"); /* all trusted: the farthest */
    CHECK_STR(client(a, peer4("10.1.2.3"), "garbage, 198.51.100.1"), "198.51.100.1");
    CHECK_STR(client(a, peer4("10.1.2.3"), "198.51.100.1, garbage"), "10.1.2.3");
    CHECK_STR(client(a, peer6("::ffff:10.4.4.4"), "198.51.100.2"), "198.51.100.2"); /* mapped IPv4 is IPv4 */
    CHECK_STR(client(a, peer6("2001:db8::1"), "2001:db9::7"), "2001:db9::7");
    CHECK_STR(client(a, peer6("2001:db9::1"), "198.51.100.3"), "2001:db9::1");
    s3_admission_free(a);
}

static void test_pools_and_shedding(void)
{
    struct s3_admission *a = make(&(struct config_admission){.max_concurrent_requests = 10, .max_concurrent_writes = 2,
                                                             .load_shed_threshold = 0.5},
                                  0, 0, NULL, 0);
    struct sockaddr_storage p = peer4("127.0.0.1");
    struct http_request req = with_xff(NULL);
    struct s3_ticket t[6];
    CHECK_EQ(s3_admit(a, &p, &req, true, &t[0]), 0);
    CHECK_EQ(s3_admit(a, &p, &req, true, &t[1]), 0);
    CHECK_EQ(s3_admit(a, &p, &req, true, &t[2]), -EAGAIN); /* the write pool is full */
    CHECK_EQ(s3_admit(a, &p, &req, false, &t[2]), 0);
    CHECK_EQ(s3_admit(a, &p, &req, false, &t[3]), 0);
    CHECK_EQ(s3_admit(a, &p, &req, false, &t[4]), 0);
    CHECK_EQ(s3_admit(a, &p, &req, false, &t[5]), -EAGAIN); /* 5 of 10 in use: shed past half */
    s3_ticket_release(&t[0]);
    s3_ticket_release(&t[0]); /* released once only */
    CHECK_EQ(s3_admit(a, &p, &req, false, &t[5]), 0);
    for (int i = 1; i < 6; i++)
        s3_ticket_release(&t[i]);
    s3_admission_free(a);
    struct s3_ticket none;
    CHECK_EQ(s3_admit(NULL, &p, &req, true, &none), 0); /* no admission: all in */
    s3_ticket_release(&none);
}

static void test_rate_per_client(void)
{
    struct s3_admission *a = make(&(struct config_admission){0}, 0.001, 2, NULL, 0);
    struct sockaddr_storage x = peer4("192.0.2.1"), y = peer4("192.0.2.2");
    struct http_request req = with_xff(NULL);
    struct s3_ticket t;
    CHECK_EQ(s3_admit(a, &x, &req, false, &t), 0);
    s3_ticket_release(&t);
    CHECK_EQ(s3_admit(a, &x, &req, false, &t), 0);
    s3_ticket_release(&t);
    CHECK_EQ(s3_admit(a, &x, &req, false, &t), -EDQUOT);
    CHECK_EQ(s3_admit(a, &y, &req, false, &t), 0); /* another client has its own bucket */
    s3_ticket_release(&t);
    /* Thousands of clients: the table stays bounded and a new client still gets its burst. */
    for (int i = 0; i < 20000; i++) {
        struct sockaddr_storage c = peer4("198.18.0.0");
        ((struct sockaddr_in *)&c)->sin_addr.s_addr = htonl(0xc6120000u + (unsigned)i);
        CHECK_EQ(s3_admit(a, &c, &req, false, &t), 0);
        s3_ticket_release(&t);
    }
    s3_admission_free(a);
}

int main(void)
{
    RUN(test_client_address);
    RUN(test_pools_and_shedding);
    RUN(test_rate_per_client);
    return unit_finish("s3_admission");
}
