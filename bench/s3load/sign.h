/* SigV4 request heads for s3load: path-style, headers host, x-amz-content-sha256 and x-amz-date signed. One signer
 * per thread: it keeps the signing key of the current date and re-derives it only when the UTC date changes, so a
 * request costs a canonical-request hash and one HMAC, as with any SDK. */
#ifndef S3LOAD_SIGN_H
#define S3LOAD_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct signer {
    const char *access_key, *secret, *region, *host;
    int64_t sec; /* the second amz_date was formatted for */
    char amz_date[17];
    char key_date[9]; /* the date the key was derived for */
    uint8_t key[32];
    char scope[128];
};

void signer_init(struct signer *s, const char *access_key, const char *secret, const char *region,
                 const char *host);
/* Writes the request head for method on path (already percent-encoded) into buf: request line, Host, the x-amz-*
 * headers, Authorization, Content-Length when content_length >= 0, Connection: close unless keep_alive, and the
 * blank line. payload_hash is "UNSIGNED-PAYLOAD" or 64 hex digits. Returns the length, or -ENOSPC. */
ssize_t signer_head(struct signer *s, char *buf, size_t cap, const char *method, const char *path,
                    const char *payload_hash, int64_t content_length, bool keep_alive);

#endif
