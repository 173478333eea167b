/* Fuzz harness for SigV4 verification: parse, verify, canonical URI and query (input format and checks in
 * fuzz_sigv4_one.h). HMAC and SHA-256 come from wolfSSL, which scripts/fuzz links as this line asks:
 * fuzz-build: -lwolfssl
 *
 * Built by afl-clang-fast (scripts/fuzz) it runs in AFL++ persistent mode. Built by any other compiler, or given
 * file arguments, it replays files instead, so a corpus or a crash can be rerun under UBSan/ASan/valgrind:
 *   fuzz_sigv4 FILE...     runs each file
 *   fuzz_sigv4 < FILE      runs stdin
 */
#include "fuzz_sigv4_one.h" /* also brings <unistd.h>, for the read() in __AFL_FUZZ_TESTCASE_LEN */

static int fuzz_replay_files(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int rc = fuzz_sigv4_run_file(argv[i]);
        if (rc < 0) {
            fprintf(stderr, "fuzz_sigv4: %s: %s\n", argv[i], strerror(-rc));
            return 1;
        }
    }
    printf("fuzz_sigv4: %d inputs ok\n", argc - 1);
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
        fuzz_sigv4_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    return 0;
}
#else
static int fuzz_replay_stdin(void)
{
    char *buf = malloc(FUZZ_SIGV4_MAX_INPUT);
    fuzz_sv_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_SIGV4_MAX_INPUT, stdin);
    fuzz_sigv4_one(buf, n);
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
