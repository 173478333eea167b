#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "s3/s3_sigv4.h"
#include "sign.h"

#define SIGNED_HEADERS "host;x-amz-content-sha256;x-amz-date"

void signer_init(struct signer *s, const char *access_key, const char *secret, const char *region,
                 const char *host)
{
    memset(s, 0, sizeof(*s));
    s->access_key = access_key;
    s->secret = secret;
    s->region = region;
    s->host = host;
    s->sec = -1;
}

/* The date and, on a new day, the key: formatting a date per request would show in a 4 KiB GET profile. */
static void signer_tick(struct signer *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec == s->sec)
        return;
    s->sec = ts.tv_sec;
    s3_sigv4_format_amz_date(ts.tv_sec, s->amz_date);
    if (memcmp(s->key_date, s->amz_date, 8) == 0)
        return;
    memcpy(s->key_date, s->amz_date, 8);
    s3_sigv4_signing_key(s->secret, strlen(s->secret), s->key_date, s->region, strlen(s->region), "s3", 2, s->key);
    snprintf(s->scope, sizeof(s->scope), "%.8s/%s/s3/aws4_request", s->key_date, s->region);
}

ssize_t signer_head(struct signer *s, char *buf, size_t cap, const char *method, const char *path,
                    const char *payload_hash, int64_t content_length, bool keep_alive)
{
    signer_tick(s);
    size_t ph_len = strlen(payload_hash);
    struct s3_sigv4_header h[] = {
        {"host", 4, s->host, strlen(s->host)},
        {"x-amz-content-sha256", 20, payload_hash, ph_len},
        {"x-amz-date", 10, s->amz_date, 16},
    };
    struct s3_sigv4_request req = {
        .method = method, .method_len = strlen(method), .path = path, .path_len = strlen(path),
        .headers = h, .nheaders = sizeof(h) / sizeof(h[0]),
    };
    char sig[65];
    if (s3_sigv4_sign(&req, false, SIGNED_HEADERS, strlen(SIGNED_HEADERS), payload_hash, ph_len, s->amz_date,
                      s->scope, strlen(s->scope), s->key, sig) != S3_SIGV4_OK)
        return -EINVAL;

    char length[48] = "";
    if (content_length >= 0)
        snprintf(length, sizeof(length), "Content-Length: %" PRId64 "\r\n", content_length);
    int n = snprintf(buf, cap,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nx-amz-content-sha256: %s\r\nx-amz-date: %s\r\n"
                     "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=" SIGNED_HEADERS
                     ", Signature=%s\r\n%s%s\r\n",
                     method, path, s->host, payload_hash, s->amz_date, s->access_key, s->scope, sig, length,
                     keep_alive ? "" : "Connection: close\r\n");
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
