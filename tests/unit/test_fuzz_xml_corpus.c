/* Replays the xml fuzz corpus (tests/fuzz/corpus/xml) through the harness's checks, so every test run holds the
 * XML request-body parsers to them under UBSan and valgrind, and checks the seeds still reach what they were made
 * for: the "ok_*" ones (bodies as botocore and the aws cli send them) parse, the others fail as their names say.
 * Runs with cwd = repo root. */
#include <dirent.h>

#include "../fuzz/fuzz_xml_one.h"
#include "unit.h"

#define DIR_PATH "tests/fuzz/corpus/xml"

static const struct {
    const char *file;
    enum s3_xml_parse_err err;
} expected[] = {
    { "delete_billion_laughs", S3_XML_MALFORMED },
    { "delete_no_object", S3_XML_MALFORMED },
    { "delete_deep", S3_XML_MALFORMED },
    { "complete_descending", S3_XML_INVALID_ORDER },
    { "complete_part_zero", S3_XML_INVALID_PART },
    { "tagging_duplicate_key", S3_XML_INVALID_TAG },
    { "query_bad_escape", S3_XML_INVALID_TAG },
    { "bucket_wrong_root", S3_XML_MALFORMED },
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
        enum s3_xml_parse_err err = S3_XML_NOMEM;
        CHECK_EQ(fuzz_xml_run_file_result(path, &err), 0); /* aborts on a broken invariant */
        n++;
        if (strncmp(e->d_name, "ok_", 3) == 0) {
            if (err != S3_XML_OK)
                fprintf(stderr, "    %s: %d\n", e->d_name, err);
            CHECK_EQ(err, S3_XML_OK);
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
    CHECK(n >= 12);
    CHECK(ok >= 5);
    CHECK_EQ(known, sizeof(expected) / sizeof(expected[0]));
}

/* Inputs at the edges of the format: empty, a selector alone for each parser, bodies at and over the caps. */
static void test_edges(void)
{
    fuzz_xml_one("", 0);
    for (int c = 0; c < 256; c++) {
        unsigned char sel = (unsigned char)c;
        fuzz_xml_one(&sel, 1);
    }
    char *big = malloc(FUZZ_XML_MAX_INPUT);
    CHECK(big != NULL);
    if (!big)
        return;
    static const struct {
        char sel;
        const char *doc;
        size_t cap;
    } docs[] = {
        { 'D', "<Delete><Object><Key>k</Key></Object></Delete>", S3_DELETE_BODY_MAX },
        { 'C', "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"
               "</CompleteMultipartUpload>",
          S3_COMPLETE_BODY_MAX },
        { 'T', "<Tagging><TagSet/></Tagging>", S3_TAGGING_BODY_MAX },
        { 'B', "<CreateBucketConfiguration/>", S3_BUCKET_CONFIG_BODY_MAX },
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        /* A document padded with whitespace to its cap, then one byte more. */
        memset(big, ' ', FUZZ_XML_MAX_INPUT);
        big[0] = docs[i].sel;
        memcpy(big + 1, docs[i].doc, strlen(docs[i].doc));
        CHECK_EQ(fuzz_xm_run(big, docs[i].cap + 1), S3_XML_OK);
        CHECK_EQ(fuzz_xm_run(big, docs[i].cap + 2), S3_XML_TOO_LARGE);
    }
    /* The longest header form: one key, far over 128 characters. */
    memset(big, 'a', FUZZ_XML_MAX_INPUT);
    big[0] = 'Q';
    CHECK_EQ(fuzz_xm_run(big, FUZZ_XML_MAX_INPUT), S3_XML_INVALID_TAG);
    free(big);
}

int main(void)
{
    RUN(test_fuzz_corpus);
    RUN(test_edges);
    return unit_finish("test_fuzz_xml_corpus");
}
