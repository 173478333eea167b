/* The main() every fuzz harness shares. Built by afl-clang-fast (scripts/fuzz) it runs in AFL++ persistent mode;
 * built by any other compiler, or given file arguments, it replays inputs, so a corpus or a crash can be rerun
 * under UBSan/ASan/valgrind:
 *   fuzz_NAME FILE...     runs each file
 *   fuzz_NAME < FILE      runs stdin
 * Include it after the target's _one.h (which brings <unistd.h>, for the read() in __AFL_FUZZ_TESTCASE_LEN). */
#ifndef S3ORCH_FUZZ_MAIN_H
#define S3ORCH_FUZZ_MAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_target {
    const char *name;
    void (*one)(const void *data, size_t len);
    int (*run_file)(const char *path); /* 0 or -errno */
    size_t max_input;
};

static int fuzz_replay_files(const struct fuzz_target *t, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int rc = t->run_file(argv[i]);
        if (rc < 0) {
            fprintf(stderr, "%s: %s: %s\n", t->name, argv[i], strerror(-rc));
            return 1;
        }
    }
    printf("%s: %d inputs ok\n", t->name, argc - 1);
    return 0;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static int fuzz_main(const struct fuzz_target *t, int argc, char **argv)
{
    if (argc > 1)
        return fuzz_replay_files(t, argc, argv);
#ifdef __AFL_FUZZ_TESTCASE_LEN
    __AFL_INIT();
    const unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF; /* only valid after __AFL_INIT */
    while (__AFL_LOOP(100000))
        t->one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
#else
    char *buf = malloc(t->max_input);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", t->name);
        return 1;
    }
    size_t n = fread(buf, 1, t->max_input, stdin);
    t->one(buf, n);
    free(buf);
#endif
    return 0;
}

#endif
