/* Fuzz harness for the XML request-body parsers and the x-amz-tagging header form (input format and checks in
 * fuzz_xml_one.h). scripts/fuzz follows the #includes of .c files and not of src/ headers, so this line names the
 * HTTP parser (s3_request.c calls it through s3_request.h), expat, and wolfSSL (under s3_checksum.c):
 * fuzz-build: src/http/http_parser.c -lexpat -lwolfssl
 * main() is the shared one in fuzz_main.h (persistent AFL++ mode, or replay of files / stdin).
 */
#include "fuzz_xml_one.h"
#include "fuzz_main.h"

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_xml", fuzz_xml_one, fuzz_xml_run_file, FUZZ_XML_MAX_INPUT};
    return fuzz_main(&target, argc, argv);
}
