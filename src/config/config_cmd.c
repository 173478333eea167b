/* `s3orch validate` and `s3orch init`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

int config_cmd_validate(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: s3orch validate FILE\n"
               "Checks a configuration file: prints 'FILE: ok', or every error with its key path and line.\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: s3orch validate FILE\n");
        return 2;
    }
    const char *file = argv[1];
    struct config_errors errs = {0};
    struct config *cfg;
    int err = config_load_file(file, &cfg, &errs);
    if (err == 0) {
        printf("%s: ok\n", file);
        config_free(cfg);
        config_errors_free(&errs);
        return 0;
    }
    config_errors_print(&errs, stderr);
    fprintf(stderr, "%s: %zu error%s\n", file, errs.count, errs.count == 1 ? "" : "s");
    config_errors_free(&errs);
    return 1;
}

int config_cmd_init(int argc, char **argv)
{
    const char *file = NULL;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: s3orch init [FILE|-] [--force]\n"
                   "Writes a commented configuration with every section and a new credential to FILE\n"
                   "(default: standard output). An existing FILE is kept unless --force is given.\n");
            return 0;
        } else if (!file && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            file = argv[i];
        } else {
            fprintf(stderr, "usage: s3orch init [FILE|-] [--force]\n");
            return 2;
        }
    }
    if (!file || strcmp(file, "-") == 0)
        return config_write_example(stdout) == 0 ? 0 : 1;

    /* 0600: the file holds a secret key. O_EXCL makes "do not overwrite" race-free. */
    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "s3orch init: %s exists; give --force to overwrite it\n", file);
        else
            fprintf(stderr, "s3orch init: %s: %s\n", file, strerror(errno));
        return 1;
    }
    FILE *out = fdopen(fd, "w");
    if (!out) {
        fprintf(stderr, "s3orch init: %s: %s\n", file, strerror(errno));
        close(fd);
        return 1;
    }
    int err = config_write_example(out);
    if (fsync(fileno(out)) < 0 && err == 0)
        err = -errno;
    if (fclose(out) != 0 && err == 0)
        err = -EIO;
    if (err < 0) {
        fprintf(stderr, "s3orch init: %s: %s\n", file, strerror(-err));
        return 1;
    }
    fprintf(stderr, "s3orch init: wrote %s (check it with: s3orch validate %s)\n", file, file);
    return 0;
}
