/* Replays the s3request fuzz corpus (tests/fuzz/corpus/s3request) through the harness's checks, so every test run
 * holds S3 addressing to them under UBSan and valgrind. Runs with cwd = repo root. */
#include <dirent.h>

#include "../fuzz/fuzz_s3request_one.h"
#include "unit.h"

static void test_fuzz_corpus(void)
{
    const char *dir = "tests/fuzz/corpus/s3request";
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "    (no %s here: run from the repository root)\n", dir);
        CHECK(dp != NULL);
        return;
    }
    int n = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        CHECK_EQ(fuzz_s3request_run_file(path), 0); /* aborts on a broken invariant */
        n++;
    }
    closedir(dp);
    CHECK(n >= 8);
}

/* Inputs at the edges of the format: empty, a separator only, a target as long as the harness takes. */
static void test_edges(void)
{
    fuzz_s3request_one("", 0);
    fuzz_s3request_one("\n", 1);
    fuzz_s3request_one("\0", 1);
    fuzz_s3request_one("/", 1);
    char *big = malloc(FUZZ_S3REQUEST_MAX_INPUT);
    CHECK(big != NULL);
    if (!big)
        return;
    memcpy(big, "/bkt/", 5);
    memset(big + 5, 'k', FUZZ_S3REQUEST_MAX_INPUT - 5);
    fuzz_s3request_one(big, FUZZ_S3REQUEST_MAX_INPUT);
    memset(big + 5, '%', FUZZ_S3REQUEST_MAX_INPUT - 5);
    fuzz_s3request_one(big, FUZZ_S3REQUEST_MAX_INPUT);
    free(big);
}

int main(void)
{
    RUN(test_fuzz_corpus);
    RUN(test_edges);
    return unit_finish("test_fuzz_s3request_corpus");
}
