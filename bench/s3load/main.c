/* s3load: SigV4-signed S3 load on s3orch's coroutine runtime. Usage in opts.c and bench/README.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3load.h"

int main(int argc, char **argv)
{
    struct opts o;
    int code = opts_parse(&o, argc, argv);
    if (code)
        return code;
    signal(SIGPIPE, SIG_IGN);

    /* Each result holds two histograms: too big for the stack. */
    struct result *prep = calloc(1, sizeof(*prep)), *run = calloc(1, sizeof(*run));
    bool ran = false;
    code = EXIT_ERRORS;
    if (!prep || !run)
        goto out;
    int err = load_run(&o, prep, run, &ran);
    if (err < 0) {
        fprintf(stderr, "s3load: %s\n", strerror(-err));
        goto out;
    }
    /* When prepare failed, its figures are the result: they say why nothing else ran. */
    const struct result *r = ran ? run : prep;
    if (o.json) {
        report_json(&o, ran && o.prepare ? prep : NULL, r);
    } else {
        if (ran && o.prepare)
            printf("prepare: %llu PUTs in %.3f s\n", (unsigned long long)prep->st.ok[OP_PUT], prep->seconds);
        report_text(&o, r);
    }
    uint64_t ops = r->st.ok[OP_GET] + r->st.ok[OP_PUT];
    code = ran && ops > 0 && stats_errors(&r->st) == 0 ? 0 : EXIT_ERRORS;

out:
    free(prep);
    free(run);
    return code;
}
