/* SHA-256: FIPS 180-4 vectors and agreement with wolfSSL, on both block functions (the SHA extensions where the
 * CPU has them, and portable C), over every length that crosses a block or padding boundary and with the input
 * fed in uneven pieces. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "s3/s3_checksum.h"
#include "unit.h"
#include "util/sha256.h"

static void digest(const void *p, size_t n, size_t piece, uint8_t out[32])
{
    struct sha256 s;
    sha256_init(&s);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < piece ? n - off : piece;
        sha256_update(&s, (const uint8_t *)p + off, k);
        off += k;
    }
    sha256_final(&s, out);
}

static void hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check_vectors(void)
{
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
         "nopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t d[32];
        char h[65];
        digest(v[i].msg, strlen(v[i].msg), 1000, d);
        hex(d, h);
        CHECK_STR(h, v[i].hex);
    }
    /* A million "a": many whole blocks in one update. */
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    uint8_t d[32];
    char h[65];
    digest(a, 1000000, 1000000, d);
    hex(d, h);
    CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void check_against_wolfssl(void)
{
    uint8_t buf[1100];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    size_t pieces[] = {1, 3, 63, 64, 65, 1000};
    for (size_t n = 0; n <= sizeof(buf); n++) {
        wc_Sha256 w;
        uint8_t want[32], got[32];
        wc_InitSha256(&w);
        wc_Sha256Update(&w, buf, (word32)n);
        wc_Sha256Final(&w, want);
        wc_Sha256Free(&w);
        for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
            digest(buf, n, pieces[p], got);
            if (memcmp(got, want, 32) != 0) {
                fprintf(stderr, "    length %zu, pieces of %zu\n", n, pieces[p]);
                CHECK(!"digest differs from wolfSSL's");
                return;
            }
        }
    }
}

/* s3_sha256, which takes wolfSSL's code when the SHA instructions are not in use. */
static void check_s3_sha256(void)
{
    char h[65];
    s3_sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_best(void)
{
    fprintf(stderr, "sha256: %s\n", sha256_impl());
    check_vectors();
    check_against_wolfssl();
    check_s3_sha256();
}

static void test_portable(void)
{
    sha256_force_portable(true);
    CHECK_STR(sha256_impl(), "portable");
    CHECK(!sha256_hw());
    check_vectors();
    check_against_wolfssl();
    check_s3_sha256();
    sha256_force_portable(false);
}

int main(void)
{
    RUN(test_best);
    RUN(test_portable);
    return unit_finish("sha256");
}
