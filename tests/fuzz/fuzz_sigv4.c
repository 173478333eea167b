/* Fuzz harness for SigV4 verification: parse, verify, canonical URI and query (input format and checks in
 * fuzz_sigv4_one.h). HMAC and SHA-256 come from wolfSSL, which scripts/fuzz links as this line asks:
 * fuzz-build: -lwolfssl
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_sigv4_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_sigv4", fuzz_sigv4_one, fuzz_sigv4_run_file,
                                              FUZZ_SIGV4_MAX_INPUT};
    return fuzz_main(&target, argc, argv);
}
