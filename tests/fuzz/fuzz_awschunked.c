/* Fuzz harness for the aws-chunked body decoder (input format and checks in fuzz_awschunked_one.h).
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_awschunked_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_awschunked", fuzz_awschunked_one, fuzz_awschunked_run_file,
                                              FUZZ_AWSCHUNKED_MAX_INPUT};
    return fuzz_main(&target, argc, argv);
}
