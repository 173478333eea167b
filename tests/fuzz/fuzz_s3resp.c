/* Fuzz harness for the parsers of S3 backends' XML answers (input format and checks in fuzz_s3resp_one.h).
 * scripts/fuzz follows the #includes of .c files and not of src/ headers, so this line names the HTTP parser
 * (s3_request.c, for s3_percent_decode, calls it through s3_request.h) and expat:
 * fuzz-build: src/http/http_parser.c -lexpat
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_s3resp_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = { "fuzz_s3resp", fuzz_s3resp_one, fuzz_s3resp_run_file,
                                               FUZZ_S3RESP_MAX_INPUT };
    return fuzz_main(&target, argc, argv);
}
