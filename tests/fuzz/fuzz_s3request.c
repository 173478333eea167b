/* Fuzz harness for S3 addressing: bucket, key, query lookup, percent-decoding (input format and checks in
 * fuzz_s3request_one.h).
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_s3request_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_s3request", fuzz_s3request_one, fuzz_s3request_run_file,
                                              FUZZ_S3REQUEST_MAX_INPUT};
    return fuzz_main(&target, argc, argv);
}
