/* Fuzz harness for the aws-chunked body decoder (input format and checks in fuzz_awschunked_one.h).
 *
 * Built by afl-clang-fast (scripts/fuzz) it runs in AFL++ persistent mode. Built by any other compiler, or given
 * file arguments, it replays files instead, so a corpus or a crash can be rerun under UBSan/ASan/valgrind:
 *   fuzz_awschunked FILE...     runs each file
 *   fuzz_awschunked < FILE      runs stdin
 */
#include "fuzz_awschunked_one.h" /* also brings <unistd.h>, for the read() in __AFL_FUZZ_TESTCASE_LEN */

static int fuzz_replay_files(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int rc = fuzz_awschunked_run_file(argv[i]);
        if (rc < 0) {
            fprintf(stderr, "fuzz_awschunked: %s: %s\n", argv[i], strerror(-rc));
            return 1;
        }
    }
    printf("fuzz_awschunked: %d inputs ok\n", argc - 1);
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
        fuzz_awschunked_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    return 0;
}
#else
static int fuzz_replay_stdin(void)
{
    char *buf = malloc(FUZZ_AWSCHUNKED_MAX_INPUT);
    fuzz_ac_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_AWSCHUNKED_MAX_INPUT, stdin);
    fuzz_awschunked_one(buf, n);
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
