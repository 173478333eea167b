/* SHA-256 (FIPS 180-4), with the x86 SHA extensions when the CPU has them.
 *
 * Every request costs s3orch a few dozen SHA-256 blocks (SigV4: the canonical request's hash and the HMACs of the
 * verification, and again to sign each backend request), and a signed body costs one block per 64 bytes. The
 * SHA instructions do a block in about a quarter of the time of wolfSSL's C (Debian builds it without its
 * assembly); the choice is made once, at start-up, from CPUID. */
#ifndef S3ORCH_SHA256_H
#define S3ORCH_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf; /* bytes of a partial block in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes the digest; the state is spent (init again to reuse it). */
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* "sha-ni" or "portable": the block function in use. */
const char *sha256_impl(void);
/* Whether the SHA instructions are in use. Without them wolfSSL's C is somewhat faster than the portable code
 * here, which s3_checksum.c then leaves it to. */
bool sha256_hw(void);
/* Tests: forces the portable block function (true), or goes back to the best one the CPU has (false). Not to be
 * called while another thread hashes. */
void sha256_force_portable(bool on);

#endif
