/* Replays the sigv4 fuzz corpus (tests/fuzz/corpus/sigv4) through the harness's checks, so every test run holds
 * SigV4 parsing and verification to them under UBSan and valgrind, and checks the seeds still reach what they were
 * made for: the "ok_*" ones (signed by botocore, or AWS's documented example) parse and verify, the others fail
 * where their names say. Runs with cwd = repo root. */
#include <dirent.h>

#include "../fuzz/fuzz_sigv4_one.h"
#include "unit.h"

#define DIR_PATH "tests/fuzz/corpus/sigv4"

static const struct {
    const char *file;
    enum s3_sigv4_err parse, verify; /* verify S3_SIGV4_ERR_COUNT: not reached */
} expected[] = {
    { "expired_presigned", S3_SIGV4_ERR_EXPIRED, S3_SIGV4_ERR_COUNT },
    { "time_skewed", S3_SIGV4_ERR_TIME_SKEWED, S3_SIGV4_ERR_COUNT },
    { "missing_content_sha256", S3_SIGV4_ERR_MISSING_CONTENT_SHA256, S3_SIGV4_ERR_COUNT },
    { "sigv2_header", S3_SIGV4_ERR_UNSUPPORTED_AUTH, S3_SIGV4_ERR_COUNT },
    { "sigv2_query", S3_SIGV4_ERR_UNSUPPORTED_AUTH, S3_SIGV4_ERR_COUNT },
    { "sigv4a_streaming", S3_SIGV4_ERR_NOT_IMPLEMENTED, S3_SIGV4_ERR_COUNT },
    { "header_and_query_auth", S3_SIGV4_ERR_MULTIPLE_AUTH, S3_SIGV4_ERR_COUNT },
    { "malformed_credential", S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, S3_SIGV4_ERR_COUNT },
    /* SignedHeaders=host;host;… would rehash the Host value once per repeat: refused before any hashing. */
    { "repeated_signed_headers", S3_SIGV4_ERR_AUTH_HEADER_MALFORMED, S3_SIGV4_ERR_COUNT },
    /* Signed with x-amz-date, sent with Date: the date parses, the signed x-amz-date header is missing. */
    { "date_header_form", S3_SIGV4_OK, S3_SIGV4_ERR_MISSING_SIGNED_HEADER },
};

static void test_fuzz_corpus(void)
{
    DIR *dp = opendir(DIR_PATH);
    if (!dp) {
        fprintf(stderr, "    (no %s here: run from the repository root)\n", DIR_PATH);
        CHECK(dp != NULL);
        return;
    }
    int n = 0, ok = 0, known = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", DIR_PATH, e->d_name);
        struct fuzz_sv_result res = { S3_SIGV4_ERR_COUNT, S3_SIGV4_ERR_COUNT };
        CHECK_EQ(fuzz_sigv4_run_file_result(path, &res), 0); /* aborts on a broken invariant */
        n++;
        if (strncmp(e->d_name, "ok_", 3) == 0) {
            if (res.parse != S3_SIGV4_OK || res.verify != S3_SIGV4_OK)
                fprintf(stderr, "    %s: parse %d, verify %d\n", e->d_name, res.parse, res.verify);
            CHECK_EQ(res.parse, S3_SIGV4_OK);
            CHECK_EQ(res.verify, S3_SIGV4_OK);
            ok++;
        }
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
            if (strcmp(e->d_name, expected[i].file) != 0)
                continue;
            if (res.parse != expected[i].parse || res.verify != expected[i].verify)
                fprintf(stderr, "    %s: parse %d, verify %d\n", e->d_name, res.parse, res.verify);
            CHECK_EQ(res.parse, expected[i].parse);
            CHECK_EQ(res.verify, expected[i].verify);
            known++;
        }
    }
    closedir(dp);
    CHECK(n >= 8);
    CHECK(ok >= 5);
    CHECK_EQ(known, sizeof(expected) / sizeof(expected[0]));
}

/* Inputs at the edges of the format: empty, no target, a head as long as the harness takes with many headers. */
static void test_edges(void)
{
    fuzz_sigv4_one("", 0);
    fuzz_sigv4_one("\n", 1);
    fuzz_sigv4_one("GET", 3);
    fuzz_sigv4_one("GET /?a=b&&=c&d\r\nHost\r\n:\r\n", 26);
    char *big = malloc(FUZZ_SIGV4_MAX_INPUT);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, '\n', FUZZ_SIGV4_MAX_INPUT);
    memcpy(big, "PUT /%2B+?", 10);
    for (size_t i = 10; i + 8 < FUZZ_SIGV4_MAX_INPUT / 2; i += 8)
        memcpy(big + i, "%41+b=&&", 8);
    for (size_t i = FUZZ_SIGV4_MAX_INPUT / 2 + 1; i + 8 < FUZZ_SIGV4_MAX_INPUT; i += 8)
        memcpy(big + i, "x-a: b\r\n", 8);
    fuzz_sigv4_one(big, FUZZ_SIGV4_MAX_INPUT);
    free(big);
}

int main(void)
{
    RUN(test_fuzz_corpus);
    RUN(test_edges);
    return unit_finish("test_fuzz_sigv4_corpus");
}
