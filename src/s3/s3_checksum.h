/* Streaming checksums for S3 objects: the five x-amz-checksum-* algorithms (CRC32, CRC32C, CRC64NVME, SHA-1,
 * SHA-256), MD5 for ETags and SHA-256 for SigV4 payload hashes.
 *
 * S3 carries a checksum as base64 of the big-endian digest ("DUoRhQ==" is CRC32 of "hello world"); the raw
 * digests here are those big-endian bytes. The hashes come from wolfCrypt; the CRCs have no library among ours, so
 * they are here: slicing-by-8 in portable C, and CRC32C with the CPU's crc32 instruction where there is one
 * (SSE4.2 on x86-64, checked at run time; ARMv8 CRC when the build targets it).
 *
 * CRC values follow zlib's convention: s3_crc32_update(0, p, n) is the CRC of p[0..n), and feeding the result back
 * in continues the same stream. The combine functions give CRC(A || B) from CRC(A), CRC(B) and len(B), which
 * multipart FULL_OBJECT checksums need (each part's CRC arrives separately).
 *
 * None of this allocates; the structs may live anywhere and be copied (a copy forks the stream).
 */
#ifndef S3ORCH_S3_CHECKSUM_H
#define S3ORCH_S3_CHECKSUM_H

/* wolfSSL's struct layouts depend on its build options: options.h must come before any wolfCrypt header. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/md5.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "util/sha256.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum s3_checksum_alg {
    S3_CK_NONE,
    S3_CK_CRC32,
    S3_CK_CRC32C,
    S3_CK_CRC64NVME,
    S3_CK_SHA1,
    S3_CK_SHA256,
    S3_CK_COUNT
};

#define S3_CHECKSUM_MAX_SIZE 32   /* raw digest bytes, SHA-256 */
#define S3_CHECKSUM_MAX_BASE64 45 /* base64 of the largest digest, with its NUL */

/* "CRC32", "crc64nvme", "SHA256"... (case-insensitive, as in x-amz-checksum-algorithm and
 * x-amz-sdk-checksum-algorithm). S3_CK_NONE when the name is none of the five. */
enum s3_checksum_alg s3_checksum_alg_from_name(const char *name, size_t n);
/* "x-amz-checksum-crc32" and the like (case-insensitive). S3_CK_NONE for any other header name, including
 * x-amz-checksum-mode, -type and -algorithm. */
enum s3_checksum_alg s3_checksum_alg_from_header(const char *name, size_t n);
/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" as S3 writes them in XML and headers; "" for S3_CK_NONE. */
const char *s3_checksum_alg_name(enum s3_checksum_alg alg);
/* "x-amz-checksum-crc32"... (lower case); "" for S3_CK_NONE. */
const char *s3_checksum_header_name(enum s3_checksum_alg alg);
/* Raw digest bytes: 4, 4, 8, 20, 32; 0 for S3_CK_NONE. */
size_t s3_checksum_size(enum s3_checksum_alg alg);
/* CRCs can be combined across parts (FULL_OBJECT); the hashes cannot. */
bool s3_checksum_is_crc(enum s3_checksum_alg alg);

/* SHA-256 for SigV4: payload hashes, canonical-request hashes and aws-chunked chunk hashes are all lower-case
 * hex (functions below). */
struct s3_sha256 {
    union {
        struct sha256 hw; /* on the CPU's SHA instructions, when it has them (sha256_hw) */
        wc_Sha256 wolf;
    } u;
};

struct s3_checksum {
    enum s3_checksum_alg alg;
    union {
        uint32_t crc32; /* CRC32 and CRC32C */
        uint64_t crc64;
        wc_Sha sha1;
        struct s3_sha256 sha256;
    } u;
};

/* 0, or -EINVAL for S3_CK_NONE or an out-of-range alg. */
int s3_checksum_init(struct s3_checksum *ck, enum s3_checksum_alg alg);
void s3_checksum_update(struct s3_checksum *ck, const void *p, size_t n);
/* Writes the raw big-endian digest and returns its size. The state is spent: init again to reuse it. */
size_t s3_checksum_final(struct s3_checksum *ck, uint8_t out[S3_CHECKSUM_MAX_SIZE]);

/* Base64 (standard alphabet, padded, no newline) of raw[0..n) into dst with a NUL. Returns the length without
 * the NUL, or -ENOSPC when dst is too small (4 * ceil(n / 3) + 1 bytes are needed). */
int s3_checksum_to_base64(const uint8_t *raw, size_t n, char *dst, size_t cap);
/* Decodes the base64 form of an alg's digest into out. Strict: exactly the padded canonical encoding of
 * s3_checksum_size(alg) bytes, nothing around it. Returns the digest size or -EINVAL. */
int s3_checksum_from_base64(enum s3_checksum_alg alg, const char *b64, size_t n, uint8_t out[S3_CHECKSUM_MAX_SIZE]);

/* Raw digest of A || B from the raw digests of A and B and the length of B, for the CRC algs. Returns the size or
 * -EINVAL for an alg that is not a CRC. */
int s3_checksum_combine(enum s3_checksum_alg alg, const uint8_t *a, const uint8_t *b, uint64_t len_b,
                        uint8_t out[S3_CHECKSUM_MAX_SIZE]);

/* The CRCs by themselves, zlib-style (see the top of this file). */
uint32_t s3_crc32_update(uint32_t crc, const void *p, size_t n);
uint32_t s3_crc32c_update(uint32_t crc, const void *p, size_t n);
uint64_t s3_crc64nvme_update(uint64_t crc, const void *p, size_t n);
uint32_t s3_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
uint32_t s3_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
uint64_t s3_crc64nvme_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b);
/* CRC32C by the table path even where the CPU has an instruction, for tests and benchmarks. */
uint32_t s3_crc32c_update_portable(uint32_t crc, const void *p, size_t n);
/* The name of the path s3_crc32c_update takes on this CPU: "sse4.2", "armv8-crc" or "portable". */
const char *s3_crc32c_impl(void);

/* MD5 for ETags: hex of the digest of the object's bytes (single part), or of the concatenated binary part
 * digests (multipart, with "-N" appended by the caller). */
struct s3_md5 {
    wc_Md5 md5;
};
void s3_md5_init(struct s3_md5 *m);
void s3_md5_update(struct s3_md5 *m, const void *p, size_t n);
void s3_md5_final(struct s3_md5 *m, uint8_t out[16]);
/* 32 lower-case hex digits and a NUL. */
void s3_md5_final_hex(struct s3_md5 *m, char out[33]);

void s3_sha256_init(struct s3_sha256 *s);
void s3_sha256_update(struct s3_sha256 *s, const void *p, size_t n);
void s3_sha256_final(struct s3_sha256 *s, uint8_t out[32]);
/* 64 lower-case hex digits and a NUL. */
void s3_sha256_final_hex(struct s3_sha256 *s, char out[65]);
void s3_sha256_hex(const void *p, size_t n, char out[65]);

/* Lower-case hex of raw[0..n) into out[0..2n] with a NUL. */
void s3_hex_encode(const uint8_t *raw, size_t n, char *out);

#endif
