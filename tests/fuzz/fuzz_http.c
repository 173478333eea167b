/* Fuzz harness for the HTTP request-head parser and the chunked body decoder (checks in fuzz_http_one.h).
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_http_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_http", fuzz_http_one, fuzz_http_run_file,
                                              FUZZ_HTTP_MAX_INPUT};
    return fuzz_main(&target, argc, argv);
}
