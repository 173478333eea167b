/* Checksums: known vectors, streaming splits, CRC combine, base64 forms, and the CRC32C instruction path against
 * the table path.
 *
 * The expected values were computed in Python, independently of this code: zlib/hashlib/base64 for CRC32 and the
 * hashes, and for all three CRCs a bit-at-a-time loop with no table (the one below), which also reproduces the
 * published check values CRC32("123456789") = cbf43926, CRC32C = e3069283, CRC64NVME = ae8b14860a799888:
 *
 *   def crc(data, poly_reflected, width):
 *       mask = (1 << width) - 1
 *       c = mask
 *       for b in data:
 *           c ^= b
 *           for _ in range(8):
 *               c = (c >> 1) ^ poly_reflected if c & 1 else c >> 1
 *       return c ^ mask
 *   crc32c    = lambda d: crc(d, 0x82F63B78, 32)
 *   crc64nvme = lambda d: crc(d, 0x9A6C9329AC4BC9B5, 64)
 *   pattern   = bytes((i * 7 + (i >> 11)) & 0xff for i in range(1 << 20))     # "1 MiB" below
 *   base64.b64encode(struct.pack(">I", crc32c(d)))                           # S3's form
 */
#include "s3/s3_checksum.h"

#include <errno.h>
#include <stdint.h>

#include "unit.h"

#define MIB (1u << 20)

static uint8_t *pattern_1mib(void)
{
    uint8_t *p = malloc(MIB);
    for (uint32_t i = 0; i < MIB; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 11));
    return p;
}

struct vector {
    const char *name;
    const char *b64[S3_CK_COUNT];
    const char *md5_hex;
    const char *sha256_hex;
};

static const struct vector vectors[] = {
    { "123456789",
      { [S3_CK_CRC32] = "y/Q5Jg==", [S3_CK_CRC32C] = "4waSgw==", [S3_CK_CRC64NVME] = "rosUhgp5mIg=",
        [S3_CK_SHA1] = "98O8HYCOBHMq32eZZczDTKeuNEE=",
        [S3_CK_SHA256] = "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=" },
      "25f9e794323b453885f5181f1b624d0b", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225" },
    { "",
      { [S3_CK_CRC32] = "AAAAAA==", [S3_CK_CRC32C] = "AAAAAA==", [S3_CK_CRC64NVME] = "AAAAAAAAAAA=",
        [S3_CK_SHA1] = "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
        [S3_CK_SHA256] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
      "d41d8cd98f00b204e9800998ecf8427e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "hello world",
      { [S3_CK_CRC32] = "DUoRhQ==", [S3_CK_CRC32C] = "yZRlqg==", [S3_CK_CRC64NVME] = "jSnVw/bqjr4=",
        [S3_CK_SHA1] = "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
        [S3_CK_SHA256] = "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=" },
      "5eb63bbbe01eeed093cb22bb8f5acdc3", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9" },
    { NULL, /* the 1 MiB pattern */
      { [S3_CK_CRC32] = "qbeC0w==", [S3_CK_CRC32C] = "UT/QvQ==", [S3_CK_CRC64NVME] = "o/YmD1abkjY=",
        [S3_CK_SHA1] = "cHt08rqaMVi9arIpIrdPI9D/meE=",
        [S3_CK_SHA256] = "Tgj3ETfVQgr5m5lBnvEW/tKB8esPH2xJd38LSpnpLBc=" },
      "32f38f98b86fb7276729f393eee1d733", "4e08f71137d5420af99b99419ef116fed281f1eb0f1f6c49777f0b4a99e92c17" },
};

/* The base64 of alg over p[0..n), fed in one call. */
static void checksum_b64(enum s3_checksum_alg alg, const void *p, size_t n, char out[S3_CHECKSUM_MAX_BASE64])
{
    struct s3_checksum ck;
    uint8_t raw[S3_CHECKSUM_MAX_SIZE];
    CHECK_EQ(s3_checksum_init(&ck, alg), 0);
    s3_checksum_update(&ck, p, n);
    size_t size = s3_checksum_final(&ck, raw);
    CHECK_EQ(size, s3_checksum_size(alg));
    CHECK(s3_checksum_to_base64(raw, size, out, S3_CHECKSUM_MAX_BASE64) > 0);
}

static void test_vectors(void)
{
    uint8_t *big = pattern_1mib();
    for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
        const uint8_t *p = vectors[v].name ? (const uint8_t *)vectors[v].name : big;
        size_t n = vectors[v].name ? strlen(vectors[v].name) : MIB;
        for (int a = S3_CK_CRC32; a < S3_CK_COUNT; a++) {
            char b64[S3_CHECKSUM_MAX_BASE64];
            checksum_b64((enum s3_checksum_alg)a, p, n, b64);
            if (strcmp(b64, vectors[v].b64[a]) != 0)
                fprintf(stderr, "    vector %zu %s: %s, want %s\n", v, s3_checksum_alg_name(a), b64,
                        vectors[v].b64[a]);
            CHECK_STR(b64, vectors[v].b64[a]);
        }
        struct s3_md5 m;
        char hex[65];
        s3_md5_init(&m);
        s3_md5_update(&m, p, n);
        s3_md5_final_hex(&m, hex);
        CHECK_STR(hex, vectors[v].md5_hex);
        s3_sha256_hex(p, n, hex);
        CHECK_STR(hex, vectors[v].sha256_hex);
    }
    free(big);
}

static void test_check_values(void)
{
    CHECK_EQ(s3_crc32_update(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ(s3_crc32c_update(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ(s3_crc32c_update_portable(0, "123456789", 9), 0xE3069283u);
    CHECK(s3_crc64nvme_update(0, "123456789", 9) == 0xAE8B14860A799888ull);
    CHECK_EQ(s3_crc32_update(0, "", 0), 0);
    CHECK_EQ(s3_crc32_update(s3_crc32_update(0, "1234", 4), "56789", 5), 0xCBF43926u);
    CHECK(s3_crc64nvme_update(s3_crc64nvme_update(0, "12345678", 8), "9", 1) == 0xAE8B14860A799888ull);
}

static void test_alg_names(void)
{
    CHECK_EQ(s3_checksum_alg_from_name("CRC32", 5), S3_CK_CRC32);
    CHECK_EQ(s3_checksum_alg_from_name("crc32c", 6), S3_CK_CRC32C);
    CHECK_EQ(s3_checksum_alg_from_name("crc64nvme", 9), S3_CK_CRC64NVME);
    CHECK_EQ(s3_checksum_alg_from_name("Sha1", 4), S3_CK_SHA1);
    CHECK_EQ(s3_checksum_alg_from_name("SHA256", 6), S3_CK_SHA256);
    CHECK_EQ(s3_checksum_alg_from_name("CRC32C", 5), S3_CK_CRC32); /* length bounds the name */
    CHECK_EQ(s3_checksum_alg_from_name("CRC", 3), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_name("", 0), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_name("SHA-256", 7), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_name("CRC32 ", 6), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_name("MD5", 3), S3_CK_NONE);

    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-crc32", 20), S3_CK_CRC32);
    CHECK_EQ(s3_checksum_alg_from_header("X-Amz-Checksum-CRC32C", 21), S3_CK_CRC32C);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-crc64nvme", 24), S3_CK_CRC64NVME);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-sha1", 19), S3_CK_SHA1);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-sha256", 21), S3_CK_SHA256);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-mode", 19), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-type", 19), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-algorithm", 24), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-checksum-", 15), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_header("x-amz-sdk-checksum-algorithm", 28), S3_CK_NONE);
    CHECK_EQ(s3_checksum_alg_from_header("crc32", 5), S3_CK_NONE);

    CHECK_STR(s3_checksum_alg_name(S3_CK_CRC64NVME), "CRC64NVME");
    CHECK_STR(s3_checksum_alg_name(S3_CK_NONE), "");
    CHECK_STR(s3_checksum_header_name(S3_CK_CRC32C), "x-amz-checksum-crc32c");
    CHECK_STR(s3_checksum_header_name(S3_CK_SHA256), "x-amz-checksum-sha256");
    CHECK_STR(s3_checksum_header_name(S3_CK_COUNT), "");
    size_t sizes[S3_CK_COUNT] = { 0, 4, 4, 8, 20, 32 };
    for (int a = 0; a < S3_CK_COUNT; a++) {
        CHECK_EQ(s3_checksum_size((enum s3_checksum_alg)a), sizes[a]);
        CHECK_EQ(s3_checksum_is_crc((enum s3_checksum_alg)a), a >= S3_CK_CRC32 && a <= S3_CK_CRC64NVME);
    }
    struct s3_checksum ck;
    CHECK_EQ(s3_checksum_init(&ck, S3_CK_NONE), -EINVAL);
    CHECK_EQ(s3_checksum_init(&ck, S3_CK_COUNT), -EINVAL);
    CHECK_EQ(s3_checksum_init(&ck, (enum s3_checksum_alg)-1), -EINVAL);
}

/* Every two- and three-piece split of a short input gives the one-call digest. */
static void test_split_updates(void)
{
    static const char text[] = "The quick brown fox jumps over the lazy dog, 0123456789 times over, all the way.";
    size_t n = sizeof(text) - 1;
    for (int a = S3_CK_CRC32; a < S3_CK_COUNT; a++) {
        uint8_t whole[S3_CHECKSUM_MAX_SIZE], got[S3_CHECKSUM_MAX_SIZE];
        struct s3_checksum ck;
        s3_checksum_init(&ck, (enum s3_checksum_alg)a);
        s3_checksum_update(&ck, text, n);
        size_t size = s3_checksum_final(&ck, whole);
        int bad = 0;
        for (size_t i = 0; i <= n; i++) {
            for (size_t j = i; j <= n; j++) {
                s3_checksum_init(&ck, (enum s3_checksum_alg)a);
                s3_checksum_update(&ck, text, i);
                s3_checksum_update(&ck, text + i, j - i);
                s3_checksum_update(&ck, text + j, n - j);
                s3_checksum_final(&ck, got);
                bad += memcmp(got, whole, size) != 0;
            }
        }
        CHECK_EQ(bad, 0);
    }
    struct s3_md5 m;
    char whole_hex[33], hex[33];
    s3_md5_init(&m);
    s3_md5_update(&m, text, n);
    s3_md5_final_hex(&m, whole_hex);
    for (size_t i = 0; i <= n; i++) {
        s3_md5_init(&m);
        s3_md5_update(&m, text, i);
        s3_md5_update(&m, text + i, n - i);
        s3_md5_final_hex(&m, hex);
        CHECK_STR(hex, whole_hex);
    }
    /* A copied state forks the stream. */
    struct s3_checksum a, b;
    uint8_t ra[S3_CHECKSUM_MAX_SIZE], rb[S3_CHECKSUM_MAX_SIZE], rw[S3_CHECKSUM_MAX_SIZE];
    s3_checksum_init(&a, S3_CK_SHA256);
    s3_checksum_update(&a, text, 10);
    b = a;
    s3_checksum_update(&a, text + 10, n - 10);
    s3_checksum_update(&b, "x", 1);
    s3_checksum_final(&a, ra);
    s3_checksum_final(&b, rb);
    s3_checksum_init(&a, S3_CK_SHA256);
    s3_checksum_update(&a, text, n);
    s3_checksum_final(&a, rw);
    CHECK(memcmp(ra, rw, 32) == 0 && memcmp(rb, rw, 32) != 0);
}

/* CRC(A || B) from CRC(A), CRC(B), len(B), at every split of a short input and at a few of the 1 MiB one. */
static void test_combine(void)
{
    static const char text[] = "multipart uploads join part checksums without rereading the parts.";
    size_t n = sizeof(text) - 1;
    uint32_t w32 = s3_crc32_update(0, text, n), w32c = s3_crc32c_update(0, text, n);
    uint64_t w64 = s3_crc64nvme_update(0, text, n);
    int bad = 0;
    for (size_t i = 0; i <= n; i++) {
        bad += s3_crc32_combine(s3_crc32_update(0, text, i), s3_crc32_update(0, text + i, n - i), n - i) != w32;
        bad += s3_crc32c_combine(s3_crc32c_update(0, text, i), s3_crc32c_update(0, text + i, n - i), n - i) !=
               w32c;
        bad += s3_crc64nvme_combine(s3_crc64nvme_update(0, text, i), s3_crc64nvme_update(0, text + i, n - i),
                                    n - i) != w64;
    }
    CHECK_EQ(bad, 0);

    uint8_t *big = pattern_1mib();
    static const size_t cuts[] = { 0, 1, 4095, 65536, 524287, MIB - 8, MIB };
    for (int a = S3_CK_CRC32; a <= S3_CK_CRC64NVME; a++) {
        uint8_t whole[S3_CHECKSUM_MAX_SIZE], ra[S3_CHECKSUM_MAX_SIZE], rb[S3_CHECKSUM_MAX_SIZE];
        uint8_t got[S3_CHECKSUM_MAX_SIZE];
        struct s3_checksum ck;
        s3_checksum_init(&ck, (enum s3_checksum_alg)a);
        s3_checksum_update(&ck, big, MIB);
        size_t size = s3_checksum_final(&ck, whole);
        for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
            s3_checksum_init(&ck, (enum s3_checksum_alg)a);
            s3_checksum_update(&ck, big, cuts[c]);
            s3_checksum_final(&ck, ra);
            s3_checksum_init(&ck, (enum s3_checksum_alg)a);
            s3_checksum_update(&ck, big + cuts[c], MIB - cuts[c]);
            s3_checksum_final(&ck, rb);
            CHECK_EQ(s3_checksum_combine((enum s3_checksum_alg)a, ra, rb, MIB - cuts[c], got), (int)size);
            CHECK(memcmp(got, whole, size) == 0);
        }
        /* Four 256 KiB parts folded left to right, as a FULL_OBJECT multipart checksum is. */
        uint8_t acc[S3_CHECKSUM_MAX_SIZE];
        for (int part = 0; part < 4; part++) {
            s3_checksum_init(&ck, (enum s3_checksum_alg)a);
            s3_checksum_update(&ck, big + part * (MIB / 4), MIB / 4);
            s3_checksum_final(&ck, part ? rb : acc);
            if (part)
                s3_checksum_combine((enum s3_checksum_alg)a, acc, rb, MIB / 4, acc);
        }
        CHECK(memcmp(acc, whole, size) == 0);
    }
    free(big);

    /* Lengths beyond 4 GiB: combining with a run of zeros equals feeding the zeros (checked at 2^33 + 5 through
     * the identity crc(A || Z || Z) = combine(combine(A, Z), Z) with Z a 2^32-byte zero run's CRC, itself made
     * by doubling). */
    uint32_t z = s3_crc32c_update(0, "\0", 1); /* CRC of one zero byte */
    uint64_t zlen = 1;
    for (int i = 0; i < 32; i++, zlen *= 2)
        z = s3_crc32c_combine(z, z, zlen);
    uint32_t a = s3_crc32c_update(0, "abc", 3);
    uint32_t two_steps = s3_crc32c_combine(s3_crc32c_combine(a, z, zlen), z, zlen);
    uint32_t zz = s3_crc32c_combine(z, z, zlen);
    CHECK_EQ(s3_crc32c_combine(a, zz, 2 * zlen), two_steps);

    uint8_t out[S3_CHECKSUM_MAX_SIZE];
    CHECK_EQ(s3_checksum_combine(S3_CK_SHA256, out, out, 1, out), -EINVAL);
    CHECK_EQ(s3_checksum_combine(S3_CK_NONE, out, out, 1, out), -EINVAL);
    CHECK_EQ(s3_crc32_combine(0x12345678, 0, 0), 0x12345678u);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Whatever path s3_crc32c_update takes here, it agrees with the table path: every length and alignment around
 * the three-way block sizes, then random runs. */
static void test_crc32c_fast_vs_portable(void)
{
    size_t cap = 3 * 8192 * 3 + 64;
    uint8_t *buf = malloc(cap);
    for (size_t i = 0; i < cap; i++)
        buf[i] = (uint8_t)rng();
    printf("crc32c path: %s\n", s3_crc32c_impl());
    int bad = 0;
    for (size_t n = 0; n < 3 * 256 * 2 + 40; n++)
        for (size_t off = 0; off < 8; off++)
            bad += s3_crc32c_update(0x1234567u * n, buf + off, n) !=
                   s3_crc32c_update_portable(0x1234567u * n, buf + off, n);
    static const size_t edges[] = { 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 3 * 256 + 7, 6 * 8192,
                                    6 * 8192 + 255, 9 * 8192 };
    for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
        for (size_t off = 0; off < 8; off++)
            bad += s3_crc32c_update(7, buf + off, edges[e]) != s3_crc32c_update_portable(7, buf + off, edges[e]);
    for (int i = 0; i < 300; i++) {
        size_t off = rng() % 64, n = rng() % (cap - 64);
        uint32_t seed = (uint32_t)rng();
        bad += s3_crc32c_update(seed, buf + off, n) != s3_crc32c_update_portable(seed, buf + off, n);
    }
    CHECK_EQ(bad, 0);
    free(buf);
}

static void test_base64(void)
{
    uint8_t raw[S3_CHECKSUM_MAX_SIZE];
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUoRhQ==", 8, raw), 4);
    CHECK(raw[0] == 0x0d && raw[1] == 0x4a && raw[2] == 0x11 && raw[3] == 0x85);
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC64NVME, "rosUhgp5mIg=", 12, raw), 8);
    CHECK(raw[0] == 0xae && raw[7] == 0x88);
    CHECK_EQ(s3_checksum_from_base64(S3_CK_SHA1, "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", 28, raw), 20);
    CHECK_EQ(s3_checksum_from_base64(S3_CK_SHA256, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 44, raw), 32);
    CHECK(raw[0] == 0xe3 && raw[31] == 0x55);

    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUoRhQ=", 7, raw), -EINVAL);    /* short */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUoRhQ", 6, raw), -EINVAL);     /* unpadded */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUoRhQ===", 9, raw), -EINVAL);  /* long */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUoRhR==", 8, raw), -EINVAL);   /* unused bits set */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUo Rh==", 8, raw), -EINVAL);   /* whitespace */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUo*hQ==", 8, raw), -EINVAL);   /* bad character */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32, "DUoRhQAA", 8, raw), -EINVAL);   /* 6 bytes, not 4 */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_CRC32C, "rosUhgp5mIg=", 12, raw), -EINVAL); /* another alg's size */
    CHECK_EQ(s3_checksum_from_base64(S3_CK_NONE, "", 0, raw), -EINVAL);
    CHECK_EQ(s3_checksum_from_base64(S3_CK_SHA256, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=", 44, raw),
             -EINVAL); /* URL alphabet */

    char b64[S3_CHECKSUM_MAX_BASE64];
    uint8_t four[4] = { 0x0d, 0x4a, 0x11, 0x85 };
    CHECK_EQ(s3_checksum_to_base64(four, 4, b64, sizeof(b64)), 8);
    CHECK_STR(b64, "DUoRhQ==");
    CHECK_EQ(s3_checksum_to_base64(four, 4, b64, 9), 8);
    CHECK_EQ(s3_checksum_to_base64(four, 4, b64, 8), -ENOSPC);
    CHECK_EQ(s3_checksum_to_base64(four, 0, b64, 1), 0);
    CHECK_STR(b64, "");
    /* Round trip of every size S3 uses with random bytes. */
    for (int a = S3_CK_CRC32; a < S3_CK_COUNT; a++) {
        for (int i = 0; i < 50; i++) {
            uint8_t in[S3_CHECKSUM_MAX_SIZE];
            size_t size = s3_checksum_size((enum s3_checksum_alg)a);
            for (size_t k = 0; k < size; k++)
                in[k] = (uint8_t)rng();
            int len = s3_checksum_to_base64(in, size, b64, sizeof(b64));
            CHECK_EQ(s3_checksum_from_base64((enum s3_checksum_alg)a, b64, (size_t)len, raw), (int)size);
            CHECK(memcmp(in, raw, size) == 0);
        }
    }
}

static void test_hex(void)
{
    char hex[9];
    uint8_t raw[4] = { 0x00, 0x9f, 0xa0, 0xff };
    s3_hex_encode(raw, 4, hex);
    CHECK_STR(hex, "009fa0ff");
    s3_hex_encode(raw, 0, hex);
    CHECK_STR(hex, "");

    struct s3_sha256 s;
    char out[65];
    s3_sha256_init(&s);
    s3_sha256_update(&s, "hello ", 6);
    s3_sha256_update(&s, "world", 5);
    s3_sha256_final_hex(&s, out);
    CHECK_STR(out, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
}

int main(void)
{
    RUN(test_check_values);
    RUN(test_vectors);
    RUN(test_alg_names);
    RUN(test_split_updates);
    RUN(test_combine);
    RUN(test_crc32c_fast_vs_portable);
    RUN(test_base64);
    RUN(test_hex);
    return unit_finish("test_s3_checksum");
}
