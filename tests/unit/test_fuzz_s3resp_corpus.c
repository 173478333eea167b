/* Replays the s3resp fuzz corpus (tests/fuzz/corpus/s3resp) through the harness's checks, so every test run holds
 * the backend response parsers to them under UBSan and valgrind, and checks the seeds still reach what they were
 * made for: the "ok_*" ones (moto 5.2.1's bodies verbatim, AWS's documented examples, MinIO's shapes) parse, the
 * others fail as their names say. Runs with cwd = repo root. */
#include <dirent.h>

#include "../fuzz/fuzz_s3resp_one.h"
#include "unit.h"

#define DIR_PATH "tests/fuzz/corpus/s3resp"

static const struct {
    const char *file;
    int err;
} expected[] = {
    { "moto_html_500", -EPROTO },
    { "complete_is_error", -EPROTO },
    { "list_key_nul", -EPROTO },
    { "list_billion_laughs", -EPROTO },
    { "list_deep", -EPROTO },
    { "list_size_overflow", -EPROTO },
    { "list_no_truncated", -EPROTO },
    { "list_bad_escape", -EPROTO },
    { "error_no_code", -EPROTO },
    { "time_feb29_2023", -EPROTO },
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
        int err = 1;
        CHECK_EQ(fuzz_s3resp_run_file_result(path, &err), 0); /* aborts on a broken invariant */
        n++;
        if (strncmp(e->d_name, "ok_", 3) == 0) {
            if (err != 0)
                fprintf(stderr, "    %s: %d\n", e->d_name, err);
            CHECK_EQ(err, 0);
            ok++;
        }
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
            if (strcmp(e->d_name, expected[i].file) != 0)
                continue;
            if (err != expected[i].err)
                fprintf(stderr, "    %s: %d\n", e->d_name, err);
            CHECK_EQ(err, expected[i].err);
            known++;
        }
    }
    closedir(dp);
    CHECK(n >= 30);
    CHECK(ok >= 20);
    CHECK_EQ(known, sizeof(expected) / sizeof(expected[0]));
}

/* Inputs at the edges of the format: empty, a selector alone for each parser, bodies at and over the cap, the
 * largest listing. */
static void test_edges(void)
{
    fuzz_s3resp_one("", 0);
    for (int c = 0; c < 256; c++) {
        unsigned char sel = (unsigned char)c;
        fuzz_s3resp_one(&sel, 1);
    }
    char *big = malloc(FUZZ_S3RESP_MAX_INPUT);
    CHECK(big != NULL);
    if (!big)
        return;
    static const struct {
        char sel;
        const char *doc;
    } docs[] = {
        { 'E', "<Error><Code>C</Code></Error>" },
        { 'I', "<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>" },
        { 'C', "<CompleteMultipartUploadResult><ETag>e</ETag></CompleteMultipartUploadResult>" },
        { 'O', "<CopyObjectResult><ETag>e</ETag></CopyObjectResult>" },
        { 'P', "<CopyPartResult><ETag>e</ETag></CopyPartResult>" },
        { 'L', "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>" },
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        /* A document padded with whitespace to the cap, then one byte more. */
        memset(big, ' ', FUZZ_S3RESP_MAX_INPUT);
        big[0] = docs[i].sel;
        memcpy(big + 1, docs[i].doc, strlen(docs[i].doc));
        CHECK_EQ(fuzz_rx_run(big, S3_RESP_BODY_MAX + 1), 0);
        CHECK_EQ(fuzz_rx_run(big, S3_RESP_BODY_MAX + 2), -E2BIG);
    }

    /* A full page of the longest keys, every byte encoded, through both round trips. */
    FILE *f = fmemopen(big, FUZZ_S3RESP_MAX_INPUT, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("L<ListBucketResult><IsTruncated>true</IsTruncated>", f);
        for (int i = 0; i < S3_RESP_LIST_MAX; i++) {
            fprintf(f, "<Contents><Key>%04d", i);
            for (int k = 4; k < S3_KEY_MAX; k++)
                fputs(k % 2 ? "%A9" : "%C3", f); /* é: plain XML can carry it too */
            fputs("</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><Size>1</Size></Contents>", f);
        }
        fputs("<EncodingType>url</EncodingType><NextContinuationToken>t</NextContinuationToken></ListBucketResult>", f);
        long len = ftell(f);
        fclose(f);
        CHECK(len > 0 && (size_t)len < FUZZ_S3RESP_MAX_INPUT);
        CHECK_EQ(fuzz_rx_run(big, (size_t)len), 0);
    }
    free(big);
}

int main(void)
{
    RUN(test_fuzz_corpus);
    RUN(test_edges);
    return unit_finish("test_fuzz_s3resp_corpus");
}
