/* Fuzz harness for the configuration loader: ${VAR} expansion, YAML, schema walk, validation (input format and
 * checks in fuzz_config_one.h). config.h has no config.c of its own, so scripts/fuzz is told the module's entry
 * points (the files they include bring the rest) and libyaml on these lines:
 * fuzz-build: src/config/config_load.c src/config/config_errors.c src/config/config_validate.c
 * fuzz-build: src/config/config_field.c -lyaml
 *
 * Built by afl-clang-fast (scripts/fuzz) it runs in AFL++ persistent mode. Built by any other compiler, or given
 * file arguments, it replays files instead, so a corpus or a crash can be rerun under UBSan/ASan/valgrind:
 *   fuzz_config FILE...     runs each file
 *   fuzz_config < FILE      runs stdin
 */
#include "fuzz_config_one.h" /* also brings <unistd.h>, for the read() in __AFL_FUZZ_TESTCASE_LEN */

static int fuzz_replay_files(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int rc = fuzz_config_run_file(argv[i]);
        if (rc < 0) {
            fprintf(stderr, "fuzz_config: %s: %s\n", argv[i], strerror(-rc));
            return 1;
        }
    }
    printf("fuzz_config: %d inputs ok\n", argc - 1);
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
        fuzz_config_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    return 0;
}
#else
static int fuzz_replay_stdin(void)
{
    char *buf = malloc(FUZZ_CONFIG_MAX_INPUT);
    fuzz_cf_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_CONFIG_MAX_INPUT, stdin);
    fuzz_config_one(buf, n);
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
