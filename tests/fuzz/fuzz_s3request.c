/* Fuzz harness for S3 addressing: bucket, key, query lookup, percent-decoding (input format and checks in
 * fuzz_s3request_one.h).
 *
 * Built by afl-clang-fast (scripts/fuzz) it runs in AFL++ persistent mode. Built by any other compiler, or given
 * file arguments, it replays files instead, so a corpus or a crash can be rerun under UBSan/ASan/valgrind:
 *   fuzz_s3request FILE...     runs each file
 *   fuzz_s3request < FILE      runs stdin
 */
#include "fuzz_s3request_one.h" /* also brings <unistd.h>, for the read() in __AFL_FUZZ_TESTCASE_LEN */

static int fuzz_replay_files(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int rc = fuzz_s3request_run_file(argv[i]);
        if (rc < 0) {
            fprintf(stderr, "fuzz_s3request: %s: %s\n", argv[i], strerror(-rc));
            return 1;
        }
    }
    printf("fuzz_s3request: %d inputs ok\n", argc - 1);
    return 0;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();

int main(int argc, char **argv)
{
    if (argc > 1)
        return fuzz_replay_files(argc, argv);
    __AFL_INIT();
    const unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF; /* only valid after __AFL_INIT */
    while (__AFL_LOOP(100000))
        fuzz_s3request_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    return 0;
}
#else
static int fuzz_replay_stdin(void)
{
    char *buf = malloc(FUZZ_S3REQUEST_MAX_INPUT);
    fuzz_sr_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_S3REQUEST_MAX_INPUT, stdin);
    fuzz_s3request_one(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return fuzz_replay_files(argc, argv);
    return fuzz_replay_stdin();
}
#endif
